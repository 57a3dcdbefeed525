"""The dashboard served by uvicorn on 127.0.0.1 in a thread of its own, over a seeded
arena, for the real-browser tests (one per test module)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import uvicorn

from bot.config import Settings
from bot.web import create_app
from tests.web.seed import ADMIN_TOKEN, VIEWER_TOKEN, Seeded, open_seeded

__all__ = ["LiveServer"]


class LiveServer:
    """``start()`` seeds ``folder`` and serves; ``url`` is where; ``stop()`` ends it."""

    def __init__(self, folder: Path, **settings: object) -> None:
        self.folder = folder
        self.settings = Settings(
            web_token=VIEWER_TOKEN,
            web_admin_token=ADMIN_TOKEN,
            web_refresh_seconds=1.0,
            **settings,
        )
        self.url = ""
        self.seeded: Seeded | None = None
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self._server: uvicorn.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)

    def start(self, timeout: float = 300.0) -> LiveServer:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the dashboard under test did not start")
        if self._failed is not None:
            raise RuntimeError("the dashboard under test failed to start") from self._failed
        return self

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 60.0) -> Any:
        """Run ``coro`` in the server's loop (where its store lives) and wait for it."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(30)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            self.seeded = await open_seeded(self.folder)
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
            app = create_app(self.seeded.service, self.settings)
            config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False)
            self._server = uvicorn.Server(config)
            serving = asyncio.create_task(self._server.serve(sockets=[sock]))
            while not self._server.started and not serving.done():
                await asyncio.sleep(0.02)
        except BaseException as exc:
            self._failed = exc
            self._ready.set()
            raise
        self._ready.set()
        try:
            await serving
        finally:
            await self.seeded.store.close()
            self.seeded.knowledge.close()
