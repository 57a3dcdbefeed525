"""How fast the Slack app acknowledges an event and shows that work started.

    python scripts/bench_slack.py [--questions 500] [--in-flight 50] [--burst]
                                  [--model offline|hosted] [--model-delay 1.0]
                                  [--via mention|ask] [--json]

HTTP mode over loopback: ``parley slack --http`` runs in its own process, as in
production, on the sample handbook (indexed into a temporary folder with the real
embedder) with the offline answerers, and talks to the fake Slack Web API from
``tests/fakes/slack_api.py``, which runs in a third process, so that its threads do not
delay the client's clock.
``--questions`` signed ``app_mention`` events (with ``--via ask``, ``/ask`` commands) are
sent with ``--in-flight`` of them in flight at once: a question is in flight from its
sending until its answer is posted, so each new one arrives while the others are being
answered (with ``--burst``, only until it is acknowledged: a flood far faster than any
team asks). For each: the time from sending it to its HTTP acknowledgement, to the
first visible sign of work reaching the fake API (a mention's :eyes: reaction; an
``/ask``'s question posted in the channel), and to the answer being posted. Targets
(issue #12): acknowledgement p99 <= 50 ms, first sign p50 <= 300 ms. Times are taken
with the system's monotonic clock on both sides. The app, the client and the fake
share this machine's two cores (with whatever else runs), so these are upper bounds.
``--model hosted`` swaps the offline answerers for an OpenAI-compatible model on the
fake server (no battles), to separate the adapter's own cost from the answerers' CPU
work in the same process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from figures import percentile
from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the fake Slack lives with the tests

from bot.config import Settings  # noqa: E402
from bot.runtime import open_knowledge  # noqa: E402
from tests.fakes.http_server import FakeServer, Scripted  # noqa: E402
from tests.fakes.providers import openai_reply  # noqa: E402
from tests.fakes.slack_api import BOT_USER, TEAM, FakeSlack  # noqa: E402
from tests.reliability.slack_process import free_port  # noqa: E402

SECRET = "bench-signing-secret"
QUESTIONS = [
    "How do I roll back a deploy?",
    "Who is on call this week?",
    "What is the expenses limit for travel?",
    "How do we declare an incident?",
    "What does SLO mean?",
    "Which service owns billing?",
    "How often must I rotate my password?",
    "What happens after an incident is resolved?",
]
ACK_P99_TARGET_MS = 50.0
SIGN_P50_TARGET_MS = 300.0
MESSAGES = "messages"  # asks the fakes' process for the stored messages, not for requests
ASKER = re.compile(r"U\d{7}")  # ``asker``: named in an /ask's posted question


def signed(body: str, verifier: SignatureVerifier, content_type: str) -> dict[str, str]:
    ts = str(int(time.time()))
    return {
        "content-type": content_type,
        "x-slack-request-timestamp": ts,
        "x-slack-signature": verifier.generate_signature(timestamp=ts, body=body),
    }


def asker(n: int) -> str:
    """Question ``n``'s asker: one user a question, so an ``/ask``'s posted question
    (which names its asker) tells which question it is."""
    return f"U{n:07d}"


def command_body(n: int) -> tuple[str, str]:
    """Question ``n`` as an ``/ask``: its asker and the form Slack posts."""
    form = {
        "team_id": TEAM,
        "channel_id": "CBENCH",
        "user_id": asker(n),
        "command": "/ask",
        "text": QUESTIONS[n % len(QUESTIONS)],
        "response_url": "http://127.0.0.1:9/unused",
        "trigger_id": f"trig-{n}",
    }
    return asker(n), urlencode(form)


def asked_by(message: dict) -> str | None:
    """The asker an ``/ask``'s posted question names; None for any other message."""
    found = None if message.get("thread_ts") else ASKER.search(message.get("text", ""))
    return found.group(0) if found else None


def event_body(n: int) -> tuple[str, str]:
    """Question ``n`` as a mention: its ts (which its answer's thread carries) and body."""
    ts = f"1800000000.{n:06d}"
    event = {
        "type": "app_mention",
        "user": f"U{n % 37:04d}",
        "text": f"<@{BOT_USER}> {QUESTIONS[n % len(QUESTIONS)]}",
        "ts": ts,
        "channel": "CBENCH",
        "event_ts": ts,
    }
    body = {"type": "event_callback", "team_id": TEAM, "event_id": f"EvB{n}", "event": event}
    return ts, json.dumps(body)


@contextlib.contextmanager
def parley_slack(
    data_dir: Path,
    api_url: str,
    port: int,
    models: list[dict],
    battle_share: float = 0,
    *,
    settings: dict[str, str] | None = None,
    cpus: str | None = None,
) -> Iterator[subprocess.Popen]:
    """``parley slack --http`` in its own process, as it runs in production; ``settings``
    adds environment settings (``PARLEY_DATABASE_URL``...), ``cpus`` pins it to those
    cores (``taskset -c``)."""
    env = {
        **os.environ,
        **(settings or {}),
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "PARLEY_SLACK_API_URL": api_url,
        "PARLEY_MODELS": json.dumps(models),
        "PARLEY_BATTLE_SHARE": str(battle_share),
    }
    command = ["taskset", "-c", cpus] if cpus else []
    command += [sys.executable, "-c", "from bot.cli import main; main()", "--data-dir"]
    command += [str(data_dir), "slack", "--http", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


async def wait_until(check, timeout: float, what: str, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what}")
        await asyncio.sleep(every)


def hosted_model(server: FakeServer, delay: float, in_flight: int) -> list[dict]:
    """An OpenAI-compatible model on the fake server that takes ``delay`` to reply."""
    reply = Scripted(200, openai_reply("Run shipit rollback [1]."), delay=delay)
    server.route("POST", "/v1/chat/completions", reply)
    return [
        {
            "name": "hosted",
            "provider": "openai",
            "model": "gpt-test",
            "base_url": f"{server.url}/v1",
            "concurrency": in_flight,
            "max_retries": 0,
        }
    ]


def serve_fakes(pipe: Connection, model: str, delay: float, in_flight: int) -> None:
    """The fake Slack Web API (and hosted model) in a process of its own: it sends its
    URL and the model roster, then answers the bench's questions about what it saw."""
    with FakeServer() as server:
        models = hosted_model(server, delay, in_flight) if model == "hosted" else []
        slack = FakeSlack(server)
        pipe.send((slack.api_url, models))
        while (asked := pipe.recv()) is not None:
            what, argument = asked
            if what == MESSAGES:
                pipe.send(slack.messages(argument))
                continue
            pipe.send([(r.query, r.body, r.at) for r in server.seen(what)[argument:]])


class FakesProcess:
    """The bench's side of ``serve_fakes``."""

    def __init__(self, model: str, delay: float, in_flight: int) -> None:
        self._pipe, child = multiprocessing.Pipe()
        self._process = multiprocessing.get_context("spawn").Process(
            target=serve_fakes, args=(child, model, delay, in_flight), daemon=True
        )
        self._process.start()
        self.api_url, self.models = self._pipe.recv()

    @property
    def pid(self) -> int:
        return self._process.pid  # type: ignore[return-value]

    def seen(self, path: str, since: int = 0) -> list[tuple[dict, dict, float]]:
        """The requests to ``path`` after the first ``since`` of them."""
        self._pipe.send((path, since))
        return self._pipe.recv()

    def messages(self, channel: str) -> list[dict]:
        """Every message posted in ``channel`` as Slack holds it now (with its ``ts``)."""
        self._pipe.send((MESSAGES, channel))
        return self._pipe.recv()

    def close(self) -> None:
        self._pipe.send(None)
        self._process.join(10)


async def measure(
    questions: int,
    in_flight: int,
    data_dir: Path,
    model: str,
    model_delay: float,
    burst: bool = False,
    via: str = "mention",
) -> dict:
    settings = Settings(data_dir=data_dir)
    knowledge = open_knowledge(settings)
    await asyncio.to_thread(knowledge.index, [ROOT / "examples" / "handbook"])
    knowledge.close()
    port = free_port()
    url = f"http://127.0.0.1:{port}/slack/events"
    verifier = SignatureVerifier(SECRET)
    # a question's key: a mention's ts, which its answer's thread carries; an /ask's asker
    question, content_type = (
        (command_body, "application/x-www-form-urlencoded")
        if via == "ask"
        else (event_body, "application/json")
    )
    sent: dict[str, float] = {}
    acks: list[float] = []
    done: dict[str, asyncio.Event] = {}  # set when the question's answer is posted
    posted: list[tuple[dict, dict, float]] = []  # Parley's posts, as the fake Slack saw them
    roots: dict[str, str] = {}  # an /ask's posted question: its ts -> the question's key
    with contextlib.ExitStack() as stack:
        fakes = FakesProcess(model, model_delay, in_flight)
        stack.callback(fakes.close)
        stack.enter_context(parley_slack(data_dir, fakes.api_url, port, fakes.models))
        gate = asyncio.Semaphore(in_flight)
        connector = aiohttp.TCPConnector(limit=in_flight)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def send(n: int, record: bool = True) -> None:
                key, body = question(n)
                async with gate:
                    started = time.monotonic()
                    sent[key] = started
                    headers = signed(body, verifier, content_type)
                    async with session.post(url, data=body, headers=headers) as response:
                        assert response.status == 200, response.status
                    if record:
                        acks.append((time.monotonic() - started) * 1000)
                    if record and not burst:  # the question stays in flight until answered
                        await done.setdefault(key, asyncio.Event()).wait()

            async def up() -> bool:
                try:
                    await send(0, record=False)  # the warm-up: auth.test, model load
                except aiohttp.ClientConnectionError:
                    return False
                return True

            while not await up():
                await asyncio.sleep(0.2)

            def answered_key(thread: str) -> str | None:
                if via != "ask":
                    return thread
                if thread not in roots:  # posted since the last look: ask the fake
                    for message in fakes.messages("CBENCH"):
                        if who := asked_by(message):
                            roots[message["ts"]] = who
                return roots.get(thread)

            def answered(count: int) -> bool:
                """Fetch Parley's posts since the last look; release the answered questions."""
                new = fakes.seen("/api/chat.postMessage", since=len(posted))
                posted.extend(new)
                for _, body, _ in new:
                    if body.get("thread_ts"):
                        key = answered_key(body["thread_ts"])
                        done.setdefault(key or "", asyncio.Event()).set()
                return sum(1 for _, body, _ in posted if body.get("thread_ts")) >= count

            async def watch_answers() -> None:
                while True:
                    answered(0)
                    await asyncio.sleep(0.02)

            await wait_until(lambda: answered(1), 120, "the warm-up answer")
            wall = time.monotonic()
            watcher = asyncio.create_task(watch_answers())
            await asyncio.gather(*(send(n) for n in range(1, questions + 1)))
            watcher.cancel()
            await wait_until(lambda: answered(questions + 1), 60 + 2 * questions, "answers")
            wall = time.monotonic() - wall
        if via == "ask":  # the first sign is the question posted in the channel
            signs = {who: at for _, body, at in posted if (who := asked_by(body))}
        else:
            signs = {q.get("timestamp"): at for q, _, at in fakes.seen("/api/reactions.add")}
        answers: dict[str, float] = {}
        for _, body, at in posted:
            if body.get("thread_ts"):
                answers.setdefault(answered_key(body["thread_ts"]) or "", at)
    measured = [key for key in sent if key != question(0)[0]]
    first_sign = [(signs[key] - sent[key]) * 1000 for key in measured if key in signs]
    answered_ms = [(answers[key] - sent[key]) * 1000 for key in measured if key in answers]
    return {
        "model": model if model == "offline" else f"hosted ({model_delay} s per reply)",
        "via": "/ask" if via == "ask" else "mention",
        "questions": questions,
        "in_flight": in_flight,
        "counted_in_flight": "until acknowledged" if burst else "until answered",
        "answered": len(answered_ms),
        "seconds": round(wall, 2),
        "ack_ms": {"p50": percentile(acks, 50), "p99": percentile(acks, 99)},
        "first_sign_ms": {"p50": percentile(first_sign, 50), "p99": percentile(first_sign, 99)},
        "answer_ms": {"p50": percentile(answered_ms, 50), "p99": percentile(answered_ms, 99)},
        "load_average_1min": round(os.getloadavg()[0], 1),  # others' work on the same cores
        "targets": {
            "ack_p99_le_50ms": percentile(acks, 99) <= ACK_P99_TARGET_MS,
            "first_sign_p50_le_300ms": percentile(first_sign, 50) <= SIGN_P50_TARGET_MS,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--in-flight", type=int, default=50)
    parser.add_argument(
        "--model",
        choices=["offline", "hosted"],
        default="offline",
        help="offline: the offline answerers, in the app's process; hosted: an"
        " OpenAI-compatible model on the fake server (its work happens elsewhere)",
    )
    parser.add_argument("--model-delay", type=float, default=1.0, help="Hosted reply time, s.")
    parser.add_argument(
        "--burst",
        action="store_true",
        help="count a question in flight only until it is acknowledged, so the questions"
        " arrive as fast as the app acknowledges them (a flood), not as it answers them",
    )
    parser.add_argument(
        "--via",
        choices=["mention", "ask"],
        default="mention",
        help="mention: app_mention events; ask: /ask commands (the question is posted in"
        " the channel, then answered in its thread)",
    )
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(
            measure(
                args.questions,
                args.in_flight,
                Path(tmp),
                args.model,
                args.model_delay,
                args.burst,
                args.via,
            )
        )
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{result['model']}: {result['questions']} questions by {result['via']},"
        f" {result['in_flight']} in flight"
        f" ({result['counted_in_flight']}),"
        f" {result['answered']} answered in {result['seconds']} s"
    )
    for name in ("ack_ms", "first_sign_ms", "answer_ms"):
        figures = result[name]
        print(f"{name:14} p50 {figures['p50']:8.1f}   p99 {figures['p99']:8.1f}")
    print(f"load average (1 min) at the end: {result['load_average_1min']}")
    for target, met in result["targets"].items():
        print(f"{target}: {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
