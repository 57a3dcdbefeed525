"""Ctrl-C in `parley chat` leaves at once, at either prompt, as the welcome text says:
no "Aborted!", exit 0. The chat runs in a child process that gets a real SIGINT while it
waits at a prompt, since only a real signal shows what asyncio does with it."""

from __future__ import annotations

import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

from bot import messages
from tests.conftest import ROOT
from tests.fakes.http_server import Scripted


class Chat:
    """`parley chat` in a child process, read as it writes."""

    def __init__(self, data_dir: Path, cwd: Path, config: Path | None = None) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "PARLEY_CONFIG": str(config or os.devnull),
            "PARLEY_BATTLE_SHARE": "0",
        }
        parley = [sys.executable, "-c", "from bot.cli import main; main()"]
        self.child = subprocess.Popen(
            [*parley, "--data-dir", str(data_dir), "chat", "--channel", "ctrl-c"],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.seen = b""

    def wait_for(self, text: str, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        assert self.child.stdout is not None
        while text.encode() not in self.seen:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.child.stdout], [], [], max(left, 0))
            assert ready, f"no {text!r} within {seconds} s: {self.seen.decode()}"
            chunk = os.read(self.child.stdout.fileno(), 65536)
            assert chunk, f"ended before {text!r}: {self.seen.decode()}"
            self.seen += chunk

    def interrupt_at_the_prompt(self) -> None:
        """Ctrl-C once the prompt waits for a line: a prompt is written just before it
        starts to read, and a signal in between is seen only when the read returns
        (that window is no person's, but a test's). ``wchan`` says when the child's main
        thread sleeps reading its pipe; where it cannot be read, a pause stands in."""
        wchan = Path(f"/proc/{self.child.pid}/wchan")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if wchan.read_text().endswith("pipe_read"):
                    break
            except OSError:
                time.sleep(1)
                break
            time.sleep(0.01)
        self.child.send_signal(signal.SIGINT)

    def type(self, line: str) -> None:
        assert self.child.stdin is not None
        self.child.stdin.write(line.encode() + b"\n")
        self.child.stdin.flush()

    def end(self) -> tuple[int, str]:
        """Exit code and everything written, once the child has left by itself."""
        code = self.child.wait(30)
        assert self.child.stdout is not None
        self.seen += self.child.stdout.read()
        return code, self.seen.decode()


def test_ctrl_c_at_the_question_prompt_leaves_at_once(data_dir: Path, tmp_path: Path) -> None:
    chat = Chat(data_dir, tmp_path)
    chat.wait_for("you: ")
    chat.interrupt_at_the_prompt()
    code, output = chat.end()  # without another key: it left on the Ctrl-C alone
    assert code == 0, output
    assert "Aborted" not in output and "Traceback" not in output
    assert messages.console_goodbye() in output


def test_ctrl_c_at_the_feedback_prompt_leaves_at_once(data_dir: Path, tmp_path: Path) -> None:
    chat = Chat(data_dir, tmp_path)
    chat.wait_for("you: ")
    chat.type("How do I roll back a deploy?")
    chat.wait_for("feedback: ")
    chat.interrupt_at_the_prompt()
    code, output = chat.end()
    assert code == 0, output
    assert "Aborted" not in output and "Traceback" not in output
    assert "shipit rollback" in output  # the answer came before the Ctrl-C
    assert output.rstrip().endswith(messages.console_goodbye())


def test_ctrl_c_while_an_answer_is_coming_leaves_and_stores_nothing(
    data_dir: Path, tmp_path: Path, fake_api
) -> None:
    fake_api.route("POST", "/v1/chat/completions", Scripted(delay=20, body={}))
    config = tmp_path / "parley.toml"
    config.write_text(
        '[[models]]\nname = "slow"\nprovider = "openai"\nmodel = "m"\n'
        f'base_url = "{fake_api.url}/v1"\n'
    )
    chat = Chat(data_dir, tmp_path, config)
    chat.wait_for("you: ")
    before = questions(data_dir)
    chat.type("How do I roll back a deploy?")
    deadline = time.monotonic() + 60
    while not fake_api.seen("/v1/chat/completions"):  # the model is being asked
        assert time.monotonic() < deadline, chat.seen.decode()
        time.sleep(0.05)
    chat.child.send_signal(signal.SIGINT)
    code, output = chat.end()  # within end()'s 30 s, not after the model's 20
    assert code == 0, output
    assert "Aborted" not in output and "Traceback" not in output
    assert output.rstrip().endswith(messages.console_goodbye())
    assert questions(data_dir) == before  # the question being answered was not stored


def questions(data_dir: Path) -> int:
    with closing(sqlite3.connect(data_dir / "parley.db")) as db:
        return db.execute("SELECT COUNT(*) FROM questions").fetchone()[0]
