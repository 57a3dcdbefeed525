"""``parley web`` as a process: it refuses to start open to anyone, and once started it
serves the login and keeps everything else behind it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from bot.cli import cli

ROOT = Path(__file__).resolve().parents[2]


def test_parley_web_will_not_start_without_a_way_to_sign_in(tmp_path: Path, monkeypatch) -> None:
    for name in ("PARLEY_WEB_TOKEN", "PARLEY_WEB_ADMIN_TOKEN", "PARLEY_WEB_TRUSTED_HEADER"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "web"])
    assert result.exit_code == 1 and "PARLEY_WEB_TOKEN" in result.output
    assert "Traceback" not in result.output


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_parley_web_serves_on_its_port_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PARLEY_WEB_TOKEN": "process-token", "PYTHONPATH": str(ROOT)}
    command = [
        sys.executable,
        "-c",
        "from bot.cli import main; main()",
        "--data-dir",
        str(tmp_path),
        "web",
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                login = httpx.get(base + "/login")
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        assert login.status_code == 200 and "Dashboard token" in login.text
        assert httpx.get(base + "/").status_code == 303
        with httpx.Client(base_url=base) as client:
            form = client.get("/login").text
            csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            client.post("/login", data={"csrf": csrf, "token": "process-token", "next": "/"})
            board = client.get("/")
        assert board.status_code == 200 and "<h1>Leaderboard</h1>" in board.text
        assert "No votes yet" in board.text  # an empty arena says so
        # no proxy is trusted by default: a guesser on this machine cannot pose as
        # many clients with X-Forwarded-For (uvicorn on its own believes 127.0.0.1's)
        with httpx.Client(base_url=base) as client:
            for n in range(6):
                form = client.get("/login").text
                csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
                guess = {"csrf": csrf, "token": "not-it", "next": "/"}
                client.headers["X-Forwarded-For"] = f"203.0.113.{n}"
                last = client.post("/login", data=guess)
        assert last.status_code == 429
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=30)
    assert f"127.0.0.1:{port}" in out
