"""Each page shows what the service holds, arranged and downloaded as asked: checked
against boards fitted independently from the same database, and against the seeded
story (tests/web/seed.py)."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from contextlib import asynccontextmanager
from html.parser import HTMLParser

import pytest

from arena.insights import MAX_SEARCH_CHARS
from arena.leaderboard import build_board
from arena.types import Answer
from bot import messages
from tests.fakes.providers import fake, roster
from tests.fakes.service import service_over_fakes
from tests.web.conftest import dashboard, sign_in
from tests.web.seed import MARKUP_QUESTION, STYLE_CHANNEL, TEAM_CHANNEL, VIEWER_TOKEN

in_module_loop = pytest.mark.asyncio(loop_scope="module")


class TableCells(HTMLParser):
    """The header and body cells' text of the table with the given id."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id, self.inside, self.cell = table_id, False, None
        self.rows: list[list[str]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "table" and dict(attrs).get("id") == self.table_id:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("th", "td"):
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        elif self.inside and tag in ("th", "td") and self.cell is not None:
            self.rows[-1].append(" ".join(self.cell.split()).replace(" ▼", "").replace(" ▲", ""))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def cells(html: str, table: str) -> list[list[str]]:
    parser = TableCells(f"table-{table}")
    parser.feed(html)
    return parser.rows


@asynccontextmanager
async def signed(seeded, **settings):
    async with dashboard(seeded.service, **settings) as client:
        await sign_in(client, VIEWER_TOKEN)
        yield client


@in_module_loop
async def test_the_board_is_the_one_the_votes_give(seeded) -> None:
    expected = await build_board(seeded.store, style=True)
    async with signed(seeded) as client:
        shown = (await client.get("/?export=board&format=json")).json()
        styled = (await client.get("/?style=1&export=board&format=json")).json()
    by_score = sorted(expected.rows, key=lambda r: -r.score)
    by_style = sorted(expected.rows, key=lambda r: -r.style_score)
    assert [r["model"] for r in shown] == [r.model for r in by_score]
    assert [r["score"] for r in shown] == [r.score for r in by_score]
    assert [r["model"] for r in styled] == [r.model for r in by_style]
    assert [r["score"] for r in styled] == [r.style_score for r in by_style]
    assert shown[0]["model"] == "cobalt" and styled[0]["model"] == "atlas"  # the story
    assert [r["rank_ub"] for r in shown] == [r.rank_ub for r in by_score]
    # beside the judge's grade, the share of each model's sentences the check flagged
    summaries = {s.model: s for s in await seeded.store.judge_summary("referee")}
    assert any(s.flagged_share for s in summaries.values())  # the seed has flagged answers
    for row in shown:
        summary = summaries.get(row["model"])
        assert row["judge"] == (summary and summary.score)
        assert row["flagged"] == (summary and summary.flagged_share)


@in_module_loop
async def test_csv_is_the_table_as_shown(seeded) -> None:
    async with signed(seeded) as client:
        page = await client.get("/?board_sort=votes&board_dir=asc")
        download = await client.get("/?board_sort=votes&board_dir=asc&export=board&format=csv")
    assert "attachment" in download.headers["content-disposition"]
    assert list(csv.reader(io.StringIO(download.text))) == cells(page.text, "board")
    votes = [int(row[6].split()[0].replace(",", "")) for row in cells(page.text, "board")[1:]]
    assert votes == sorted(votes)
    header = cells(page.text, "board")[0]
    assert header[-2:] == ["Judge", "Flagged"]  # the check's share beside the judge's grade


@in_module_loop
async def test_a_channels_board_counts_only_its_votes(seeded) -> None:
    expected = await build_board(seeded.store, channel=TEAM_CHANNEL)
    async with signed(seeded) as client:
        shown = (await client.get(f"/?channel={TEAM_CHANNEL}&export=board&format=json")).json()
        page = await client.get("/")
    rated = [r["model"] for r in shown if r["score"] is not None]
    assert rated == ["dune", "bramble"]  # dune wins 7 in 10 there
    assert [r["model"] for r in shown if r["score"] is None] == ["atlas"]  # thumbs only
    listed = expected.rows + expected.unrated
    assert [r["votes"] for r in shown] == [r.votes for r in listed]
    assert f'value="{TEAM_CHANNEL}"' in page.text and f'value="{STYLE_CHANNEL}"' in page.text


@in_module_loop
async def test_provisional_rows_are_explained_in_the_words_every_surface_uses(seeded) -> None:
    strict = service_over_fakes(seeded.store, roster(fake("atlas")), provisional_votes=10_000)
    async with dashboard(strict) as client:
        await sign_in(client, VIEWER_TOKEN)
        provisional = (await client.get("/")).text
    async with signed(seeded) as client:
        firm = (await client.get("/")).text  # 200 votes and more each
    assert ">cobalt *<" in provisional and ">cobalt<" in firm
    assert messages.PROVISIONAL_NOTE in provisional and messages.PROVISIONAL_NOTE not in firm


@in_module_loop
async def test_ties_as_half_wins_is_the_board_lmarena_would_fit(seeded) -> None:
    half = await build_board(seeded.store, ties="half")
    modelled = await build_board(seeded.store)
    async with signed(seeded) as client:
        shown = (await client.get("/?ties=half&export=board&format=json")).json()
    scores = {r["model"]: r["score"] for r in shown}
    assert scores == {r.model: r.score for r in half.rows}
    assert scores != {r.model: r.score for r in modelled.rows}


@in_module_loop
async def test_rows_filter_and_sort_from_the_query(seeded) -> None:
    async with signed(seeded) as client:
        only = (await client.get("/?board_filter=BRAM&export=board&format=json")).json()
        named = (
            await client.get("/?board_sort=model&board_dir=asc&export=board&format=json")
        ).json()
    assert [r["model"] for r in only] == ["bramble"]
    assert [r["model"] for r in named] == ["atlas", "bramble", "cobalt", "dune"]


@in_module_loop
async def test_a_live_fragment_is_204_until_a_vote_changes_it(seeded) -> None:
    async with signed(seeded, web_refresh_seconds=0.05) as client:
        first = await client.get("/?fragment=1")
        assert first.status_code == 200 and first.text.startswith('<div id="board"')
        poll = re.search(r'hx-get="([^"]+)"', first.text).group(1).replace("&amp;", "&")
        assert (await client.get(poll)).status_code == 204
        battle = await seeded.store.record_battle(*(await _two_answers(seeded)))
        for n in range(30):
            await seeded.service.vote(
                battle, f"late{n}", "b", platform="slack", channel=TEAM_CHANNEL
            )
        for _ in range(100):  # a refit starts in the background after the interval
            await asyncio.sleep(0.05)
            changed = await client.get(poll)
            if changed.status_code == 200:
                break
        assert changed.status_code == 200 and changed.text != first.text


async def _two_answers(seeded) -> tuple[int, int, int]:

    question = await seeded.store.record_question(
        platform="slack", channel=TEAM_CHANNEL, user="late", thread=None, text="Late?", hits=[]
    )
    left = await seeded.store.record_answer(question, Answer("atlas", text="Short."))
    right = await seeded.store.record_answer(question, Answer("cobalt", text="Longer answer."))
    return question, left, right


@in_module_loop
async def test_the_model_page_has_its_history_reasons_grades_and_answers(seeded) -> None:
    async with signed(seeded) as client:
        page = await client.get("/models/atlas")
        reasons = (await client.get("/models/atlas?export=reasons&format=json")).json()
        grades = (await client.get("/models/atlas?export=grades&format=json")).json()
        answers = (await client.get("/models/atlas?export=answers&format=json")).json()
        history = (await client.get("/models/atlas?export=history&format=json")).json()
        missing = await client.get("/models/nobody")
    assert page.status_code == 200 and 'id="history-chart"' in page.text
    assert page.text.count('class="point"') == len(history) >= 1
    assert reasons == [{"reason": "Not in the docs", "thumbs": 2}]
    assert len(grades) == 1 and grades[0]["judge"] == "referee" and grades[0]["answers"] >= 1
    rolled = next(a for a in answers if a["question"] == "How do I roll back a deploy?")
    assert [(c["number"], c["source"].rsplit("/", 1)[-1]) for c in rolled["sources"]] == [
        (1, "deploys.md")
    ]
    assert rolled["thumbs_up"] == 1
    assert missing.status_code == 404


@in_module_loop
async def test_the_audits_page_shows_canaries_and_agreement(seeded) -> None:
    audit = (await seeded.service.insights.audits())[-1]
    report = audit.report
    async with signed(seeded) as client:
        rows = (await client.get("/audits?export=audits&format=json")).json()
        grades = (await client.get(f"/audits?export=audit{audit.audit_id}&format=json")).json()
        page = await client.get("/audits")
    first = rows[-1]
    assert first["judge"] == "referee" and first["answers"] == report["answers"]
    assert first["canaries"]["flagged"] == report["canaries"]["flagged"]  # raw, as stored
    verdict = "FAILED" if report["canaries"]["flagged"] else "passed"
    assert f"{verdict} (AUC" in page.text  # and as words on the page
    assert first["votes_ties"]["total"] > 0  # the judge compared voted battles
    assert first["votes_ties"]["kappa"] == report["agreement"]["with_ties"]["kappa"]
    assert {g["model"]: g["score"] for g in grades} == {
        model: m["score"] for model, m in report["models"].items()
    }


@in_module_loop
async def test_questions_are_searched_as_text_and_shown_escaped(seeded) -> None:
    async with signed(seeded) as client:
        found = (await client.get("/questions?q=vpn&export=questions&format=json")).json()
        nothing = (await client.get("/questions?q=%25&export=questions&format=json")).json()
        page = await client.get("/questions")
    assert sorted(r["question"] for r in found) == [
        "How do I get VPN access?",
        "Who approves VPN access requests?",
    ]
    assert nothing == []  # % is a character to find, not a wildcard
    assert "<script>window.parleyPwned" not in page.text
    assert "&lt;script&gt;window.parleyPwned = 1&lt;/script&gt;" in page.text
    assert "&lt;img src=x onerror=" in page.text and "<img" not in page.text
    marked = next(r for r in (await _all_questions(seeded)) if r["question"] == MARKUP_QUESTION)
    assert marked["thumbs"] == [{"model": "bramble", "up": 0, "down": 2}]  # no reasons
    assert "bramble: 0 up, 2 down" in page.text


@in_module_loop
async def test_the_questions_json_holds_raw_values_and_the_page_their_words(seeded) -> None:
    asked = await seeded.store.record_question(
        platform="console", channel="console", user="me", thread=None, text="Console?", hits=[]
    )
    await seeded.store.record_answer(asked, Answer("atlas", text="Yes."))
    async with signed(seeded) as client:
        rows = (await client.get("/questions?export=questions&format=json")).json()
        page = await client.get("/questions")
        csv_text = (await client.get("/questions?export=questions")).text  # CSV by default
    console = next(r for r in rows if r["question"] == "Console?")
    assert console["place"] == {"platform": "console", "channel": "console"}
    assert console["votes"] is None and console["thumbs"] == []
    assert console["answers"] == [{"model": "atlas", "label": None, "text": "Yes.", "error": None}]
    fought = next(r for r in rows if r["question"].startswith("How do I handle case"))
    assert [a["label"] for a in fought["answers"]] == ["A", "B"]
    assert sum(fought["votes"].values()) == 1  # one vote, by choice
    assert set(fought["votes"]) <= set(messages.CHOICE_LABELS)
    assert fought["place"]["platform"] == "slack"
    assert "console console" not in page.text and '<td class="left">console</td>' in page.text
    assert "Model A (" in page.text and "A is better: 1" in csv_text + page.text


@in_module_loop
async def test_a_download_in_an_unknown_format_is_refused(seeded) -> None:
    async with signed(seeded) as client:
        xml = await client.get("/?export=board&format=xml")
        csv_board = await client.get("/?export=board&format=csv")
    assert xml.status_code == 400 and xml.text == messages.no_such_format("xml")
    assert "format=csv or format=json" in xml.text
    assert csv_board.status_code == 200 and csv_board.text.startswith("Rank")


@in_module_loop
async def test_a_search_has_a_longest_length_and_beyond_it_a_clear_answer(seeded) -> None:
    async with signed(seeded) as client:
        form = await client.get("/questions")
        longest = await client.get("/questions", params={"q": "a" * MAX_SEARCH_CHARS})
        over = await client.get("/questions", params={"q": "a" * (MAX_SEARCH_CHARS + 1)})
        huge = await client.get(
            "/questions", params={"q": "a" * 10_000, "export": "questions", "format": "json"}
        )
    assert f'maxlength="{MAX_SEARCH_CHARS}"' in form.text  # the box stops typing there
    assert longest.status_code == 200 and "Questions matching" in longest.text
    assert over.status_code == 400 and huge.status_code == 400
    assert messages.search_too_long(MAX_SEARCH_CHARS + 1, MAX_SEARCH_CHARS) in over.text
    assert f"at most {MAX_SEARCH_CHARS} characters" in huge.text and "10,000" in huge.text


async def _all_questions(seeded) -> list[dict]:
    async with signed(seeded) as client:
        return (await client.get("/questions?export=questions&format=json")).json()


@in_module_loop
async def test_the_gaps_are_grouped_by_what_the_questions_share(seeded) -> None:
    async with signed(seeded) as client:
        gaps = (await client.get("/questions/unanswered?export=gaps&format=json")).json()
    topics = {row["topic"]: row for row in gaps}
    vpn = next(row for topic, row in topics.items() if "vpn" in topic.lower())
    assert vpn["questions"] == 2 and "access" in vpn["topic"].lower()
    assert sum(row["questions"] for row in gaps) == 3  # the parking question, alone
    examples = [e for row in gaps for e in row["examples"]]  # a list of question texts
    assert "How do I get VPN access?" in examples
    assert all("roll back" not in e for e in examples)  # that one was answered


@in_module_loop
async def test_the_knowledge_page_lists_sources_and_what_was_skipped(seeded) -> None:
    async with signed(seeded) as client:
        sources = (await client.get("/knowledge?export=sources&format=json")).json()
        skipped = (await client.get("/knowledge?export=skipped&format=json")).json()
        page = await client.get("/knowledge")
    names = [s["path"].rsplit("/", 1)[-1] for s in sources]
    assert names == ["deploys-and-rollbacks.md", "glossary.txt", "on-call.md"]
    assert all(s["passages"] > 0 for s in sources)
    (broken,) = skipped
    assert broken["path"].endswith("broken.pdf") and broken["reason"]
    assert "No re-index is running." in page.text and "Last indexed" in page.text
