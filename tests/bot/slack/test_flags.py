"""Faithfulness flags at the wire: what Slack receives for answers its sources do or do
not support (the Web API calls the app makes, as the fake Slack records them)."""

from __future__ import annotations

from tests.bot.slack.conftest import mention, start_app
from tests.bot.slack.test_questions import texts
from tests.fakes.providers import fake, hosted, openai_stream, roster
from tests.fakes.slack_api import FakeSlack

# against the conftest's passages: "On-call rota is in the wiki." says the opposite
CONTRADICTED = "Run shipit rollback [1]. The on-call rota is not in the wiki [2]."
# a number no passage states; "take ten minutes" (no numeral, no name) is not marked
NUMBER_NOT_THERE = "Run shipit rollback [1]. Rollbacks take 10 minutes."


def context_lines(blocks: list[dict]) -> list[str]:
    return [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]


def answer_sections(blocks: list[dict]) -> str:
    return "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")


async def answered(slack: FakeSlack, reply: str, channel: str = "C1", **options) -> dict:
    async for app in start_app(slack, roster(fake("alpha", reply)), **options):
        await app.event(mention("Where is the on-call rota?", ts="100.1", channel=channel))
        await app.settle()
    (posted,) = slack.calls("chat.postMessage")
    return posted


async def test_a_contradicted_sentence_is_marked_and_the_context_line_says_so(
    slack: FakeSlack,
) -> None:
    posted = await answered(slack, CONTRADICTED)
    shown = answer_sections(posted["blocks"])
    assert shown == "Run shipit rollback [1]. The on-call rota is not in the wiki [2] [!]."
    assert "1 sentence conflicts with the sources" in "\n".join(context_lines(posted["blocks"]))
    assert "[!]" in posted["text"]  # the notification's fallback text carries it too


async def test_a_number_the_sources_lack_is_marked_and_the_context_line_says_so(
    slack: FakeSlack,
) -> None:
    posted = await answered(slack, NUMBER_NOT_THERE)
    assert answer_sections(posted["blocks"]) == (
        "Run shipit rollback [1]. Rollbacks take 10 minutes [?]."
    )
    lines = context_lines(posted["blocks"])
    note = "[?] 1 sentence states a number or name not in the sources"
    # under the sources, above who answered and the thumbs
    assert note in lines and lines.index(note) == len(lines) - 2
    assert posted["blocks"][-1]["type"] == "actions"


async def test_a_general_remark_the_sources_lack_is_not_marked(slack: FakeSlack) -> None:
    """Unverifiable, but it names no number or name: hosted answers are full of these."""
    reply = "Run shipit rollback [1]. Rollbacks usually take a few minutes."
    posted = await answered(slack, reply)
    assert answer_sections(posted["blocks"]) == reply
    assert not any("[?]" in line for line in context_lines(posted["blocks"]))


async def test_a_right_answer_with_a_greeting_and_a_question_gets_no_mark_and_no_line(
    slack: FakeSlack,
) -> None:
    reply = "Hi! Run shipit rollback [1]. Do you need the on-call rota too? Hope this helps!"
    posted = await answered(slack, reply)
    assert answer_sections(posted["blocks"]) == reply
    shown = texts(posted["blocks"])
    assert "[?]" not in shown and "[!]" not in shown
    assert not any("sources" in line for line in context_lines(posted["blocks"]))


async def test_a_question_is_never_marked_even_when_nothing_supports_it(
    slack: FakeSlack,
) -> None:
    reply = "Who approves a rollback in production? Rollbacks take 10 minutes."
    posted = await answered(slack, reply)
    assert answer_sections(posted["blocks"]) == (
        "Who approves a rollback in production? Rollbacks take 10 minutes [?]."
    )


async def test_the_channel_switch_turns_the_flags_off_there_only(slack: FakeSlack) -> None:
    async for app in start_app(
        slack,
        roster(fake("alpha", CONTRADICTED, CONTRADICTED)),
        channel_faithfulness_flags={"C0QUIET": False},
    ):
        await app.event(mention("Where is the rota?", ts="100.1", channel="C0QUIET"))
        await app.settle()
        await app.event(mention("Where is the rota?", ts="100.2", channel="C1"))
        await app.settle()
    quiet, other = slack.calls("chat.postMessage")
    assert quiet["channel"] == "C0QUIET" and answer_sections(quiet["blocks"]) == CONTRADICTED
    assert not any("conflict" in line for line in context_lines(quiet["blocks"]))
    assert "[!]" in answer_sections(other["blocks"])


async def test_a_battle_marks_neither_answer(slack: FakeSlack) -> None:
    """Votes stay the reader's own judgement (docs/bot.md)."""
    models = roster(fake("alpha", CONTRADICTED), fake("beta", NUMBER_NOT_THERE))
    async for app in start_app(slack, models, battle_share=1):
        await app.event(mention("Where is the rota?", ts="100.1"))
        await app.settle()
    (posted,) = slack.calls("chat.postMessage")
    shown = texts(posted["blocks"])
    assert CONTRADICTED in shown and NUMBER_NOT_THERE in shown
    assert "[!]" not in shown and "[?]" not in shown and "not found" not in shown


async def test_a_streamed_answer_gets_its_marks_in_the_final_edit(
    slack: FakeSlack, monkeypatch
) -> None:
    monkeypatch.setattr("bot.slack.questions.EDIT_INTERVAL", 0.1)
    words = ["Run ", "shipit ", "rollback ", "[1]. ", "The ", "on-call ", "rota ", "is ", "not "]
    words += ["in ", "the ", "wiki ", "[2]."]
    slack.server.route("POST", "/v1/chat/completions", openai_stream(words, pace=0.05))
    async for app in start_app(slack, hosted("gpt", slack.server.url)):
        await app.event(mention("Where is the rota?", ts="100.1"))
        await app.settle()
    (posted,) = slack.calls("chat.postMessage")
    *partials, final = slack.calls("chat.update")
    assert all("[!]" not in p["text"] for p in [posted, *partials])  # written, not yet checked
    assert answer_sections(final["blocks"]) == CONTRADICTED.replace("[2].", "[2] [!].")
    assert "[!] 1 sentence conflicts with the sources" in context_lines(final["blocks"])
