"""The internet as a test's ``parley`` process sees it: only the hosts a test names,
each a local fake behind TLS that a test CA signed, and nothing else.

``parley`` runs exactly as a user starts it, with the platforms' real default URLs
(``https://slack.com/api/``, ``https://discord.com/api/v10``, ``wss://gateway.discord.gg``):
the interception is below every SDK, at name resolution. ``python -m tests.fakes.net
ARGS`` resolves each name listed in ``PARLEY_TEST_HOSTS`` (``slack.com=4431,...``) to
127.0.0.1 and the listed port, every other name (but the machine's own) fails as on a
machine with no network, then runs ``parley ARGS``. The fakes present certificates
from a ``LocalCA``; the process trusts that CA alone through ``SSL_CERT_FILE``, which
OpenSSL reads when aiohttp builds its default TLS context. A default code path that
tried to reach anything else would fail the test instead of reaching the internet.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import ssl
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import trustme

__all__ = ["HOSTS_ENV", "LocalCA", "Parley", "install", "spawn_parley", "wait_until"]

HOSTS_ENV = "PARLEY_TEST_HOSTS"
ROOT = Path(__file__).resolve().parents[2]
_LOCAL = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "::", ""}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_STAMP = re.compile(r"^\s*\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(,\d+)?\s*")
_LEVEL = re.compile(r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL)\s+\S+?:?\s")


class LocalCA:
    """A throwaway certificate authority: server contexts for the fakes, and the PEM
    file a client is told to trust."""

    def __init__(self, folder: Path) -> None:
        self._ca = trustme.CA()
        self.pem = folder / "test-ca.pem"
        self._ca.cert_pem.write_to_path(str(self.pem))

    def server_context(self, *hostnames: str) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ca.issue_cert(*hostnames).configure_cert(context)
        return context


def install(hosts: Mapping[str, int]) -> None:
    """Resolve each of ``hosts`` to 127.0.0.1 on its port; refuse every other remote name."""
    resolve = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else (host or "")
        if name in hosts:
            kind = type or socket.SOCK_STREAM
            return [(socket.AF_INET, kind, proto or 6, "", ("127.0.0.1", hosts[name]))]
        if name in _LOCAL or _is_address(name):
            return resolve(host, port, family, type, proto, flags)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    socket.getaddrinfo = getaddrinfo


def _is_address(name: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in name else socket.AF_INET, name)
    except OSError:
        return False
    return True


def _hosts_from_env() -> dict[str, int]:
    """The hosts to fake, taken out of the environment: ``parley`` sees the variables a
    user's would (it warns about a ``PARLEY_*`` one that names no setting)."""
    pairs = [item.split("=") for item in os.environ.pop(HOSTS_ENV, "").split(",") if item]
    return {name: int(port) for name, port in pairs}


@dataclass
class Parley:
    """A running ``parley`` process and what it printed."""

    process: asyncio.subprocess.Process
    started: float
    stderr: str = ""
    stdout: str = ""

    async def line(self, text: str, timeout: float = 60.0) -> str:
        """Read stderr until a line containing ``text`` (the process still running)."""
        assert self.process.stderr is not None
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no line with {text!r} in:\n{self.stderr}"
            raw = await asyncio.wait_for(self.process.stderr.readline(), left)
            if not raw:
                raise AssertionError(f"parley ended before {text!r}:\n{self.stderr}")
            line = raw.decode()
            self.stderr += line
            if text in line:
                return line

    def signal(self, sig: signal.Signals) -> None:
        self.process.send_signal(sig)

    async def finish(self, timeout: float = 40.0) -> int:
        """Wait for the exit; its code. Whatever was printed is in ``stdout``/``stderr``."""
        try:
            out, err = await asyncio.wait_for(self.process.communicate(), timeout)
        except TimeoutError as exc:
            self.process.kill()
            await self.process.wait()
            raise AssertionError(f"parley did not exit within {timeout} s:\n{self.stderr}") from exc
        self.stdout += out.decode()
        self.stderr += err.decode()
        return self.process.returncode  # type: ignore[return-value]

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    def lines(self) -> list[str]:
        return [line for line in (self.stdout + self.stderr).splitlines() if line.strip()]

    def messages(self) -> list[str]:
        """Each printed line's message alone: colours, time stamp, level and logger name
        taken off, so the same record printed by two handlers shows as a duplicate."""
        out = []
        for line in self.lines():
            text = _ANSI.sub("", line)
            text = _STAMP.sub("", text)
            out.append(_LEVEL.sub("", " ".join(text.split())))
        return out


async def spawn_parley(
    args: list[str], *, folder: Path, ca: LocalCA, hosts: Mapping[str, int], env: Mapping[str, str]
) -> Parley:
    """``parley ARGS`` in a process of its own, as a user runs it: a fresh data folder,
    no configuration file, none of the test's PARLEY_/SLACK_/DISCORD_ variables but
    ``env``, and only ``hosts`` on its internet."""
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PARLEY_", "SLACK_", "DISCORD_", "SSL_CERT"))
    }
    environment = {
        **inherited,
        "PYTHONPATH": str(ROOT),
        "PARLEY_CONFIG": os.devnull,
        "PARLEY_DATA_DIR": str(folder / "data"),
        "SSL_CERT_FILE": str(ca.pem),
        HOSTS_ENV: ",".join(f"{name}={port}" for name, port in hosts.items()),
        **env,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.net",
        *args,
        cwd=folder,
        env=environment,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    return Parley(process, time.monotonic())


async def wait_until(check, timeout: float = 30.0, what: str = "it") -> None:
    """Poll ``check()`` until it is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        await asyncio.sleep(0.05)


if __name__ == "__main__":
    install(_hosts_from_env())
    from bot.cli import cli

    cli.main(args=sys.argv[1:], prog_name="parley")
