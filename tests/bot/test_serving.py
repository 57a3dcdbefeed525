"""What a long-running bot's service is given: worker threads that yield the cores to
the event loop, worker processes for the offline answers, and start-up objects set
aside from the garbage collector. Run in a child process, since these change
process-wide state."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from knowledge.threads import WORKER_NICENESS

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's"
)

ROOT = Path(__file__).resolve().parents[2]


def test_a_served_service_answers_with_its_cpu_work_at_lower_priority(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "deploys.md").write_text("# Deploys\n\nRoll back a deploy with shipit rollback.\n")
    child = textwrap.dedent(
        f"""
        import asyncio, gc, json, multiprocessing, os, threading
        from pathlib import Path
        from bot.config import Settings
        from bot.runtime import open_knowledge, serve_service
        from bot.service import Ask

        def niceness():
            return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

        async def main():
            settings = Settings(data_dir={str(tmp_path / "data")!r})
            kb = await asyncio.to_thread(open_knowledge, settings)
            await asyncio.to_thread(kb.index, [Path({str(docs)!r})])
            kb.close()
            async with serve_service(settings) as service:
                ask = Ask("How do I roll back a deploy?", "U1", "C1", None, "slack")
                reply = await service.ask(ask)
                print(json.dumps({{
                    "answer": reply.answers[0].answer.text,
                    "loop": niceness(),
                    "worker": await asyncio.to_thread(niceness),
                    "frozen": gc.get_freeze_count(),
                    "composers": len(multiprocessing.active_children()),
                }}))

        asyncio.run(main())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", child], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert "shipit rollback" in seen["answer"]
    assert seen["worker"] == min(seen["loop"] + WORKER_NICENESS, 19)
    assert seen["frozen"] > 1000  # the imports and the opened service, not a handful
    assert seen["composers"] >= 1  # the offline answers were composed in worker processes
