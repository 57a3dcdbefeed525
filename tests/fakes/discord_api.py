"""A fake Discord REST API on the shared FakeServer, and raw gateway payloads to feed.

It answers what discord.py asks while logging in (``/users/@me``,
``/oauth2/applications/@me``) and what Parley sends afterwards: command sync,
interaction callbacks, follow-ups and edits, channel messages, threads and typing.
Written from Discord's API documentation (developers/interactions and
developers/components, read at discord/discord-api-docs c98d64b), it keeps the rules a
bot can get wrong:

- an interaction's original response: a deferred one (type 5) is a loading message
  whose visibility (the ephemeral flag) is fixed by the defer;
- a follow-up sent while that loading message is still there does not create a
  message: it edits the original, and its own ephemeral flag is ignored (documented
  for backwards compatibility, and deprecated);
- messages come back with fresh snowflake ids, and their components carry the numeric
  ``id`` Discord fills in (1, 2, 3… in order) when the bot gave none;
- interactions may come without a ``channel`` object (only ``channel_id``), and modal
  submissions in the Label form as well as the legacy action-row form.

Attachments (``attachment``) are served from the fake's own CDN path, as Discord's CDN
serves them: to anyone holding the signed URL (``ex``, ``is``, ``hm`` in its query), no
token; a URL without its signature gets 404 "This content is no longer available.".

``shown(token)`` tells what an interaction's messages became and who can see them;
every request also stays recorded on the server. Replies are ``application/json``
exactly (discord.py parses nothing else as JSON); an empty 204 is sent as text.
"""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.http_server import FakeServer, Scripted, Seen

__all__ = [
    "API",
    "APP_ID",
    "BOT",
    "BOT_ID",
    "CHANNEL_ID",
    "EPHEMERAL",
    "GUILD_ID",
    "MANAGE_GUILD",
    "USER_ID",
    "FakeDiscord",
    "guild",
    "interaction",
    "member",
    "modal_submit",
    "slash_data",
    "text_channel",
    "user",
]

API = "/api/v10"
BOT_ID = 900
APP_ID = 900  # a bot's user id is its application's id
GUILD_ID = 500
CHANNEL_ID = 600
USER_ID = 111  # the person asking, unless a test names another
MANAGE_GUILD = 1 << 5
EPHEMERAL = 1 << 6  # message flags
LOADING = 1 << 7
_STAMP = "2026-11-30T12:00:00.000000+00:00"
# interaction callback types with a message: a reply, a defer (loading), an update
_MESSAGE, _DEFERRED, _UPDATE = 4, 5, 7
_UNKNOWN_MESSAGE = Scripted(404, {"message": "Unknown Message", "code": 10008})
_UNKNOWN_CHANNEL = Scripted(404, {"message": "Unknown Channel", "code": 10003})
_THREAD_EXISTS = Scripted(
    400, {"message": "A thread has already been created for this message", "code": 160004}
)
_ALREADY_ACKNOWLEDGED = Scripted(
    400, {"message": "Interaction has already been acknowledged.", "code": 40060}
)


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
    channel_object: bool = True,
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An INTERACTION_CREATE payload in a guild: 2 a slash command, 3 a button, 5 a modal
    submit. Without ``channel_object`` only ``channel_id`` names the channel (Discord
    documents both as optional)."""
    channel = channel or text_channel()
    payload: dict[str, Any] = {
        "id": str(interaction_id),
        "application_id": str(APP_ID),
        "type": kind,
        "token": f"token-{interaction_id}",
        "version": 1,
        "guild_id": str(GUILD_ID),
        "guild": {"id": str(GUILD_ID), "locale": "en-US", "features": []},
        "channel_id": channel["id"],
        "member": member(user_id, permissions=permissions),
        "data": data,
        "locale": "en-US",
        "guild_locale": "en-US",
        "app_permissions": "0",
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(GUILD_ID)},
        "context": 0,
        "attachment_size_limit": 8_388_608,
    }
    if channel_object:
        payload["channel"] = channel
    if message is not None:
        payload["message"] = message
    return payload


def slash_data(
    command_id: int, name: str, options: dict[str, Any], resolved: dict | None = None
) -> dict[str, Any]:
    """A slash command's ``data``: string options, ``channel`` as a channel option and
    ``file`` as an attachment option (its value the attachment's id, the attachment in
    ``resolved``)."""
    data: dict[str, Any] = {"id": str(command_id), "name": name, "type": 1}
    kinds = {"channel": 7, "file": 11}
    if options:
        data["options"] = [
            {"name": key, "type": kinds.get(key, 3), "value": str(value)}
            for key, value in options.items()
        ]
    if resolved:
        data["resolved"] = resolved
    return data


def modal_submit(custom_id: str, values: dict[str, str], *, legacy: bool = False) -> dict:
    """A modal submission's ``data`` as Discord sends it: each text input inside a Label
    (type 18), or with ``legacy`` inside an action row (type 1), with numeric ids."""
    ids = itertools.count(1)
    components = []
    for key, value in values.items():
        outer = next(ids)
        field = {"type": 4, "id": next(ids), "custom_id": key, "value": value}
        if legacy:
            components.append({"type": 1, "id": outer, "components": [field]})
        else:
            components.append({"type": 18, "id": outer, "component": field})
    return {"custom_id": custom_id, "components": components}


def _numbered(components: list[dict]) -> list[dict]:
    """Components with Discord's numeric ids filled in, depth first, where none was given."""
    ids = itertools.count(1)

    def number(component: dict) -> dict:
        out = {**component, "id": component.get("id") or next(ids)}
        if "components" in component:
            out["components"] = [number(c) for c in component["components"]]
        if "component" in component:
            out["component"] = number(component["component"])
        return out

    return [number(c) for c in components]


@dataclass
class Responses:
    """What one interaction's responses became: whether it was answered (a second
    callback is refused), its original message (None until the bot responds with a
    message or a defer), whether that is still the loading placeholder, and the
    follow-up messages."""

    acknowledged: bool = False
    original: dict | None = None
    loading: bool = False
    followups: list[dict] = field(default_factory=list)

    def messages(self) -> list[dict]:
        return ([self.original] if self.original else []) + self.followups


class FakeDiscord:
    """Discord's REST routes on a FakeServer; ids come from one counter, like snowflakes."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self._ids = itertools.count(10_000)
        self._lock = threading.RLock()  # responders take it, then next_id again
        self._direct: list[int] = []  # DM channels opened
        self._channels = {CHANNEL_ID: text_channel()}  # what GET /channels/{id} knows
        self._created: list[dict] = []  # the messages sent to channels, as Discord made them
        self._kinds: dict[str, int] = {}  # interaction id -> its type
        self._responses: dict[str, Responses] = {}  # interaction token -> its messages
        self._files: dict[str, tuple[str, bytes, str]] = {}  # CDN path -> (hm, bytes, type)
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
        server.route("POST", f"{API}/webhooks/*", self._followup)
        server.route("PATCH", f"{API}/webhooks/*", self._edit)
        server.route("GET", f"{API}/channels/*", self._channel)
        server.route("POST", f"{API}/channels/*", self._channel_post)
        server.route("PATCH", f"{API}/channels/*", self._message)
        server.route("POST", f"{API}/users/@me/channels", self._direct_channel)
        server.route("GET", "/attachments/*", self._cdn)

    @property
    def base(self) -> str:
        """What discord.http.Route.BASE points at during a test."""
        return self.server.url + API

    def next_id(self) -> int:
        with self._lock:
            return next(self._ids)

    # --- payloads the gateway delivers ------------------------------------------------

    def interaction(self, kind: int, data: dict[str, Any], **options: Any) -> dict[str, Any]:
        """An INTERACTION_CREATE payload (see ``interaction``) with a fresh id, remembered
        so that its responses are answered as Discord would."""
        payload = interaction(self.next_id(), kind, data, **options)
        with self._lock:
            self._kinds[payload["id"]] = kind
        return payload

    def direct_channel(self, channel_id: int, user_id: int) -> None:
        """A DM channel between Parley and ``user_id`` (one the user wrote in)."""
        with self._lock:
            self._channels[channel_id] = _dm(channel_id, user_id)

    def user_message(
        self,
        content: str,
        *,
        channel_id: int = CHANNEL_ID,
        author: dict[str, Any] | None = None,
        mentions: list[dict[str, Any]] | None = None,
        guild: bool = True,
        attachments: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A MESSAGE_CREATE payload: a user's message in the test server's channel (or
        thread), or with ``guild`` off in a DM channel, which Discord then knows; with
        ``attachments`` as ``attachment`` makes them."""
        author = author or user(USER_ID)
        message = self.message(channel_id, {"content": content}, author, mentions=mentions or [])
        message["attachments"] = attachments or []
        if guild:
            message["guild_id"] = str(GUILD_ID)
            message["member"] = {k: v for k, v in member(USER_ID).items() if k != "user"}
        else:
            self.direct_channel(channel_id, int(author["id"]))
        return message

    def attachment(
        self,
        filename: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        *,
        channel_id: int = CHANNEL_ID,
        size: int | None = None,
    ) -> dict[str, Any]:
        """An attachment object as a message carries it, its bytes on the fake's CDN at
        a signed URL; ``size`` as Discord reports it (default: the bytes')."""
        file_id = self.next_id()
        path = f"/attachments/{channel_id}/{file_id}/{filename}"
        signature = f"{file_id:x}" * 4
        with self._lock:
            self._files[path] = (signature, data, content_type)
        query = f"?ex=6a1b2c3d&is=6a19dabd&hm={signature}&"
        return {
            "id": str(file_id),
            "filename": filename,
            "size": len(data) if size is None else size,
            "url": f"{self.server.url}{path}{query}",
            "proxy_url": f"{self.server.url}/media{path}{query}",
            "content_type": content_type,
        }

    def cdn_requests(self) -> list[Seen]:
        """Every request for an attachment's bytes."""
        return self.server.seen("/attachments/*", "GET")

    def forget_channel(self, channel_id: int) -> None:
        """A channel deleted (or a DM Parley can no longer see): 404 from now on."""
        with self._lock:
            self._channels.pop(channel_id, None)

    # --- what tests read back -------------------------------------------------------

    def callbacks(self, interaction_id: int | None = None) -> list[dict]:
        """Interaction callback bodies (``type``, ``data``), for one interaction or all."""
        path = (
            f"{API}/interactions/{interaction_id}/*" if interaction_id else f"{API}/interactions/*"
        )
        return [_payload(seen) for seen in self.server.seen(path, "POST")]

    def shown(self, token: str) -> list[dict]:
        """The messages an interaction's responses became, in order (the original first),
        as Discord returns them: ``flags & EPHEMERAL`` says only the user sees one."""
        with self._lock:
            responses = self._responses.get(token)
            return [dict(m) for m in responses.messages()] if responses else []

    def followups(self, token: str) -> list[dict]:
        """The bodies Parley POSTed as follow-ups (whatever Discord made of them)."""
        return [_payload(s) for s in self.server.seen(f"{API}/webhooks/{APP_ID}/{token}", "POST")]

    def edits(self, token: str) -> list[dict]:
        """The bodies Parley sent to edit the interaction's original response."""
        path = f"{API}/webhooks/{APP_ID}/{token}/messages/@original"
        return [_payload(s) for s in self.server.seen(path, "PATCH")]

    def posted(self, channel_id: int) -> list[dict]:
        """Messages sent to a channel or thread."""
        return [
            _payload(s) for s in self.server.seen(f"{API}/channels/{channel_id}/messages", "POST")
        ]

    def created(self, channel_id: int) -> list[dict]:
        """The messages sent to a channel or thread as Discord returned them (ids included)."""
        with self._lock:
            return [m for m in self._created if m["channel_id"] == str(channel_id)]

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
        """POST /interactions/{id}/{token}/callback: a message (4), a defer (5), an update
        of the clicked message (6, 7) or a modal (9)."""
        _, interaction_id, token = seen.path.removeprefix(API).split("/")[:4][1:]
        body = _payload(seen)
        kind, data = body.get("type"), body.get("data") or {}
        flags = int(data.get("flags") or 0)
        with self._lock:
            responses = self._responses.setdefault(token, Responses())
            if responses.acknowledged:
                return _ALREADY_ACKNOWLEDGED
            responses.acknowledged = True
            message = None
            if kind == _MESSAGE:
                message = self.message(CHANNEL_ID, data, flags=flags, interaction=True)
                responses.original, responses.loading = message, False
            elif kind == _DEFERRED:
                loading = {"content": "", "flags": flags | LOADING}
                message = self.message(CHANNEL_ID, loading, interaction=True)
                responses.original, responses.loading = message, True
            interaction_type = self._kinds.get(interaction_id, 2)
        answer: dict[str, Any] = {
            "interaction": {
                "id": interaction_id,
                "type": interaction_type,
                "response_message_loading": kind == _DEFERRED,
                "response_message_ephemeral": bool(flags & EPHEMERAL),
            }
        }
        if message is not None:
            answer["interaction"]["response_message_id"] = message["id"]
        if kind in (_MESSAGE, _UPDATE):
            shown = message or self.message(CHANNEL_ID, data)
            answer["resource"] = {"type": kind, "message": shown}
        elif kind is not None:
            answer["resource"] = {"type": kind}
        return Scripted(body=answer)

    def _followup(self, seen: Seen) -> Scripted:
        """POST /webhooks/{app}/{token}: a new message, unless the original is still the
        loading placeholder of a defer: then it is edited instead, its visibility kept."""
        token = seen.path.split("/")[5]
        body = _payload(seen)
        with self._lock:
            responses = self._responses.get(token)
            if responses is not None and responses.loading and responses.original is not None:
                kept = responses.original["flags"] & EPHEMERAL
                edited = self.message(
                    CHANNEL_ID, body, flags=kept, id=responses.original["id"], interaction=True
                )
                responses.original, responses.loading = edited, False
                return Scripted(body=edited)
            message = self.message(
                CHANNEL_ID, body, flags=int(body.get("flags") or 0), interaction=True
            )
            self._responses.setdefault(token, Responses()).followups.append(message)
            return Scripted(body=message)

    def _edit(self, seen: Seen) -> Scripted:
        """PATCH /webhooks/{app}/{token}/messages/{@original | id}: edits keep a message's
        id and its visibility; an unknown id is Discord's 404 Unknown Message."""
        parts = seen.path.split("/")
        token, which = parts[5], parts[7]
        body = _payload(seen)
        with self._lock:
            responses = self._responses.setdefault(token, Responses())
            if which == "@original" or (
                responses.original is not None and which == responses.original["id"]
            ):
                old = responses.original
                if old is None:
                    return _UNKNOWN_MESSAGE
                responses.original = self._edited(old, body, seen)
                responses.loading = False
                return Scripted(body=responses.original)
            for n, old in enumerate(responses.followups):
                if old["id"] == which:
                    responses.followups[n] = self._edited(old, body, seen)
                    return Scripted(body=responses.followups[n])
        return _UNKNOWN_MESSAGE

    def _edited(self, old: dict, body: dict, seen: Seen) -> dict:
        """``old`` with the fields the edit names (a None clears content, uploaded files
        become attachments); id and flags kept."""
        new = dict(old)
        if "content" in body:
            new["content"] = body["content"] or ""
        if "embeds" in body:
            new["embeds"] = body["embeds"] or []
        if "components" in body:
            new["components"] = _numbered(body["components"] or [])
        if "attachments" in body:
            new["attachments"] = self._attachments(seen)
        new["flags"] = old["flags"] & ~LOADING
        new["edited_timestamp"] = _STAMP
        return new

    def _attachments(self, seen: Seen) -> list[dict]:
        """Attachment objects for the files a multipart request uploaded."""
        parts = seen.body if isinstance(seen.body, dict) else {}
        return [
            {
                "id": str(self.next_id()),
                "filename": part["filename"],
                "size": len(part["bytes"]),
                "url": f"https://cdn.discordapp.com/attachments/{part['filename']}",
                "proxy_url": f"https://media.discordapp.net/attachments/{part['filename']}",
                "content_type": "image/png" if part["filename"].endswith(".png") else None,
            }
            for name, part in parts.items()
            if name.startswith("files[") and isinstance(part, dict)
        ]

    def _message(self, seen: Seen) -> Scripted:
        body = _payload(seen)
        match = re.search(r"/channels/(\d+)/", seen.path)
        channel_id = int(match.group(1)) if match else CHANNEL_ID
        message = self.message(channel_id, body)
        if seen.method == "POST":
            with self._lock:
                self._created.append(message)
        return Scripted(body=message)

    def _cdn(self, seen: Seen) -> Scripted:
        with self._lock:
            held = self._files.get(seen.path)
        if held is None or seen.query.get("hm") != held[0]:
            return Scripted(404, "This content is no longer available.", content_type="text/plain")
        return Scripted(200, held[1], content_type=held[2])

    def _direct_channel(self, seen: Seen) -> Scripted:
        channel_id = self.next_id()
        self._direct.append(channel_id)
        self.direct_channel(channel_id, int(_payload(seen)["recipient_id"]))
        return Scripted(body=self._channels[channel_id])

    def _channel(self, seen: Seen) -> Scripted:
        """GET /channels/{id}: a channel or thread known here, else 404 Unknown Channel."""
        match = re.fullmatch(rf"{API}/channels/(\d+)", seen.path)
        with self._lock:
            channel = self._channels.get(int(match.group(1))) if match else None
        return Scripted(body=channel) if channel else _UNKNOWN_CHANNEL

    def _channel_post(self, seen: Seen) -> Scripted:
        if seen.path.endswith("/typing"):
            return Scripted(204, "", content_type="text/plain")
        thread = re.fullmatch(rf"{API}/channels/(\d+)/messages/(\d+)/threads", seen.path)
        if thread:
            parent, message = int(thread.group(1)), int(thread.group(2))
            started = self.thread(parent, message, _payload(seen)["name"])
            with self._lock:
                if message in self._channels:  # one thread per message
                    return _THREAD_EXISTS
                self._channels[message] = started
            return Scripted(body=started)
        return self._message(seen)

    # --- payload shapes -------------------------------------------------------------

    def message(
        self,
        channel_id: int,
        body: dict,
        author: dict = BOT,
        *,
        flags: int | None = None,
        interaction: bool = False,
        **extra: Any,
    ) -> dict:
        """A message object as Discord returns it for what was sent: a fresh id (unless
        given), the components numbered; an interaction's messages are webhook messages
        (type 20, the application's id as ``webhook_id``)."""
        message = {
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
            "components": _numbered(body.get("components") or []),
            "pinned": False,
            "type": 20 if interaction else 0,
            "flags": int(body.get("flags") or 0) if flags is None else flags,
            **extra,
        }
        if interaction:
            message["webhook_id"] = str(APP_ID)
            message["application_id"] = str(APP_ID)
        return message

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


def _dm(channel_id: int, user_id: int) -> dict[str, Any]:
    """A DM channel object, as Discord's documentation shows one."""
    recipients = [user(user_id)]
    return {"id": str(channel_id), "type": 1, "recipients": recipients, "last_message_id": None}


def _payload(seen: Seen) -> dict:
    """The JSON a request carried, whether sent plain or as multipart ``payload_json``."""
    body = seen.body if isinstance(seen.body, dict) else {}
    return body.get("payload_json", body) if isinstance(body.get("payload_json"), dict) else body
