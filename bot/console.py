"""``parley chat``: the whole product in a terminal, stored exactly as chat platforms store it.

One console session is one thread, so follow-up questions see the earlier turns.
Single answers take a thumb (a thumbs-down may say why); battles take one of the four
votes and then reveal the names. Anything typed at a feedback prompt that is not a
feedback key is taken as the next question, so nothing typed is lost.
"""

from __future__ import annotations

import asyncio
import getpass
import signal
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import click
from rich.console import Console
from rich.live import Live
from rich.panel import Panel

from . import messages
from .config import Settings
from .render import flags_note, marked_text
from .runtime import open_service
from .service import Ask, Reply, Service, ShownAnswer
from .streaming import Throttled

__all__ = [
    "QUIT_WORDS",
    "REASON_KEYS",
    "THUMB_KEYS",
    "VOTE_KEYS",
    "answer_panel",
    "ask_live",
    "collect_feedback",
    "run_console",
    "show_reply",
]

REDRAW_INTERVAL = 0.1  # seconds between redraws of an answer being written
QUIT_WORDS = frozenset({"", "quit", "exit", ":q"})
VOTE_KEYS = {"a": "a", "b": "b", "t": "tie", "x": "both_bad"}
THUMB_KEYS = {"+": 1, "-": -1}
REASON_KEYS = dict(zip("wonu", messages.THUMB_REASONS, strict=True))


async def run_console(settings: Settings, *, channel: str, console: Console) -> None:
    """Read questions until the user quits: an empty line, quit or exit, Ctrl-D, or
    Ctrl-C at a prompt or while an answer is coming (which is then not stored). With no
    model ready, refuse before the first prompt, as ``parley ask`` does."""
    thread = uuid.uuid4().hex
    user = getpass.getuser()
    async with open_service(settings) as service:
        service.default_model  # noqa: B018 - no model ready: a ConfigError says why, now
        console.print(messages.console_welcome(), style="dim", highlight=False)
        try:
            text = _read(messages.QUESTION_PROMPT)
            while text is not None and text.strip().lower() not in QUIT_WORDS:
                asked = Ask(text, user, channel, thread, "console")
                reply = await ask_live(console, service, asked)
                show_reply(console, reply)
                text = await collect_feedback(console, service, reply, user, channel)
                if text == "":  # feedback given or skipped; None: they left
                    text = _read(messages.QUESTION_PROMPT)
        except asyncio.CancelledError:  # Ctrl-C while Parley was busy: leave all the same
            current = asyncio.current_task()
            if current is None or current.uncancel():
                raise  # cancelled by something else too: that goes on
    console.print(messages.console_goodbye(), style="dim", highlight=False)


def _read(label: str) -> str | None:
    """One line from the user; None when they leave (Ctrl-C or Ctrl-D)."""
    try:
        with _interruptible():
            return click.prompt(label, default="", show_default=False)
    except click.Abort:
        click.echo()  # the cursor is still on the prompt's line
        return None


@contextmanager
def _interruptible() -> Iterator[None]:
    """Ctrl-C ends a prompt at once. ``asyncio.run`` answers Ctrl-C by cancelling the task
    it runs, which a prompt waiting for a line on the loop's thread cannot notice until
    Enter is pressed; while the prompt waits, Python's own handler raises instead."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


async def ask_live(
    console: Console, service: Service, ask: Ask, *, model: str | None = None
) -> Reply:
    """Ask, showing a single hosted model's answer as it is written when the console is a
    terminal: a long answer starts reading in a second, not when it is done. The drawing
    is erased when the reply comes, so the caller prints the finished answer once, with its
    sources; battles and offline answers arrive whole."""
    if not console.is_terminal:
        return await service.ask(ask, model=model)
    with Live(console=console, transient=True, auto_refresh=False) as live:

        async def redraw(text: str) -> None:
            live.update(
                Panel(text, title=messages.ANSWER_BEING_WRITTEN, title_align="left"), refresh=True
            )

        return await service.ask(ask, model=model, on_text=Throttled(redraw, REDRAW_INTERVAL))


def show_reply(console: Console, reply: Reply) -> None:
    for notice in reply.notices:
        console.print(notice, style="yellow", highlight=False)
    for shown in reply.answers:
        console.print(answer_panel(shown))


def answer_panel(shown: ShownAnswer) -> Panel:
    """The answer, its flagged sentences marked, its sources, and the marks' note."""
    note = flags_note(shown.flags)
    lines = [marked_text(shown.answer.text, shown.flags), "", *messages.sources_lines(shown.answer)]
    body = "\n".join([*lines, *([note] if note else [])]).strip()
    return Panel(body, title=shown.label, title_align="left")


async def collect_feedback(
    console: Console, service: Service, reply: Reply, user: str, channel: str
) -> str | None:
    """Ask for a vote on a battle or a thumb on a single answer; Enter skips.

    Returns what the user typed when it was not feedback (their next question), "" when
    they gave feedback or skipped, and None when they left.
    """
    if reply.battle_id is not None:
        typed = _read(messages.vote_prompt())
        if typed is None or typed.strip().lower() not in VOTE_KEYS:
            return typed
        choice = VOTE_KEYS[typed.strip().lower()]
        result = await service.vote(
            reply.battle_id, user, choice, platform="console", channel=channel
        )
        console.print(
            messages.vote_recorded(result.model_a, result.model_b, result.choice, result.replaced),
            highlight=False,
        )
        return ""
    if not reply.answers:
        return ""
    typed = _read(messages.feedback_prompt())
    if typed is None or typed.strip() not in THUMB_KEYS:
        return typed
    shown, value = reply.answers[0], THUMB_KEYS[typed.strip()]
    reason = None
    if value < 0:
        said = _read(messages.reason_prompt(REASON_KEYS))
        if said is None:
            return None
        reason = REASON_KEYS.get(said.strip().lower(), said.strip()) or None
    await service.thumb(shown.answer_id, user, value, reason)
    console.print(messages.thumb_recorded(shown.answer.model, value))
    return ""
