"""Documents attached to a question: the service's rules, with a real store (both
engines), the knowledge base's real loaders and chunker, and fake models that cite [1]."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Sequence

import numpy as np
import pytest

from arena.store import Store
from bot import attachments, messages
from bot.attachments import MAX_PASSAGES, Attachment, _Remembering
from bot.errors import DownloadFailed
from bot.service import Ask, Service
from knowledge.types import Hit, Passage
from tests.fakes.providers import fake, roster
from tests.fakes.service import service_over_fakes

pytestmark = pytest.mark.both_engines

CONTRACT = b"""# Vendor contract

## Term

This agreement renews automatically on 1 March 2027 unless either party gives
ninety days' written notice.

## Fees

The annual fee is 12,000 euros, invoiced each January.
"""


class Served:
    """An attachment's bytes, counting the downloads."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.downloads = 0

    async def fetch(self) -> bytes:
        self.downloads += 1
        return self.data


def attachment(name: str, data: bytes = CONTRACT, size: int | None = None) -> Attachment:
    served = Served(data)
    return Attachment(name, len(data) if size is None else size, served.fetch)


def downloads(file: Attachment) -> int:
    return file.fetch.__self__.downloads  # type: ignore[attr-defined]


def service(store: Store, *replies: str, **settings) -> tuple[Service, object]:
    model = fake("alpha", *replies)
    return service_over_fakes(store, roster(model), **settings), model


def ask(text: str, *files: Attachment, thread: str | None = "t1") -> Ask:
    return Ask(text, "ana", "D1", thread, "slack", files)


async def test_an_attached_document_leads_and_is_cited_by_its_name(store: Store) -> None:
    svc, model = service(store)
    reply = await svc.ask(ask("When does the contract renew?", attachment("contract.md")))
    (shown,) = reply.answers
    (cited,) = shown.answer.citations
    assert cited.passage.is_attached and cited.passage.display_source == "contract.md (attached)"
    assert "1 March 2027" in cited.passage.text and reply.notices == []
    passages = [h.passage for h in model.prompts[0].passages]
    # the knowledge base fills the places the document leaves: its passage comes after
    assert [p.is_attached for p in passages] == [True, True, False]
    assert "(source: contract.md (attached)" in model.prompts[0].messages[-1]["content"]


LONG_CONTRACT = (
    CONTRACT
    + b"""
## Termination

Either party may end the agreement for a material breach after thirty days' notice.

## Liability

Liability is capped at the fees paid in the twelve months before a claim.
"""
)
PAGER = Hit(
    Passage("kb1", "The emergency pager number is +1 555 0100.", "/hb/on-call.md", "On-call"), 0.9
)
ROLLBACK = Hit(
    Passage("kb2", "Run shipit rollback to roll back.", "/hb/deploys.md", "Deploys"), 0.5
)


async def test_a_question_the_file_does_not_answer_still_reads_the_knowledge_base_first(
    store: Store,
) -> None:
    """The file's passages and the knowledge base's compete for the places: an offline
    answerer reads the first three, so a file that always came first would hide the
    handbook's answer behind four clauses of a contract."""
    svc, model = service(store, hits=[PAGER, ROLLBACK])
    await svc.ask(
        ask("What is the emergency pager number?", attachment("contract.md", LONG_CONTRACT))
    )
    passages = [h.passage for h in model.prompts[0].passages]
    assert passages[0].id == "kb1"
    assert any(p.is_attached for p in passages)  # still read, after the answer
    await svc.ask(ask("What is the liability cap?"))  # a follow-up about the file
    assert "capped at the fees" in model.prompts[1].passages[0].passage.text


async def test_a_follow_up_in_the_thread_still_reads_the_document(store: Store) -> None:
    svc, _ = service(store)
    await svc.ask(ask("When does the contract renew?", attachment("contract.md")))
    reply = await svc.ask(ask("What is the annual fee?"))
    (cited,) = reply.answers[0].answer.citations
    assert cited.passage.is_attached and "12,000 euros" in cited.passage.text
    elsewhere = await svc.ask(ask("What is the annual fee?", thread="t2"))
    assert not elsewhere.answers[0].answer.citations[0].passage.is_attached


async def test_a_file_alone_is_read_and_makes_the_thread_a_conversation(store: Store) -> None:
    svc, model = service(store)
    assert not await svc.in_conversation("slack", "D1", "t1")
    reply = await svc.ask(ask("", attachment("contract.md")))
    assert reply.answers == [] and model.prompts == []
    assert reply.notices == [messages.attachments_read([("contract.md", 2)], in_thread=True)]
    assert reply.notices[0].startswith("I read contract.md (2 passages).")
    assert await svc.in_conversation("slack", "D1", "t1")
    assert not await svc.in_conversation("slack", "D1", "t2")
    followed = await svc.ask(ask("When does it renew?"))
    assert followed.answers[0].answer.citations[0].passage.is_attached


async def test_an_unsupported_file_is_named_and_the_question_still_answered(
    store: Store,
) -> None:
    svc, _ = service(store)
    photo = attachment("scan.png", b"\x89PNG not text")
    reply = await svc.ask(ask("When does the contract renew?", photo))
    assert downloads(photo) == 0
    assert reply.notices[0] == (
        "I can't read scan.png: I read MD, RST, TXT, HTML, PDF, DOCX, CSV and XLSX files."
    )
    assert reply.answers and not reply.answers[0].answer.citations[0].passage.is_attached


async def test_an_oversized_file_is_never_downloaded(store: Store) -> None:
    svc, _ = service(store, attachment_max_mb=1)
    big = attachment("contract.pdf", size=3_500_000)
    reply = await svc.ask(ask("When does the contract renew?", big))
    assert downloads(big) == 0
    assert reply.notices == [
        "I didn't read contract.pdf: it is 3.5 MB and I read files up to 1 MB."
    ]
    assert reply.answers


async def test_a_file_larger_than_its_reported_size_is_not_read(store: Store) -> None:
    svc, _ = service(store, attachment_max_mb=0.0001)  # 100 bytes
    liar = attachment("contract.md", size=10)
    reply = await svc.ask(ask("When does the contract renew?", liar))
    assert downloads(liar) == 1
    assert reply.notices[0] == "I didn't read contract.md: it is larger than the 0.0001 MB I read."
    assert not reply.answers[0].answer.citations[0].passage.is_attached


async def test_failed_downloads_and_unreadable_files_say_why(store: Store) -> None:
    async def refused() -> bytes:
        raise DownloadFailed("Slack answered 403")

    svc, _ = service(store)
    files = (
        Attachment("gone.md", 10, refused),
        attachment("broken.pdf", b"%PDF-1.4 this is no PDF"),
        attachment("blank.txt", b"   \n"),
        Attachment("old.md", 10, refused, withheld="it was deleted"),
    )
    reply = await svc.ask(ask("When does the contract renew?", *files))
    assert reply.notices[0] == "I couldn't download gone.md (Slack answered 403)."
    assert reply.notices[1].startswith("I couldn't read broken.pdf (not a valid PDF:")
    assert reply.notices[2] == "I couldn't read blank.txt (file is empty)."
    assert reply.notices[3] == "I can't open old.md: it was deleted."
    assert reply.answers  # the question is answered all the same
    assert await store.thread_attachments("slack", "D1", "t1") == []


async def test_a_thread_keeps_its_newest_files_and_a_new_version_replaces_the_old(
    store: Store,
) -> None:
    svc, _ = service(store)
    for n in range(4):
        await svc.ask(ask("", attachment(f"doc{n}.md", f"# Doc {n}\n\nFact {n}.".encode())))
    kept = await store.thread_attachments("slack", "D1", "t1")
    assert [f.name for f in kept] == ["doc3.md", "doc2.md", "doc1.md"]
    await svc.ask(ask("", attachment("doc2.md", b"# Doc 2\n\nRevised fact.")))
    kept = await store.thread_attachments("slack", "D1", "t1")
    assert [f.name for f in kept] == ["doc2.md", "doc3.md", "doc1.md"]
    assert [p.text for p in kept[0].passages] == ["Revised fact."]
    assert kept[0].passages[0].source == "attached:doc2.md"
    assert await store.thread_attachments("slack", "D1", "t9") == []
    assert await store.thread_attachments("discord", "D1", "t1") == []


async def test_a_long_file_is_cut_with_a_notice(store: Store) -> None:
    svc, _ = service(store)
    long = "\n\n".join(
        f"## Clause {n}\n\nClause {n} says thing {n}." for n in range(MAX_PASSAGES + 100)
    )
    reply = await svc.ask(ask("", attachment("long.md", long.encode())))
    assert reply.notices[1] == f"long.md is long: I read its first {MAX_PASSAGES} passages."
    (kept,) = await store.thread_attachments("slack", "D1", "t1")
    assert len(kept.passages) == MAX_PASSAGES


async def test_only_the_text_the_kept_passages_can_hold_is_read(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 20 MB file is not cut into passages whole to keep its first 2,000."""
    monkeypatch.setattr(attachments, "MAX_CHARS", 120)
    svc, _ = service(store)
    reply = await svc.ask(ask("", attachment("contract.md")))
    (kept,) = await store.thread_attachments("slack", "D1", "t1")
    assert reply.notices[1] == messages.attachment_cut("contract.md", len(kept.passages))
    shown = " ".join(p.text for p in kept.passages)
    assert "renews automatically" in shown and "12,000 euros" not in shown


async def test_without_a_thread_the_file_serves_that_question_alone(store: Store) -> None:
    svc, _ = service(store)
    reply = await svc.ask(ask("When does it renew?", attachment("contract.md"), thread=None))
    assert reply.answers[0].answer.citations[0].passage.is_attached
    assert await store.thread_attachments("slack", "D1", "") == []


class Slow:
    """An embedder that lets other threads run while it embeds, as the real one does."""

    name, dim = "slow", 2

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        time.sleep(0.0001)
        return np.array([[len(t), t.count("1")] for t in texts], dtype=float)


def test_remembered_vectors_stay_right_when_questions_embed_at_once() -> None:
    remembering = _Remembering(Slow(), size=3)  # smaller than what the threads ask for
    texts = [f"passage {i}" for i in range(10)]
    wrong: list[str] = []

    def ask(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(2_000):
            chosen = rng.sample(texts, 3)
            try:
                if not np.array_equal(remembering.embed(chosen), Slow().embed(chosen)):
                    wrong.append(f"other vectors for {chosen}")
            except KeyError as exc:  # a vector forgotten by another thread mid-call
                wrong.append(repr(exc))
                return

    threads = [threading.Thread(target=ask, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
