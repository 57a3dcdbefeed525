"""The CLI end to end on the bundled handbook: index, search, ask, models, leaderboard."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.cli.answers import answer_json
from bot.cli.operator import shorten
from bot.service import Ask
from tests.conftest import HANDBOOK, ROOT
from tests.fakes.http_server import Scripted
from tests.fakes.providers import fake, openai_reply, roster
from tests.fakes.service import service_over_fakes


def invoke(data_dir: Path, *args: str, input: str | None = None):
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args], input=input)
    assert result.exit_code == 0, result.output
    return result


def test_a_piped_index_says_how_far_it_is_on_stderr(tmp_path: Path) -> None:
    """No bar in a log (CI, cron): a progress line on stderr at once, then one every
    ``PIPED_EVERY`` seconds, instead of silence until the summary."""
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "index", str(HANDBOOK)])
    assert result.exit_code == 0, result.output
    (said,) = result.stderr.splitlines()  # the handbook takes less than PIPED_EVERY
    assert said.startswith("Re-indexing: ")
    assert result.stdout.startswith("Indexed in") and "Re-indexing" not in result.stdout


def test_index_reports_and_reindex_skips_unchanged(data_dir: Path) -> None:
    files = [p for p in HANDBOOK.iterdir() if p.is_file()]
    out = invoke(data_dir, "index", str(HANDBOOK)).output
    assert f"{len(files)} unchanged" in out
    assert "0 added" in out


def test_index_reports_a_broken_file_and_keeps_going(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.md").write_text("# Parking\n\nVisitors park on level minus two.\n")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    out = invoke(tmp_path / "data", "index", str(docs)).output
    assert "broken.pdf" in out and "skipped" in out
    found = invoke(tmp_path / "data", "search", "where do visitors park", "--json").output
    hits = json.loads(found)
    assert hits[0]["source"].endswith("good.md")


def test_search_json_has_the_documented_fields(data_dir: Path) -> None:
    hits = json.loads(invoke(data_dir, "search", "roll back a deploy", "--json", "--k", "3").stdout)
    assert len(hits) == 3
    assert set(hits[0]) == {"source", "title", "location", "score", "text"}
    assert hits[0]["score"] >= hits[1]["score"] >= hits[2]["score"]


def test_search_matching_nothing_in_an_indexed_base_does_not_suggest_indexing(
    data_dir: Path,
) -> None:
    out = invoke(data_dir, "search", "xyzzyplugh", "--mode", "lexical").output
    assert "Nothing in the knowledge base matched" in out and "--mode hybrid" in out
    assert "parley index" not in out


def test_search_in_an_empty_index_suggests_indexing(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    invoke(tmp_path / "data", "index", str(tmp_path / "empty"))
    out = invoke(tmp_path / "data", "search", "xyzzyplugh", "--mode", "lexical").output
    assert "Is the knowledge base indexed?" in out and "parley index" in out


def test_ask_answers_with_citations(data_dir: Path) -> None:
    payload = json.loads(invoke(data_dir, "ask", "How do I roll back a deploy?", "--json").stdout)
    assert payload["answer"]
    assert "[1]" in payload["answer"]
    assert payload["citations"] and {"number", "source", "location"} <= set(payload["citations"][0])
    assert payload["latency_ms"] > 0


def test_ask_json_lists_each_claim_and_the_source_that_supports_it(data_dir: Path) -> None:
    """The offline answerer quotes its sources, so every claim is found in a listed one."""
    question = ["ask", "What is the meal expense limit?", "--json"]
    payload = json.loads(invoke(data_dir, *question).stdout)
    sentences, listed = payload["sentences"], {c["number"] for c in payload["citations"]}
    keys = {"text", "support", "passage", "flagged"}
    assert sentences and all(set(s) == keys for s in sentences)
    assert all(s["support"] == "supported" and s["passage"] in listed for s in sentences)
    assert not any(s["flagged"] for s in sentences)
    assert all(s["text"] in payload["answer"] for s in sentences)
    off = {"PARLEY_CHANNEL_FAITHFULNESS_FLAGS": '{"cli": false}'}  # `parley ask` asks in "cli"
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *question], env=off)
    assert result.exit_code == 0 and json.loads(result.stdout)["sentences"] is None


async def test_ask_json_gives_each_kind_of_verdict(store) -> None:
    reply_text = (
        "Run shipit rollback [1]. Never run shipit rollback to roll back. Rollbacks take ten"
        " minutes. Rollbacks take 10 minutes. Shall I page someone?"
    )
    service = service_over_fakes(store, roster(fake("alpha", reply_text)))
    reply = await service.ask(Ask("How do I roll back?", "ana", "cli", None, "cli"))
    # the question is no claim; a remark the sources lack is flagged only when it states
    # a number or name they never do
    assert answer_json(reply.answers[0])["sentences"] == [
        {
            "text": "Run shipit rollback [1].",
            "support": "supported",
            "passage": 1,
            "flagged": False,
        },
        {
            "text": "Never run shipit rollback to roll back.",
            "support": "contradicted",
            "passage": 1,
            "flagged": True,
        },
        {
            "text": "Rollbacks take ten minutes.",
            "support": "unverifiable",
            "passage": 1,
            "flagged": False,
        },
        {
            "text": "Rollbacks take 10 minutes.",
            "support": "unverifiable",
            "passage": 1,
            "flagged": True,
        },
    ]
    assert json.loads(json.dumps(answer_json(reply.answers[0])))  # all of it is JSON


def test_ask_marks_what_a_hosted_answer_adds_to_its_sources(
    data_dir: Path, fake_api, monkeypatch
) -> None:
    """An OpenAI-compatible model on the wire, over the handbook: the sentence no passage
    holds is marked and counted, in the terminal and in --json."""
    config = data_dir.parent / "hosted.toml"
    config.write_text(
        '[[models]]\nname = "local"\nprovider = "openai"\nmodel = "m"\nmax_retries = 0\n'
        f'base_url = "{fake_api.url}/v1"\n'
    )
    monkeypatch.setenv("PARLEY_CONFIG", str(config))
    said = (
        "Run shipit rollback to roll back a deploy [1]. The CFO signs off every rollback [1]."
        " Rollbacks are usually quick."
    )
    fake_api.route("POST", "/v1/chat/completions", Scripted(200, openai_reply(said)))
    out = invoke(data_dir, "ask", "How do I roll back a deploy?").output
    drawn = " ".join(out.split())
    # the CFO is in no passage; the remark after it names nothing, so it is not marked
    assert (
        "deploy [1]. The CFO signs off every rollback [1] [?]. Rollbacks are usually quick."
        in drawn
    )
    assert "[?] 1 sentence states a number or name not in the sources" in out
    payload = json.loads(invoke(data_dir, "ask", "How do I roll back a deploy?", "--json").stdout)
    assert payload["answer"] == said  # the marks are drawn, never stored in the answer
    verdicts = [(s["support"], s["flagged"]) for s in payload["sentences"]]
    assert verdicts == [("supported", False), ("unverifiable", True), ("unverifiable", False)]


def test_ask_says_plainly_when_the_handbook_has_no_answer(data_dir: Path) -> None:
    question = "What is the airspeed velocity of an unladen swallow?"
    out = invoke(data_dir, "ask", question).output
    assert "could not find this in the knowledge base" in out.lower()
    assert "[?]" not in out and "not in the sources" not in out  # no claim to flag
    assert json.loads(invoke(data_dir, "ask", question, "--json").stdout)["sentences"] == []


class AWeekAfterTheRota(date):
    """A Monday one week after the handbook rota's last week (it starts 2026-11-30)."""

    @classmethod
    def today(cls) -> date:
        return date(2026, 12, 7)


@pytest.mark.parametrize(
    ("question", "says", "never"),
    [
        (
            "Who is on call this week?",
            [
                "Nothing I found is dated within the days asked about (2026-12-07 to 2026-12-13).",
                "The latest entry before them is: Week starting: 2026-11-30; Primary: Mei Chen",
                "on-call-rota.csv, row 6",
            ],
            ["2026-11-23", "2026-11-16"],
        ),
        ("When is the next on-call handover?", ["Mondays at 10:00 UTC"], []),
        (
            "What is the parental leave policy?",
            ["I could not find this in the knowledge base."],
            ["Expensify", "EUR"],
        ),
    ],
)
def test_ask_answers_the_questions_a_team_checks_first(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, question: str, says: list, never: list
) -> None:
    """Issue 22 item 11, through the CLI on the bundled handbook: a week after the rota
    ends, "this week" is not answered with an old row; the handover's time is given, not
    its note; a question sharing only the word "policy" with the expenses policy is refused."""
    monkeypatch.setattr("arena.compose.date", AWeekAfterTheRota)
    out = invoke(data_dir, "ask", question).output
    for text in says:
        assert text in out, out
    for text in never:
        assert text not in out, out
    assert out.count("Week starting") <= 1, out


def test_ask_with_an_unknown_model_is_a_clean_error(data_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), "ask", "hi", "--model", "nope"])
    assert result.exit_code != 0
    assert "nope" in result.output and "Traceback" not in result.output


def test_models_lists_the_offline_roster(data_dir: Path) -> None:
    rows = json.loads(invoke(data_dir, "models", "--json").stdout)
    assert {r["name"] for r in rows if r["configured"]} >= {"offline-sentences", "offline-passages"}
    assert all("reachable" not in r for r in rows)  # configured is not the same as reachable


def test_models_check_reports_reachable_and_unreachable(
    tmp_path: Path, fake_api, monkeypatch
) -> None:
    """A model whose server is down is configured, not ready: --check says so, with why,
    and exits 1 (scripts check models too); a server that is not there at all is not
    "unavailable" but cannot be connected to."""
    with socket.socket() as probe:  # a port nothing listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    config = tmp_path / "parley.toml"
    config.write_text(
        '[[models]]\nname = "offline-passages"\nprovider = "offline-passages"\n'
        '[[models]]\nname = "local"\nprovider = "openai"\nmodel = "m"\nmax_retries = 0\n'
        f'base_url = "{fake_api.url}/v1"\n'
        '[[models]]\nname = "gone"\nprovider = "openai"\nmodel = "m"\nmax_retries = 0\n'
        f'base_url = "http://127.0.0.1:{closed}/v1"\n'
        '[[models]]\nname = "claude"\nprovider = "anthropic"\nmodel = "c"\n'
        'api_key_env = "PARLEY_TEST_NO_SUCH_KEY"\n'
    )
    monkeypatch.setenv("PARLEY_CONFIG", str(config))
    fake_api.route("POST", "/v1/chat/completions", Scripted(503, {"error": {"message": "down"}}))
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "models", "--check", "--json"])
    assert result.exit_code == 1
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows["offline-passages"]["reachable"] is True
    assert rows["local"]["reachable"] is False
    assert rows["local"]["error"] == "service unavailable (HTTP 503)"
    assert rows["gone"]["error"] == "cannot connect (connection refused)"
    assert rows["claude"]["configured"] is False
    assert (rows["claude"]["provider"], rows["claude"]["model"]) == ("anthropic", "c")
    assert "PARLEY_TEST_NO_SUCH_KEY" in rows["claude"]["reason"]
    assert fake_api.seen("/v1/chat/completions")
    table = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "models", "--check"])
    assert table.exit_code == 1 and "cannot connect" in table.output


def test_models_check_exits_0_when_every_model_answers(data_dir: Path) -> None:
    rows = json.loads(invoke(data_dir, "models", "--check", "--json").stdout)
    assert rows and all(r["reachable"] for r in rows)


def test_leaderboard_is_empty_before_any_vote(tmp_path: Path) -> None:
    assert json.loads(invoke(tmp_path, "leaderboard", "--json").stdout) == []


def test_leaderboard_and_export_do_not_import_the_embedding_stack(tmp_path: Path) -> None:
    code = (
        "import sys; from click.testing import CliRunner; from bot.cli import cli;"
        f"r = CliRunner().invoke(cli, ['--data-dir', {str(tmp_path)!r}, 'leaderboard']);"
        "assert r.exit_code == 0, r.output;"
        f"r = CliRunner().invoke(cli, ['--data-dir', {str(tmp_path)!r}, 'export', 'battles']);"
        "assert r.exit_code == 0, r.output;"
        "heavy = ('chromadb', 'onnxruntime', 'openai', 'anthropic');"
        "heavy = [m for m in heavy if m in sys.modules];"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_every_command_is_documented() -> None:
    docs = (ROOT / "docs" / "bot.md").read_text()
    ctx = click.Context(cli)
    commands = {name: cli.get_command(ctx, name) for name in cli.list_commands(ctx)}
    names = [f"parley {name}" for name, cmd in commands.items() if not hasattr(cmd, "commands")]
    names += [
        f"parley {group} {sub}"
        for group, cmd in commands.items()
        for sub in getattr(cmd, "commands", {})
    ]
    missing = [n for n in names if n not in docs]
    assert not missing, f"undocumented commands: {missing}"


def test_every_field_of_an_export_is_documented(tmp_path: Path) -> None:
    battle = {"model_a": "x", "model_b": "y", "winner": "tie", "tstamp": 1, "judge": "ann"}
    (tmp_path / "battles.jsonl").write_text(json.dumps(battle) + "\n")
    invoke(tmp_path, "import", "battles", str(tmp_path / "battles.jsonl"))
    (exported,) = [
        json.loads(line) for line in invoke(tmp_path, "export", "battles").stdout.splitlines()
    ]
    docs = (ROOT / "docs" / "bot.md").read_text()
    section = docs.split("### parley export battles")[1].split("\n### ")[0]
    assert [key for key in exported if f"`{key}`" not in section] == []


def test_leaderboard_at_80_columns_piped_keeps_both_offline_names(tmp_path: Path) -> None:
    lines = "".join(
        json.dumps({"model_a": a, "model_b": b, "winner": w, "tstamp": n}) + "\n"
        for n, (a, b, w) in enumerate(
            [("offline-sentences", "offline-passages", w) for w in ["model_a", "tie"] * 15]
        )
    )
    (tmp_path / "battles.jsonl").write_text(lines)
    invoke(tmp_path, "import", "battles", str(tmp_path / "battles.jsonl"))
    command = [sys.executable, "-c", "from bot.cli import main; main()"]
    for extra in ([], ["--style"]):
        out = subprocess.run(
            [*command, "--data-dir", str(tmp_path), "leaderboard", *extra],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={**os.environ, "COLUMNS": "80"},
        ).stdout
        assert "offline-sentences" in out and "offline-passages" in out
        assert "…" not in out
        assert max(len(line) for line in out.splitlines()) <= 80
    board = json.loads(invoke(tmp_path, "leaderboard", "--json", "--style").stdout)
    assert {"elo", "style_score", "style_ci_low", "style_ci_high", "style_rank_ub"} <= set(board[0])


def test_the_empty_leaderboard_says_how_votes_happen_today(tmp_path: Path) -> None:
    out = invoke(tmp_path, "leaderboard").output
    assert "parley chat" in out
    assert "Slack" not in out and "Discord" not in out


def test_global_options_work_after_the_command_too(data_dir: Path, tmp_path: Path) -> None:
    """As the docs say every command takes them: `parley search X --data-dir D`."""
    after = CliRunner().invoke(cli, ["search", "parking", "--json", "--data-dir", str(data_dir)])
    assert after.exit_code == 0, after.output
    before = invoke(data_dir, "search", "parking", "--json")
    assert json.loads(after.stdout) == json.loads(before.stdout)
    empty = tmp_path / "empty"
    empty.mkdir()
    for command in (["export", "battles"], ["leaderboard", "--json"], ["judge", "--help"]):
        result = CliRunner().invoke(cli, [*command, "--data-dir", str(empty), "-v"])
        assert result.exit_code == 0, (command, result.output)
    # given in both places, the one after the command wins
    wrong = CliRunner().invoke(
        cli, ["--data-dir", str(tmp_path / "typo"), "search", "x", "--data-dir", str(data_dir)]
    )
    assert wrong.exit_code == 0, wrong.output


def test_search_at_80_columns_keeps_the_score_on_the_first_line_and_words_whole(
    data_dir: Path,
) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from bot.cli import main; main()",
            "--data-dir",
            str(data_dir),
            "search",
            "how do I roll back a deploy",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "80"},
    ).stdout
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    headings = [line for line in lines if line[:1].isdigit()]
    assert len(headings) == 5 and all("  score " in line for line in headings)
    hits = json.loads(invoke(data_dir, "search", "how do I roll back a deploy", "--json").stdout)
    printed = set(" ".join(lines).split())
    for hit in hits:  # every word of each label and shown text is whole somewhere
        label = ", ".join(part for part in (hit["source"], hit["location"]) if part)
        assert set(label.split()) <= printed
        assert set(shorten(hit["text"]).split()) <= printed


def test_index_force_embeds_unchanged_files_again(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "parking.md").write_text("# Parking\n\nVisitors park on level minus two.\n")
    invoke(tmp_path / "data", "index", str(docs))
    assert "1 unchanged" in invoke(tmp_path / "data", "index", str(docs)).output
    out = invoke(tmp_path / "data", "index", "--force", str(docs)).output
    assert "1 re-embedded" in out and "0 unchanged" in out
