"""Scheduled audits: every ``audit_interval_minutes`` the bot audits and posts the report.

The scheduler is platform-neutral: it calls ``Service.audit`` and hands the report's
summary and details to a ``Post`` function, which the running adapter supplies (a
summary message in the admin channel, the details in its thread):
``bot.slack.web_api.audit_poster`` for Slack, ``bot.discord.run.discord_poster`` for
Discord.
An audit with nothing new to grade posts nothing (the admins would otherwise read the
same "nothing new" line every interval). A failed audit or post is logged and the
schedule goes on; an audit never runs twice at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from arena.judge.audit import DEFAULT_SAMPLE, graded_nothing

from .audit_report import report_lines
from .service import Service

__all__ = ["AuditScheduler", "Post"]

log = logging.getLogger(__name__)

Post = Callable[[str, list[str]], Awaitable[None]]


class AuditScheduler:
    """Runs an audit every ``interval_minutes`` and posts each report."""

    def __init__(
        self,
        service: Service,
        interval_minutes: float,
        post: Post,
        *,
        sample: int = DEFAULT_SAMPLE,
    ) -> None:
        if interval_minutes <= 0:
            raise ValueError("the audit interval must be positive")
        self._service = service
        self._interval = interval_minutes * 60
        self._post = post
        self._sample = sample
        self._task: asyncio.Task | None = None
        self._running = asyncio.Lock()

    async def run_once(self) -> dict | None:
        """One audit, posted; None (and nothing posted) when one is already running."""
        if self._running.locked():
            return None
        async with self._running:
            report = await self._service.audit(sample=self._sample)
            if graded_nothing(report):
                log.info("scheduled audit: nothing new to grade, nothing posted")
                return report
            summary, details = report_lines(report)
            await self._post(summary, details)
            return report

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.run_once()
            except Exception:  # a bad audit or post must not end the schedule
                log.exception("scheduled audit failed")

    def start(self) -> asyncio.Task:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop())
        return self._task

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def stop_when(self, event: asyncio.Event) -> None:
        """Stop the schedule as soon as ``event`` is set: a stopping bot starts no audit
        while it finishes the users' work."""
        await event.wait()
        await self.stop()
