"""An indexed copy of the sample handbook for the CLI and console tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from tests.conftest import HANDBOOK


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """One data directory per test module, with the handbook indexed through the CLI."""
    path = tmp_path_factory.mktemp("parley")
    result = CliRunner().invoke(cli, ["--data-dir", str(path), "index", str(HANDBOOK)])
    assert result.exit_code == 0, result.output
    return path
