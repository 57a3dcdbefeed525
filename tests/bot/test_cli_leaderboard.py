"""``parley leaderboard``: the table at 80 columns and narrower for every variant, the
chart, and a chart that cannot be written."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from arena.leaderboard import Leaderboard, LeaderboardRow
from arena.store import JudgeSummary
from bot import messages
from bot.charts import leaderboard_png
from bot.cli import cli
from bot.cli.leaderboard_table import DROP_ORDER, board_table
from tests.conftest import ROOT

LONG = "claude-3-5-sonnet-20241022"
HEADER_WORDS = {"Rank", "(UB)", "Model", "Score", "95%", "CI", "Style", "rank", "Elo", "Votes"}
HEADER_WORDS |= {"Win", "Both", "bad", "👍", "Judge", "Flagged", "legacy", "Graded"}
VARIANTS = [(False, False), (False, True), (True, False), (True, True)]  # (style, judge)


def row(model: str, score: float, votes: int, **extra) -> LeaderboardRow:
    values: dict = {
        "rank_ub": 1,
        "model": model,
        "score": score,
        "ci_low": score - 31,
        "ci_high": score + 29,
        "votes": votes,
        "win_rate": 0.55,
        "both_bad_rate": 0.05,
        "thumbs_up_rate": 0.75,
        "provisional": votes < 20,
        "elo": score - 3,
        "style_score": score + 4,
        "style_ci_low": score - 40,
        "style_ci_high": score + 44,
        "style_rank_ub": 2,
    }
    return LeaderboardRow(**(values | extra))


def board(style: bool) -> Leaderboard:
    rows = [
        row(LONG, 1080.4, 1204, left_out_votes=12),
        row("offline-sentences", 1001.2, 987),
        row("offline-passages", 918.4, 7, rank_ub=1),
    ]
    coefficients = {"length": 0.4121, "headers": -0.0312, "lists": 0.0205, "bold": 0.1}
    return Leaderboard(
        rows,
        style_coefficients=coefficients if style else None,
        left_out={"names_model": 12},
        unrated=[LeaderboardRow(None, "solo", None, None, None, 0, None, None, 1.0, True)],
    )


JUDGED = {
    LONG: JudgeSummary(LONG, 123, 0, 88.0, 91.0, {}, flagged_share=0.124),
    "offline-sentences": JudgeSummary("offline-sentences", 45, 2, 61.0, 70.0, {}),
}


def headers(text: str) -> list[str]:
    """The column headers of a table printed wide enough for them to sit on one line."""
    (line,) = header_and_body(text)[0]
    return re.split(r"\s{2,}", line.strip())


def header_and_body(text: str) -> tuple[list[str], list[str]]:
    lines = text.splitlines()
    rule = next(n for n, line in enumerate(lines) if line.startswith("──"))
    return lines[:rule], lines[rule + 1 :]


@pytest.mark.parametrize("width", [120, 80, 64, 50])
@pytest.mark.parametrize(("style", "judge"), VARIANTS)
def test_the_table_fits_cuts_no_word_and_loses_no_value(width, style, judge) -> None:
    judged = JUDGED if judge else None
    text = board_table(board(style), width=width, style=style, judged=judged)
    header, body = header_and_body(text)
    shown = set(" ".join(header).split())
    full = headers(board_table(board(style), width=999, style=style, judged=judged))
    note = re.search(r"Not shown at this width: (.*?) \(widen", " ".join(text.split()))
    hidden = note.group(1).split(", ") if note else []
    assert set(hidden) <= set(DROP_ORDER)
    # every header shown whole (words never broken), and only those not named as hidden
    expected = Counter(word for h in full if h not in hidden for word in h.split())
    assert Counter(" ".join(header).split()) == expected
    assert {"Rank (UB)", "Model", "Score", "95% CI", "Votes"} <= set(full) - set(hidden)
    assert (not style or "Style" in shown) and (not judge or "Judge" in shown)
    if max(len(line) for line in text.splitlines()) > width:  # only when what always
        assert hidden == [h for h in DROP_ORDER if h in full]  # stays does not fit
    lines = {name: next(line for line in body if name in line) for name in (LONG, "solo")}
    assert LONG + " " in lines[LONG] and "1080" in lines[LONG] and "1204 (+12)" in lines[LONG]
    if "Graded" in shown:  # the last column: every count shows whole
        assert lines[LONG].split()[-1] == "123" and lines["solo"].split()[-1] == "0"
    if "Judge" in shown:
        assert " 88 " in lines[LONG] + " "
    if "Flagged" in shown:  # the support check's share, beside the judge's grade
        assert " 12% " in lines[LONG] + " " and "%" not in lines["solo"].split()[-3:]
    if style:  # the coefficients line keeps every term, wrapped between words only
        notes = " ".join(text.split())
        for term in ("length +0.412", "headers -0.031", "lists +0.021", "bold +0.100"):
            assert term in notes
    assert "offline-passages*" in text  # provisional: marked, no rank and no interval
    assert messages.PROVISIONAL_NOTE in " ".join(text.split())  # as on every surface
    passages = next(line for line in body if "offline-passages" in line)
    assert passages.split()[0] == "–" and "+29/-31" not in passages


@pytest.mark.parametrize(("style", "judge"), VARIANTS)
def test_at_80_columns_nothing_gives_way_but_what_must(style, judge) -> None:
    text = board_table(board(style), width=80, style=style, judged=JUDGED if judge else None)
    assert max(len(line) for line in text.splitlines()) <= 80
    header, _ = header_and_body(text)
    shown = set(" ".join(header).split())
    if judge and not style:
        assert "Graded" in shown  # the column issue #22 saw cut to "Gr"
    if not (style or judge):
        assert "Not shown" not in text


@pytest.mark.parametrize("width", [200, 80])
def test_the_style_columns_name_the_rates_they_replace(width) -> None:
    styled = board_table(board(True), width=width, style=True, judged=JUDGED)
    header, _ = header_and_body(styled)
    assert not {"Win", "Both", "👍"} & set(" ".join(header).split())
    note = messages.columns_given_way_to_style(["Win", "Both bad", "👍"])
    assert note in " ".join(styled.split())
    assert "with --style" not in board_table(board(False), width=width)


def test_a_wide_terminal_gets_whole_headers_on_one_line() -> None:
    text = board_table(board(True), width=200, style=True, judged=JUDGED)
    header, _ = header_and_body(text)
    assert len(header) == 1 and "Judge legacy" in header[0] and "Rank (UB)" in header[0]


def test_model_names_are_printed_as_typed() -> None:
    rows = [row("[bold]x", 1010.0, 40), row("y", 990.0, 40)]
    text = board_table(Leaderboard(rows), width=80)
    assert "[bold]x" in text


# --- the command, end to end ---------------------------------------------------------


def voted(tmp_path: Path, newcomer: int = 0) -> Path:
    """Three firm models' battles (and ``newcomer`` votes for a provisional one)."""
    battles = [(LONG, "offline-passages", w) for w in ["model_a", "tie", "model_b"] * 10]
    battles += [("offline-sentences", "offline-passages", w) for w in ["model_a", "tie"] * 15]
    battles += [("newcomer", "offline-sentences", w) for w in ["model_a", "model_b"] * newcomer]
    lines = "".join(
        json.dumps({"model_a": a, "model_b": b, "winner": w, "tstamp": n}) + "\n"
        for n, (a, b, w) in enumerate(battles)
    )
    (tmp_path / "battles.jsonl").write_text(lines)
    result = CliRunner().invoke(
        cli, ["--data-dir", str(tmp_path), "import", "battles", str(tmp_path / "battles.jsonl")]
    )
    assert result.exit_code == 0, result.output
    return tmp_path


@pytest.mark.parametrize("columns", ["80", "70"])
def test_every_variant_piped_at_80_columns_and_narrower(tmp_path: Path, columns) -> None:
    data = voted(tmp_path)
    command = [sys.executable, "-c", "from bot.cli import main; main()"]
    for extra in ([], ["--judge"], ["--style"], ["--style", "--judge"]):
        out = subprocess.run(
            [*command, "--data-dir", str(data), "leaderboard", *extra],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={**os.environ, "COLUMNS": columns},
        ).stdout
        assert max(len(line) for line in out.splitlines()) <= int(columns), out
        for name in (LONG, "offline-sentences", "offline-passages"):
            assert name in out
        header, _ = header_and_body(out)
        assert set(" ".join(header).split()) <= HEADER_WORDS, out
        if "--style" in extra:
            assert re.search(r"bold [+-]\d\.\d{3}\.", " ".join(out.split())), out


def test_json_gives_a_provisional_model_no_interval_or_rank(tmp_path: Path) -> None:
    """As the table and the dashboard do: too wide to rank by, so null, not a number."""
    data = voted(tmp_path, newcomer=2)
    hidden = ("rank_ub", "ci_low", "ci_high", "style_rank_ub", "style_ci_low", "style_ci_high")
    for extra in ([], ["--style"], ["--intervals", "bootstrap"]):
        result = CliRunner().invoke(cli, ["--data-dir", str(data), "leaderboard", "--json", *extra])
        assert result.exit_code == 0, result.output
        rows = {row["model"]: row for row in json.loads(result.stdout)}
        newcomer = rows.pop("newcomer")
        assert newcomer["provisional"] and newcomer["votes"] == 4
        assert newcomer["score"] is not None and newcomer["win_rate"] == 0.5
        assert {key: newcomer[key] for key in hidden} == dict.fromkeys(hidden)
        shown = hidden if extra == ["--style"] else hidden[:3]
        for row in rows.values():
            assert not row["provisional"] and None not in [row[key] for key in shown], row


def test_rounds_alone_mean_bootstrap_and_beside_sandwich_are_refused(tmp_path: Path) -> None:
    data = voted(tmp_path)

    def intervals(*options: str) -> list[tuple]:
        result = CliRunner().invoke(
            cli, ["--data-dir", str(data), "leaderboard", "--json", *options]
        )
        assert result.exit_code == 0, result.output
        return [(row["model"], row["ci_low"], row["ci_high"]) for row in json.loads(result.stdout)]

    sandwich = intervals()
    assert intervals("--intervals", "sandwich") == sandwich
    bootstrap = intervals("--rounds", "50")
    assert bootstrap == intervals("--intervals", "bootstrap", "--rounds", "50") != sandwich
    assert bootstrap != intervals("--intervals", "bootstrap")  # 100 rounds: the rounds count
    refused = CliRunner().invoke(
        cli, ["--data-dir", str(data), "leaderboard", "--rounds", "50", "--intervals", "sandwich"]
    )
    assert refused.exit_code == 1
    assert refused.output.strip().splitlines() == [f"Error: {messages.rounds_need_bootstrap()}"]
    assert "--intervals bootstrap" in messages.rounds_need_bootstrap()


def test_a_chart_that_cannot_be_written_is_one_clear_line(tmp_path: Path) -> None:
    data = voted(tmp_path)
    target = tmp_path / "no-such-folder" / "x.png"
    for json_flag in ([], ["--json"]):
        result = CliRunner().invoke(
            cli, ["--data-dir", str(data), "leaderboard", "--png", str(target), *json_flag]
        )
        assert result.exit_code == 1
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output
        message = f"Could not write the chart to {target}: No such file or directory."
        if json_flag:
            assert json.loads(result.stdout) == {"error": message}
        else:
            assert result.output.strip().splitlines() == [f"Error: {message}"]


def test_the_chart_is_written_where_asked(tmp_path: Path) -> None:
    data = voted(tmp_path)
    target = tmp_path / "board.png"
    result = CliRunner().invoke(cli, ["--data-dir", str(data), "leaderboard", "--png", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert f"Chart written to {target}" in result.output


def test_no_votes_no_chart(tmp_path: Path) -> None:
    target = tmp_path / "board.png"
    result = CliRunner().invoke(
        cli, ["--data-dir", str(tmp_path), "leaderboard", "--png", str(target)]
    )
    assert result.exit_code == 0 and "No votes yet" in result.stdout
    assert "No chart written" in result.stderr and not target.exists()


def test_the_chart_draws_every_rated_model() -> None:
    rows = board(False).rows
    png = leaderboard_png(rows)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 2000
    assert len(leaderboard_png(rows[:1])) != len(png)


def test_a_channel_without_votes_says_the_others_may_have_some(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--data-dir", str(tmp_path), "leaderboard", "--channel", "nope"]
    )
    assert result.exit_code == 0
    assert result.stdout.startswith("No votes in nope yet. Without a channel")
