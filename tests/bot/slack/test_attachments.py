"""Files attached to Slack messages, end to end: signed events in, the fake Slack serving
the files' bytes only to the bot token (a redirect to sign in otherwise, as Slack does),
the service reading them, and the answer citing the file in its thread."""

from __future__ import annotations

import json

import pytest

from bot.errors import DownloadFailed
from bot.slack.files import _download
from tests.bot.slack.conftest import Harness, message
from tests.bot.slack.payloads import file_share
from tests.conftest import HANDBOOK
from tests.fakes.slack_api import BOT_TOKEN

CONTRACT = b"""# Vendor contract

## Term

This agreement renews automatically on 1 March 2027 unless either party gives
ninety days' written notice.
"""


def shown(posted: dict) -> str:
    """Everything a posted message shows: its text and its blocks (sources, notices)."""
    return posted["text"] + json.dumps(posted["blocks"])


def contract(app: Harness, **kw) -> list[dict]:
    return [app.slack.add_file("contract.md", CONTRACT, "text/markdown", **kw)]


async def test_a_dm_with_a_document_is_answered_from_it_and_so_is_its_follow_up(
    app: Harness,
) -> None:
    files = contract(app)
    await app.event(file_share("When does the contract renew?", ts="200.1", files=files))
    await app.settle()
    (download,) = app.slack.downloads()
    assert download.headers["authorization"] == f"Bearer {BOT_TOKEN}"
    assert download.path.endswith("/download/contract.md")
    (answer,) = app.slack.calls("chat.postMessage")
    assert answer["thread_ts"] == "200.1" and "[1] contract.md" in shown(answer)
    assert "deploys" not in shown(answer).lower()  # [1] is the contract, not the handbook
    follow_up = message("and how much notice?", ts="200.5", thread="200.1", channel="D1", kind="im")
    await app.event(follow_up)
    await app.settle()
    _, follow_up = app.slack.calls("chat.postMessage")
    assert follow_up["thread_ts"] == "200.1" and "[1] contract.md" in shown(follow_up)
    assert len(app.slack.downloads()) == 1  # kept for the thread, not fetched again


async def test_a_pdf_in_a_dm_is_read_and_cited_by_its_name(app: Harness) -> None:
    pdf = (HANDBOOK / "expenses-policy.pdf").read_bytes()
    files = [app.slack.add_file("expenses.pdf", pdf, "application/pdf")]
    await app.event(file_share("What is the meal limit?", ts="210.1", files=files))
    await app.settle()
    (answer,) = app.slack.calls("chat.postMessage")
    assert "[1] expenses.pdf" in shown(answer)
    (kept,) = await app.store.thread_attachments("slack", "D1", "210.1")
    assert kept.name == "expenses.pdf" and kept.passages[0].location == "page 1"


async def test_an_image_gets_a_notice_and_the_question_its_answer(app: Harness) -> None:
    files = [app.slack.add_file("diagram.png", b"\x89PNG\r\n", "image/png")]
    await app.event(file_share("How do I roll back?", ts="220.1", files=files))
    await app.settle()
    assert app.slack.downloads() == []
    (answer,) = app.slack.calls("chat.postMessage")
    assert "I can't read diagram.png: I read MD, RST, TXT, HTML, PDF" in shown(answer)
    assert "Run shipit rollback" in answer["text"]


async def test_an_oversized_file_is_never_downloaded(app: Harness) -> None:
    files = contract(app, size=50_000_000)  # Slack reports 50 MB
    await app.event(file_share("When does the contract renew?", ts="230.1", files=files))
    await app.settle()
    assert app.slack.downloads() == []
    (answer,) = app.slack.calls("chat.postMessage")
    assert "it is 50.0 MB and I read files up to 20 MB" in shown(answer)
    assert "Run shipit rollback" in answer["text"]


async def test_a_file_alone_is_acknowledged_and_its_thread_answered_without_a_mention(
    app: Harness,
) -> None:
    files = contract(app)
    event = file_share("", ts="240.1", files=files, channel="C1", kind="channel")
    await app.event({**event, "type": "app_mention", "text": "<@UPARLEY>"})
    await app.settle()
    (receipt,) = app.slack.calls("chat.postMessage")
    assert receipt["thread_ts"] == "240.1"
    assert "I read contract.md (1 passage). Ask me about it in this thread." in shown(receipt)
    await app.event(
        message("When does it renew?", ts="240.5", thread="240.1", channel="C1", kind="channel")
    )
    await app.settle()
    _, answer = app.slack.calls("chat.postMessage")
    assert answer["thread_ts"] == "240.1" and "[1] contract.md" in shown(answer)


async def test_a_slack_connect_file_is_looked_up_before_it_is_read(app: Harness) -> None:
    (full,) = contract(app)
    stub = {"id": full["id"], "file_access": "check_file_info", "created": 1700000000}
    await app.event(file_share("When does the contract renew?", ts="250.1", files=[stub]))
    await app.settle()
    (info,) = app.slack.calls("files.info")
    assert info["file"] == full["id"]
    (answer,) = app.slack.calls("chat.postMessage")
    assert "[1] contract.md" in shown(answer) and len(app.slack.downloads()) == 1


async def test_deleted_and_hidden_files_are_named_and_not_fetched(app: Harness) -> None:
    gone = {"id": "F0GONE", "mode": "tombstone", "name": "old.md"}
    hidden = {"id": "F0OLD", "mode": "hidden_by_limit"}
    await app.event(file_share("How do I roll back?", ts="260.1", files=[gone, hidden]))
    await app.settle()
    assert app.slack.downloads() == []
    (answer,) = app.slack.calls("chat.postMessage")
    assert "I can't open old.md: it was deleted." in shown(answer)
    assert "I can't open F0OLD: the workspace's plan hides files this old." in shown(answer)
    assert "Run shipit rollback" in answer["text"]


async def test_slack_redirects_a_download_without_the_token_to_sign_in(app: Harness) -> None:
    (file,) = contract(app)
    url = file["url_private_download"]
    assert await _download(url, BOT_TOKEN, 1000, html=False) == CONTRACT
    with pytest.raises(DownloadFailed, match="Slack asked me to sign in"):
        await _download(url, "xoxb-someone-else", 1000, html=False)
    assert len(await _download(url, BOT_TOKEN, 10, html=False)) == 11  # the limit, and one


async def test_the_token_goes_to_no_host_but_slacks(app: Harness) -> None:
    file = {**contract(app)[0], "url_private_download": "http://files.example.com/f.md"}
    await app.event(file_share("When does it renew?", ts="270.1", files=[file]))
    await app.settle()
    assert app.slack.downloads() == []
    (answer,) = app.slack.calls("chat.postMessage")
    assert "I couldn't download contract.md (it is not stored on Slack)." in shown(answer)


async def test_the_assistant_panel_reads_a_file_alone(app: Harness) -> None:
    files = contract(app)
    event = file_share("", ts="290.3", files=files, thread="290.1")  # a DM thread: the panel
    await app.event(event)
    await app.settle()
    (status,) = app.slack.calls("assistant.threads.setStatus")
    assert status["thread_ts"] == "290.1"
    (receipt,) = app.slack.calls("chat.postMessage")
    assert receipt["thread_ts"] == "290.1" and "I read contract.md" in shown(receipt)
