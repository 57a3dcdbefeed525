"""Vote clicks as Slack sends them, and their confirmations as the fake Web API saw them:
shared by the kill -9 test and scripts/load_test.py."""

from __future__ import annotations

import json
import random
from urllib.parse import urlencode

from tests.fakes.http_server import FakeServer
from tests.fakes.slack_api import TEAM

__all__ = ["CHOICES", "Click", "click_body", "confirmations", "plan_clicks", "vote_body"]

CHOICES = ("a", "b", "tie", "both_bad")
DOUBLE_CLICK_SHARE = 0.1
Click = tuple[int, str, str, str]  # battle id, user, choice, the battle's thread ts


def vote_body(click: Click, channel: str) -> str:
    """The form body of a ``block_actions`` click on a battle's vote button."""
    battle, user, choice, thread = click
    return click_body(user, channel, thread, f"parley_vote_{choice}", str(battle))


def click_body(user: str, channel: str, thread: str, action_id: str, value: str) -> str:
    """The form body of a ``block_actions`` click on a button of the message ``thread``."""
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM},
        "user": {"id": user, "team_id": TEAM},
        "api_app_id": "A1",
        "trigger_id": "trig",
        "channel": {"id": channel},
        "container": {"type": "message", "message_ts": thread, "channel_id": channel},
        "message": {"ts": thread, "thread_ts": thread, "text": "battle", "blocks": []},
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value}],
    }
    return urlencode({"payload": json.dumps(payload)})


def plan_clicks(battles: dict[int, str], clicks: int, users: int, seed: int = 16) -> list[Click]:
    """Distinct (battle, user) votes with a random choice, and one in ten of them again
    (a double click with the same choice, which must count once)."""
    rng = random.Random(seed)
    pairs = [(b, f"UL{u:04d}") for b in sorted(battles) for u in range(users)]
    fresh = round(clicks * (1 - DOUBLE_CLICK_SHARE))
    planned = [(b, u, rng.choice(CHOICES), battles[b]) for b, u in rng.sample(pairs, fresh)]
    planned += [rng.choice(planned) for _ in range(clicks - fresh)]
    rng.shuffle(planned)
    return planned


def confirmations(server: FakeServer, battles: dict[int, str]) -> dict[tuple[int, str], float]:
    """(battle, user) -> when its first "Vote recorded/changed" ephemeral reached Slack:
    the bot sends it only after the vote's transaction committed."""
    by_thread = {thread: battle for battle, thread in battles.items()}
    seen: dict[tuple[int, str], float] = {}
    for request in server.seen("/api/chat.postEphemeral"):
        body = {**request.query, **(request.body if isinstance(request.body, dict) else {})}
        if str(body.get("text", "")).startswith("Vote ") and body.get("thread_ts") in by_thread:
            seen.setdefault((by_thread[body["thread_ts"]], body["user"]), request.at)
    return seen
