"""A fake Discord REST API on the shared FakeServer, and raw gateway payloads to feed.

It answers what discord.py asks while logging in (``/users/@me``,
``/oauth2/applications/@me``) and what Parley sends afterwards: command sync,
interaction callbacks, webhook follow-ups and edits, channel messages, threads and
typing. Messages are echoed back with fresh ids, as Discord does, and every request
stays recorded on the server, so tests assert what went over the wire. Replies are
``application/json`` exactly (discord.py parses nothing else as JSON); an empty 204
is sent as text.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from tests.fakes.http_server import FakeServer, Scripted, Seen

__all__ = [
    "API",
    "APP_ID",
    "BOT",
    "BOT_ID",
    "CHANNEL_ID",
    "GUILD_ID",
    "MANAGE_GUILD",
    "FakeDiscord",
    "guild",
    "interaction",
    "member",
    "slash_data",
    "text_channel",
    "user",
]

API = "/api/v10"
BOT_ID = 900
APP_ID = 900  # a bot's user id is its application's id
GUILD_ID = 500
CHANNEL_ID = 600
MANAGE_GUILD = 1 << 5
_STAMP = "2026-11-30T12:00:00.000000+00:00"


def user(user_id: int, name: str = "ana", bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name,
        "discriminator": "0",
        "global_name": name,
        "avatar": None,
        "bot": bot,
    }


BOT = user(BOT_ID, "Parley", bot=True)


def member(user_id: int, name: str = "ana", permissions: int = 0) -> dict[str, Any]:
    return {
        "user": user(user_id, name),
        "roles": [],
        "joined_at": _STAMP,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "permissions": str(permissions),
    }


def text_channel(channel_id: int = CHANNEL_ID) -> dict[str, Any]:
    return {
        "id": str(channel_id),
        "type": 0,
        "guild_id": str(GUILD_ID),
        "name": "general",
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
    }


def guild() -> dict[str, Any]:
    """The GUILD_CREATE payload of the one server the tests run in, Parley a member."""
    return {
        "id": str(GUILD_ID),
        "name": "Team",
        "icon": None,
        "owner_id": "1",
        "unavailable": False,
        "member_count": 2,
        "roles": [
            {
                "id": str(GUILD_ID),
                "name": "@everyone",
                "permissions": str((1 << 10) | (1 << 11)),  # view channels, send messages
                "position": 0,
                "color": 0,
                "hoist": False,
                "managed": False,
                "mentionable": False,
                "flags": 0,
            }
        ],
        "channels": [text_channel()],
        "threads": [],
        "members": [{**member(BOT_ID, "Parley"), "user": BOT}],
        "emojis": [],
        "stickers": [],
        "features": [],
        "premium_tier": 0,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "system_channel_flags": 0,
        "preferred_locale": "en-US",
        "nsfw_level": 0,
        "large": False,
    }


def interaction(
    interaction_id: int,
    kind: int,
    data: dict[str, Any],
    *,
    user_id: int,
    permissions: int = 0,
    channel: dict[str, Any] | None = None,
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An INTERACTION_CREATE payload: 2 a slash command, 3 a button, 5 a modal submit."""
    channel = channel or text_channel()
    payload: dict[str, Any] = {
        "id": str(interaction_id),
        "application_id": str(APP_ID),
        "type": kind,
        "token": f"token-{interaction_id}",
        "version": 1,
        "guild_id": str(GUILD_ID),
        "channel_id": channel["id"],
        "channel": channel,
        "member": member(user_id, permissions=permissions),
        "data": data,
        "locale": "en-US",
        "guild_locale": "en-US",
        "app_permissions": "0",
        "entitlements": [],
        "authorizing_integration_owners": {},
        "context": 0,
        "attachment_size_limit": 8_388_608,
    }
    if message is not None:
        payload["message"] = message
    return payload


def slash_data(
    command_id: int, name: str, options: dict[str, Any], resolved: dict | None = None
) -> dict[str, Any]:
    """A slash command's ``data``: string options, and ``channel`` as a channel option."""
    data: dict[str, Any] = {"id": str(command_id), "name": name, "type": 1}
    if options:
        data["options"] = [
            {"name": key, "type": 7 if key == "channel" else 3, "value": str(value)}
            for key, value in options.items()
        ]
    if resolved:
        data["resolved"] = resolved
    return data


class FakeDiscord:
    """Discord's REST routes on a FakeServer; ids come from one counter, like snowflakes."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self._ids = itertools.count(10_000)
        self._direct: list[int] = []  # DM channels opened
        app = {
            "id": str(APP_ID),
            "name": "Parley",
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": user(1, "owner"),
            "flags": 0,
        }
        server.route("GET", f"{API}/users/@me", Scripted(body=BOT))
        server.route("GET", f"{API}/oauth2/applications/@me", Scripted(body=app))
        server.route("PUT", f"{API}/applications/*", self._commands)
        server.route("POST", f"{API}/interactions/*", self._callback)
        server.route("POST", f"{API}/webhooks/*", self._message)
        server.route("PATCH", f"{API}/webhooks/*", self._message)
        server.route("POST", f"{API}/channels/*", self._channel_post)
        server.route("PATCH", f"{API}/channels/*", self._message)
        server.route("POST", f"{API}/users/@me/channels", self._direct_channel)

    @property
    def base(self) -> str:
        """What discord.http.Route.BASE points at during a test."""
        return self.server.url + API

    def next_id(self) -> int:
        return next(self._ids)

    # --- what tests read back -------------------------------------------------------

    def callbacks(self, interaction_id: int | None = None) -> list[dict]:
        """Interaction callback bodies (``type``, ``data``), for one interaction or all."""
        path = (
            f"{API}/interactions/{interaction_id}/*" if interaction_id else f"{API}/interactions/*"
        )
        return [_payload(seen) for seen in self.server.seen(path, "POST")]

    def followups(self, token: str) -> list[dict]:
        """Messages sent as follow-ups to the interaction with ``token``."""
        return [_payload(s) for s in self.server.seen(f"{API}/webhooks/{APP_ID}/{token}", "POST")]

    def edits(self, token: str) -> list[dict]:
        """Edits of the interaction's original response."""
        path = f"{API}/webhooks/{APP_ID}/{token}/messages/@original"
        return [_payload(s) for s in self.server.seen(path, "PATCH")]

    def posted(self, channel_id: int) -> list[dict]:
        """Messages sent to a channel or thread."""
        return [
            _payload(s) for s in self.server.seen(f"{API}/channels/{channel_id}/messages", "POST")
        ]

    def direct_messages(self) -> list[dict]:
        """Messages sent to users' DM channels (opened through ``/users/@me/channels``)."""
        return [message for channel in self._direct for message in self.posted(channel)]

    def sent(self) -> list[dict]:
        """Every message body Parley sent or edited, wherever it went."""
        return [
            _payload(seen)
            for seen in self.server.requests
            if seen.method in ("POST", "PATCH")
            and re.search(r"/(messages(/[^/]+)?|webhooks/\d+/[^/]+|callback)$", seen.path)
        ]

    # --- responders -----------------------------------------------------------------

    def _commands(self, seen: Seen) -> Scripted:
        body = seen.body if isinstance(seen.body, list) else []
        commands = [
            {
                **command,
                "id": str(self.next_id()),
                "application_id": str(APP_ID),
                "version": "1",
                "default_member_permissions": None,
            }
            for command in body
        ]
        return Scripted(body=commands)

    def _callback(self, seen: Seen) -> Scripted:
        interaction_id = seen.path.split("/")[4]
        body = _payload(seen)
        return Scripted(
            body={
                "interaction": {
                    "id": interaction_id,
                    "type": 2,
                    "response_message_loading": body.get("type") == 5,
                    "response_message_ephemeral": bool(body.get("data", {}).get("flags", 0) & 64),
                },
            }
        )

    def _message(self, seen: Seen) -> Scripted:
        body = _payload(seen)
        match = re.search(r"/channels/(\d+)/", seen.path)
        channel_id = int(match.group(1)) if match else CHANNEL_ID
        return Scripted(body=self.message(channel_id, body))

    def _direct_channel(self, seen: Seen) -> Scripted:
        channel_id = self.next_id()
        self._direct.append(channel_id)
        recipient = user(int(_payload(seen)["recipient_id"]))
        return Scripted(body={"id": str(channel_id), "type": 1, "recipients": [recipient]})

    def _channel_post(self, seen: Seen) -> Scripted:
        if seen.path.endswith("/typing"):
            return Scripted(204, "", content_type="text/plain")
        thread = re.fullmatch(rf"{API}/channels/(\d+)/messages/(\d+)/threads", seen.path)
        if thread:
            return Scripted(
                body=self.thread(int(thread.group(1)), int(thread.group(2)), _payload(seen)["name"])
            )
        return self._message(seen)

    # --- payload shapes -------------------------------------------------------------

    def message(self, channel_id: int, body: dict, author: dict = BOT, **extra: Any) -> dict:
        """A message object as Discord returns it for what was sent."""
        return {
            "id": str(extra.pop("id", None) or self.next_id()),
            "channel_id": str(channel_id),
            "author": author,
            "content": body.get("content") or "",
            "timestamp": _STAMP,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "type": 0,
            "flags": body.get("flags", 0),
            **extra,
        }

    def thread(self, parent_id: int, thread_id: int, name: str, owner_id: int = BOT_ID) -> dict:
        return {
            "id": str(thread_id),
            "type": 11,
            "guild_id": str(GUILD_ID),
            "parent_id": str(parent_id),
            "owner_id": str(owner_id),
            "name": name,
            "member_count": 1,
            "message_count": 0,
            "rate_limit_per_user": 0,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": _STAMP,
                "locked": False,
            },
        }


def _payload(seen: Seen) -> dict:
    """The JSON a request carried, whether sent plain or as multipart ``payload_json``."""
    body = seen.body if isinstance(seen.body, dict) else {}
    return body.get("payload_json", body) if isinstance(body.get("payload_json"), dict) else body
