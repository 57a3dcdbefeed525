"""What Parley says to its users, in one place (like bolt's ``logger/messages.py``), so
wording stays consistent across the CLI, the console, chat and the dashboard: replies and
notices, prompts, summaries and errors a user reads. One module per audience:

- ``answers``: what a question's asker reads on every surface (sources, marks, votes);
- ``leaderboard``: what a leaderboard says around its rows;
- ``console``: the terminal chat's welcome, prompts and goodbye;
- ``chat``: what only Slack and Discord users read (the assistant panel, a channel's hints);
- ``operator``: the operator commands (index, search, import/export, backup/restore, db);
- ``web``: the dashboard's sign-in, forms and address;
- ``startup``: a starting bot's tokens, ports and unreachable platforms;
- ``counting``: ``plural``, which they all count with.

Every public name is re-exported here: callers write ``messages.vote_recorded(...)``.

Kept with their code instead: log lines (beside what they log), the headings and
one-word marks of a surface's own rendering (table columns, doctor's ok/FIX),
``parley doctor``'s findings (each beside its check in ``bot/doctor.py``) and the
judge's audit report (``arena/judge/audit.py``)."""

from __future__ import annotations

from .answers import (
    CHOICE_LABELS,
    FLAG_MARKS,
    THUMB_REASONS,
    all_models_failed,
    empty_question,
    flags_note,
    foreign_battle,
    search_unavailable,
    sources_lines,
    thumb_recorded,
    unexpected_error,
    vote_not_recorded,
    vote_recorded,
)
from .chat import (
    ASSISTANT_GREETING,
    ASSISTANT_PROMPTS,
    ASSISTANT_STATUS,
    REASON_FORM_FIELD,
    REASON_FORM_TITLE,
    ask_only_hint,
    files_not_read,
    invite_me,
    reveal_text,
    switched_off,
    topic_prompt,
    which_channel,
)
from .console import (
    ANSWER_BEING_WRITTEN,
    QUESTION_PROMPT,
    console_goodbye,
    console_welcome,
    feedback_prompt,
    reason_prompt,
    vote_prompt,
)
from .counting import (
    plural,
)
from .leaderboard import (
    LEFT_OUT_LABELS,
    dashboard_link,
    no_votes_yet,
)
from .operator import (
    arena_copied,
    arena_on_server,
    backup_done,
    empty_search,
    export_done,
    file_skipped,
    import_line_skipped,
    import_summary,
    index_stopped,
    index_stopping,
    index_summary,
    model_status,
    no_index,
    no_sources,
    not_admin,
    nothing_found,
    reindex_busy,
    reindex_progress,
    reindex_starting,
    restore_done,
    words_only_search,
)
from .startup import (
    cannot_listen,
    config_warning,
    discord_connected,
    discord_forbidden,
    discord_gateway_closed,
    discord_intent_refused,
    discord_not_a_channel_id,
    discord_token_missing,
    discord_token_refused,
    platform_answered,
    platform_unreachable,
    port_in_use,
    slack_connected,
    slack_scopes_missing,
    slack_token_refused,
    slack_tokens_missing,
    socket_mode_not_connected,
)
from .web import (
    web_form_expired,
    web_login_failed,
    web_login_throttled,
    web_needs_access,
    web_reindex_started,
    web_serving,
    web_stopped,
)

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
    "web_serving",
    "web_stopped",
    "which_channel",
    "words_only_search",
]
