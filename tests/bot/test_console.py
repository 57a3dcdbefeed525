"""`parley chat` end to end: a battle, a vote that reveals names, then the leaderboard,
export and import see exactly that vote; a hosted answer drawn as it is written."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner
from rich.console import Console

from bot.cli import cli
from bot.console import ask_live, show_reply
from bot.service import Ask
from tests.fakes.providers import fake, roster, streaming
from tests.fakes.service import service_over_fakes


def run(data_dir: Path, *args: str, input: str | None = None, env: dict | None = None):
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args], input=input, env=env)
    assert result.exit_code == 0, result.output
    return result.stdout  # JSON is read from stdout: a log line goes to stderr


def test_battle_vote_reveal_leaderboard_export_import(data_dir: Path, tmp_path: Path) -> None:
    out = run(
        data_dir,
        "chat",
        input="How do I roll back a deploy?\na\nquit\n",
        env={"PARLEY_BATTLE_SHARE": "1"},
    )
    assert "Model A" in out and "Model B" in out
    assert "Vote recorded: A is better. Model A was offline-" in out

    board = json.loads(run(data_dir, "leaderboard", "--json"))
    assert {row["model"] for row in board} == {"offline-sentences", "offline-passages"}
    assert all(row["votes"] == 1 and row["provisional"] for row in board)
    assert sorted(row["win_rate"] for row in board) == [0.0, 1.0]

    exported = run(data_dir, "export", "battles").strip().splitlines()
    (line,) = exported
    battle = json.loads(line)
    assert battle["winner"] == "model_a" and battle["channel"] == "console"

    file = tmp_path / "battles.jsonl"
    file.write_text(line + "\n{broken\n")
    fresh = tmp_path / "fresh"
    result = CliRunner().invoke(cli, ["--data-dir", str(fresh), "import", "battles", str(file)])
    assert result.exit_code == 0
    assert "Imported 1 battle (" in result.output and "line 2" in result.output
    again = run(fresh, "import", "battles", str(file))
    assert "Imported 0 battles (1 already present" in again
    imported = json.loads(run(fresh, "leaderboard", "--json"))
    assert [(r["model"], r["votes"]) for r in imported] == [(r["model"], r["votes"]) for r in board]


def test_single_answer_takes_a_thumb(data_dir: Path) -> None:
    out = run(
        data_dir,
        "chat",
        "--channel",
        "thumbs",
        input="What is the meal allowance when travelling?\n+\n\n",
        env={"PARLEY_BATTLE_SHARE": "0"},
    )
    assert "60 EUR" in out and "👍 recorded" in out
    board = json.loads(run(data_dir, "leaderboard", "--json", "--channel", "thumbs"))
    assert len(board) == 1 and board[0]["thumbs_up_rate"] == 1.0 and board[0]["score"] is None


def test_leaderboard_png(data_dir: Path, tmp_path: Path) -> None:
    chart = tmp_path / "board.png"
    run(data_dir, "leaderboard", "--png", str(chart))
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_question_typed_at_the_feedback_prompt_is_the_next_question(data_dir: Path) -> None:
    out = run(
        data_dir,
        "chat",
        "--channel",
        "flow",
        input="How do I roll back a deploy?\nWhat is the meal allowance when travelling?\n\nquit\n",
        env={"PARLEY_BATTLE_SHARE": "0"},
    )
    assert "Rate an answer with + or -" in out  # the start screen says what chat does
    assert "60 EUR" in out  # the second question was answered, not rejected
    assert "Error" not in out


def test_upper_case_votes_and_a_thumbs_down_reason(data_dir: Path, tmp_path: Path) -> None:
    out = run(
        data_dir,
        "chat",
        "--channel",
        "keys",
        input="How do I roll back a deploy?\nB\nquit\n",
        env={"PARLEY_BATTLE_SHARE": "1"},
    )
    assert "Vote recorded: B is better." in out
    out = run(
        data_dir,
        "chat",
        "--channel",
        "reasons",
        input="What is the on-call stipend?\n-\nThe stipend changed in March\n",
        env={"PARLEY_BATTLE_SHARE": "0"},
    )
    assert "👎 recorded" in out
    with sqlite3.connect(data_dir / "parley.db") as db:
        reasons = [r for (r,) in db.execute("SELECT reason FROM thumbs WHERE value = -1")]
    assert "The stipend changed in March" in reasons


def test_end_of_input_at_any_prompt_leaves_cleanly(data_dir: Path) -> None:
    for typed in ("", "How do I roll back a deploy?\n"):  # at the question, at the feedback
        result = CliRunner().invoke(
            cli,
            ["--data-dir", str(data_dir), "chat", "--channel", "eof"],
            input=typed,
            env={"PARLEY_BATTLE_SHARE": "0"},
        )
        assert result.exit_code == 0 and "Aborted" not in result.output


async def test_a_terminal_sees_a_hosted_answer_grow_then_the_finished_reply(store) -> None:
    """In a terminal the answer is drawn as it is written; the drawing is erased when the
    reply comes, which the caller prints once with its sources."""
    words = "Run shipit rollback with the previous version and watch the dashboards [1]."
    svc = service_over_fakes(store, roster(streaming("alpha", words, pause=0.15)))
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=100)
    reply = await ask_live(
        terminal, svc, Ask("How do I roll back?", "u1", "console", "t1", "console")
    )
    assert reply.answers[0].answer.text == words
    drawn = screen.getvalue()
    assert "writing…" in drawn and "Run shipit" in drawn  # shown before the reply came
    assert drawn.count("writing…") >= 2  # redrawn as it grew, not once at the end

    piped = io.StringIO()
    await ask_live(Console(file=piped), svc, Ask("Again?", "u1", "console", "t2", "console"))
    assert piped.getvalue() == ""  # not a terminal: nothing drawn, the caller prints the reply


async def test_the_console_marks_unsupported_sentences_and_explains_the_marks(store) -> None:
    reply_text = (
        "Run shipit rollback [1]. Never run shipit rollback to roll back. Rollbacks take 10"
        " minutes. Rollbacks are usually quick. Shall I page someone?"
    )
    svc = service_over_fakes(store, roster(fake("alpha", reply_text, "Run shipit rollback [1].")))
    screen = io.StringIO()
    console = Console(file=screen, width=200)
    show_reply(console, await svc.ask(Ask("How do I roll back?", "u1", "console", "t1", "console")))
    drawn = screen.getvalue()
    assert "Never run shipit rollback to roll back [!]. Rollbacks take 10 minutes [?]." in drawn
    # in no source, yet it names nothing: unmarked, and the question is no claim
    assert "Rollbacks are usually quick. Shall I page someone?" in drawn
    note = "[!] 1 sentence conflicts with the sources · [?] 1 states a number or name not in them"
    assert note in drawn
    assert drawn.index("Sources:") < drawn.index("a number or name not in")  # under them

    clean = io.StringIO()
    show_reply(Console(file=clean), await svc.ask(Ask("Now?", "u1", "console", "t1", "console")))
    assert "Run shipit rollback [1]." in clean.getvalue()
    assert "[?]" not in clean.getvalue() and "not in the sources" not in clean.getvalue()
