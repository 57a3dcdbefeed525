"""Vote clicks as Slack sends them, and their confirmations as the fake Web API saw them:
shared by the kill -9 test and scripts/load_test.py."""

from __future__ import annotations

import json
import random
from typing import NamedTuple
from urllib.parse import urlencode

from tests.fakes.http_server import FakeServer
from tests.fakes.slack_api import TEAM

__all__ = [
    "CHOICES",
    "Click",
    "Posted",
    "buttons",
    "click_body",
    "confirmations",
    "plan_clicks",
    "vote_body",
]

CHOICES = ("a", "b", "tie", "both_bad")
DOUBLE_CLICK_SHARE = 0.1


class Posted(NamedTuple):
    """A message with buttons as Slack holds it: a click's payload carries it whole, and
    its own ``ts`` (not the thread's) is the one ``chat.update`` must name."""

    thread: str  # the ts of the question it answers, in whose thread it was posted
    ts: str
    text: str = ""
    blocks: str = "[]"  # as JSON text, so that a click stays hashable


Click = tuple[int, str, str, Posted]  # battle id, user, choice, the battle's message


def vote_body(click: Click, channel: str) -> str:
    """The form body of a ``block_actions`` click on a battle's vote button."""
    battle, user, choice, message = click
    return click_body(user, channel, message, f"parley_vote_{choice}", str(battle))


def click_body(user: str, channel: str, message: Posted, action_id: str, value: str) -> str:
    """The form body of a ``block_actions`` click on a button of ``message``, as Slack
    sends it: the container names the message's own ts, the message comes whole."""
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM},
        "user": {"id": user, "team_id": TEAM},
        "api_app_id": "A1",
        "trigger_id": "trig",
        "channel": {"id": channel},
        "container": {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": channel,
            "is_ephemeral": False,
            "thread_ts": message.thread,
        },
        "message": {
            "type": "message",
            "ts": message.ts,
            "thread_ts": message.thread,
            "text": message.text,
            "blocks": json.loads(message.blocks),
        },
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value}],
    }
    return urlencode({"payload": json.dumps(payload)})


def buttons(messages: list[dict]) -> tuple[dict[int, Posted], list[tuple[Posted, str]]]:
    """Among ``messages`` as Slack holds them (``FakeSlack.messages``): battle id -> the
    battle's message, and (message, button value) of every single answer's thumb up."""
    battles: dict[int, Posted] = {}
    thumbs: list[tuple[Posted, str]] = []
    for message in messages:
        if "thread_ts" not in message:
            continue
        posted = Posted(
            message["thread_ts"],
            message["ts"],
            message.get("text", ""),
            json.dumps(message.get("blocks") or []),
        )
        for block in message.get("blocks") or []:
            for element in block.get("elements", []):
                action = str(element.get("action_id", ""))
                if action.startswith("parley_vote_"):
                    battles[int(element["value"])] = posted
                elif action == "parley_thumb_up":
                    thumbs.append((posted, element["value"]))
    return battles, thumbs


def plan_clicks(
    battles: dict[int, Posted], clicks: int, users: int, seed: int = 16, voters: str = "UL"
) -> list[Click]:
    """Distinct (battle, user) votes with a random choice, and one in ten of them again
    (a double click with the same choice, which must count once); the users' ids begin
    with ``voters``."""
    rng = random.Random(seed)
    pairs = [(b, f"{voters}{u:04d}") for b in sorted(battles) for u in range(users)]
    fresh = round(clicks * (1 - DOUBLE_CLICK_SHARE))
    planned = [(b, u, rng.choice(CHOICES), battles[b]) for b, u in rng.sample(pairs, fresh)]
    planned += [rng.choice(planned) for _ in range(clicks - fresh)]
    rng.shuffle(planned)
    return planned


def confirmations(server: FakeServer, battles: dict[int, Posted]) -> dict[tuple[int, str], float]:
    """(battle, user) -> when its first "Vote recorded/changed" ephemeral reached Slack:
    the bot sends it only after the vote's transaction committed."""
    by_thread = {message.thread: battle for battle, message in battles.items()}
    seen: dict[tuple[int, str], float] = {}
    for request in server.seen("/api/chat.postEphemeral"):
        body = {**request.query, **(request.body if isinstance(request.body, dict) else {})}
        if str(body.get("text", "")).startswith("Vote ") and body.get("thread_ts") in by_thread:
            seen.setdefault((by_thread[body["thread_ts"]], body["user"]), request.at)
    return seen
