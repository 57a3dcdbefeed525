"""Parley in Slack: the bolt app and its listeners (``app``), which messages are
answered (``events``), a question answered in its thread (``questions``), the slash
commands (``commands``), votes and thumbs (``clicks``), the assistant panel
(``assistant``), the Web API (``web_api``), Block Kit (``blocks``), Markdown to mrkdwn
(``mrkdwn``), and start-up in Socket Mode or HTTP mode (``run``). Import the submodules;
importing this package loads nothing of bolt's."""

__all__: list[str] = []
