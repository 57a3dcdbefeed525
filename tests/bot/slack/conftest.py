"""The Slack app on a real aiohttp endpoint, fed signed requests, talking to a fake Slack.

Nothing of Parley's is mocked: a real Service over an in-memory Store and fake providers
(real classes), the real bolt app served on 127.0.0.1, and the fake Web API recording
what the app posted.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from itertools import count
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from arena.roster import Roster
from arena.store import Store
from bot.config import Settings
from bot.service import Service
from bot.slack.app import SlackBot
from knowledge.types import Hit, Passage
from tests.fakes.providers import fake, roster
from tests.fakes.service import service_over_fakes
from tests.fakes.slack_api import BOT_TOKEN, BOT_USER, TEAM, FakeSlack, listening_socket

# the payload builders, also imported from here by the fault and security suites
from .payloads import block_action, mention, message

__all__ = ["HITS", "SECRET", "Harness", "block_action", "mention", "message", "start_app"]

SECRET = "test-signing-secret"
HITS = [
    Hit(Passage("p1", "Run shipit rollback to roll back.", "/hb/deploys.md", "Deploys"), 0.9),
    Hit(
        Passage("p2", "On-call rota is in the wiki.", "https://wiki.example/oncall", "On-call"),
        0.8,
    ),
]


@dataclass
class Harness:
    """One running app: ``event``, ``action``, ``command`` post signed requests."""

    bot: SlackBot
    slack: FakeSlack
    store: Store
    service: Service
    url: str
    session: aiohttp.ClientSession
    _ids: count = field(default_factory=lambda: count(1))

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        secret: str = SECRET,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
        sent = {
            "content-type": content_type,
            "x-slack-request-timestamp": ts,
            "x-slack-signature": signature,
            **(headers or {}),
        }
        async with self.session.post(self.url, data=body.encode(), headers=sent) as response:
            return response.status, await response.text()

    async def event(self, event: dict, *, event_id: str | None = None, **kw) -> tuple[int, str]:
        body = {
            "token": "unused",
            "team_id": TEAM,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids)}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": TEAM,
                    "user_id": BOT_USER,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{event.get('type')}-{TEAM}-{event.get('channel')}",
            "event": event,
        }
        return await self.post(json.dumps(body), "application/json", **kw)

    async def action(self, payload: dict, **kw) -> tuple[int, str]:
        form = urlencode({"payload": json.dumps(payload)})
        return await self.post(form, "application/x-www-form-urlencoded", **kw)

    async def command(
        self, name: str, text: str, user: str = "UANA", channel: str = "C1", trigger: str = "trig-1"
    ):
        form = urlencode(
            {
                "token": "unused",
                "team_id": TEAM,
                "channel_id": channel,
                "channel_name": "eng",
                "user_id": user,
                "user_name": user.lower(),
                "command": name,
                "text": text,
                "api_app_id": "A1",
                "response_url": self.slack.response_url(name.strip("/")),
                "trigger_id": trigger,
            }
        )
        return await self.post(form, "application/x-www-form-urlencoded")

    async def settle(self) -> None:
        """Wait for the work the acknowledged requests started."""
        await self.bot.drain()


async def start_app(
    slack: FakeSlack,
    contestants: Roster,
    *,
    battle_share: float = 0.0,
    admins: tuple[str, ...] = (),
    index=None,
    sources=(),
    titles=None,
    channel_faithfulness_flags: dict[str, bool] | None = None,
    store_target: str = ":memory:",
    **settings,
) -> AsyncIterator[Harness]:
    """An app over a fresh store (in memory, unless ``store_target`` names a file or a
    server that several apps share, as instances of one deployment do). ``settings`` are
    the Slack bot's; the service's are the named arguments."""
    store = await Store.open(store_target)
    service = service_over_fakes(
        store,
        contestants,
        battle_share=battle_share,
        hits=HITS,
        admins=admins,
        index=index,
        sources=sources,
        titles=titles,
        bootstrap_rounds=20,
        provisional_votes=5,
        channel_faithfulness_flags=channel_faithfulness_flags or {},
    )
    config = Settings(
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=slack.api_url,
        **settings,
    )
    bot = SlackBot(service, config)
    runner = web.AppRunner(bot.app.web_app(path="/slack/events"))
    await runner.setup()
    sock, port = listening_socket()
    await web.SockSite(runner, sock).start()
    async with aiohttp.ClientSession() as session:
        try:
            yield Harness(
                bot, slack, store, service, f"http://127.0.0.1:{port}/slack/events", session
            )
        finally:
            await bot.close()
            await runner.cleanup()
            await contestants.aclose()
            await store.close()


@pytest.fixture
def slack(fake_api) -> FakeSlack:
    return FakeSlack(fake_api)


@pytest.fixture
async def app(slack: FakeSlack) -> AsyncIterator[Harness]:
    """One model (alpha): single answers with thumbs."""
    async for harness in start_app(slack, roster(fake("alpha"))):
        yield harness


@pytest.fixture
async def arena_app(slack: FakeSlack) -> AsyncIterator[Harness]:
    """Two models, every question a battle."""
    async for harness in start_app(slack, roster(fake("alpha"), fake("beta")), battle_share=1):
        yield harness
