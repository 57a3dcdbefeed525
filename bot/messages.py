"""What Parley says to its users, in one place (like bolt's ``logger/messages.py``), so
wording stays consistent across the CLI, the console and chat: replies and notices,
prompts, summaries and errors a user reads.

Kept with their code instead: log lines (beside what they log), the headings and
one-word marks of a surface's own rendering (table columns, doctor's ok/FIX),
``parley doctor``'s findings (each beside its check in ``bot/doctor.py``) and the
judge's audit report (``arena/judge/audit.py``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from arena.types import Answer, Choice
from knowledge.types import Passage, display_path

__all__ = [
    "ANSWER_BEING_WRITTEN",
    "ASSISTANT_GREETING",
    "ASSISTANT_PROMPTS",
    "ASSISTANT_STATUS",
    "CHOICE_LABELS",
    "FLAG_MARKS",
    "LEFT_OUT_LABELS",
    "QUESTION_PROMPT",
    "REASON_FORM_FIELD",
    "REASON_FORM_TITLE",
    "THUMB_REASONS",
    "WEB_MARK",
    "all_models_failed",
    "arena_copied",
    "arena_on_server",
    "ask_only_hint",
    "backup_done",
    "cannot_listen",
    "config_warning",
    "console_goodbye",
    "console_welcome",
    "dashboard_link",
    "discord_connected",
    "discord_forbidden",
    "discord_gateway_closed",
    "discord_intent_refused",
    "discord_not_a_channel_id",
    "discord_token_missing",
    "discord_token_refused",
    "empty_question",
    "empty_search",
    "export_done",
    "feedback_prompt",
    "file_skipped",
    "files_not_read",
    "flags_note",
    "foreign_battle",
    "import_line_skipped",
    "import_summary",
    "index_stopped",
    "index_stopping",
    "index_summary",
    "invite_me",
    "model_status",
    "no_index",
    "no_sources",
    "no_votes_yet",
    "not_admin",
    "nothing_found",
    "platform_answered",
    "platform_unreachable",
    "plural",
    "port_in_use",
    "reason_prompt",
    "reindex_busy",
    "reindex_progress",
    "reindex_starting",
    "restore_done",
    "reveal_text",
    "search_unavailable",
    "slack_connected",
    "slack_scopes_missing",
    "slack_token_refused",
    "slack_tokens_missing",
    "socket_mode_not_connected",
    "source_text",
    "sources_heading",
    "sources_lines",
    "switched_off",
    "thumb_recorded",
    "topic_prompt",
    "unexpected_error",
    "vote_not_recorded",
    "vote_prompt",
    "vote_recorded",
    "web_form_expired",
    "web_login_failed",
    "web_login_throttled",
    "web_needs_access",
    "web_reindex_started",
    "web_search_failed",
    "web_serving",
    "web_stopped",
    "which_channel",
    "words_only_search",
]

if TYPE_CHECKING:
    from knowledge.indexer import IndexReport

    from .reindex import ReindexStatus
    from .service import ModelCheck, ModelStatus

CHOICE_LABELS: dict[Choice, str] = {
    "a": "A is better",
    "b": "B is better",
    "tie": "Tie",
    "both_bad": "Both are bad",
}


THUMB_REASONS: dict[str, str] = {
    "wrong": "Wrong",
    "outdated": "Outdated",
    "not_in_docs": "Not in the docs",
    "unclear": "Unclear",
}

# why votes were kept but not counted (``Leaderboard.left_out``'s reasons)
LEFT_OUT_LABELS: dict[str, str] = {
    "daily_cap": "past a user's daily cap",
    "names_model": "an answer named its model",
}


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``1 battle``, ``2 battles``; ``many`` for a noun whose plural is not noun + s."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"


WEB_MARK = "[Web]"  # before a source that is a web page, on every surface


def sources_heading(answer: Answer) -> str:
    return "Top passages (not cited by the model)" if answer.cited_fallback else "Sources"


def source_text(passage: Passage) -> str:
    """A source as plain text: a document's file and place, or a web page marked as one,
    with its title and URL."""
    if passage.is_web:
        title = passage.title if passage.title != passage.source else ""
        return " ".join(p for p in (WEB_MARK, title, passage.source) if p)
    return passage.label()


def sources_lines(answer: Answer) -> list[str]:
    """The numbered sources under an answer (uncited fallbacks are marked as such), then
    the note on what its sources lack, if any."""
    lines = []
    if answer.citations:
        lines.append(f"{sources_heading(answer)}:")
        lines += [f"[{c.number}] {source_text(c.passage)}" for c in answer.citations]
    if answer.source_note:
        lines.append(answer.source_note)
    return lines


def web_search_failed(reason: str) -> str:
    """Under an answer whose pipeline searches the web, when the search did not work."""
    return f"Web search failed ({reason}), so this answer comes from the documents alone."


# the mark a flagged sentence carries where a citation would stand (bot.render): "[!]"
# conflicts with the sources, "[?]" states a number or name they never do
FLAG_MARKS = {"contradicted": "[!]", "unverifiable": "[?]"}


def flags_note(contradicted: int, unstated: int) -> str | None:
    """The line under an answer that explains its marks; None when nothing is marked (a
    clean answer gets no line: the check finds words, it does not vouch for truth)."""
    parts = []
    if contradicted:
        verb = "conflicts" if contradicted == 1 else "conflict"
        parts.append(
            f"{FLAG_MARKS['contradicted']} {plural(contradicted, 'sentence')} {verb}"
            " with the sources"
        )
    if unstated:
        states = "states" if unstated == 1 else "state"
        counted = plural(unstated, "sentence") if not parts else str(unstated)
        where = "the sources" if not parts else "them"
        parts.append(
            f"{FLAG_MARKS['unverifiable']} {counted} {states} a number or name not in {where}"
        )
    return " · ".join(parts) or None


def console_welcome() -> str:
    return (
        "Ask Parley a question about your knowledge base; answers cite their sources.\n"
        "Rate an answer with + or -. Sometimes two anonymous answers (A and B) appear side"
        " by side: vote for the better one and see which models they were. Follow-up"
        " questions remember this conversation. Leave with an empty line, 'quit' or Ctrl-C."
    )


QUESTION_PROMPT = "you"
ANSWER_BEING_WRITTEN = "writing…"  # the title over a hosted answer drawn as it comes


def vote_prompt() -> str:
    return "vote: [a] A better, [b] B better, [t] tie, [x] both bad, Enter to skip"


def feedback_prompt() -> str:
    return "feedback: [+] good, [-] bad, Enter to skip"


def reason_prompt(keys: dict[str, str]) -> str:
    """After a thumbs-down: the reason keys (key to reason id), or the user's own words."""
    shown = ", ".join(f"[{key}] {THUMB_REASONS[reason]}" for key, reason in keys.items())
    return f"what was wrong? {shown}, or say it; Enter to skip"


def console_goodbye() -> str:
    return "Bye. Your votes and thumbs are saved."


def config_warning(warning: str) -> str:
    return f"Warning: {warning}"


def file_skipped(path: str, reason: str) -> str:
    return f"Skipped {display_path(path)}: {reason}"


def import_line_skipped(line: int, reason: str) -> str:
    return f"line {line}: {reason}"


def model_status(status: ModelStatus, check: ModelCheck | None = None) -> str:
    """One model's status in ``parley models``: set up or not, and when checked, whether
    it answered."""
    if not status.ready:
        return f"not set up: {status.reason}"
    if check is None:
        return "configured"
    if check.reachable:
        return f"reachable ({check.latency_ms:.0f} ms)"
    return f"unreachable: {check.error}"


def empty_question() -> str:
    return "Ask me a question, for example: How do I roll back a deploy?"


def search_unavailable() -> str:
    return (
        "Search is unavailable right now, so I cannot answer from the documents."
        " Try again in a minute."
    )


def empty_search() -> str:
    return 'Give some words to search for, for example: parley search "roll back a deploy"'


def all_models_failed(errors: list[str]) -> str:
    return "No model could answer right now. " + " ".join(errors)


def vote_recorded(model_a: str, model_b: str, choice: Choice, replaced: bool) -> str:
    verb = "changed to" if replaced else "recorded:"
    return f"Vote {verb} {CHOICE_LABELS[choice]}. Model A was {model_a}, model B was {model_b}."


def vote_not_recorded() -> str:
    return "Your vote was not recorded: Parley could not save it just now. Try again in a minute."


def foreign_battle() -> str:
    return "That vote is not for a battle in this channel, so it was not recorded."


def thumb_recorded(model: str, value: int) -> str:
    return f"Thanks, {'👍' if value > 0 else '👎'} recorded for {model}."


def index_summary(report: IndexReport) -> str:
    return (
        f"Indexed in {report.seconds:.1f} s: {report.added} added, {report.changed} changed, "
        f"{report.removed} removed, {report.unchanged} unchanged, {len(report.skipped)} skipped; "
        f"{plural(report.passages, 'passage')} in the index."
    )


def index_stopping() -> str:
    return "Stopping: finishing the step in progress; every finished file is kept."


def index_stopped(report: IndexReport) -> str:
    finished = report.added + report.changed + report.unchanged
    kept = (
        f"Stopped after {report.seconds:.1f} s. Kept {plural(finished, 'finished file')}"
        f" ({report.added} added, {report.changed} changed, {report.unchanged} unchanged)"
    )
    if report.pending:
        kept += (
            f" and {plural(report.pending, 'passage')} embedded from files not finished,"
            " which the next run will not embed again"
        )
    return (
        f"{kept}; {plural(report.passages, 'passage')} in the index. Run `parley index`"
        " on the same paths again to do the rest."
    )


def no_index(folder: Path) -> str:
    return (
        f"There is no index in {folder}: run `parley index PATH` first"
        " (or check --data-dir and PARLEY_DATA_DIR)."
    )


def words_only_search(why: str) -> str:
    return f"Note: matching by words only; {why}."


def nothing_found() -> str:
    return (
        "No passages matched. Is the knowledge base indexed? Try `parley index examples/handbook`."
    )


def no_votes_yet() -> str:
    return (
        "No votes yet. Vote on A/B answers in `parley chat`,"
        " or load votes with `parley import battles`."
    )


def import_summary(imported: int, duplicates: int, errors: int) -> str:
    return (
        f"Imported {plural(imported, 'battle')} ({duplicates} already present,"
        f" {plural(errors, 'line')} skipped)."
    )


def export_done(count: int) -> str:
    return f"Exported {plural(count, 'battle')}."


def not_admin() -> str:
    return "Only Parley's admins can re-index the knowledge base. Ask one of them to run it."


def no_sources() -> str:
    return (
        'No knowledge sources are configured: set `sources = ["docs/"]` in parley.toml,'
        " or name the paths to index."
    )


def _ago(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{int(seconds)} s" if minutes == 0 else f"{minutes} min"


def reindex_progress(status: ReindexStatus) -> str:
    """``Re-indexing: 12 of 40 files (handbook.pdf)``; the total is unknown at first."""
    name = display_path(status.current).rsplit("/", 1)[-1] if status.current else ""
    count = f"{status.done} of {plural(status.total, 'file')}" if status.total else "starting"
    return f"Re-indexing: {count}" + (f" ({name})" if name else "")


def reindex_busy(status: ReindexStatus) -> str:
    started = time.strftime("%H:%M", time.localtime(status.started_at))
    running = _ago(time.time() - status.started_at)
    return (
        f"A re-index is already running, started by {status.requested_by} at {started}"
        f" ({running} ago); {reindex_progress(status)[0].lower()}"
        f"{reindex_progress(status)[1:]}. Try again when it has finished."
    )


def backup_done(file: Path, votes: int) -> str:
    return f"Backed up the arena database to {file} ({plural(votes, 'vote')})."


def restore_done(file: Path, database: Path, votes: int) -> str:
    return f"Restored {database} from {file} ({plural(votes, 'vote')})."


def arena_on_server() -> str:
    """``parley backup`` and ``restore`` copy an SQLite file; a server has its own tools."""
    return (
        "The arena is on PostgreSQL (database_url): back it up with pg_dump and restore"
        " it with pg_restore; `parley db migrate --to FILE` copies it into an SQLite file."
    )


def arena_copied(source: str, target: str, rows: dict[str, int], to_server: bool) -> list[str]:
    """What ``parley db migrate`` copied, and how to use the copy."""
    counted = ", ".join(
        plural(rows.get(table, 0), noun)
        for table, noun in (("questions", "question"), ("battles", "battle"), ("votes", "vote"))
    )
    use = (
        f"To serve from it, set PARLEY_DATABASE_URL (database_url in parley.toml) to {target}"
        " and run `parley index PATH` once: the index is re-built on the server."
        if to_server
        else f"To serve from it, unset PARLEY_DATABASE_URL and use {target} as the data"
        " directory's parley.db."
    )
    return [
        f"Copied the arena from {source} to {target}: {counted}; all"
        f" {plural(sum(rows.values()), 'row')} in {len(rows)} tables counted the same on"
        " both sides.",
        use,
    ]


def unexpected_error() -> str:
    return "Something went wrong on Parley's side; it has been logged. Please try again."


def dashboard_link(web_url: str, channel: str | None = None) -> str:
    """The line under a chat leaderboard that points at the web dashboard (the channel's
    own board when the chat one was for a channel)."""
    url = web_url.rstrip("/") + "/" + (f"?channel={quote(channel, safe='')}" if channel else "")
    return f"Charts, heatmaps and every model's page: {url}"


def web_needs_access() -> str:
    return (
        "The dashboard would be open to anyone: set PARLEY_WEB_TOKEN (and"
        " PARLEY_WEB_ADMIN_TOKEN for admins), or web_trusted_header when a proxy signs"
        " people in."
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


# --- chat platforms: what Slack and Discord users see, and what a starting bot says ---

ASSISTANT_GREETING = "Hi! Ask me anything about the team's docs; I answer with the sources I used."
ASSISTANT_STATUS = "is looking through the docs…"  # Slack shows it after the app's name
ASSISTANT_PROMPTS = [  # when the knowledge base has no titles to suggest from
    {"title": "What can you answer?", "message": "What do our docs cover?"},
    {"title": "Getting started", "message": "How does a new team member get set up?"},
]
REASON_FORM_TITLE = "What was wrong?"
REASON_FORM_FIELD = "What was wrong? (optional)"
_TOPIC_TITLE_CHARS = 60


def topic_prompt(title: str) -> dict[str, str]:
    """A suggested question about one of the knowledge base's documents."""
    return {
        "title": f"About {title[:_TOPIC_TITLE_CHARS]}",
        "message": f"What should I know about {title}?",
    }


def ask_only_hint() -> str:
    return "In this channel I answer through `/ask`: try `/ask your question`."


def switched_off() -> str:
    return "Parley is switched off in this channel."


def invite_me() -> str:
    return "I'm not in this channel yet: invite me with `/invite @Parley`, then ask again."


def which_channel() -> str:
    return "Name a channel with #, like `/leaderboard #support`, or leave it out for all."


def files_not_read() -> str:
    return (
        "I can't read attached files yet: ask your question in words and I'll answer"
        " from the knowledge base."
    )


def reveal_text(model_a: str, model_b: str) -> str:
    """The names a revealed battle shows, as plain text (notifications, screen readers)."""
    return f"Model A: {model_a}. Model B: {model_b}."


def reindex_starting() -> str:
    return "Re-indexing: starting"


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
