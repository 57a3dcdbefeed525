"""``parley chat``: the whole product in a terminal, stored exactly as chat platforms store it.

One console session is one thread, so follow-up questions see the earlier turns.
Single answers take a thumb; battles take one of the four votes and then reveal the names.
"""

from __future__ import annotations

import getpass
import uuid

import click
from rich.console import Console
from rich.panel import Panel

from . import messages
from .config import Settings
from .runtime import open_service
from .service import Ask, Reply, Service, ShownAnswer

__all__ = [
    "QUIT_WORDS",
    "VOTE_KEYS",
    "answer_panel",
    "collect_feedback",
    "run_console",
    "show_reply",
]

QUIT_WORDS = frozenset({"", "quit", "exit", ":q"})
VOTE_KEYS = {"a": "a", "b": "b", "t": "tie", "x": "both_bad"}


async def run_console(settings: Settings, *, channel: str, console: Console) -> None:
    """Read questions until the user quits (empty line, quit, exit or Ctrl-D)."""
    thread = uuid.uuid4().hex
    user = getpass.getuser()
    console.print("Ask a question (empty line or 'quit' to leave).", style="dim")
    async with open_service(settings) as service:
        while True:
            try:
                text = click.prompt("you", default="", show_default=False)
            except click.Abort:
                break
            if text.strip().lower() in QUIT_WORDS:
                break
            reply = await service.ask(Ask(text, user, channel, thread, "console"))
            show_reply(console, reply)
            await collect_feedback(console, service, reply, user)


def show_reply(console: Console, reply: Reply) -> None:
    for notice in reply.notices:
        console.print(notice, style="yellow", highlight=False)
    for shown in reply.answers:
        console.print(answer_panel(shown))


def answer_panel(shown: ShownAnswer) -> Panel:
    body = "\n".join([shown.answer.text, "", *messages.sources_lines(shown.answer)]).strip()
    return Panel(body, title=shown.label, title_align="left")


async def collect_feedback(console: Console, service: Service, reply: Reply, user: str) -> None:
    """Ask for a vote on a battle or a thumb on a single answer; Enter skips."""
    if reply.battle_id is not None:
        key = click.prompt(
            "vote: [a] A better, [b] B better, [t] tie, [x] both bad, Enter to skip",
            default="",
            show_default=False,
            type=click.Choice(["", *VOTE_KEYS]),
            show_choices=False,
        )
        if key:
            result = await service.vote(reply.battle_id, user, VOTE_KEYS[key])
            console.print(
                messages.vote_recorded(
                    result.model_a, result.model_b, result.choice, result.replaced
                ),
                highlight=False,
            )
    elif reply.answers:
        key = click.prompt(
            "feedback: [+] good, [-] bad, Enter to skip",
            default="",
            show_default=False,
            type=click.Choice(["", "+", "-"]),
            show_choices=False,
        )
        if key:
            shown, value = reply.answers[0], 1 if key == "+" else -1
            await service.thumb(shown.answer_id, user, value)
            console.print(messages.thumb_recorded(shown.answer.model, value))
