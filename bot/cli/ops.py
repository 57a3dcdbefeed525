"""Running Parley as a bot: ``slack`` and ``discord``."""

from __future__ import annotations

import logging

import click

from .base import (
    cli,
    run,
    settings_of,
)

__all__: list[str] = []


@cli.command()
@click.option("--http", "http_mode", is_flag=True, help="Serve the Events API over HTTP.")
@click.option("--port", type=click.IntRange(1, 65535), default=3000, show_default=True)
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.pass_context
def slack(ctx: click.Context, http_mode: bool, port: int, host: str) -> None:
    """Run Parley in Slack: Socket Mode (SLACK_BOT_TOKEN, SLACK_APP_TOKEN), or with
    --http the Events API at /slack/events (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET)."""
    from ..slack.run import run_slack

    _bot_logging()
    run(run_slack(settings_of(ctx), http=http_mode, host=host, port=port))


@cli.command("discord")
@click.option(
    "--invite-url",
    "application_id",
    type=int,
    metavar="APPLICATION_ID",
    help="Print the URL that invites this application to a server, and exit.",
)
@click.pass_context
def discord_command(ctx: click.Context, application_id: int | None) -> None:
    """Run Parley as a Discord bot (token in DISCORD_TOKEN); see docs/discord.md."""
    from ..discord import invite_url, run_discord

    if application_id is not None:
        click.echo(invite_url(application_id))
        return
    _bot_logging()
    run(run_discord(settings_of(ctx)))


def _bot_logging() -> None:
    """A running bot says when it is connected and when it stops: Parley's own info
    lines show; libraries stay at the level ``-v`` chose (errors only by default)."""
    logging.getLogger("bot").setLevel(logging.INFO)
