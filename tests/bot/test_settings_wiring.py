"""Settings reach the behaviour they name: a key in parley.toml changes what the running
service does, through the one settings object the service is built from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.access import Requester
from bot.cli import cli
from bot.config import load_settings
from bot.runtime import open_service


@pytest.fixture
def config(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "parley.toml"
    path.write_text("")  # a named file must exist; each test writes its settings
    monkeypatch.setenv("PARLEY_CONFIG", str(path))
    return path


def battle(n: int, user: str) -> str:
    """One vote for alpha, a minute apart, on the first day of 1970 (UTC)."""
    line = {"model_a": "alpha", "model_b": "beta", "winner": "model_a", "tstamp": 60.0 * n}
    return json.dumps({**line, "judge": user})


def test_the_daily_cap_in_parley_toml_limits_what_the_leaderboard_counts(
    config: Path, tmp_path: Path
) -> None:
    votes = tmp_path / "votes.jsonl"
    votes.write_text("\n".join([*(battle(n, "ann") for n in range(5)), battle(9, "bob")]) + "\n")
    data = ["--data-dir", str(tmp_path / "data")]
    assert CliRunner().invoke(cli, [*data, "import", "battles", str(votes)]).exit_code == 0

    def counted() -> dict[str, tuple[int, int]]:
        result = CliRunner().invoke(cli, [*data, "leaderboard", "--json"])
        assert result.exit_code == 0, result.output
        return {r["model"]: (r["votes"], r["left_out_votes"]) for r in json.loads(result.stdout)}

    assert counted() == {"alpha": (6, 0), "beta": (6, 0)}
    config.write_text("max_votes_per_user_per_day = 2\n")
    # ann's first two votes of the day count, her other three are kept but left out
    assert counted() == {"alpha": (3, 3), "beta": (3, 3)}


async def test_admins_in_parley_toml_decide_who_may_reindex(config: Path, tmp_path: Path) -> None:
    config.write_text(f'admins = ["slack:U1"]\ndata_dir = "{tmp_path}"\n')
    settings, warnings = load_settings()
    assert warnings == []
    async with open_service(settings) as service:
        assert service.may_reindex(Requester("slack", "U1"))
        assert not service.may_reindex(Requester("slack", "U2"))
