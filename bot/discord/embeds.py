"""How Parley looks in Discord: answers as embeds under Discord's limits, the battle
reveal and the leaderboard table.

Discord refuses a message outright when it breaks a limit (2,000 characters of content,
4,096 in an embed's description, 6,000 across a message's embeds, ten embeds, 1,024 in
a field), so a long answer is split into several embeds, and the embeds are packed
into as few messages as the limits allow. Everything a model or a document wrote has
its mentions neutralised first; the client also sends ``allowed_mentions`` none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import discord

from arena.leaderboard import LeaderboardRow
from arena.types import Answer
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
from ..service import Board, Reply, ShownAnswer

__all__ = [
    "CHART_NAME",
    "CONTENT_LIMIT",
    "CONTINUED",
    "DESCRIPTION_LIMIT",
    "EMBEDS_PER_MESSAGE",
    "FIELD_LIMIT",
    "MESSAGE_EMBEDS_LIMIT",
    "Post",
    "answer_embeds",
    "label_of",
    "leaderboard_embed",
    "pack",
    "partial_content",
    "reply_posts",
    "reveal",
]

CONTENT_LIMIT = 2000
DESCRIPTION_LIMIT = 4096
MESSAGE_EMBEDS_LIMIT = 6000  # all embeds of one message together
EMBEDS_PER_MESSAGE = 10
FIELD_LIMIT = 1024
_TITLE_LIMIT = 256
CONTINUED = " (continued)"
CHART_NAME = "leaderboard.png"
_MORE = "\n…and {} more"
_SIDE = re.compile(r"^Model ([AB])(?=$| \()")  # an unrevealed battle side, as the service labels it


@dataclass
class Post:
    """One message to send: content (notices) and the embeds that fit in it."""

    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)


def answer_embeds(shown: ShownAnswer) -> list[discord.Embed]:
    """One answer as embeds titled with its label, its flagged sentences marked; the
    sources go under the last one, and the marks' note in its footer."""
    label = shown.label[: _TITLE_LIMIT - len(CONTINUED)]
    text = marked_text(shown.answer.text, shown.flags)
    parts = split_text(neutralise_mentions(text), DESCRIPTION_LIMIT) or [""]
    embeds = [
        discord.Embed(title=label if i == 0 else label + CONTINUED, description=part)
        for i, part in enumerate(parts)
    ]
    sources = _sources_field(shown.answer)
    if sources:
        embeds[-1].add_field(name=sources[0], value=sources[1], inline=False)
    _add_flags_note(embeds[-1], shown)
    return embeds


def _add_flags_note(embed: discord.Embed, shown: ShownAnswer) -> None:
    """The line that explains the answer's faithfulness marks, as the embed's footer."""
    note = flags_note(shown.flags)
    if note:
        embed.set_footer(text=note)


def _sources_field(answer: Answer) -> tuple[str, str] | None:
    """The numbered sources (a web page marked [Web], linked, with its host), then the
    note on what they lack (a failed web search), within a field's limit."""
    lines = source_lines(answer)
    note = source_note(answer)
    if not lines and not note:
        return None
    heading = messages.sources_heading(answer) if lines else "Note"
    texts = []
    for line in lines:
        title = f"[{line.title}]({line.link})" if line.link else line.title
        if line.web:
            title = f"{messages.WEB_MARK} {title} ({host_of(line.link or '')})"
        texts.append(f"[{line.number}] {title}" + (f", {line.location}" if line.location else ""))
    tail = f"\n⚠️ {note}"[: FIELD_LIMIT // 2] if note else ""
    value = ""
    for count, text in enumerate(texts):
        candidate = f"{value}\n{text}" if value else text
        room = FIELD_LIMIT - len(tail) - len(_MORE.format(len(texts) - count - 1))
        if len(candidate) > room:
            value = (value or text[: room - 1] + "…") + _MORE.format(len(texts) - count)
            break
        value = candidate
    return heading, (value + tail).strip()[:FIELD_LIMIT]


def pack(embeds: Sequence[discord.Embed]) -> list[list[discord.Embed]]:
    """Embeds grouped, in order, into messages within Discord's per-message limits."""
    groups: list[list[discord.Embed]] = []
    current: list[discord.Embed] = []
    size = 0
    for embed in embeds:
        full = size + len(embed) > MESSAGE_EMBEDS_LIMIT or len(current) == EMBEDS_PER_MESSAGE
        if current and full:
            groups.append(current)
            current, size = [], 0
        current.append(embed)
        size += len(embed)
    if current:
        groups.append(current)
    return groups


def partial_content(text: str) -> str:
    """An answer still being written, as plain content: mentions broken, cut to fit."""
    return f"{(split_text(neutralise_mentions(text), CONTENT_LIMIT - 2) or [''])[0]} …"


def reply_posts(reply: Reply) -> list[Post]:
    """A Reply as messages: notices as content first, then the answers' embeds. The
    adapter puts the buttons (thumbs or votes) on the last one."""
    notices = (
        split_text(neutralise_mentions("\n".join(reply.notices)), CONTENT_LIMIT)
        if reply.notices
        else []
    )
    groups = pack([e for shown in reply.answers for e in answer_embeds(shown)])
    if not groups:
        return [Post(content=text) for text in notices]
    posts = [Post(content=text) for text in notices[:-1]]
    posts.append(Post(notices[-1] if notices else None, groups[0]))
    posts += [Post(embeds=group) for group in groups[1:]]
    return posts


def reveal(embeds: Sequence[discord.Embed], model_a: str, model_b: str) -> list[discord.Embed]:
    """The battle's embeds with the models named: "Model A" becomes "Model A: name".
    Already revealed titles stay as they are, so a changed vote edits nothing twice."""
    names = {"A": model_a, "B": model_b}
    revealed = []
    for embed in embeds:
        embed = embed.copy()
        match = _SIDE.match(embed.title or "")
        if match:
            title = f"Model {match.group(1)}: {names[match.group(1)]}" + embed.title[match.end() :]
            embed.title = title[:_TITLE_LIMIT]
        revealed.append(embed)
    return revealed


def label_of(embeds: Sequence[discord.Embed]) -> str:
    """The answer's label (the model, for a single answer) from its message's embeds."""
    title = next((e.title for e in embeds if e.title), "")
    return title.removesuffix(CONTINUED) or messages.UNNAMED_ANSWER


def leaderboard_embed(board: Board) -> discord.Embed:
    """The ranking as a monospaced table; the chart, if any, is the attached image."""
    header = f"{'#':>2}  {'model':<20} {'score':>5}  {'95% CI':<11} {'votes':>5}"
    lines = [header]
    for row in board.rows:
        line = _table_line(row)
        if sum(len(x) + 1 for x in lines) + len(line) + 200 > DESCRIPTION_LIMIT:
            lines.append("…")
            break
        lines.append(line)
    where = messages.votes_in(f"<#{board.channel}>") + "\n" if board.channel else ""
    note = "\n" + discord.utils.escape_markdown(messages.PROVISIONAL_NOTE)  # "* " is a bullet
    provisional = any(r.provisional for r in board.rows)
    table = "```\n" + "\n".join(lines) + "\n```"
    embed = discord.Embed(
        title=messages.leaderboard_title(),
        description=where + table + (note if provisional else ""),
    )
    if board.chart_png:
        embed.set_image(url=f"attachment://{CHART_NAME}")
    return embed


def _table_line(row: LeaderboardRow) -> str:
    """A provisional model's rank and interval are too wide to rank by: dashes."""
    rank = "–" if row.rank_ub is None or row.provisional else str(row.rank_ub)
    name = row.model[:19] + ("*" if row.provisional else "")
    score = "–" if row.score is None else f"{row.score:.0f}"
    ci = "–" if row.ci_low is None or row.provisional else f"{row.ci_low:.0f}–{row.ci_high:.0f}"
    return f"{rank:>2}  {name:<20} {score:>5}  {ci:<11} {row.votes:>5}"
