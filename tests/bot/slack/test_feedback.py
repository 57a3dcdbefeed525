"""Votes, thumbs and the reason modal at the wire, and what the store holds afterwards."""

from __future__ import annotations

import asyncio
import json

from tests.bot.slack.conftest import Harness, block_action, mention
from tests.bot.slack.test_questions import texts


async def posted_answer(app: Harness, question: str = "How do I roll back?") -> dict:
    """Ask in a thread and return the answer as the block_actions payload carries it."""
    await app.event(mention(question, ts="100.1"))
    await app.settle()
    posted = app.slack.calls("chat.postMessage")[-1]
    return {
        "type": "message",
        "ts": "1700000000.000001",
        "thread_ts": "100.1",
        "text": posted["text"],
        "blocks": posted["blocks"],
    }


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


async def test_a_vote_reveals_the_names_and_confirms_privately(arena_app: Harness) -> None:
    message = await posted_answer(arena_app)
    vote = button(message, "parley_vote_a")
    status, _ = await arena_app.action(block_action("parley_vote_a", vote["value"], message))
    assert status == 200
    await arena_app.settle()
    (update,) = arena_app.slack.calls("chat.update")
    assert update["channel"] == "C1" and update["ts"] == message["ts"]
    revealed = texts(update["blocks"])
    assert "Model A: alpha" in revealed or "Model A: beta" in revealed
    chosen = [e for e in update["blocks"][-1]["elements"] if e.get("style") == "primary"]
    assert [e["action_id"] for e in chosen] == ["parley_vote_a"]
    (confirmation,) = arena_app.slack.calls("chat.postEphemeral")
    assert confirmation["user"] == "UANA" and confirmation["thread_ts"] == "100.1"
    assert confirmation["text"].startswith("Vote recorded: A is better. Model A was")
    (counts,) = await arena_app.store.pair_counts()
    assert counts.total == 1


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
    assert opened["trigger_id"] == "trig-2"
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
