"""A logged-in ParleyClient whose HTTP goes to a fake Discord on 127.0.0.1, and helpers
that feed it raw gateway events (INTERACTION_CREATE, MESSAGE_CREATE) as Discord would."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import discord
import pytest

from arena.roster import Roster
from arena.store import Store
from bot.discord import ParleyClient
from bot.service import Service
from knowledge.indexer import IndexReport
from knowledge.types import Hit, Passage
from tests.fakes.discord_api import (
    USER_ID,
    FakeDiscord,
    guild,
    modal_submit,
    slash_data,
)
from tests.fakes.providers import fake, roster
from tests.fakes.service import service_over_fakes

HITS = [
    Hit(Passage("p1", "Run shipit rollback to roll back.", "/hb/deploys.md", "Deploys"), 0.9),
    Hit(Passage("p2", "Deploys run at noon.", "https://wiki.example/deploys", "Deploy times"), 0.8),
]


@pytest.fixture
def discord_api(fake_api, monkeypatch) -> FakeDiscord:
    api = FakeDiscord(fake_api)
    monkeypatch.setattr(discord.http.Route, "BASE", api.base)
    return api


def make_service(
    store: Store,
    contestants: Roster | None = None,
    battle_share: float = 0.0,
    index=None,
    admins: tuple[str, ...] = (),
    **settings: Any,
) -> Service:
    """``settings``: more of the service's settings, by name."""
    return service_over_fakes(
        store,
        # one model unless battling: which one answers alone is the matchmaker's choice
        contestants
        or (roster(fake("alpha"), fake("beta")) if battle_share else roster(fake("alpha"))),
        battle_share=battle_share,
        hits=HITS,
        index=index,
        sources=["/hb"] if index else (),
        admins=admins,
        **settings,
    )


def report() -> IndexReport:
    return IndexReport(added=2, unchanged=1, passages=9, seconds=0.5)


async def settle() -> None:
    """Wait until every task the client started (handlers, callbacks) has finished."""
    for _ in range(50):
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        if not pending:
            return
        await asyncio.wait(pending, timeout=10)
    raise AssertionError("tasks kept running")


@dataclass
class Discord:
    """One logged-in client and the fake it talks to."""

    client: ParleyClient
    api: FakeDiscord

    @property
    def state(self):
        return self.client._connection  # discord.py internals: the parsers of gateway events

    async def interaction(
        self,
        kind: int,
        data: dict[str, Any],
        *,
        user_id: int = USER_ID,
        permissions: int = 0,
        channel: dict[str, Any] | None = None,
        channel_object: bool = True,
        message: dict[str, Any] | None = None,
    ) -> tuple[int, str]:
        """Feed one INTERACTION_CREATE; returns its id and token once handled."""
        payload = self.api.interaction(
            kind,
            data,
            user_id=user_id,
            permissions=permissions,
            channel=channel,
            channel_object=channel_object,
            message=message,
        )
        self.state.parsers["INTERACTION_CREATE"](payload)
        await settle()
        return int(payload["id"]), payload["token"]

    async def slash(self, name: str, **options: Any) -> tuple[int, str]:
        wire = ("user_id", "permissions", "channel_payload", "channel_object", "resolved")
        given = {key: value for key, value in options.items() if key not in wire}
        data = slash_data(self.api.next_id(), name, given, options.get("resolved"))
        return await self.interaction(
            2,
            data,
            user_id=options.get("user_id", USER_ID),
            permissions=options.get("permissions", 0),
            channel=options.get("channel_payload"),
            channel_object=options.get("channel_object", True),
        )

    async def click(
        self,
        custom_id: str,
        message: dict[str, Any],
        user_id: int = USER_ID,
        *,
        channel: dict[str, Any] | None = None,
        channel_object: bool = True,
    ) -> tuple[int, str]:
        """A button click: ``data`` names the button by custom_id and by the numeric id
        Discord gave it in ``message`` (a forged custom_id has none)."""
        button = next(
            (
                c
                for row in message.get("components", [])
                for c in row.get("components", [])
                if c.get("custom_id") == custom_id
            ),
            {},
        )
        data = {"custom_id": custom_id, "component_type": 2}
        if "id" in button:
            data["id"] = button["id"]
        return await self.interaction(
            3,
            data,
            user_id=user_id,
            message=message,
            channel=channel,
            channel_object=channel_object,
        )

    async def submit(
        self,
        custom_id: str,
        values: dict[str, str],
        message: dict[str, Any],
        user_id: int = USER_ID,
        *,
        legacy: bool = False,
    ) -> tuple[int, str]:
        """A modal submission, in the Label form (or the legacy action-row form)."""
        data = modal_submit(custom_id, values, legacy=legacy)
        return await self.interaction(5, data, user_id=user_id, message=message)

    async def say(self, content: str, **options: Any) -> int:
        """Feed one MESSAGE_CREATE (see ``post``); returns the message's id once handled."""
        message = self.post(content, **options)
        await settle()
        return int(message["id"])

    def post(self, content: str, **options: Any) -> dict[str, Any]:
        """Feed one MESSAGE_CREATE (``options`` as ``FakeDiscord.user_message`` takes
        them) without waiting for its handling; the payload."""
        message = self.api.user_message(content, **options)
        self.state.parsers["MESSAGE_CREATE"](message)
        return message

    def thread_created(self, payload: dict[str, Any]) -> None:
        """The gateway's THREAD_CREATE after Parley starts a thread (caches it)."""
        self.state.parsers["THREAD_CREATE"]({**payload, "newly_created": True})


async def start(api: FakeDiscord, service: Service, **options: Any) -> Discord:
    """A ParleyClient logged in to the fake, knowing the guild (as after GUILD_CREATE)."""
    client = ParleyClient(service, **options)
    await client.login("test-token")
    client._connection.parsers["GUILD_CREATE"](guild())
    return Discord(client, api)


@pytest.fixture
async def bot(discord_api: FakeDiscord, store: Store):
    started = await start(discord_api, make_service(store))
    yield started
    await started.client.close()
