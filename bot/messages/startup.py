"""What a starting Parley says: configuration warnings, tokens, scopes and intents,
platforms it cannot reach, ports it cannot listen on, and that it is connected."""

from __future__ import annotations

__all__ = [
    "cannot_listen",
    "config_warning",
    "discord_connected",
    "discord_forbidden",
    "discord_gateway_closed",
    "discord_intent_refused",
    "discord_not_a_channel_id",
    "discord_token_missing",
    "discord_token_refused",
    "platform_answered",
    "platform_unreachable",
    "port_in_use",
    "slack_connected",
    "slack_scopes_missing",
    "slack_token_refused",
    "slack_tokens_missing",
    "socket_mode_not_connected",
]


def config_warning(warning: str) -> str:
    return f"Warning: {warning}"


def slack_tokens_missing(names: list[str], http: bool) -> str:
    mode = "HTTP" if http else "Socket"
    return f"set {' and '.join(names)} in the environment (see docs/slack.md) to run in {mode} mode"


_SLACK_TOKEN_PLACES = {
    "SLACK_BOT_TOKEN": "the Bot User OAuth Token (xoxb-…) from your app's Install App page",
    "SLACK_APP_TOKEN": (
        "an App-Level Token (xapp-…) with the connections:write scope, from your app's"
        " Basic Information page"
    ),
}


def slack_token_refused(variable: str, code: str) -> str:
    return (
        f"Slack refused {variable} ({code}): set it to {_SLACK_TOKEN_PLACES[variable]}"
        " (see docs/slack.md)."
    )


def slack_scopes_missing(scopes: list[str]) -> str:
    return (
        f"The bot token lacks the scopes {', '.join(scopes)}: what needs them will fail"
        " until the app is reinstalled with manifest.yml's scopes (see docs/slack.md)."
    )


def platform_unreachable(platform: str, url: str, reason: str) -> str:
    return (
        f"Cannot reach {platform} at {url} ({reason}): check this machine's network"
        " connection, proxy and firewall, then start Parley again."
    )


def platform_answered(platform: str, what: str) -> str:
    """A platform that answered the start-up check with something other than yes or no."""
    return f"{platform} answered the start-up check with {what}: try again in a few minutes."


def socket_mode_not_connected(seconds: float) -> str:
    return (
        f"Slack's Socket Mode connection did not open within {seconds:.0f} s: check that this"
        " machine may open WebSocket connections to Slack (proxy, firewall), or run"
        " `parley slack --http` behind a public URL."
    )


def port_in_use(host: str, port: int) -> str:
    return (
        f"Port {port} on {host} is already in use: stop what listens there, or choose"
        " another port with --port."
    )


def cannot_listen(host: str, port: int, reason: str) -> str:
    return f"Cannot listen on {host}:{port} ({reason}): choose another --host or --port."


def slack_connected(user: str, team: str, how: str) -> str:
    return f"Parley is connected to Slack as @{user} in {team} ({how}); SIGTERM or Ctrl-C stops it."


def discord_token_missing() -> str:
    return (
        "DISCORD_TOKEN is not set: copy the bot token from the Discord developer portal"
        " (your application, Bot, Reset Token) into the environment."
    )


def discord_token_refused() -> str:
    return (
        "Discord refused the token in DISCORD_TOKEN: reset it in the developer portal"
        " (your application, Bot, Reset Token) and set the new one."
    )


def discord_intent_refused() -> str:
    return (
        "Discord refused the message-content intent: enable Message Content Intent"
        " under Bot in the developer portal, or set discord_message_content = false."
    )


def discord_not_a_channel_id(value: str) -> str:
    return (
        f"admin_channel {value!r} is not a Discord channel id: turn on Developer Mode,"
        " right-click the channel, Copy Channel ID."
    )


def discord_connected(user: str) -> str:
    return f"Parley is connected to Discord as {user}; SIGTERM or Ctrl-C stops it."


def discord_forbidden(status: int, text: str) -> str:
    return (
        f"Discord refused a start-up request ({status} {text}): check that every server in"
        " discord_guilds has invited Parley (parley discord --invite-url APPLICATION_ID)."
    )


def discord_gateway_closed(code: int | None, reason: str | None) -> str:
    why = f"code {code}" + (f", {reason}" if reason else "")
    return (
        f"Discord closed the gateway connection ({why}): see docs/discord.md, then start"
        " Parley again."
    )
