"""The platform-neutral service: battles, failures, votes, thumbs and thread history,
with a real in-memory store and fake providers that are real classes."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from arena.errors import ProviderUnavailable, VoteRefused
from arena.roster import Roster
from arena.store import Store
from bot.access import Requester
from bot.config import Settings
from bot.errors import BotError, NotAllowed, ReindexBusy
from bot.service import Ask, Service
from knowledge.errors import IndexStoreError
from knowledge.indexer import IndexReport
from knowledge.types import Hit
from tests.fakes.providers import HITS, fake, roster, streaming
from tests.fakes.service import service_over_fakes

pytestmark = pytest.mark.both_engines


def service(
    store: Store, contestants: Roster, battle_share: float = 1.0, searched: list | None = None
) -> Service:
    return service_over_fakes(
        store, contestants, battle_share=battle_share, seed=7, searched=searched
    )


HERE = {"platform": "slack", "channel": "eng"}  # where ask() is asked, so where votes come from


def ask(text: str = "How do I roll back?", user: str = "ana", thread: str | None = "t1") -> Ask:
    return Ask(text, user, "eng", thread, "slack")


async def test_battle_is_anonymous_and_the_vote_reveals_names(store: Store) -> None:
    svc = service(store, roster(fake("alpha"), fake("beta")))
    reply = await svc.ask(ask())
    assert reply.is_battle
    assert [s.label for s in reply.answers] == ["Model A", "Model B"]
    shown = [s.answer.model for s in reply.answers]
    result = await svc.vote(reply.battle_id, "ana", "a", **HERE)
    assert (result.model_a, result.model_b, result.replaced) == (shown[0], shown[1], False)
    changed = await svc.vote(reply.battle_id, "ana", "both_bad", **HERE)
    assert changed.replaced
    (counts,) = await store.pair_counts()
    assert counts.total == 1 and counts.both_bad == 1


async def test_a_failed_side_leaves_a_single_answer_and_no_battle(store: Store) -> None:
    svc = service(
        store, roster(fake("alpha", ProviderUnavailable("alpha", "HTTP 503")), fake("beta"))
    )
    reply = await svc.ask(ask())
    assert not reply.is_battle
    assert [s.answer.model for s in reply.answers] == ["beta"]
    assert reply.notices == ["Model alpha is unavailable right now (service unavailable)."]


async def test_every_model_failing_gives_a_clear_message(store: Store) -> None:
    down = ProviderUnavailable("alpha", "HTTP 503")
    svc = service(store, roster(fake("alpha", down)), battle_share=0)
    reply = await svc.ask(ask())
    assert reply.answers == []
    assert reply.notices[0].startswith("No model could answer right now.")


@pytest.mark.parametrize("text", ["   ", "a", " + ", "?!", "👍"])
async def test_empty_question_is_refused_before_anything_runs(store: Store, text: str) -> None:
    """Nothing, or a key pressed at the wrong prompt: nothing asked, nothing stored."""
    provider = fake("alpha")
    reply = await service(store, roster(provider)).ask(ask(text))
    assert reply.answers == [] and "Ask me a question" in reply.notices[0]
    assert provider.prompts == []
    assert await store._rows("SELECT id FROM questions") == []


@pytest.mark.parametrize("text", ["Hi", "值班？", "2FA?"])
async def test_a_short_question_is_still_asked(store: Store, text: str) -> None:
    provider = fake("alpha")
    reply = await service(store, roster(provider)).ask(ask(text))
    assert len(reply.answers) == 1 and len(provider.prompts) == 1


async def test_follow_up_questions_carry_the_thread(store: Store) -> None:
    provider = fake("alpha", "Use shipit rollback [1].", "It takes three minutes [1].")
    svc = service(store, roster(provider), battle_share=0)
    await svc.ask(ask("How do I roll back?"))
    await svc.ask(ask("How long does it take?"))
    await svc.ask(ask("Unrelated", thread="t2"))
    second, third = provider.prompts[1], provider.prompts[2]
    assert [m["content"] for m in second.messages[:2]] == [
        "How do I roll back?",
        "Use shipit rollback [1].",
    ]
    assert len(third.messages) == 1  # another thread starts fresh


async def test_a_long_thread_sends_only_its_last_ten_turns(store: Store) -> None:
    """A follow-up carries the thread's last HISTORY_TURNS (10) questions and answers,
    not every earlier one (the store alone would give 20)."""
    provider = fake("alpha")
    svc = service(store, roster(provider), battle_share=0)
    for n in range(12):
        await svc.ask(ask(f"Question {n}?"))
    await svc.ask(ask("And the last one?"))
    sent = [m["content"] for m in provider.prompts[-1].messages[:-1]]
    assert sent == [
        text for n in range(2, 12) for text in (f"Question {n}?", "Run shipit rollback [1].")
    ]


async def test_follow_ups_search_alone_and_with_the_previous_question(store: Store) -> None:
    searched: list[str] = []
    svc = service(store, roster(fake("alpha")), battle_share=0, searched=searched)
    await svc.ask(ask("Who owns billing-worker?"))
    await svc.ask(ask("And when does it run?"))
    assert searched[0] == "Who owns billing-worker?"
    assert set(searched[1:]) == {
        "And when does it run?",
        "Who owns billing-worker?\nAnd when does it run?",
    }


async def test_votes_on_unknown_battles_are_refused(store: Store) -> None:
    svc = service(store, roster(fake("alpha"), fake("beta")))
    with pytest.raises(VoteRefused, match="no battle 999"):
        await svc.vote(999, "ana", "a", **HERE)


async def test_thumbs_replace_earlier_thumbs(store: Store) -> None:
    svc = service(store, roster(fake("alpha")), battle_share=0)
    reply = await svc.ask(ask())
    answer_id = reply.answers[0].answer_id
    await svc.thumb(answer_id, "ana", 1)
    await svc.thumb(answer_id, "ana", -1)
    await svc.thumb(answer_id, "bo", 1)
    assert await store.thumb_counts() == {"alpha": (1, 1)}


async def test_named_model_is_used_and_battle_share_respected(store: Store) -> None:
    svc = service(store, roster(fake("alpha"), fake("beta")), battle_share=1.0)
    reply = await svc.ask(ask(), model="beta")
    assert not reply.is_battle and reply.answers[0].answer.model == "beta"
    quiet = service(store, roster(fake("alpha"), fake("beta")), battle_share=0.0)
    assert not any([(await quiet.ask(ask())).is_battle for _ in range(10)])


async def test_a_single_answer_streams_and_ends_whole(store: Store) -> None:
    svc = service(store, roster(streaming("alpha", "Run shipit rollback [1].")), battle_share=0)
    grown: list[str] = []

    async def on_text(text: str) -> None:
        grown.append(text)

    reply = await svc.ask(ask(), on_text=on_text)
    assert grown == ["Run ", "Run shipit ", "Run shipit rollback ", "Run shipit rollback [1]. "]
    assert reply.answers[0].answer.text == "Run shipit rollback [1]."


async def test_battles_never_stream(store: Store) -> None:
    svc = service(store, roster(streaming("alpha"), streaming("beta")), battle_share=1.0)
    grown: list[str] = []

    async def on_text(text: str) -> None:
        grown.append(text)

    reply = await svc.ask(ask(), on_text=on_text)
    assert reply.is_battle and grown == []


async def test_matchmaking_reads_the_capped_vote_counts(store: Store) -> None:
    """The pairs a battle is drawn from are steered by the votes that count: both reads
    (the channel's and everyone's) leave out votes over the daily cap, as the board does."""
    asked: list[tuple[tuple, dict]] = []
    counts = store.pair_counts

    async def noted(*args, **kwargs):
        asked.append((args, kwargs))
        return await counts(*args, **kwargs)

    store.pair_counts = noted  # type: ignore[method-assign]
    svc = service_over_fakes(
        store, roster(fake("alpha"), fake("beta")), battle_share=1, max_votes_per_user_per_day=3
    )
    await svc.ask(ask())
    assert asked == [(("eng",), {"daily_cap": 3}), ((), {"daily_cap": 3})]


async def test_matchmaking_is_steered_with_the_configured_shares(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``exploration_share`` and ``steer_min_channel_votes`` reach the steering as set."""
    steered: list[dict] = []

    def choose(names, channel_counts, overall, **options):
        steered.append(options)
        return names[:1]

    monkeypatch.setattr("bot.service.choose_steered", choose)
    svc = service_over_fakes(
        store, roster(fake("alpha"), fake("beta")), exploration_share=0.3, steer_min_channel_votes=7
    )
    await svc.ask(ask())
    assert steered[0]["exploration"] == 0.3
    assert steered[0]["min_channel_votes"] == 7


async def test_channel_battle_share_overrides_the_default(store: Store) -> None:
    """#support never battles, #eng always does, whatever the global share says."""
    svc = service_over_fakes(
        store,
        roster(fake("alpha"), fake("beta")),
        battle_share=0.5,
        channel_battle_share={"support": 0.0, "eng": 1.0},
    )
    support = [await svc.ask(Ask("Rollback?", "ana", "support", None, "slack")) for _ in range(12)]
    eng = [await svc.ask(Ask("Rollback?", "ana", "eng", None, "slack")) for _ in range(12)]
    elsewhere = [await svc.ask(Ask("Rollback?", "ana", "random", None, "slack")) for _ in range(40)]
    assert not any(r.is_battle for r in support)
    assert all(r.is_battle for r in eng)
    assert 0 < sum(r.is_battle for r in elsewhere) < 40


async def test_thumbs_down_keep_a_reason_and_thumbs_up_do_not(store: Store) -> None:
    svc = service(store, roster(fake("alpha")), battle_share=0)
    answer_id = (await svc.ask(ask())).answers[0].answer_id
    await svc.thumb(answer_id, "ana", -1, "outdated")
    await svc.thumb(answer_id, "bo", -1, "  The   rota moved\nto PagerDuty " + "x" * 900)
    await svc.thumb(answer_id, "cy", 1, "wrong")
    reasons = {user: reason for user, _, reason in await store.thumb_reasons(answer_id)}
    assert reasons["ana"] == "outdated"
    assert reasons["bo"].startswith("The rota moved to PagerDuty x") and len(reasons["bo"]) == 500
    assert reasons["cy"] is None


async def test_an_answer_records_the_passages_it_was_shown(store: Store) -> None:
    svc = service(store, roster(fake("alpha")), battle_share=0)
    answer_id = (await svc.ask(ask())).answers[0].answer_id
    record = await store.answer_record(answer_id)
    assert record is not None and [p.text for p in record.passages] == [HITS[0].passage.text]


async def test_unknown_vote_choices_are_refused(store: Store) -> None:
    svc = service(store, roster(fake("alpha"), fake("beta")))
    reply = await svc.ask(ask())
    with pytest.raises(VoteRefused, match="unknown vote"):
        await svc.vote(reply.battle_id, "ana", "c", **HERE)  # type: ignore[arg-type]
    assert await store.pair_counts() == []


async def test_leaderboard_through_the_service_with_a_chart(store: Store) -> None:
    svc = service(store, roster(fake("alpha"), fake("beta")))
    for user in ("ana", "bo", "cy"):
        reply = await svc.ask(ask(user=user))
        winner = "a" if reply.answers[0].answer.model == "alpha" else "b"
        await svc.vote(reply.battle_id, user, winner, **HERE)
    board = await svc.leaderboard(chart=True)
    assert board.rows[0].model == "alpha"
    assert board.chart_png is not None and board.chart_png.startswith(b"\x89PNG")
    assert (await svc.leaderboard("elsewhere")).rows == []
    assert (await svc.leaderboard()).chart_png is None


class SlowIndex:
    """An index function that reports progress and waits until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.runs: list[list[Path]] = []
        self.forced: list[bool] = []

    def __call__(self, paths, progress, passages, *, force: bool = False) -> IndexReport:
        self.runs.append(list(paths))
        self.forced.append(force)
        for done in range(1, 4):
            progress(f"/kb/file{done}.md", done, 3)
            self.release.wait(5)
        return IndexReport(added=3, passages=9)


def admin_service(store: Store, index: SlowIndex, **options) -> Service:
    return service_over_fakes(
        store, roster(fake("alpha")), index=index, admins=["slack:UADMIN"], **options
    )


async def test_only_admins_may_reindex_and_nothing_runs_otherwise(store: Store) -> None:
    index = SlowIndex()
    index.release.set()
    svc = admin_service(store, index, sources=[Path("/kb")])
    with pytest.raises(NotAllowed, match="Only Parley's admins"):
        await svc.reindex(Requester("slack", "UOTHER"))
    with pytest.raises(NotAllowed):  # the same id on another platform is someone else
        await svc.reindex(Requester("discord", "UADMIN"))
    assert index.runs == []
    report = await svc.reindex(Requester("slack", "UADMIN"))
    assert report.added == 3 and index.runs == [[Path("/kb")]]
    # an adapter may vouch for the platform's own admin right (Discord's Manage Server)
    await svc.reindex(Requester("discord", "42", platform_admin=True), [Path("/other")])
    assert index.runs[-1] == [Path("/other")]


async def test_a_second_reindex_is_told_whose_is_running(store: Store) -> None:
    index = SlowIndex()
    svc = admin_service(store, index, sources=[Path("/kb")])
    seen: list[str] = []

    async def progress(status) -> None:
        seen.append(f"{status.done}/{status.total}")

    first = asyncio.create_task(svc.reindex(Requester("slack", "UADMIN"), None, progress))
    while svc.reindex_status is None or svc.reindex_status.done == 0:
        await asyncio.sleep(0.01)
    with pytest.raises(ReindexBusy, match=r"started by slack:UADMIN .*1 of 3 files"):
        await svc.reindex(Requester("slack", "UADMIN"))
    # questions are still answered while it runs
    assert (await svc.ask(ask())).answers
    index.release.set()
    report = await first
    assert report.passages == 9 and len(index.runs) == 1
    assert seen and seen[0] == "1/3"
    assert svc.reindex_status is None


async def test_a_forced_reindex_reaches_the_index_as_forced(store: Store) -> None:
    index = SlowIndex()
    index.release.set()
    svc = admin_service(store, index, sources=[Path("/kb")])
    await svc.reindex(Requester("slack", "UADMIN"))
    await svc.reindex(Requester("slack", "UADMIN"), force=True)
    assert index.forced == [False, True]
    with pytest.raises(NotAllowed):  # forcing asks the same right
        await svc.reindex(Requester("slack", "UOTHER"), force=True)
    assert len(index.runs) == 2


async def test_reindex_without_sources_says_how_to_configure_them(store: Store) -> None:
    svc = admin_service(store, SlowIndex())
    with pytest.raises(BotError, match="sources"):
        await svc.reindex(Requester("slack", "UADMIN"))


async def test_a_model_that_hangs_is_cut_off_and_the_other_side_shown_alone(
    store: Store,
) -> None:
    stuck = fake("stuck", delay=30)
    stuck.spec = stuck.spec.model_copy(update={"timeout": 0.2, "max_retries": 0})
    svc = service(store, roster(stuck, fake("quick")))
    reply = await asyncio.wait_for(svc.ask(ask()), timeout=5)
    assert not reply.is_battle and [s.answer.model for s in reply.answers] == ["quick"]
    assert reply.notices == ["Model stuck is unavailable right now (timed out)."]
    assert await store.pair_counts() == []


async def test_search_that_fails_gives_a_clear_reply_and_recovers(store: Store) -> None:
    down = True

    def search(text: str, k: int, mode: str) -> list[Hit]:
        if down:
            raise IndexStoreError("cannot reach the Chroma server at 127.0.0.1:8000")
        return HITS[:k]

    provider = fake("alpha")
    svc = Service(Settings(battle_share=0), search=search, roster=roster(provider), store=store)
    reply = await svc.ask(ask())
    assert reply.answers == [] and reply.notices[0].startswith("Search is unavailable")
    assert provider.prompts == []
    down = False
    assert (await svc.ask(ask())).answers
