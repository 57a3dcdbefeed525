"""What the web dashboard (``parley web``) says: sign-in, forms, downloads, its address when
it starts. Page and section headings stay in its pages and templates."""

from __future__ import annotations

__all__ = [
    "NO_REASON_GIVEN",
    "no_such_format",
    "no_such_table",
    "search_too_long",
    "sign_in_again",
    "sign_in_first",
    "web_bad_proxy_address",
    "web_form_expired",
    "web_login_failed",
    "web_login_throttled",
    "web_needs_access",
    "web_reindex_started",
    "web_serving",
    "web_stopped",
]


def web_needs_access() -> str:
    return (
        "The dashboard would be open to anyone: set PARLEY_WEB_TOKEN (and"
        " PARLEY_WEB_ADMIN_TOKEN for admins), or web_trusted_header when a proxy signs"
        " people in."
    )


def web_bad_proxy_address(entry: str) -> str:
    return (
        f"web_forwarded_allow_ips holds {entry!r}, which is not an IP address or network"
        " (write the proxy's address, such as 127.0.0.1, or a network, such as 10.0.0.0/8)."
    )


def web_login_failed() -> str:
    return "That token is not right. Ask whoever runs Parley for the dashboard token."


def web_login_throttled(seconds: float) -> str:
    return f"Too many wrong tokens from here. Try again in {max(1, round(seconds))} s."


def web_form_expired() -> str:
    return "That form has expired (or came from another page). Reload the page and try again."


def web_reindex_started() -> str:
    return "Re-index started: this page shows its progress."


def web_serving(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"Parley's dashboard is at http://{shown}:{port}/ (Ctrl-C stops it)."


def web_stopped() -> str:
    return "The dashboard has stopped."


NO_REASON_GIVEN = "(no reason given)"  # a thumbs-down without a reason, in a table cell


def sign_in_again() -> str:
    """A live update (htmx) whose session ended: the page is sent to the sign-in form."""
    return "Sign in again."


def sign_in_first() -> str:
    return "Sign in first."


def no_such_format(kind: str) -> str:
    """A download (``?format=KIND``) in a format the dashboard does not write."""
    return f"Tables download as format=csv or format=json, not {kind!r}."


def no_such_table(name: str) -> str:
    """A download (``?export=NAME``) of a table the page does not have."""
    return f"There is no table {name!r} on this page."


def search_too_long(length: int, limit: int) -> str:
    """A ``/questions?q=`` longer than the store searches for."""
    return (
        f"A search can be at most {limit:,} characters long, and this one has {length:,}:"
        " search for a shorter part of the text."
    )
