"""Answer splitting, mention safety, source lines and faithfulness marks, shared by Slack,
Discord, the console and the CLI."""

from __future__ import annotations

import pytest

from arena.types import Answer, Citation
from bot.flags import SentenceFlag
from bot.render import flags_note, marked_text, neutralise_mentions, source_lines, split_text
from knowledge.types import Passage


@pytest.mark.parametrize(
    "hostile",
    [
        "<!channel> deploy now",
        "<!here|here>",
        "<!everyone>",
        "<@U024BE7LH> please",
        "<!subteam^SAZ94GDB8>",
        "< @U024BE7LH>",
        "<@123456789012345678>",
        "<@!123456789012345678>",
        "<@&987654321>",
        "@everyone look",
        "@here",
        "@Channel",
    ],
)
def test_no_mention_form_survives(hostile: str) -> None:
    safe = neutralise_mentions(hostile)
    assert "\u200b" in safe
    for live in ("<!", "<@", "<#", "@everyone", "@here", "@channel", "@Channel"):
        assert live not in safe.replace(" ", "")


def test_ordinary_text_is_untouched() -> None:
    text = "Email ops@example.com about <b> tags; a < b and 3 > 2."
    assert neutralise_mentions(text) == text


def test_split_prefers_paragraphs_then_sentences() -> None:
    text = ("First sentence here. " * 20).strip() + "\n\n" + ("Second part. " * 20).strip()
    pieces = split_text(text, 300)
    assert all(len(p) <= 300 for p in pieces)
    assert pieces[0].endswith(".") and " ".join(pieces).replace("\n\n", " ").split() == text.split()


def test_split_keeps_code_blocks_closed() -> None:
    code = "```\n" + "\n".join(f"line {n} of the script" for n in range(200)) + "\n```"
    pieces = split_text("Run this:\n" + code, 500)
    assert len(pieces) > 2 and all(len(p) <= 500 for p in pieces)
    assert all(p.count("```") % 2 == 0 for p in pieces)


def test_split_cuts_an_unbroken_word_when_it_must() -> None:
    pieces = split_text("x" * 1000, 300)
    assert "".join(pieces) == "x" * 1000 and all(len(p) <= 300 for p in pieces)


def test_short_text_is_one_piece_and_empty_is_none() -> None:
    assert split_text("  hello  ", 3000) == ["hello"]
    assert split_text("", 3000) == []


def test_source_lines_link_urls_and_neutralise_titles() -> None:
    url = "https://wiki.example.com/deploys"
    web = Passage("p1", "t", url, "Deploys <!channel>", ("Roll back",))
    local = Passage("p2", "t", "/kb/expenses.pdf", "", (), "page 2")
    answer = Answer("m", "x [1][2]", citations=[Citation(1, web), Citation(2, local)])
    first, second = source_lines(answer)
    assert first.link == "https://wiki.example.com/deploys" and "<!channel>" not in first.title
    assert (first.number, first.location) == (1, "Roll back")
    assert second.link is None and second.title.endswith("expenses.pdf")
    assert second.location == "page 2"


def flag(
    text: str, whole: str, support: str = "unverifiable", flagged: bool = True
) -> SentenceFlag:
    start = whole.index(text)
    return SentenceFlag(text, support, None, start, start + len(text), flagged)  # type: ignore[arg-type]


def test_a_mark_stands_where_a_citation_would_before_the_final_stop() -> None:
    text = "Deploys run at noon [2]. Rollbacks take 10 minutes! Who approves it?"
    flags = [
        flag("Deploys run at noon [2].", text, "contradicted"),
        flag("Rollbacks take 10 minutes!", text),
    ]
    assert marked_text(text, flags) == (
        "Deploys run at noon [2] [!]. Rollbacks take 10 minutes [?]! Who approves it?"
    )


def test_a_sentence_without_a_stop_is_marked_at_its_end_and_unflagged_ones_not_at_all() -> None:
    text = "Run shipit rollback.\n- Page the on-call engineer\n- Post in **#deploys**\n- Wait"
    flags = [
        flag("Run shipit rollback.", text, "supported", flagged=False),
        flag("- Page the on-call engineer", text),
        flag("- Post in **#deploys**", text),
        flag("- Wait", text, flagged=False),  # unverifiable, but nothing specific: unmarked
    ]
    assert marked_text(text, flags) == (
        "Run shipit rollback.\n- Page the on-call engineer [?]\n- Post in **#deploys** [?]\n- Wait"
    )
    assert marked_text(text, None) == text and marked_text(text, []) == text


def test_the_note_counts_each_kind_of_mark_and_says_nothing_of_an_unmarked_answer() -> None:
    text = "A is so. B is so. C is so. D is so."
    flags = [
        flag("A is so.", text, "contradicted"),
        flag("B is so.", text),
        flag("C is so.", text),
        flag("D is so.", text, flagged=False),
    ]
    assert flags_note(flags) == (
        "[!] 1 sentence conflicts with the sources · [?] 2 state a number or name not in them"
    )
    assert flags_note(flags[1:]) == "[?] 2 sentences state a number or name not in the sources"
    assert flags_note(flags[2:]) == "[?] 1 sentence states a number or name not in the sources"
    assert flags_note(flags[:1] * 2) == "[!] 2 sentences conflict with the sources"
    assert flags_note([flag("A is so.", text, "supported", flagged=False)]) is None
    assert flags_note(flags[3:]) is None  # unverifiable yet unmarked: no line either
    assert flags_note([]) is None and flags_note(None) is None
