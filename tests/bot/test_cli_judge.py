"""`parley judge` grades a JSONL of cases in input order; `parley judge agreement`
compares two sets of pairwise verdicts."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bot.cli import cli

PASSAGE = "The Denver Broncos defeated the Carolina Panthers 24–10 to win Super Bowl 50."
CASES = [
    {"question": "Who won Super Bowl 50?", "context": [PASSAGE], "answer": PASSAGE},
    {
        "question": "Who won Super Bowl 50?",
        "context": PASSAGE,
        "answer": PASSAGE.replace("24", "31"),
    },
    {"question": "Who won Super Bowl 50?", "context": PASSAGE, "answer": "I don't know."},
]


def invoke(tmp_path: Path, *args: str, code: int = 0):
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "data"), *args])
    assert result.exit_code == code, result.output
    # stdout alone on success: a log line from elsewhere in the process must not break JSON
    return result.stdout if code == 0 else result.output


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_grades_in_input_order_as_json(tmp_path: Path) -> None:
    cases = write_jsonl(tmp_path / "cases.jsonl", CASES)
    grades = json.loads(invoke(tmp_path, "judge", str(cases), "--json"))
    assert len(grades) == 3
    right, swapped, refusal = grades
    assert set(right["criteria"]) == {
        "relevance",
        "faithfulness",
        "completeness",
        "clarity",
        "conciseness",
    }
    assert right["criteria"]["faithfulness"] == {
        "reason": "1 of 1 claims supported by the passages.",
        "level": "Excellent",
    }
    assert right["support"]["sentences"] == [
        {"text": PASSAGE, "support": "supported", "passage": 1, "flagged": False}
    ]
    assert right["score"] > swapped["score"] == 20 and swapped["legacy_score"] > 20
    assert "states 31 where passage 1 says 24" in swapped["criteria"]["faithfulness"]["reason"]
    assert swapped["support"]["sentences"][0]["support"] == "contradicted"
    assert refusal["criteria"]["relevance"]["level"] == "Worse"
    assert {"context_relevance", "unmeasured"} <= set(right) and not right["unmeasured"]


def test_text_output_and_the_explicit_subcommand(tmp_path: Path) -> None:
    cases = write_jsonl(tmp_path / "cases.jsonl", CASES[:2])
    out = invoke(tmp_path, "judge", "grade", str(cases), "--judge", "offline")
    assert "1. score" in out and "2. score 20/100" in out
    assert "Contradicts the passages" in out and "states 31 where passage 1 says 24" in out


def test_bad_lines_are_named_and_nothing_is_graded(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps(CASES[0]) + "\nnot json\n" + json.dumps({"question": "q"}) + "\n")
    out = invoke(tmp_path, "judge", str(cases), code=1)
    assert "line 2" in out and "line 3: missing context, answer" in out


def test_an_unknown_judge_is_a_clean_error(tmp_path: Path, monkeypatch) -> None:
    cases = write_jsonl(tmp_path / "cases.jsonl", CASES[:1])
    assert "no model named 'gpt-judge' in the roster" in invoke(
        tmp_path, "judge", str(cases), "--judge", "gpt-judge", code=1
    )
    unknown = invoke(tmp_path, "judge", str(cases), "--judge", "nope", code=1)
    assert "choose 'offline' for the offline judge" in unknown
    assert "offline-sentences" not in unknown  # an answerer is not offered: it cannot judge
    monkeypatch.setenv("PARLEY_JUDGE", "offline-sentences")  # the configured judge is used
    assert "'offline-sentences' cannot judge" in invoke(tmp_path, "judge", str(cases), code=1)
    # the docs' own examples: an offline answerer, named either way, is refused the same
    out = invoke(tmp_path, "judge", str(cases), "--judge", "offline-passages", code=1)
    assert "'offline-passages' cannot judge" in out


def test_agreement_between_two_files_and_within_one(tmp_path: Path) -> None:
    def verdict(q, a, b, winner, judge="j"):
        return {"question_id": q, "model_a": a, "model_b": b, "winner": winner, "judge": judge}

    ours = write_jsonl(
        tmp_path / "ours.jsonl",
        [
            verdict(1, "x", "y", "model_a"),
            verdict(2, "x", "y", "tie"),
            verdict(3, "x", "y", "model_b"),
        ],
    )
    theirs = write_jsonl(
        tmp_path / "theirs.jsonl",
        [
            verdict(1, "y", "x", "model_b", "e1"),
            verdict(2, "x", "y", "tie (bothbad)", "e1"),
            verdict(3, "x", "y", "model_a", "e1"),
            verdict(3, "x", "y", "model_b", "e2"),
        ],
    )
    (turn,) = json.loads(invoke(tmp_path, "judge", "agreement", str(ours), str(theirs), "--json"))
    assert turn["with_ties"]["agree"] == 3 and turn["with_ties"]["total"] == 4
    assert turn["without_ties"]["agree"] == 2 and turn["without_ties"]["total"] == 3
    text = invoke(tmp_path, "judge", "agreement", str(ours), str(theirs))
    assert "turn 1 with ties" in text and "75.0% (3/4)" in text
    (within,) = json.loads(
        invoke(tmp_path, "judge", "agreement", str(theirs), str(theirs), "--json")
    )
    assert within["with_ties"]["total"] == 1  # e1 and e2 on question 3


def test_agreement_leaves_mt_bench_authors_out_unless_asked(tmp_path: Path) -> None:
    from tests.arena.judge.test_agreement import mt_bench_rows

    gpt4_rows, human_rows = mt_bench_rows()
    gpt4 = write_jsonl(tmp_path / "gpt4_pair.jsonl", gpt4_rows)
    human = write_jsonl(tmp_path / "human.jsonl", human_rows)
    first, _ = json.loads(invoke(tmp_path, "judge", "agreement", str(gpt4), str(human), "--json"))
    assert (first["with_ties"]["agree"], first["with_ties"]["total"]) == (3, 3)
    assert (first["without_ties"]["agree"], first["without_ties"]["total"]) == (2, 2)
    text = invoke(tmp_path, "judge", "agreement", str(gpt4), str(human), "--with-authors")
    assert "turn 1 with ties    agreement  60.0% (3/5)" in text
    assert "turn 1 without ties agreement  66.7% (2/3)" in text


def test_audit_through_the_service_and_its_stored_report(data_dir: Path) -> None:
    def run_cli(*args: str) -> str:
        result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    assert "No audit has run yet" in run_cli("audit", "--report")
    run_cli("ask", "How do I roll back a deploy?", "--model", "offline-sentences")
    report = json.loads(run_cli("audit", "--json", "--sample", "5"))
    assert report["judge"] == "offline" and report["answers"] >= 1
    assert report["canaries"]["counts"]["refusal"] >= 1
    assert json.loads(run_cli("audit", "--report", "--json")) == report
    text = run_cli("audit", "--report")
    assert "Audit by offline" in text and "offline-sentences: score" in text
    assert json.loads(run_cli("audit", "--json"))["answers"] == 0  # nothing new to audit
    assert "nothing new to grade" in run_cli("audit")
    # the empty audit was not stored over the real one (issue 22, item 9)
    assert json.loads(run_cli("audit", "--report", "--json")) == report
    assert "offline-sentences: score" in run_cli("audit", "--report")


def test_a_roster_model_judges_over_the_wire(tmp_path: Path, fake_api, monkeypatch) -> None:
    from tests.fakes.http_server import Scripted
    from tests.fakes.providers import openai_reply

    grade = {
        c: {"reason": "r", "level": "Good"}
        for c in (
            "context_relevance",
            "relevance",
            "faithfulness",
            "completeness",
            "clarity",
            "conciseness",
        )
    }
    fake_api.reply(
        Scripted(body=openai_reply(json.dumps(grade))),
        Scripted(body=openai_reply("not json")),
        Scripted(body=openai_reply("still not json")),
    )
    model = {
        "name": "gpt-judge",
        "provider": "openai",
        "model": "gpt-x",
        "base_url": fake_api.url + "/v1",
        "max_retries": 0,
        "concurrency": 1,
    }
    monkeypatch.setenv("PARLEY_MODELS", json.dumps([model]))
    monkeypatch.setenv("PARLEY_JUDGE", "gpt-judge")
    cases = write_jsonl(tmp_path / "cases.jsonl", CASES[:2])
    first, second = json.loads(invoke(tmp_path, "judge", str(cases), "--json"))
    assert first["score"] == 80 and first["judge"] == "gpt-judge"
    assert (
        second["unmeasured"]
        and second["score"] is None
        and "invalid reply twice" in second["error"]
    )
    assert len(fake_api.seen("/v1/chat/completions")) == 3


def test_a_roster_with_web_search_grades_when_the_web_is_set_up(
    tmp_path: Path, fake_api, monkeypatch
) -> None:
    """Only the judge is set up, the way the bot's roster sets it up: another entry
    searching the web (or one that could not run here) does not stop grading, and the
    judge's own web search does not either."""
    from tests.fakes.http_server import Scripted
    from tests.fakes.providers import openai_reply

    criteria = ("context_relevance", "relevance", "faithfulness", "completeness", "clarity")
    grade = {c: {"reason": "r", "level": "Good"} for c in (*criteria, "conciseness")}
    fake_api.reply(Scripted(body=openai_reply(json.dumps(grade))))
    config = tmp_path / "parley.toml"
    config.write_text(
        'judge = "gpt-judge"\n'
        '[web]\nprovider = "searxng"\nurl = "http://127.0.0.1:9"\n'
        f'[[models]]\nname = "gpt-judge"\nprovider = "openai"\nmodel = "gpt-x"\n'
        f'base_url = "{fake_api.url}/v1"\nmax_retries = 0\nweb = "fallback"\n'
        '[[models]]\nname = "searcher"\nprovider = "openai"\nmodel = "gpt-y"\n'
        'web = "blend"\n'
        '[[models]]\nname = "elsewhere"\nprovider = "not-installed-here"\nmodel = "z"\n'
    )
    monkeypatch.setenv("PARLEY_CONFIG", str(config))
    cases = write_jsonl(tmp_path / "cases.jsonl", CASES[:1])
    (graded,) = json.loads(invoke(tmp_path, "judge", str(cases), "--json"))
    assert graded["score"] == 80 and graded["judge"] == "gpt-judge"
    assert len(fake_api.seen("/v1/chat/completions")) == 1
