"""What Slack sends Parley, as Slack sends it: events (mentions, messages and the
subtypes real channels produce) and interactivity payloads (block_actions).

Written from Slack's event documentation and the payloads recorded in bolt-python's
scenario tests (read at a2f21ae): a person's message carries ``client_msg_id``,
``team`` and a rich_text block; a thread reply also sent to the channel is
``thread_broadcast`` with its ``root``; a message with a file is ``file_share`` with a
``files`` list; an edit is ``message_changed`` (no top-level user, ``hidden``); another
app's message carries ``bot_id`` and ``bot_profile`` (and often a ``user``); a join is
``channel_join``. A block_actions payload carries the clicked message as Slack stored it
(block ids, ``verbatim: false``) and an action with its ``block_id``, ``text`` and
``action_ts``.
"""

from __future__ import annotations

import itertools
from typing import Any

from tests.fakes.slack_api import BOT_USER, TEAM

__all__ = [
    "block_action",
    "bot_message",
    "channel_join",
    "file_share",
    "mention",
    "message",
    "message_changed",
    "thread_broadcast",
]

_msg_ids = itertools.count(1)


def _rich_text(text: str) -> list[dict[str, Any]]:
    section = {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
    return [{"type": "rich_text", "block_id": "rT1x", "elements": [section]}]


def _person(user: str, text: str, ts: str) -> dict[str, Any]:
    """The fields of a message a person typed."""
    return {
        "client_msg_id": f"0000000{next(_msg_ids)}-aaaa-bbbb-cccc-dddddddddddd",
        "type": "message",
        "text": text,
        "user": user,
        "ts": ts,
        "team": TEAM,
        "blocks": _rich_text(text),
    }


def mention(text: str, *, ts: str = "100.1", thread: str | None = None, channel="C1", user="UANA"):
    """``app_mention``: ``@Parley text`` in a channel (in a thread with ``thread``)."""
    event = {
        **_person(user, f"<@{BOT_USER}> {text}", ts),
        "type": "app_mention",
        "channel": channel,
        "event_ts": ts,
    }
    if thread:
        event["thread_ts"] = thread
    return event


def message(
    text: str, *, ts: str, thread: str | None = None, channel="C1", kind="channel", **extra
):
    """A person's ``message`` in a channel (``kind`` "channel") or a DM ("im")."""
    event = {
        **_person(extra.pop("user", "UANA"), text, ts),
        "channel": channel,
        "channel_type": kind,
        "event_ts": ts,
        **extra,
    }
    if thread:
        event["thread_ts"] = thread
        event.setdefault("parent_user_id", BOT_USER)
    return event


def thread_broadcast(text: str, *, ts: str, thread: str, channel="C1", user="UANA"):
    """A reply in ``thread`` also sent to the channel ("Also send to #channel")."""
    root = {
        "type": "message",
        "text": "the thread's first message",
        "user": BOT_USER,
        "ts": thread,
        "team": TEAM,
        "thread_ts": thread,
        "reply_count": 2,
        "reply_users_count": 1,
        "latest_reply": ts,
        "reply_users": [user],
        "is_locked": False,
    }
    event = message(text, ts=ts, thread=thread, channel=channel, user=user)
    return {**event, "subtype": "thread_broadcast", "root": root}


def file_share(
    text: str,
    *,
    ts: str,
    files: list[dict],
    channel="D1",
    kind="im",
    thread: str | None = None,
    user="UANA",
):
    """A message with ``files`` attached (their objects as ``FakeSlack.add_file`` makes
    them; ``text`` may be empty: the files alone)."""
    event = message(text, ts=ts, thread=thread, channel=channel, kind=kind, user=user)
    if not text:
        event.pop("blocks")
    return {
        **event,
        "subtype": "file_share",
        "files": files,
        "upload": False,
        "display_as_bot": False,
    }


def message_changed(text: str, *, ts: str, edited: str, channel="C1", kind="channel"):
    """Someone edited their message ``edited`` to ``text``: no user at the top level."""
    return {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "message": {**_person("UANA", text, edited), "edited": {"user": "UANA", "ts": ts}},
        "previous_message": _person("UANA", "the text before", edited),
        "channel": channel,
        "channel_type": kind,
        "ts": ts,
        "event_ts": ts,
    }


def bot_message(text: str, *, ts: str, channel="C1", kind="channel", thread: str | None = None):
    """Another app's message: a ``bot_id`` and ``bot_profile``, and a bot user."""
    event = {
        **_person("UOTHERBOT", text, ts),
        "bot_id": "BOTHER",
        "app_id": "AOTHER",
        "bot_profile": {"id": "BOTHER", "app_id": "AOTHER", "name": "other-app", "deleted": False},
        "channel": channel,
        "channel_type": kind,
        "event_ts": ts,
    }
    event.pop("client_msg_id")
    if thread:
        event["thread_ts"] = thread
    return event


def channel_join(*, ts: str, channel="C1", user="UNEW"):
    """Someone joined the channel (Slack's join message)."""
    return {
        "type": "message",
        "subtype": "channel_join",
        "ts": ts,
        "user": user,
        "text": f"<@{user}> has joined the channel",
        "inviter": "UANA",
        "channel": channel,
        "channel_type": "channel",
        "event_ts": ts,
    }


def block_action(action_id: str, value: str, message: dict, *, user="UANA", channel="C1"):
    """A click on the button ``action_id`` in ``message`` (as Slack stored it: see
    ``FakeSlack.stored``): the action names the block it is in, the button's text, and
    when it was clicked."""
    block_id, text = "b", {"type": "plain_text", "text": action_id, "emoji": True}
    for block in message.get("blocks", []):
        for element in block.get("elements", []):
            if isinstance(element, dict) and element.get("action_id") == action_id:
                block_id, text = block.get("block_id", block_id), element.get("text", text)
    container = {
        "type": "message",
        "message_ts": message["ts"],
        "channel_id": channel,
        "is_ephemeral": False,
    }
    if message.get("thread_ts"):
        container["thread_ts"] = message["thread_ts"]
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
        "api_app_id": "APARLEY",
        "token": "verification-token",
        "container": container,
        "trigger_id": "111.222.trig-2",
        "team": {"id": TEAM, "domain": "parley-test"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": "eng"},
        "message": message,
        "state": {"values": {}},
        "response_url": "https://hooks.slack.com/actions/T0001/1/unused",
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "text": text,
                "value": value,
                "type": "button",
                "action_ts": "1700000100.000200",
            }
        ],
    }
