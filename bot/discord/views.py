"""Buttons and the reason modal: votes under a battle, thumbs under a single answer.

The buttons are ``discord.ui.DynamicItem``s: the custom_id carries the battle or answer
id (``parley:vote:12:a``, ``parley:thumb:34:down``), so a click is routed by pattern,
not by an in-memory view, and buttons posted before a restart keep working. Every
callback only translates: the service stores the vote or thumb and decides what is
allowed; the reply comes from ``bot.messages``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from arena.errors import VoteRefused
from arena.types import Choice

from .. import messages
from ..errors import NotRecorded
from ..service import MAX_REASON_CHARS, Reply
from .embeds import label_of, reveal

if TYPE_CHECKING:
    from ..service import Service

__all__ = [
    "PLATFORM",
    "ReasonModal",
    "ThumbButton",
    "VoteButton",
    "location",
    "reply_view",
    "service_of",
    "submit_reason",
]

PLATFORM = "discord"
_REASON_FIELD = "reason"
_REASON_ID = re.compile(r"parley:reason:(?P<answer>\d+)")
_STYLES: dict[Choice, discord.ButtonStyle] = {
    "a": discord.ButtonStyle.primary,
    "b": discord.ButtonStyle.primary,
    "tie": discord.ButtonStyle.secondary,
    "both_bad": discord.ButtonStyle.danger,
}


def location(channel: Any) -> tuple[str, str | None]:
    """(channel, thread) as the service knows them: inside a thread, its parent channel
    and the thread, so the thread's history comes along; elsewhere the channel alone.
    An interaction from nowhere Discord named (no ``channel`` nor ``channel_id``: never
    seen, but both are optional) asks from no channel, and can vote on no battle."""
    if channel is None:
        return "", None
    if isinstance(channel, discord.Thread):
        return str(channel.parent_id), str(channel.id)
    return str(channel.id), None


def service_of(interaction: discord.Interaction) -> Service:
    """The service the Parley client carries (see ``ParleyClient``)."""
    return interaction.client.service  # type: ignore[attr-defined]


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"parley:vote:(?P<battle>\d+):(?P<choice>a|b|tie|both_bad)",
):
    """One of a battle's four vote buttons; a second click changes the voter's vote."""

    def __init__(self, battle_id: int, choice: Choice) -> None:
        super().__init__(
            discord.ui.Button(
                label=messages.CHOICE_LABELS[choice],
                style=_STYLES[choice],
                custom_id=f"parley:vote:{battle_id}:{choice}",
            )
        )
        self.battle_id = battle_id
        self.choice: Choice = choice

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> VoteButton:
        return cls(int(match["battle"]), match["choice"])  # type: ignore[arg-type]

    async def callback(self, interaction: discord.Interaction) -> None:
        """Store the vote, reveal the models in the message, confirm to the voter alone."""
        try:
            result = await service_of(interaction).vote(
                self.battle_id,
                str(interaction.user.id),
                self.choice,
                platform=PLATFORM,
                channel=location(interaction.channel)[0],
            )
        except (VoteRefused, NotRecorded) as exc:
            await interaction.response.send_message(str(exc), ephemeral=True)
            return
        shown = interaction.message.embeds if interaction.message else []
        await interaction.response.edit_message(
            embeds=reveal(shown, result.model_a, result.model_b)
        )
        await interaction.followup.send(
            messages.vote_recorded(result.model_a, result.model_b, result.choice, result.replaced),
            ephemeral=True,
        )


class ThumbButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"parley:thumb:(?P<answer>\d+):(?P<value>up|down)",
):
    """👍 or 👎 under a single answer; 👎 also asks, optionally, what was wrong."""

    def __init__(self, answer_id: int, value: int) -> None:
        super().__init__(
            discord.ui.Button(
                emoji="👍" if value > 0 else "👎",
                style=discord.ButtonStyle.secondary,
                custom_id=f"parley:thumb:{answer_id}:{'up' if value > 0 else 'down'}",
            )
        )
        self.answer_id = answer_id
        self.value = value

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ThumbButton:
        return cls(int(match["answer"]), 1 if match["value"] == "up" else -1)

    async def callback(self, interaction: discord.Interaction) -> None:
        """Store the thumb at once (a dismissed modal still counts), then confirm it or,
        for a thumbs-down, open the modal that asks why."""
        try:
            await service_of(interaction).thumb(
                self.answer_id, str(interaction.user.id), self.value
            )
        except (VoteRefused, NotRecorded) as exc:
            await interaction.response.send_message(str(exc), ephemeral=True)
            return
        if self.value < 0:
            form = ReasonModal(self.answer_id)
            await interaction.response.send_modal(form)
            form.stop()  # discord.py forgets it: the submission is routed by custom_id
        else:
            label = label_of(interaction.message.embeds if interaction.message else [])
            await interaction.response.send_message(
                messages.thumb_recorded(label, self.value), ephemeral=True
            )


class ReasonModal(discord.ui.Modal, title=messages.REASON_FORM_TITLE):
    """The form that asks, optionally, why an answer got a thumbs-down: a text input in a
    Label, the form Discord recommends (an input in an action row is deprecated). Only
    the form: its submission is handled by custom_id in ``submit_reason``, like the
    buttons, so a form opened before a restart still counts after it."""

    reason: discord.ui.Label = discord.ui.Label(
        text=messages.REASON_FORM_FIELD,
        component=discord.ui.TextInput(
            style=discord.TextStyle.paragraph,
            required=False,
            max_length=MAX_REASON_CHARS,
            placeholder=", ".join(messages.THUMB_REASONS.values()) + "…",
            custom_id=_REASON_FIELD,
        ),
    )

    def __init__(self, answer_id: int) -> None:
        super().__init__(custom_id=f"parley:reason:{answer_id}", timeout=None)


async def submit_reason(interaction: discord.Interaction) -> None:
    """Store the reason a submitted ReasonModal carries; any other interaction passes."""
    data: dict[str, Any] = interaction.data or {}  # type: ignore[assignment]
    match = _REASON_ID.fullmatch(str(data.get("custom_id", "")))
    if interaction.type is not discord.InteractionType.modal_submit or match is None:
        return
    label = label_of(interaction.message.embeds if interaction.message else [])
    reason = _field_value(data.get("components", []), _REASON_FIELD).strip() or None
    try:
        await service_of(interaction).thumb(
            int(match["answer"]), str(interaction.user.id), -1, reason
        )
    except (VoteRefused, NotRecorded) as exc:
        await interaction.response.send_message(str(exc), ephemeral=True)
        return
    await interaction.response.send_message(messages.thumb_recorded(label, -1), ephemeral=True)


def _field_value(components: list[dict[str, Any]], custom_id: str) -> str:
    """A text field's value in a modal submission, inside action rows or labels."""
    for component in components:
        if component.get("custom_id") == custom_id:
            return str(component.get("value") or "")
        nested = list(component.get("components", []))
        if "component" in component:  # a label wraps exactly one component
            nested.append(component["component"])
        found = _field_value(nested, custom_id)
        if found:
            return found
    return ""


def reply_view(reply: Reply) -> discord.ui.View | None:
    """Vote buttons for a battle, thumbs for a single answer, nothing for a notice."""
    if reply.is_battle:
        assert reply.battle_id is not None
        items: list[discord.ui.Item] = [
            VoteButton(reply.battle_id, choice) for choice in messages.CHOICE_LABELS
        ]
    elif reply.answers:
        items = [ThumbButton(reply.answers[0].answer_id, value) for value in (1, -1)]
    else:
        return None
    view = discord.ui.View(timeout=None)
    for item in items:
        view.add_item(item)
    return view
