"""The service with pipelines as contestants: a search per distinct retrieval setting,
settings recorded with each answer, the web as a source (fallback, blend, private
channels, failures) through a fake SearXNG at the wire, and sources marked on every
surface."""

from __future__ import annotations

import json
import logging
import time

import pytest

from arena.store import Store
from arena.types import Citation
from bot import messages
from bot.cli.answers import answer_json
from bot.discord.embeds import answer_embeds
from bot.service import Ask
from bot.slack.blocks import answer_messages
from knowledge.types import Hit, Passage
from knowledge.web import WebLimits, open_web_source
from tests.fakes.http_server import Scripted
from tests.fakes.providers import pipeline, pipelines
from tests.fakes.service import service_over_fakes
from tests.fakes.web_search import FakeSearxng

DOCS = [
    Hit(
        Passage(f"d{n}", f"Document passage {n} about deploys.", f"/hb/doc{n}.md", f"Doc {n}"),
        1 - n / 10,
    )
    for n in range(8)
]
WEB_PAGE = "https://example.com/refunds"


def ask(text: str = "How do refunds work?", channel: str = "C1") -> Ask:
    return Ask(text, "ana", channel, None, "slack")


@pytest.fixture
def engine(fake_api) -> FakeSearxng:
    return FakeSearxng(fake_api, [(WEB_PAGE, "Refunds", "Refunds take 30 days on the web.")])


def web_of(engine: FakeSearxng, **limits):
    return open_web_source("searxng", url=engine.url, limits=WebLimits(fetch_pages=False, **limits))


def texts(provider) -> list[str]:
    """The passages a fake model's last prompt carried."""
    return [h.passage.text for h in provider.prompts[-1].passages]


async def test_contestants_with_different_retrieval_get_their_own_passages(store: Store) -> None:
    deep = pipeline("deep", k=6)
    shallow = pipeline("shallow", k=2, mode="lexical")
    searches: list[tuple[str, int, str]] = []
    service = service_over_fakes(
        store, pipelines(deep, shallow), hits=DOCS, searches=searches, battle_share=1.0
    )
    reply = await service.ask(ask())
    assert reply.is_battle
    assert sorted(k for _, k, _ in searches) == [2, 6]
    assert {mode for _, _, mode in searches} == {"hybrid", "lexical"}
    assert len(texts(deep)) == 6 and len(texts(shallow)) == 2


async def test_contestants_with_the_same_retrieval_share_one_search(store: Store) -> None:
    one, two = pipeline("one", k=3), pipeline("two", k=3, prompt="brief")
    searches: list[tuple[str, int, str]] = []
    service = service_over_fakes(
        store, pipelines(one, two), hits=DOCS, searches=searches, battle_share=1.0
    )
    assert (await service.ask(ask())).is_battle
    assert searches == [("How do refunds work?", 3, "hybrid")]
    assert texts(one) == texts(two)
    assert one.prompts[-1].system != two.prompts[-1].system  # their templates differ


async def test_each_answer_is_stored_with_its_pipeline_and_the_board_shows_them(
    store: Store,
) -> None:
    deep, shallow = pipeline("deep", k=6), pipeline("shallow", k=2, mode="dense")
    service = service_over_fakes(store, pipelines(deep, shallow), hits=DOCS, battle_share=1.0)
    reply = await service.ask(ask())
    await service.vote(reply.battle_id, "ana", "a", platform="slack", channel="C1")
    board = await service.leaderboard()
    assert board.pipelines["deep"]["k"] == 6 and board.pipelines["shallow"]["mode"] == "dense"
    statuses = {s.name: s.pipeline for s in await service.models()}
    assert statuses["shallow"]["k"] == 2 and statuses["deep"]["prompt"] == "default"


async def test_a_changed_entry_answers_as_a_new_contestant(store: Store) -> None:
    first = service_over_fakes(store, pipelines(pipeline("rag", k=4)), hits=DOCS)
    assert [s.answer.model for s in (await first.ask(ask())).answers] == ["rag"]
    changed = service_over_fakes(store, pipelines(pipeline("rag", k=8)), hits=DOCS)
    (shown,) = (await changed.ask(ask())).answers
    assert shown.answer.model.startswith("rag #")
    assert (await changed.ask(ask(), model="rag")).answers[0].answer.model == shown.answer.model
    settings = await store.pipeline_settings()
    assert settings["rag"]["k"] == 4 and settings[shown.answer.model]["k"] == 8


async def test_the_roster_status_names_a_changed_entry_as_it_is_rated(store: Store) -> None:
    first = service_over_fakes(store, pipelines(pipeline("rag", k=4)), hits=DOCS)
    await first.ask(ask())
    changed = service_over_fakes(store, pipelines(pipeline("rag", k=8)), hits=DOCS)
    (status,) = await changed.models()  # before the new settings answer anything
    (check,) = await changed.check_models()
    (shown,) = (await changed.ask(ask())).answers
    assert status.name == check.name == shown.answer.model and status.name.startswith("rag #")
    assert status.configured_name == "rag" and status.pipeline["k"] == 8


async def test_fallback_searches_the_web_only_when_the_documents_have_nothing(
    store: Store, engine: FakeSearxng
) -> None:
    model = pipeline("web", web="fallback")
    relevant = {"yes": True}
    web = web_of(engine)
    try:
        service = service_over_fakes(
            store,
            pipelines(model, web_backend="searxng"),
            hits=DOCS,
            web_source=web,
            relevant=lambda question, passages: relevant["yes"],
        )
        await service.ask(ask())
        assert engine.queries() == [] and all(t.startswith("Document") for t in texts(model))
        relevant["yes"] = False
        await service.ask(ask())
    finally:
        await web.close()
    assert engine.queries() == ["How do refunds work?"]
    assert texts(model)[0] == "Refunds take 30 days on the web."  # the web leads
    assert model.prompts[-1].passages[0].passage.source == WEB_PAGE


async def test_blend_adds_the_web_to_every_question_beside_the_documents(
    store: Store, engine: FakeSearxng
) -> None:
    model = pipeline("blend", web="blend", k=3)
    web = web_of(engine)
    try:
        service = service_over_fakes(
            store,
            pipelines(model, web_backend="searxng"),
            hits=DOCS,
            web_source=web,
            relevant=lambda question, passages: True,
        )
        await service.ask(ask())
    finally:
        await web.close()
    shown = texts(model)
    assert shown[0].startswith("Document") and shown[1] == "Refunds take 30 days on the web."
    assert len(shown) == 4


async def test_a_web_passage_that_repeats_a_document_is_dropped(store: Store, fake_api) -> None:
    """Even where the web leads (fallback), the team's document is the one kept."""
    FakeSearxng(fake_api, [(WEB_PAGE, "Copy", DOCS[0].passage.text)])
    model = pipeline("fallback", web="fallback", k=3)
    web = open_web_source("searxng", url=fake_api.url, limits=WebLimits(fetch_pages=False))
    try:
        service = service_over_fakes(
            store,
            pipelines(model, web_backend="searxng"),
            hits=DOCS,
            web_source=web,
            relevant=lambda question, passages: False,
        )
        await service.ask(ask())
    finally:
        await web.close()
    shown = model.prompts[-1].passages
    assert fake_api.seen("/search") and shown[0].passage.source == "/hb/doc0.md"
    assert not any(h.passage.is_web for h in shown)


async def test_a_private_channel_never_sends_its_question_to_the_engine(
    store: Store, engine: FakeSearxng
) -> None:
    model = pipeline("blend", web="blend")
    web = web_of(engine)
    try:
        service = service_over_fakes(
            store,
            pipelines(model, web_backend="searxng"),
            hits=DOCS,
            web_source=web,
            web={"provider": "searxng", "url": engine.url, "private_channels": ["CSECRET"]},
        )
        reply = await service.ask(ask("Our merger code name?", channel="CSECRET"))
        assert engine.queries() == [] and reply.answers[0].answer.source_note is None
        await service.ask(ask("Refunds?", channel="C1"))
    finally:
        await web.close()
    assert engine.queries() == ["Refunds?"]


async def test_a_search_that_hangs_leaves_the_documents_and_says_why(
    store: Store, engine: FakeSearxng
) -> None:
    engine.then(Scripted(200, {"results": []}, delay=5))
    model = pipeline("blend", web="blend")
    web = web_of(engine, timeout=0.5)
    started = time.monotonic()
    try:
        service = service_over_fakes(
            store, pipelines(model, web_backend="searxng"), hits=DOCS, web_source=web
        )
        reply = await service.ask(ask())
    finally:
        await web.close()
    assert time.monotonic() - started < 3
    (shown,) = reply.answers
    assert all(t.startswith("Document") for t in texts(model))
    assert shown.answer.ok and "Web search failed" in shown.answer.source_note
    assert (
        "timed out after 0.5 s" in shown.answer.source_note or "in time" in shown.answer.source_note
    )
    assert messages.sources_lines(shown.answer)[-1] == shown.answer.source_note


async def test_a_failed_search_is_said_only_under_the_answers_that_wanted_it(
    store: Store, engine: FakeSearxng
) -> None:
    engine.then(Scripted(500, {"error": "boom"}))
    web_model, plain = pipeline("web", web="blend"), pipeline("plain")
    web = web_of(engine)
    try:
        service = service_over_fakes(
            store,
            pipelines(web_model, plain, web_backend="searxng"),
            hits=DOCS,
            web_source=web,
            battle_share=1.0,
        )
        reply = await service.ask(ask())
    finally:
        await web.close()
    notes = {s.answer.model: s.answer.source_note for s in reply.answers}
    assert notes["plain"] is None
    assert notes["web"] == messages.web_search_failed("SearXNG answered 500")


# --- sources on every surface -----------------------------------------------------------


def web_answer():
    from arena.types import Answer
    from bot.service import ShownAnswer

    page = Passage("web:1", "Refunds take 30 days.", WEB_PAGE, "Refunds <!channel>")
    doc = Passage("d1", "Refunds take 14 days.", "/hb/refunds.md", "Refunds")
    answer = Answer(
        "m",
        "30 days [1], or 14 [2].",
        citations=[Citation(1, page), Citation(2, doc)],
        source_note="Web search failed (SearXNG answered 500), so …",
    )
    return ShownAnswer(7, "m", answer)


def test_web_sources_are_marked_apart_from_documents_in_text_and_json() -> None:
    shown = web_answer()
    lines = messages.sources_lines(shown.answer)
    assert lines[1] == f"[1] [Web] Refunds <!channel> {WEB_PAGE}"
    assert lines[2].startswith("[2] /hb/refunds.md") and "[Web]" not in lines[2]
    assert lines[-1].startswith("Web search failed")
    payload = answer_json(shown)
    assert payload["citations"][0]["web"] is True and payload["citations"][0]["url"] == WEB_PAGE
    assert payload["citations"][1]["web"] is False and "url" not in payload["citations"][1]
    assert payload["source_note"].startswith("Web search failed")


def test_slack_marks_web_sources_links_them_and_shows_the_note() -> None:
    blocks = answer_messages(web_answer())[-1].blocks
    sources = next(b for b in blocks if "Sources" in json.dumps(b))
    text = sources["elements"][0]["text"]
    assert f"[1] [Web] <{WEB_PAGE}|Refunds &lt;\u200b!channel&gt;> (example.com)" in text
    assert "[2] Refunds" in text and "[2] [Web]" not in text
    assert ":warning: Web search failed" in text
    assert "<!channel>" not in json.dumps(blocks)


def test_discord_marks_web_sources_links_them_and_shows_the_note() -> None:
    (embed,) = answer_embeds(web_answer())
    field = embed.fields[0]
    assert field.name == "Sources"
    assert f"[1] [Web] [Refunds <\u200b!channel>]({WEB_PAGE}) (example.com)" in field.value
    assert "[2] Refunds" in field.value and "Web search failed" in field.value


async def test_brave_without_its_key_is_logged_at_start_and_said_under_answers(
    store: Store, monkeypatch, caplog
) -> None:
    from bot.config import Settings
    from bot.runtime import open_web

    monkeypatch.delenv("BRAVE_API_KEY", raising=False)
    caplog.set_level(logging.WARNING, logger="bot.runtime")  # whatever an earlier CLI set
    web = open_web(Settings(web={"provider": "brave"}))
    assert "BRAVE_API_KEY is not set" in caplog.text
    model = pipeline("blend", web="blend")
    try:
        service = service_over_fakes(
            store, pipelines(model, web_backend="brave"), hits=DOCS, web_source=web
        )
        (shown,) = (await service.ask(ask())).answers
    finally:
        await web.close()
    assert shown.answer.source_note == messages.web_search_failed(
        "no Brave Search key (set BRAVE_API_KEY)"
    )


async def test_a_changed_contestant_that_names_its_model_is_still_left_out(
    store: Store,
) -> None:
    """Battle hygiene follows the contestant to its new name."""
    first = service_over_fakes(store, pipelines(pipeline("gpt", model="gpt-4o")), hits=DOCS)
    await first.ask(ask())
    named = pipeline("gpt", "As gpt-4o, I say [1].", model="gpt-4o", k=2)
    other = pipeline("other", "Run shipit rollback [1].")
    service = service_over_fakes(store, pipelines(named, other), hits=DOCS, battle_share=1.0)
    reply = await service.ask(ask())
    assert any(s.answer.model.startswith("gpt #") for s in reply.answers)
    rows = await store._rows("SELECT excluded FROM battles WHERE id = ?", (reply.battle_id,))
    assert rows[0][0] == "names_model"
