"""Who is asking, and what they may do.

Admins are configured as platform-qualified user ids (``slack:U0123``,
``discord:4567``); an adapter may also vouch for a platform's own admin right (Discord's
Manage Server permission) by setting ``platform_admin``. Display names never decide
anything: they can be changed by their owner.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

__all__ = ["Requester", "is_admin"]


@dataclass(frozen=True)
class Requester:
    """The user behind a request, as the adapter knows them."""

    platform: str
    user: str
    platform_admin: bool = False

    @property
    def qualified(self) -> str:
        """``platform:user``, the form admins are configured in."""
        return f"{self.platform}:{self.user}"


def is_admin(requester: Requester, admins: Collection[str]) -> bool:
    return requester.platform_admin or requester.qualified in admins
