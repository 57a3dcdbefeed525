"""PARLEY_DATABASE_URL from the command line: a wrong or unreachable URL stops start-up
with one line naming the host and the fix, never a traceback and never the password;
a reachable one serves the knowledge base from PostgreSQL."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli


@pytest.fixture
def no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARLEY_CONFIG", os.devnull)


def parley(*args: str, url: str, tmp_path: Path):
    env = {"PARLEY_DATABASE_URL": url, "PARLEY_DATA_DIR": str(tmp_path / "data")}
    return CliRunner().invoke(cli, list(args), env=env)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.usefixtures("no_config")
def test_a_url_of_another_kind_is_refused_in_one_line(tmp_path: Path) -> None:
    result = parley("search", "anything", url="mysql://parley:s3cret@db/x", tmp_path=tmp_path)
    assert result.exit_code == 1
    assert "database_url: the database URL must start with postgresql://" in result.output
    assert "s3cret" not in result.output and "Traceback" not in result.output


@pytest.mark.usefixtures("no_config")
def test_an_unreachable_server_stops_start_up_naming_host_and_fix(tmp_path: Path) -> None:
    port = closed_port()
    docs = tmp_path / "docs"
    docs.mkdir()
    url = f"postgresql://parley:s3cret@127.0.0.1:{port}/parley"
    for command in (["index", str(docs)], ["search", "anything"], ["ask", "where to park?"]):
        result = parley(*command, url=url, tmp_path=tmp_path)
        assert result.exit_code == 1, command
        lines = result.output.strip().splitlines()
        assert lines == [
            f"Error: cannot connect to PostgreSQL at 127.0.0.1:{port} (Connection refused):"
            " check that the server is running and that PARLEY_DATABASE_URL (database_url"
            " in parley.toml) names the right host and port"
        ], command
    assert not (tmp_path / "data" / "index" / "lexical.db").exists()


@pytest.mark.usefixtures("no_config")
def test_an_unreachable_migrate_target_names_the_option_it_came_from(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"PARLEY_DATA_DIR": str(data)}
    line = '{"model_a": "x", "model_b": "y", "winner": "model_a", "tstamp": 1}'
    assert CliRunner().invoke(cli, ["import", "battles", "-"], input=line, env=env).exit_code == 0
    port = closed_port()
    url = f"postgresql://parley:s3cret@127.0.0.1:{port}/parley"
    result = CliRunner().invoke(cli, ["db", "migrate", "--to", url], env=env)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: cannot connect to PostgreSQL at 127.0.0.1:{port} (Connection refused):"
        " check that the server is running and that --to names the right host and port"
    ]


@pytest.mark.usefixtures("no_config")
def test_index_and_search_on_postgresql(pg_url: str, tmp_path: Path, monkeypatch) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "parking.md").write_text("# Parking\n\nVisitors park on level minus two.\n")
    indexed = parley("index", str(docs), url=pg_url, tmp_path=tmp_path)
    assert indexed.exit_code == 0, indexed.output
    found = parley("search", "visitors park", "--mode", "lexical", url=pg_url, tmp_path=tmp_path)
    assert found.exit_code == 0, found.output
    assert "parking.md" in found.output
    assert not (tmp_path / "data" / "index" / "lexical.db").exists()  # the rows are on the server


async def test_the_service_names_who_asked_for_the_reindex(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What other instances are told comes from the requester the service was given."""
    from bot.access import Requester
    from bot.config import Settings
    from bot.runtime import open_service
    from knowledge.base import KnowledgeBase
    from knowledge.indexer import IndexReport

    asked: list[str] = []

    def index(self, paths, progress=None, *, on_passages=None, requested_by="", **options):
        asked.append(requested_by)
        return IndexReport()

    monkeypatch.setattr(KnowledgeBase, "index", index)
    settings = Settings(data_dir=tmp_path / "data", database_url=pg_url)
    async with open_service(settings) as service:
        await service.reindex(Requester("slack", "UADMIN", platform_admin=True), [tmp_path])
    assert asked == ["slack:UADMIN"]
