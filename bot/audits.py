"""Scheduled audits: every ``audit_interval_minutes`` the bot audits and posts the report.

The scheduler is platform-neutral: it calls ``Service.audit`` and hands the report's
summary and details to a ``Post`` function, which the running adapter supplies (a
summary message in the admin channel, the details in its thread):
``bot.slack.web_api.audit_poster`` for Slack, ``bot.discord.run.discord_poster`` for
Discord.
An audit with nothing new to grade posts nothing (the admins would otherwise read the
same "nothing new" line every interval). A failed audit or post is logged and the
schedule goes on; an audit never runs twice at once.

Several instances sharing a database audit once per period between them: time is cut
into periods of the interval (counted from the epoch), and each wake-up claims its
period (``Service.claims``) before auditing; the instances that find it claimed or done
post nothing. Each instance wakes once per period, so when the one that claimed a period
dies before finishing, another takes the period over at its own wake-up (the claim's
lease having run out), or failing that the next period's audit grades what it missed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from arena.judge.audit import DEFAULT_SAMPLE, graded_nothing

from .audit_report import report_lines
from .periodic import Periodic
from .service import Service

__all__ = ["AUDIT_SCOPE", "AuditScheduler", "Post"]

log = logging.getLogger(__name__)

AUDIT_SCOPE = "audit-period"  # the claims on a scheduled audit's period
Post = Callable[[str, list[str]], Awaitable[None]]


class AuditScheduler(Periodic):
    """Runs an audit every ``interval_minutes`` (the first one interval after ``start``)
    and posts each report."""

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
        self._post = post
        self._sample = sample
        self._running = asyncio.Lock()
        super().__init__(
            lambda: self.run_period(self.period()),
            interval_minutes * 60,
            failure="scheduled audit failed",
            log=log,
        )

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

    def period(self, now: float | None = None) -> int:
        """Which period ``now`` (default: the present) falls in: the same number in every
        instance with the same interval."""
        return int((time.time() if now is None else now) // self.every)

    async def run_period(self, period: int) -> dict | None:
        """The period's audit, posted, in the one instance that claims the period; None
        (and nothing posted) in the others, or when one is already running here."""
        async with self._service.claims.once(AUDIT_SCOPE, f"{self.every:g}:{period}") as mine:
            if not mine:
                log.info("scheduled audit: another instance has this period's audit")
                return None
            return await self.run_once()
