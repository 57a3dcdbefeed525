"""Replies as Block Kit: answers, battles, the vote reveal, the reason modal, the leaderboard.

Pure functions from the service's values to Slack payloads (``{"text": ..., "blocks":
[...]}``), so they are tested without a network. Every message carries a plain ``text``
fallback for notifications and screen readers. Every piece of model or document text
passes through ``to_mrkdwn`` (escapes ``<``, ``>``, ``&``) and ``neutralise_mentions``
(bare ``@here`` and look-alikes) before it is put in a block.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from arena.leaderboard import LeaderboardRow
from arena.types import Answer, Choice
from arena.votes import VoteResult
from knowledge.web import host_of

from .. import messages
from ..render import (
    flags_note,
    marked_text,
    neutralise_mentions,
    source_lines,
    source_note,
    split_text,
)
from ..service import Board, ShownAnswer
from .mrkdwn import escape, to_mrkdwn

__all__ = [
    "ACTION_THUMB_DOWN",
    "ACTION_THUMB_UP",
    "ACTION_VOTE",
    "MAX_SECTIONS_PER_MESSAGE",
    "REASON_MODAL",
    "SECTION_LIMIT",
    "Message",
    "answer_messages",
    "battle_message",
    "leaderboard_message",
    "mrkdwn_safe",
    "notice_message",
    "partial_message",
    "question_message",
    "reason_modal",
    "reason_of",
    "reveal_battle",
    "text_message",
]

SECTION_LIMIT = 3000  # Slack's limit on one section block's text
MAX_SECTIONS_PER_MESSAGE = 10  # well under Slack's 50 blocks; ~30,000 characters
_MAX_BATTLE_SECTIONS = 6  # per side: both answers share one message
_CUT_NOTE = "\n" + messages.ANSWER_CUT_NOTE
ACTION_VOTE = "parley_vote"  # suffixed with the choice: parley_vote_a, parley_vote_tie, ...
ACTION_THUMB_UP = "parley_thumb_up"
ACTION_THUMB_DOWN = "parley_thumb_down"
REASON_MODAL = "parley_thumb_reason"
_VOTE_BLOCK = "parley_votes"
_VOTE_NOTE_BLOCK = "parley_vote_note"
_LABEL_BLOCK = {"a": "parley_label_a", "b": "parley_label_b"}
_REASON_BLOCK, _REASON_ACTION = "reason", "reason_choice"
_DETAIL_BLOCK, _DETAIL_ACTION = "detail", "reason_text"


@dataclass(frozen=True)
class Message:
    """One Slack message: the fallback text and its blocks."""

    text: str
    blocks: list[dict]

    def as_kwargs(self) -> dict:
        return {"text": self.text, "blocks": self.blocks}


def mrkdwn_safe(text: str) -> str:
    """Model or document Markdown as mrkdwn that can ping no one."""
    return neutralise_mentions(to_mrkdwn(text))


def _section(text: str, block_id: str | None = None) -> dict:
    block = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id:
        block["block_id"] = block_id
    return block


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:SECTION_LIMIT]}]}


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict:
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _sources(answer: Answer) -> dict | None:
    """The numbered sources as one context block: title (linked when it is a URL), place;
    a web page marked [Web] with its host, so it never passes for a team document; then
    the note on what the sources lack (a failed web search), if any."""
    lines = source_lines(answer)
    note = source_note(answer)
    if not lines and not note:
        return None
    rendered = [f"*{messages.sources_heading(answer)}:*"] if lines else []
    for line in lines:
        title = escape(line.title).replace("|", "/")
        title = f"<{escape(line.link)}|{title}>" if line.link else title
        place = f" · {escape(line.location)}" if line.location else ""
        if line.web:
            title = f"{messages.WEB_MARK} {title} ({escape(host_of(line.link or ''))})"
        rendered.append(f"[{line.number}] {title}{place}")
    if note:
        rendered.append(f":warning: {escape(note)}")
    return _context("\n".join(rendered))


def _flags(shown: ShownAnswer) -> dict | None:
    """The line that explains the answer's faithfulness marks, when it has any."""
    note = flags_note(shown.flags)
    return _context(escape(note)) if note else None


def _pieces(text: str, most: int | None = None) -> list[str]:
    pieces = split_text(mrkdwn_safe(text), SECTION_LIMIT - len(_CUT_NOTE))
    if most is not None and len(pieces) > most:
        pieces = [*pieces[: most - 1], pieces[most - 1] + _CUT_NOTE]
    return pieces


def _notices(notices: list[str]) -> list[dict]:
    return [_context(f":warning: {escape(neutralise_mentions(n))}") for n in notices]


def text_message(text: str) -> Message:
    """A short plain reply (a refusal, a progress line) as one section."""
    safe = escape(neutralise_mentions(text))
    return Message(safe, [_section(safe[:SECTION_LIMIT])])


def question_message(user: str, text: str) -> Message:
    """The root message of a ``/ask`` question, so its answer has a thread to live in.
    It names the asker (a user id only: nobody else can be pinged)."""
    question = mrkdwn_safe(" ".join(text.split()))[: SECTION_LIMIT - 100]
    who = f"<@{user}>" if re.fullmatch(r"[UW][A-Z0-9]+", user) else "Someone"
    asked = messages.asked(who, question)
    return Message(asked, [_section(asked)])


def notice_message(notices: list[str]) -> Message:
    """When no answer can be shown: the service's plain-language notices."""
    text = " ".join(notices) or messages.no_answer()
    return Message(escape(neutralise_mentions(text)), _notices([text]))


def partial_message(text: str) -> Message:
    """An answer still being written: as much as fits one message, marked unfinished."""
    pieces = split_text(mrkdwn_safe(text), SECTION_LIMIT)[:MAX_SECTIONS_PER_MESSAGE] or ["…"]
    return Message("\n\n".join(pieces), [*map(_section, pieces), _context("_Writing…_")])


def answer_messages(shown: ShownAnswer, notices: list[str] | None = None) -> list[Message]:
    """One answer as one message, or several when it is very long; its flagged sentences
    marked, the last message carries the sources, the marks' note, any notices and the
    thumbs. The button values hold the answer id and model."""
    pieces = _pieces(marked_text(shown.answer.text, shown.flags)) or [messages.EMPTY_ANSWER]
    groups = [
        pieces[i : i + MAX_SECTIONS_PER_MESSAGE]
        for i in range(0, len(pieces), MAX_SECTIONS_PER_MESSAGE)
    ]
    out = [Message("\n\n".join(g), [_section(p) for p in g]) for g in groups]
    last = out[-1].blocks
    sources = _sources(shown.answer)
    if sources:
        last.append(sources)
    flags = _flags(shown)
    if flags:
        last.append(flags)
    last.extend(_notices(notices or []))
    value = json.dumps({"answer": shown.answer_id, "model": shown.answer.model})
    last.append(_context(messages.answered_by(escape(shown.label))))
    last.append(
        {
            "type": "actions",
            "block_id": f"parley_thumbs_{shown.answer_id}",
            "elements": [
                _button("👍", ACTION_THUMB_UP, value),
                _button("👎", ACTION_THUMB_DOWN, value),
            ],
        }
    )
    return out


def _vote_buttons(battle_id: int, chosen: Choice | None = None) -> dict:
    return {
        "type": "actions",
        "block_id": _VOTE_BLOCK,
        "elements": [
            _button(
                label,
                f"{ACTION_VOTE}_{choice}",
                str(battle_id),
                "primary" if choice == chosen else None,
            )
            for choice, label in messages.CHOICE_LABELS.items()
        ],
    }


def battle_message(question: str, answers: list[ShownAnswer], battle_id: int) -> Message:
    """The question, "Model A", a divider, "Model B", and the four vote buttons."""
    asked = escape(neutralise_mentions(" ".join(question.split())))[:500]
    blocks: list[dict] = [_section(f"*Question:* {asked}")]
    fallback = [f"Question: {asked}"]
    for index, (shown, side) in enumerate(zip(answers, "ab", strict=True)):
        if index:
            blocks.append({"type": "divider"})
        blocks.append(_section(f"*{escape(shown.label)}*", _LABEL_BLOCK[side]))
        pieces = _pieces(shown.answer.text, _MAX_BATTLE_SECTIONS)
        blocks.extend(_section(p) for p in pieces)
        fallback.append(f"{shown.label}: " + "\n".join(pieces))
        sources = _sources(shown.answer)
        if sources:
            blocks.append(sources)
    blocks.append(_context(messages.BATTLE_QUESTION))
    blocks.append(_vote_buttons(battle_id))
    return Message("\n\n".join(fallback), blocks)


def reveal_battle(blocks: list[dict], battle_id: int, result: VoteResult) -> list[dict]:
    """The posted battle with the model names shown and the last vote marked; the buttons
    stay, so others can vote and anyone can change their mind."""
    names = {"a": result.model_a, "b": result.model_b}
    note = _context(messages.last_vote(f"*{messages.CHOICE_LABELS[result.choice]}*"))
    note["block_id"] = _VOTE_NOTE_BLOCK
    out = []
    for block in blocks:
        block_id = block.get("block_id")
        side = next((s for s, b in _LABEL_BLOCK.items() if b == block_id), None)
        if side:
            out.append(_section(f"*Model {side.upper()}: {escape(names[side])}*", block_id))
        elif block_id == _VOTE_NOTE_BLOCK:
            continue
        elif block_id == _VOTE_BLOCK:
            out.append(note)
            out.append(_vote_buttons(battle_id, result.choice))
        else:
            out.append(block)
    return out


def reason_modal(answer_id: int, model: str, channel: str, thread: str | None) -> dict:
    """A small modal asking, optionally, what was wrong with an answer."""
    options = [
        {"text": {"type": "plain_text", "text": label}, "value": key}
        for key, label in messages.THUMB_REASONS.items()
    ]
    return {
        "type": "modal",
        "callback_id": REASON_MODAL,
        "private_metadata": json.dumps(
            {"answer": answer_id, "model": model, "channel": channel, "thread": thread}
        ),
        "title": {"type": "plain_text", "text": messages.REASON_FORM_TITLE},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Skip"},
        "blocks": [
            {
                "type": "input",
                "block_id": _REASON_BLOCK,
                "optional": True,
                "label": {"type": "plain_text", "text": messages.REASON_FORM_CHOICE},
                "element": {
                    "type": "radio_buttons",
                    "action_id": _REASON_ACTION,
                    "options": options,
                },
            },
            {
                "type": "input",
                "block_id": _DETAIL_BLOCK,
                "optional": True,
                "label": {"type": "plain_text", "text": messages.REASON_FORM_DETAIL},
                "element": {
                    "type": "plain_text_input",
                    "action_id": _DETAIL_ACTION,
                    "multiline": True,
                    "max_length": 500,
                },
            },
        ],
    }


def reason_of(view: dict) -> str | None:
    """The reason a submitted modal gives: the chosen key, the user's words, or both."""
    values = view.get("state", {}).get("values", {})
    chosen = (values.get(_REASON_BLOCK, {}).get(_REASON_ACTION, {}) or {}).get("selected_option")
    detail = (values.get(_DETAIL_BLOCK, {}).get(_DETAIL_ACTION, {}) or {}).get("value")
    key = chosen["value"] if chosen else None
    if key and detail and detail.strip():
        return f"{key}: {detail.strip()}"
    return key or (detail.strip() if detail and detail.strip() else None)


def _row(r: LeaderboardRow) -> list[str]:
    """A provisional model's rank and interval are too wide to rank by: dashes."""
    return [
        "–" if r.rank_ub is None or r.provisional else str(r.rank_ub),
        r.model + (" *" if r.provisional else ""),
        "–" if r.score is None else f"{r.score:.0f}",
        "–" if r.ci_low is None or r.provisional else f"{r.ci_low:.0f}–{r.ci_high:.0f}",
        str(r.votes),
    ]


def leaderboard_message(
    board: Board, channel_name: str | None = None, link: str | None = None
) -> Message:
    """The table (rank, model, score, 95% interval, votes; * marks provisional) as a
    monospaced block, which keeps the columns aligned in every Slack client; ``link``
    (the dashboard's line) under it."""
    table = [["Rank", "Model", "Score", "95% CI", "Votes"], *(_row(r) for r in board.rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in table]
    title = messages.leaderboard_title(channel_name)
    body = escape(neutralise_mentions("\n".join(line.rstrip() for line in lines)))
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": title}},
        _section(f"```\n{body[: SECTION_LIMIT - 10]}\n```"),
    ]
    if any(r.provisional for r in board.rows):
        blocks.append(_context(messages.PROVISIONAL_NOTE))
    if link:
        blocks.append(_context(escape(link)))
    return Message(f"{title}\n{body}", blocks)
