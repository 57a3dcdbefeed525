"""Parley in Slack: the bolt app (``app``), its Block Kit (``blocks``), Markdown to mrkdwn
(``mrkdwn``), the assistant panel (``assistant``) and startup in Socket Mode or HTTP mode
(``run``). Import the submodules; importing this package loads nothing of bolt's."""

__all__: list[str] = []
