"""What reaches Slack: mrkdwn conversion, neutralised mentions, and long answers split
under the section limit (posted through the real app, and as pure functions)."""

from __future__ import annotations

import json

from arena.types import Answer
from bot.service import ShownAnswer
from bot.slack.blocks import MAX_SECTIONS_PER_MESSAGE, SECTION_LIMIT, answer_messages
from bot.slack.mrkdwn import to_mrkdwn
from knowledge.types import Hit, Passage
from tests.bot.slack import conftest
from tests.bot.slack.conftest import mention, start_app
from tests.fakes.providers import fake, roster
from tests.fakes.slack_api import FakeSlack

PINGS = "<!channel> <!here|here> <!everyone> <@U0EVIL> <!subteam^S0TEAM|@team> @here @channel"


def test_markdown_becomes_mrkdwn() -> None:
    markdown = (
        "## Rolling back\n**Run** the *tool* and see [the guide](https://x.example/a?b=1&c=2)."
        "\n- first\n- second ~~old~~\n```bash\nshipit rollback --to <tag> && echo **done**\n```"
        "\nUse `a**b**` inline."
    )
    assert to_mrkdwn(markdown) == (
        "*Rolling back*\n*Run* the _tool_ and see <https://x.example/a?b=1&amp;c=2|the guide>."
        "\n• first\n• second ~old~\n```\nshipit rollback --to &lt;tag&gt; &amp;&amp; echo"
        " **done**\n```\nUse `a**b**` inline."
    )


async def test_no_document_or_model_text_can_ping_anyone(slack: FakeSlack, monkeypatch) -> None:
    poisoned = Hit(Passage("p9", f"Deploy notes {PINGS}", "/hb/x.md", f"Notes {PINGS}"), 0.9)
    monkeypatch.setattr(conftest, "HITS", [poisoned])
    reply = f"Heads up {PINGS} [1]. **Bold** <@U0EVIL|evil> &lt;!here&gt;"
    async for app in start_app(slack, roster(fake("alpha", reply))):
        await app.event(mention("What do the notes say?"))
        await app.settle()
    (posted,) = slack.calls("chat.postMessage")
    wire = json.dumps(posted)  # zero-width spaces are \\u200b here, so look-alikes show
    for ping in ("<!", "<@", "@here", "@channel", "@everyone"):
        assert ping not in wire, ping
    assert "Heads up" in posted["text"] and "*Bold*" in posted["text"]
    assert "[1] Notes" in wire  # the poisoned title is shown, defused


async def test_a_long_answer_is_split_under_the_section_limit(slack: FakeSlack) -> None:
    paragraphs = [f"Step {n}: " + "roll the release back carefully. " * 12 for n in range(30)]
    long = "\n\n".join(paragraphs) + " [1]"
    assert len(long) > 3 * SECTION_LIMIT
    async for app in start_app(slack, roster(fake("alpha", long))):
        await app.event(mention("Give me every step"))
        await app.settle()
    (posted,) = slack.calls("chat.postMessage")
    sections = [b["text"]["text"] for b in posted["blocks"] if b["type"] == "section"]
    assert len(sections) >= 4 and all(len(s) <= SECTION_LIMIT for s in sections)
    joined = "\n\n".join(sections)
    assert all(f"Step {n}:" in joined for n in range(30))
    assert joined.index("Step 9:") < joined.index("Step 10:")  # in order, none lost
    assert posted["text"] == joined  # the fallback carries the whole text


def test_a_very_long_answer_spreads_over_messages_with_thumbs_on_the_last() -> None:
    text = "\n\n".join("word " * 500 for _ in range(2 * MAX_SECTIONS_PER_MESSAGE + 3))
    shown = ShownAnswer(7, "alpha", Answer("alpha", text))
    messages = answer_messages(shown)
    assert len(messages) == 3
    assert all(len(m.blocks) <= 50 for m in messages)
    actions = [[b for b in m.blocks if b["type"] == "actions"] for m in messages]
    assert [len(a) for a in actions] == [0, 0, 1]


def test_a_code_block_cut_in_two_stays_closed() -> None:
    code = "```python\n" + "\n".join(f"print({n})" for n in range(600)) + "\n```"
    shown = ShownAnswer(1, "alpha", Answer("alpha", code))
    sections = [
        b["text"]["text"] for b in answer_messages(shown)[0].blocks if b["type"] == "section"
    ]
    assert len(sections) >= 2
    assert all(s.count("```") % 2 == 0 for s in sections)
