"""Answer splitting, mention safety and source lines, shared by Slack and Discord."""

from __future__ import annotations

import pytest

from arena.types import Answer, Citation
from bot.render import neutralise_mentions, source_lines, split_text
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
