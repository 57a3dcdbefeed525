"""Votes, thumbs and the reason modal at the wire, and what the store holds afterwards."""

from __future__ import annotations

import asyncio
import json
import re

from bot import messages
from tests.bot.slack.conftest import Harness, block_action, mention, start_app
from tests.bot.slack.test_questions import texts
from tests.fakes.http_server import Scripted
from tests.fakes.providers import fake, roster
from tests.fakes.slack_api import FakeSlack

SAYS = {name: f"{name.title()} says: run shipit rollback [1]." for name in ("alpha", "beta")}


async def posted_answer(app: Harness, question: str = "How do I roll back?") -> dict:
    """Ask in a thread and return the answer as Slack holds it (and sends it back in a
    click's payload: Slack's block ids, ``verbatim: false``)."""
    await app.event(mention(question, ts="100.1"))
    await app.settle()
    return app.slack.messages("C1")[-1]


def button(message: dict, action_id: str) -> dict:
    for block in message["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return element
    raise AssertionError(f"no {action_id} button")


async def test_a_battle_shows_a_divider_between_anonymous_answers(arena_app: Harness) -> None:
    message = await posted_answer(arena_app)
    shown = texts(message["blocks"])
    assert "*Question:* How do I roll back?" in shown
    assert shown.index("*Model A*") < shown.index("*Model B*")
    assert "alpha" not in shown and "beta" not in shown
    types = [b["type"] for b in message["blocks"]]
    assert "divider" in types and types[-1] == "actions"
    assert [e["text"]["text"] for e in message["blocks"][-1]["elements"]] == [
        "A is better",
        "B is better",
        "Tie",
        "Both are bad",
    ]


def speakers() -> list:
    """Two models whose every answer names its author, so a test knows who is A."""
    return [fake(name, *[text] * 10) for name, text in SAYS.items()]


def sides(blocks: list[dict]) -> dict[str, str]:
    """Each side's heading ("Model A", or "Model A: alpha" once revealed) and the model
    whose answer the blocks under it show."""
    shown: dict[str, str] = {}
    heading = None
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        side = re.fullmatch(r"\*(Model [AB][^*]*)\*", text)
        if side:
            heading = side.group(1)
        elif heading and block["type"] == "section":
            author = next(name for name, says in SAYS.items() if says.split(":")[0] in text)
            shown.setdefault(heading, author)
    return shown


async def test_a_vote_reveals_exactly_who_answered_as_a_and_as_b(slack: FakeSlack) -> None:
    """Swapping the names in the reveal, the confirmation or the stored vote fails here:
    each is checked against the answer the voter saw under "Model A"."""
    orders: list[tuple[str, str]] = []
    async for app in start_app(slack, roster(*speakers()), battle_share=1):
        for n in range(1, 5):
            await app.event(mention("How do I roll back?", ts=f"10{n}.1"))
            await app.settle()
            message = app.slack.messages("C1")[-1]
            shown = sides(message["blocks"])
            a, b = shown["Model A"], shown["Model B"]
            orders.append((a, b))
            value = button(message, "parley_vote_a")["value"]
            # Slack's payload carries the posted text; the reveal keeps it, or names
            # the models when a payload comes without it
            sent = message if n % 2 else {k: v for k, v in message.items() if k != "text"}
            status, _ = await app.action(block_action("parley_vote_a", value, sent))
            assert status == 200
            await app.settle()
            update = app.slack.calls("chat.update")[-1]
            assert update["channel"] == "C1" and update["ts"] == message["ts"]
            kept = message["text"] if n % 2 else messages.reveal_text(a, b)
            assert message["text"] and update["text"] == kept
            revealed = app.slack.stored("C1", message["ts"])
            assert sides(revealed["blocks"]) == {f"Model A: {a}": a, f"Model B: {b}": b}
            chosen = [e for e in revealed["blocks"][-1]["elements"] if e.get("style")]
            assert [e["action_id"] for e in chosen] == ["parley_vote_a"]
            confirmation = app.slack.calls("chat.postEphemeral")[-1]
            assert confirmation["user"] == "UANA" and confirmation["thread_ts"] == f"10{n}.1"
            assert confirmation["text"] == messages.vote_recorded(a, b, "a", False)
        stored = [(r.model_a, r.model_b, r.choice) async for r in app.store.iter_battles()]
    assert set(orders) == {("alpha", "beta"), ("beta", "alpha")}  # both orders were tried
    assert stored == [(a, b, "a") for a, b in orders]  # "A is better" won for the one shown as A


async def test_a_vote_from_another_channel_is_refused_and_nothing_is_stored(
    arena_app: Harness,
) -> None:
    """The battle was shown in C1; the same button clicked in C2 (a forwarded or forged
    payload) is refused with the reason, and nothing is stored or revealed."""
    message = await posted_answer(arena_app)
    value = button(message, "parley_vote_a")["value"]
    await arena_app.action(block_action("parley_vote_a", value, message, channel="C2"))
    await arena_app.settle()
    (refusal,) = arena_app.slack.calls("chat.postEphemeral")
    assert refusal["channel"] == "C2" and refusal["text"] == messages.foreign_battle()
    assert arena_app.slack.calls("chat.update") == []
    assert await arena_app.store.pair_counts() == []
    assert await arena_app.store.battle_votes([int(value)]) == []


async def test_a_second_click_changes_the_vote(arena_app: Harness) -> None:
    message = await posted_answer(arena_app)
    value = button(message, "parley_vote_a")["value"]
    await arena_app.action(block_action("parley_vote_a", value, message))
    await arena_app.settle()
    await arena_app.action(block_action("parley_vote_both_bad", value, message))
    await arena_app.settle()
    assert arena_app.slack.calls("chat.postEphemeral")[-1]["text"].startswith(
        "Vote changed to Both are bad"
    )
    (counts,) = await arena_app.store.pair_counts()
    assert (counts.total, counts.both_bad) == (1, 1)


async def test_two_people_voting_on_one_battle_each_count_once(arena_app: Harness) -> None:
    message = await posted_answer(arena_app)
    value = button(message, "parley_vote_a")["value"]
    await asyncio.gather(
        arena_app.action(block_action("parley_vote_a", value, message, user="UANA")),
        arena_app.action(block_action("parley_vote_tie", value, message, user="UBEN")),
        arena_app.action(block_action("parley_vote_tie", value, message, user="UBEN")),
    )
    await arena_app.settle()
    (counts,) = await arena_app.store.pair_counts()
    assert counts.total == 2 and counts.ties == 1
    users = sorted(c["user"] for c in arena_app.slack.calls("chat.postEphemeral"))
    assert users == ["UANA", "UBEN", "UBEN"]


async def test_a_vote_on_an_unknown_battle_is_refused_plainly(arena_app: Harness) -> None:
    message = await posted_answer(arena_app)
    await arena_app.action(block_action("parley_vote_a", "9999", message))
    await arena_app.settle()
    (refusal,) = arena_app.slack.calls("chat.postEphemeral")
    assert "9999" in refusal["text"]
    assert arena_app.slack.calls("chat.update") == []


async def test_thumbs_up_is_stored_and_confirmed(app: Harness) -> None:
    message = await posted_answer(app)
    up = button(message, "parley_thumb_up")
    await app.action(block_action("parley_thumb_up", up["value"], message))
    await app.settle()
    answer_id = json.loads(up["value"])["answer"]
    assert await app.store.thumb_reasons(answer_id) == [("UANA", 1, None)]
    (confirmation,) = app.slack.calls("chat.postEphemeral")
    assert confirmation["text"] == "Thanks, 👍 recorded for alpha."


async def test_thumbs_down_opens_a_modal_and_stores_the_reason(app: Harness) -> None:
    message = await posted_answer(app)
    down = button(message, "parley_thumb_down")
    await app.action(block_action("parley_thumb_down", down["value"], message))
    await app.settle()
    answer_id = json.loads(down["value"])["answer"]
    assert await app.store.thumb_reasons(answer_id) == [("UANA", -1, None)]  # kept if skipped
    (opened,) = app.slack.calls("views.open")
    assert opened["trigger_id"] == "111.222.trig-2"
    view = opened["view"]
    options = view["blocks"][0]["element"]["options"]
    assert [o["value"] for o in options] == ["wrong", "outdated", "not_in_docs", "unclear"]

    submitted = {
        **view,
        "id": "V1",
        "state": {
            "values": {
                "reason": {
                    "reason_choice": {
                        "type": "radio_buttons",
                        "selected_option": options[1],
                    }
                },
                "detail": {"reason_text": {"type": "plain_text_input", "value": "  v2 is out "}},
            }
        },
    }
    payload = {"type": "view_submission", "team": {"id": "T0001"}, "user": {"id": "UANA"}}
    status, body = await app.action({**payload, "view": submitted})
    assert status == 200 and body == ""  # an empty ack closes the modal
    await app.settle()
    assert await app.store.thumb_reasons(answer_id) == [("UANA", -1, "outdated: v2 is out")]
    (confirmation,) = app.slack.calls("chat.postEphemeral")
    assert confirmation["channel"] == "C1" and confirmation["thread_ts"] == "100.1"
    assert "👎" in confirmation["text"]


async def test_a_vote_whose_message_is_gone_is_still_confirmed(arena_app: Harness) -> None:
    """The battle's message was deleted (chat.update: message_not_found): nothing can be
    revealed there, but the vote is stored and the voter is told so."""
    message = await posted_answer(arena_app)
    value = button(message, "parley_vote_b")["value"]
    gone = Scripted(200, {"ok": False, "error": "message_not_found"})
    arena_app.slack.fail("chat.update", gone)
    await arena_app.action(block_action("parley_vote_b", value, message))
    await arena_app.settle()
    (confirmation,) = arena_app.slack.calls("chat.postEphemeral")
    assert confirmation["text"].startswith("Vote recorded: B is better.")
    (counts,) = await arena_app.store.pair_counts()
    assert counts.total == 1


async def test_votes_during_a_slow_reveal_edit_the_battle_once_more_with_the_last_vote(
    arena_app: Harness,
) -> None:
    """While one edit of a battle is on its way, the votes stored meanwhile leave only the
    newest edit pending (Slack rate-limits chat.update): two edits for five votes, the
    message ends showing the last vote, and every voter is told their own vote at once."""
    message = await posted_answer(arena_app)
    value = button(message, "parley_vote_a")["value"]
    slow = Scripted(200, {"ok": True, "channel": "C1", "ts": message["ts"]}, delay=0.5)
    arena_app.slack.fail("chat.update", slow)
    choices = ["a", "b", "tie", "both_bad", "b"]
    for n, choice in enumerate(choices):
        action = block_action(f"parley_vote_{choice}", value, message, user=f"U{n}")
        await arena_app.action(action)
        # confirmed while the first edit is still on its way
        while len(arena_app.slack.calls("chat.postEphemeral")) <= n:
            await asyncio.sleep(0.01)
    assert len(arena_app.slack.calls("chat.update")) == 1
    await arena_app.settle()
    first, last = arena_app.slack.calls("chat.update")
    assert messages.last_vote("*A is better*") in texts(first["blocks"])
    assert messages.last_vote("*B is better*") in texts(last["blocks"])
    shown = arena_app.slack.messages("C1")[-1]
    assert messages.last_vote("*B is better*") in texts(shown["blocks"])
    assert sorted(c["user"] for c in arena_app.slack.calls("chat.postEphemeral")) == [
        f"U{n}" for n in range(5)
    ]
    (counts,) = await arena_app.store.pair_counts()
    assert counts.total == 5
