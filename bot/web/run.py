"""``parley web``: the dashboard served by uvicorn, alone or beside ``parley slack``.

It opens the service as the CLI does (without holding the index, so a bot that holds
it keeps running; a re-index started here then waits its turn and says so), with its
fits in worker threads, and the numerical library's helper threads, at a lower priority
than the event loop, so neither the pages nor a bot beside it wait for a refit. It
refuses to start open to anyone: a token or a trusted proxy header must be configured.
"""

from __future__ import annotations

import asyncio
import logging
import socket

import uvicorn

from .. import messages
from ..config import Settings
from ..errors import BotError
from ..runtime import open_service
from .access import trusted_proxies
from .app import create_app

__all__ = ["check_access", "run_web"]

log = logging.getLogger(__name__)


def check_access(settings: Settings) -> None:
    """BotError unless some way in is configured (never an open dashboard) and every
    trusted proxy is an address or network."""
    if not (settings.web_token or settings.web_admin_token or settings.web_trusted_header):
        raise BotError(messages.web_needs_access())
    trusted_proxies(settings)


async def run_web(settings: Settings, *, sock: socket.socket | None = None) -> None:
    """Serve until SIGINT or SIGTERM, on ``web_host``:``web_port`` (or ``sock``)."""
    from knowledge.threads import lower_helper_threads, worker_pool

    check_access(settings)
    lower_helper_threads()  # the numerical library's, which do the refits' linear algebra
    asyncio.get_running_loop().set_default_executor(worker_pool("parley-web"))
    async with open_service(settings) as service:
        app = create_app(service, settings)
        config = uvicorn.Config(
            app,
            host=settings.web_host,
            port=settings.web_port,
            lifespan="off",
            proxy_headers=False,  # uvicorn would believe 127.0.0.1's; the app decides
            access_log=False,
            log_level="warning",
        )
        server = uvicorn.Server(config)
        warming = app.state.web.boards.warm()  # the overall board, before anyone asks
        try:
            await server.serve(sockets=[sock] if sock else None)
        finally:
            warming.cancel()
            running = app.state.web.reindex_task
            if running is not None and not running.done():
                log.warning("waiting for the re-index started from the dashboard to finish")
                await running
