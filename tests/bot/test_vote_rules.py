"""Vote rules a user can reach, from the setting to the leaderboard, through the public
doors only: ``Settings``, ``bot.runtime.open_service``, then the service's ``ask``,
``vote`` and ``leaderboard``, over a real index and the default offline pair. A rule
skipped anywhere on the way (the setting not wired, the service not passing it on, the
pair counts ignoring it) fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from arena.errors import VoteRefused
from bot import messages
from bot.config import Settings
from bot.runtime import open_knowledge, open_service
from bot.service import Ask, Service

QUESTION = "How do I roll back a deploy?"


@pytest.fixture
def indexed(tmp_path: Path) -> Path:
    """A data folder whose index holds one small document."""
    docs, data = tmp_path / "docs", tmp_path / "data"
    docs.mkdir()
    (docs / "deploys.md").write_text(
        "# Deploys\n\nRoll back a deploy with shipit rollback. Deploys run at noon.\n"
    )
    knowledge = open_knowledge(Settings(data_dir=data))
    try:
        knowledge.index([docs])
    finally:
        knowledge.close()
    return data


def settings(data: Path, **chosen) -> Settings:
    return Settings(data_dir=data, battle_share=1.0, bootstrap_rounds=10, **chosen)


async def vote_on_a_battle(service: Service, user: str, choice: str) -> str:
    """Ask as ``user`` in C1 and vote; the name of the model the vote favours."""
    reply = await service.ask(Ask(QUESTION, user, "C1", None, "slack"))
    assert reply.battle_id is not None, reply.notices
    await service.vote(reply.battle_id, user, choice, platform="slack", channel="C1")  # type: ignore[arg-type]
    return reply.answers[0 if choice == "a" else 1].answer.model


async def test_the_daily_vote_cap_setting_reaches_the_leaderboard(indexed: Path) -> None:
    """With ``max_votes_per_user_per_day = 2``, ana's first two votes of the day count
    and her next three are left out; bo's one vote counts."""
    winners: list[str] = []
    async with open_service(settings(indexed, max_votes_per_user_per_day=2)) as service:
        for _ in range(5):
            winners.append(await vote_on_a_battle(service, "ana", "a"))
        winners.append(await vote_on_a_battle(service, "bo", "b"))
        board = await service.leaderboard()
    counted = winners[:2] + winners[5:]
    assert {row.votes for row in board.rows} == {3}
    assert {row.left_out_votes for row in board.rows} == {3}
    for row in board.rows:
        assert row.win_rate == pytest.approx(counted.count(row.model) / 3, abs=1e-4)


async def test_without_the_cap_every_vote_counts(indexed: Path) -> None:
    async with open_service(settings(indexed)) as service:
        for _ in range(5):
            await vote_on_a_battle(service, "ana", "a")
        board = await service.leaderboard()
    assert {row.votes for row in board.rows} == {5}
    assert {row.left_out_votes for row in board.rows} == {0}


async def test_a_vote_from_another_channel_or_platform_is_refused_exactly(
    indexed: Path,
) -> None:
    """The battle was shown in Slack's C1: the same battle id voted from C2, or from a
    Discord channel that happens to be called C1, is refused with the reason, and the
    vote from C1 itself still counts once."""
    async with open_service(settings(indexed)) as service:
        reply = await service.ask(Ask(QUESTION, "ana", "C1", None, "slack"))
        assert reply.battle_id is not None
        for platform, channel in [("slack", "C2"), ("discord", "C1"), ("slack", "")]:
            with pytest.raises(VoteRefused) as refused:
                await service.vote(reply.battle_id, "eve", "a", platform=platform, channel=channel)
            assert str(refused.value) == messages.foreign_battle()
        board = await service.leaderboard()
        assert board.rows == [] or {row.votes for row in board.rows} == {0}
        await service.vote(reply.battle_id, "ana", "b", platform="slack", channel="C1")
        board = await service.leaderboard()
    assert {row.votes for row in board.rows} == {1}


async def test_the_daily_cap_also_holds_on_the_style_controlled_board(indexed: Path) -> None:
    """ana's first two votes favour one model, her next ten (over the cap of 2) the
    other: the style-controlled scores, like the plain ones, see only the first two."""
    async with open_service(settings(indexed, max_votes_per_user_per_day=2)) as service:
        favoured: str | None = None
        for n in range(12):
            reply = await service.ask(Ask(QUESTION, "ana", "C1", None, "slack"))
            assert reply.battle_id is not None, reply.notices
            models = [shown.answer.model for shown in reply.answers]
            favoured = favoured or models[0]
            wins = favoured if n < 2 else next(m for m in models if m != favoured)
            choice = "a" if models[0] == wins else "b"
            await service.vote(reply.battle_id, "ana", choice, platform="slack", channel="C1")
        board = await service.leaderboard(style=True)
    rows = {row.model: row for row in board.rows}
    other = next(model for model in rows if model != favoured)
    assert rows[favoured].score > rows[other].score
    assert rows[favoured].style_score > rows[other].style_score
