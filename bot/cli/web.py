"""``parley web``: the dashboard in a browser, alone or beside ``parley slack``."""

from __future__ import annotations

import contextlib

import click

from .. import messages
from .base import cli, run, settings_of

__all__: list[str] = []


@cli.command()
@click.option("--host", help="Address to listen on (default 127.0.0.1, or web_host).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default 8080, or web_port).")
@click.pass_context
def web(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve the web dashboard: leaderboard, models, audits, questions and the knowledge
    base (PARLEY_WEB_TOKEN or web_trusted_header decides who may see it)."""
    from ..web.run import check_access, run_web

    settings = settings_of(ctx)
    changed = {k: v for k, v in (("web_host", host), ("web_port", port)) if v is not None}
    if changed:
        settings = settings.model_copy(update=changed)
    check_access(settings)
    click.echo(messages.web_serving(settings.web_host, settings.web_port))
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn has shut down cleanly by then
        run(run_web(settings))
    click.echo(messages.web_stopped())
