"""``parley slack --http`` in a process of its own, and signed requests to it, for the
tests that signal or kill the bot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from slack_sdk.signature import SignatureVerifier

from tests.fakes.slack_api import TEAM, listening_socket

__all__ = ["SECRET", "free_port", "harmless_event", "signed_headers", "spawn_slack"]

ROOT = Path(__file__).resolve().parents[2]
SECRET = "reliability-signing-secret"


def free_port() -> int:
    sock, port = listening_socket()
    sock.close()
    return port


def spawn_slack(data_dir: Path, api_url: str, port: int, **env: str) -> subprocess.Popen:
    """The bot in HTTP mode on 127.0.0.1:``port``, its stderr piped; ``env`` adds
    settings (``PARLEY_MODELS``, ``PARLEY_SHUTDOWN_TIMEOUT``...)."""
    environment = {
        **os.environ,
        "PARLEY_CONFIG": os.devnull,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "PARLEY_SLACK_API_URL": api_url,
        **env,
    }
    command = [sys.executable, "-c", "from bot.cli import main; main()"]
    command += ["--data-dir", str(data_dir), "slack", "--http"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(command, env=environment, cwd=ROOT, stderr=subprocess.PIPE, text=True)


def signed_headers(body: str, content_type: str = "application/json") -> dict[str, str]:
    ts = str(int(time.time()))
    return {
        "content-type": content_type,
        "x-slack-request-timestamp": ts,
        "x-slack-signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body),
    }


def harmless_event() -> str:
    """An event Parley ignores (a bot's own message): a probe for "is it listening"."""
    probe = {"type": "message", "bot_id": "B0", "channel": "C1", "ts": "1.1"}
    body = {"type": "event_callback", "team_id": TEAM, "event_id": "Ev0", "event": probe}
    return json.dumps(body)
