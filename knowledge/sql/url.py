"""The database URL: checked, shown without its password, and its failures explained.

``postgresql://user:password@host:port/dbname?options`` (libpq's URI form, ``postgres://``
too). Messages name the host, port and database, never the password, and say what to
fix, in the setting or option the URL came from (``named_in``): a start-up that cannot
reach its database stops with one such line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from ..errors import DatabaseUnavailable

__all__ = ["SCHEMES", "DatabaseUrl", "unavailable", "url_problem"]

SCHEMES = ("postgresql", "postgres")
SETTING = "PARLEY_DATABASE_URL (database_url in parley.toml)"


@dataclass(frozen=True)
class DatabaseUrl:
    """A PostgreSQL URL; ``str()`` and ``repr()`` hide the password. ``named_in`` is
    where the user wrote it (the setting unless a command took it as an option), for
    messages that say what to change."""

    url: str
    named_in: str = field(default=SETTING, compare=False)

    def __post_init__(self) -> None:
        problem = url_problem(self.url)
        if problem:
            raise ValueError(problem)

    @property
    def host(self) -> str:
        """``host:port`` (libpq's defaults when the URL leaves them out)."""
        parts = urlsplit(self.url)
        return f"{parts.hostname or 'localhost'}:{parts.port or 5432}"

    @property
    def database(self) -> str:
        parts = urlsplit(self.url)
        return parts.path.lstrip("/") or parts.username or "(the user's name)"

    @property
    def password(self) -> str:
        return urlsplit(self.url).password or ""

    def redacted(self) -> str:
        """The URL with ``***`` for the password, safe for logs and messages."""
        parts = urlsplit(self.url)
        if parts.password is None:
            return self.url
        user = parts.username or ""
        netloc = f"{user}:***@{parts.netloc.rsplit('@', 1)[1]}"
        return urlunsplit(parts._replace(netloc=netloc))

    def __str__(self) -> str:
        return self.redacted()

    def __repr__(self) -> str:
        return f"DatabaseUrl({self.redacted()!r})"


def url_problem(url: str) -> str:
    """What is wrong with a database URL's form (never quoting it), or ""."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return "the database URL is malformed (its port must be a number)"
    if parts.scheme not in SCHEMES:
        return (
            "the database URL must start with postgresql:// (for example"
            " postgresql://parley:secret@db.example.com:5432/parley); leave it unset to"
            " keep SQLite in the data folder"
        )
    return ""


def unavailable(url: DatabaseUrl, exc: BaseException) -> DatabaseUnavailable:
    """A one-line error for a failed connection: where, why, and what to change."""
    reason = _reason(str(exc))
    if url.password:
        reason = reason.replace(url.password, "***")
    where, setting = f"PostgreSQL at {url.host}", url.named_in
    lowered = reason.lower()
    if "password authentication failed" in lowered or (
        "role" in lowered and "does not exist" in lowered
    ):
        fix = f"check the user name and password in {setting}"
    elif "database" in lowered and "does not exist" in lowered:
        fix = f"create the database (createdb {url.database}) or name an existing one in {setting}"
    elif "pg_hba.conf" in lowered:
        fix = "allow this host in the server's pg_hba.conf, or connect from an allowed one"
    else:
        fix = f"check that the server is running and that {setting} names the right host and port"
    return DatabaseUnavailable(f"cannot connect to {where} ({reason}): {fix}")


def _reason(message: str) -> str:
    """libpq's reason without its preamble and hints: ``Connection refused``."""
    text = " ".join(message.split())
    if "failed: " in text:
        text = text.rsplit("failed: ", 1)[1]
    text = text.removeprefix("FATAL: ").removeprefix("FATAL:  ")
    return text.split(" Is the server running")[0].strip() or "no reason given"
