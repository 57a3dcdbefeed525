"""The two offline answerers, with a small bag-of-words embedder standing in for MiniLM."""

from __future__ import annotations

import asyncio
import re
import time
import zlib
from collections.abc import Sequence
from datetime import date

import numpy as np
import pytest

from arena.answers import answer_question
from arena.compose import NOT_FOUND, compose
from arena.models.definitions import asked_about, defines
from arena.models.offline import (
    PassageAnswerer,
    SentenceAnswerer,
    _rare_word_overlap,
    _similarity,
)
from arena.roster import Contestant
from arena.types import ModelSpec, Question
from knowledge.base import KnowledgeBase
from knowledge.types import Hit, Passage
from tests.conftest import HANDBOOK


class FakeEmbedder:
    """Hashed bag of words: texts sharing words are similar, others nearly orthogonal."""

    name = "fake-bow"
    dim = 256

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, zlib.crc32(word.encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


HITS = [
    Hit(
        Passage(
            "a",
            "The office opens at nine. Parking is free for staff on weekdays.",
            "handbook.md",
            "Handbook",
        ),
        0.9,
    ),
    Hit(
        Passage(
            "b",
            "Lunch is served in the canteen from noon. The canteen closes at two.",
            "food.md",
            "Food",
        ),
        0.5,
    ),
]


class Alike(FakeEmbedder):
    """Every text alike: meaning decides nothing, the question's words decide."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.ones((len(texts), self.dim), dtype=np.float32) / np.sqrt(self.dim)


class Unalike(FakeEmbedder):
    """Every text orthogonal to every other: nothing is close in meaning."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row, zlib.crc32(text.encode()) % self.dim] = 1.0
        return out


def sentences_over(embedder: type) -> Contestant:
    spec = ModelSpec(name="sentences", provider="offline")
    return Contestant(spec, SentenceAnswerer(spec, embedder=embedder))


def contestant(cls: type) -> Contestant:
    spec = ModelSpec(name=cls.__name__, provider="offline")
    return Contestant(spec, cls(spec, embedder=FakeEmbedder))


async def test_sentences_answer_picks_the_relevant_sentence_and_cites_it() -> None:
    answer = await answer_question(
        contestant(SentenceAnswerer), Question("When the office opens?", HITS, [])
    )
    assert answer.error is None
    assert answer.text.startswith("The office opens at nine. [1]")
    assert "Parking" not in answer.text  # at most two sentences, the best one first
    assert len(answer.text.split()) <= 60
    assert answer.citations[0].passage.id == "a" and not answer.cited_fallback


async def test_passages_answer_quotes_one_passage_with_its_citation() -> None:
    answer = await answer_question(
        contestant(PassageAnswerer), Question("When is lunch served in the canteen?", HITS, [])
    )
    assert "Lunch is served" in answer.text and answer.text.endswith("[1]")  # the only source
    assert [(c.number, c.passage.id) for c in answer.citations] == [(1, "b")]


async def test_nothing_relevant_says_so_plainly() -> None:
    for cls in (SentenceAnswerer, PassageAnswerer):
        empty = await answer_question(contestant(cls), Question("Office hours?", [], []))
        unrelated = await answer_question(
            contestant(cls), Question("Quantum chromodynamics gluon?", HITS, [])
        )
        assert NOT_FOUND in empty.text and NOT_FOUND in unrelated.text


class Halfway(FakeEmbedder):
    """A question (ends with '?') at cosine 0.5 from every other text: near in meaning."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row, :2] = (1.0, 0.0) if text.endswith("?") else (0.5, np.sqrt(0.75))
        return out


async def test_relevance_weighs_meaning_and_words_together() -> None:
    """Far in meaning but holding all the question's words: answered (a terse question
    about a named thing). Far and holding half ('capital' of 'capital', 'France'): refused.
    Halfway in meaning: refused with none of its words, answered with half of them."""
    gate = Hit(Passage("g", "The Gate was long known by the name Brama.", "city.md", "City"), 0.9)
    spend = Hit(Passage("s", "Capital spending rose by a tenth this year.", "q3.md", "Q3"), 0.9)
    cases = [
        (Unalike, "By what other name was the Gate known?", gate, True),
        (Unalike, "What is the capital of France?", spend, False),
        (Halfway, "How do lighthouses work?", spend, False),
        (Halfway, "What is capital in France?", spend, True),
    ]
    for cls in (SentenceAnswerer, PassageAnswerer):
        for embedder, question, hit, answered in cases:
            spec = ModelSpec(name=cls.__name__, provider="offline")
            answer = await answer_question(
                Contestant(spec, cls(spec, embedder=embedder)), Question(question, [hit])
            )
            assert (NOT_FOUND not in answer.text) is answered, (cls.__name__, question)
            if answered:
                assert "[1]" in answer.text


async def test_question_words_match_sentence_words_by_stem() -> None:
    """'ship' in the question is 'shipped' in the answer: the sentence holding both asked
    words leads, and the one holding only 'estate' falls below the cut."""
    estate = Hit(
        Passage(
            "e",
            "The estate was stored in New York for years. "
            "In 1952 the estate was shipped to Belgrade in trunks.",
            "tesla.md",
            "Tesla",
        ),
        0.9,
    )
    answer = await answer_question(
        sentences_over(Alike), Question("Where did they ship the estate?", [estate])
    )
    assert answer.text == "In 1952 the estate was shipped to Belgrade in trunks. [1]"


async def test_sentences_answer_skips_a_sentence_that_introduces_a_code_block() -> None:
    # from PostgreSQL's "11.8. Partial Indexes": the command itself follows the colon
    text = (
        "A partial index is an index built over a subset of a table.\n\n"
        "To create a partial index that suits our example, use a command such as this:\n\n"
        "CREATE INDEX access_log_client_ip_ix ON access_log (client_ip);"
    )
    hits = [Hit(Passage("pg", text, "indexes-partial.html", "11.8. Partial Indexes"), 0.9)]
    answer = await answer_question(
        contestant(SentenceAnswerer), Question("How do I create a partial index?", hits, [])
    )
    assert answer.text.startswith("A partial index is an index built over a subset")
    assert "such as this" not in answer.text


class SlowEmbedder(FakeEmbedder):
    """Holds its thread as a CPU-bound model would (onnxruntime also releases the GIL)."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        time.sleep(0.25)
        return super().embed(texts)


async def test_offline_answers_leave_the_event_loop_responsive() -> None:
    answerer = SentenceAnswerer(ModelSpec(name="s", provider="offline"), embedder=SlowEmbedder)
    prompts = [compose(Question("When the office opens?", HITS)) for _ in range(4)]
    lags: list[float] = []

    async def ticker() -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - before - 0.01)

    ticking = asyncio.create_task(ticker())
    completions = await asyncio.gather(*(answerer.complete(p) for p in prompts))
    ticking.cancel()
    assert all("office opens" in c.text for c in completions)
    # one answer holds its thread for two embeddings (0.5 s); on the loop, four would
    # stall it for 2 s, so any lag below one embedding proves the loop kept serving
    assert len(lags) > 10 and max(lags) < 0.2


def passage_hit(n: int, text: str, title: str = "Handbook") -> Hit:
    return Hit(Passage(f"p{n}", text, f"doc{n}.md", title), 1.0 / n)


async def test_sentences_answer_leads_with_the_best_sentence_and_cuts_weak_ones() -> None:
    hits = [
        passage_hit(1, "The canteen menu changes every week. Soup is served daily."),
        passage_hit(2, "Visitors park on level minus two of the garage. The lifts are left."),
        passage_hit(3, "Staff park free in the garage on weekdays after showing a badge."),
    ]
    prompt = compose(Question("Where do visitors park in the garage?", hits))
    completion = await contestant(SentenceAnswerer).provider.complete(prompt)
    assert completion.text.startswith("Visitors park on level minus two of the garage. [2]")
    assert "canteen" not in completion.text and "Soup" not in completion.text


ROTA = [
    "Week starting: 2026-11-23; Primary: Luis Ortega; Secondary: Amara Okafor",
    "Week starting: 2026-11-02; Primary: Amara Okafor; Secondary: Jonas Weber",
    "Week starting: 2026-11-09; Primary: Jonas Weber; Secondary: Priya Raman",
    "Week starting: 2026-11-16; Primary: Priya Raman; Secondary: Luis Ortega",
    "Week starting: 2026-11-30; Primary: Mei Chen; Secondary: Priya Raman",
]


@pytest.mark.parametrize(
    ("today", "question", "expected"),
    [
        (date(2026, 11, 30), "Who is primary on call this week?", "Mei Chen"),
        (date(2026, 12, 3), "Who is primary on call today?", "Mei Chen"),
        (date(2026, 11, 25), "Who is primary on call this week?", "Luis Ortega"),
        (date(2026, 11, 25), "Who is primary on call next week?", "Mei Chen"),
    ],
)
async def test_offline_answers_prefer_rows_of_the_asked_about_week(
    today: date, question: str, expected: str, real_embedder
) -> None:
    hits = [passage_hit(n, row, "Rota") for n, row in enumerate(ROTA, 1)]
    prompt = compose(Question(question, hits), today=today)
    for cls in (SentenceAnswerer, PassageAnswerer):
        spec = ModelSpec(name=cls.__name__, provider="offline")
        completion = await cls(spec, embedder=lambda: real_embedder).complete(prompt)
        primary = completion.text.split("Primary: ")[1]
        assert primary.startswith(expected), (cls.__name__, completion.text)
        assert completion.text.count("Week starting") == 1


@pytest.fixture(scope="module")
def handbook(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> KnowledgeBase:
    if not HANDBOOK.is_dir():
        pytest.skip("examples/handbook is not present")
    index = tmp_path_factory.mktemp("handbook-index")
    with KnowledgeBase.open(index, embedder=real_embedder) as kb:
        kb.index([HANDBOOK])
        yield kb


async def ask_handbook(kb: KnowledgeBase, text: str, today: date = date(2026, 11, 30)) -> str:
    spec = ModelSpec(name="offline-sentences", provider="offline-sentences")
    answerer = SentenceAnswerer(spec)
    prompt = compose(Question(text, kb.search(text, 5)), today=today)
    return (await answerer.complete(prompt)).text


@pytest.mark.parametrize(
    ("question", "says", "never"),
    [
        ("What is the meal expense limit?", "60 EUR per day", ["Meals When", "Expensify"]),
        ("How are expenses approved?", "under 100 EUR", ["Approval Expenses", "policy This"]),
        (
            "What does the expenses policy cover?",
            "This policy covers",
            ["policy This policy", "Expensify"],
        ),
        ("How do I roll back a deploy?", "shipit rollback", ["This page says"]),
        ("Who owns the billing service?", "Payments squad", ["Tier: 3", "Owning squad"]),
        ("Which squad owns checkout-api?", "Payments squad", ["Identity", "Tier: 3"]),
        ("What is the on-call stipend?", "250 EUR", ["Tier:", "joins the on-call rotation"]),
        ("Who is on call this week?", "Mei Chen", ["2026-11-23", "2026-11-02", "2026-11-09"]),
        ("What is an error budget?", "share of failed requests", ["home-office"]),
        ("When is the next on-call handover?", "hand over on Mondays at 10:00 UTC", []),
    ],
)
async def test_handbook_answers_read_right(
    handbook: KnowledgeBase, question: str, says: str, never: list[str]
) -> None:
    answer = await ask_handbook(handbook, question)
    assert says in answer
    assert not [padding for padding in never if padding in answer], answer


async def test_what_a_sev1_is_leads_its_answer(handbook: KnowledgeBase) -> None:
    """Search ranks the postmortem rule (which names SEV1 beside SEV2) above the severity
    levels; the definition still comes first."""
    answer = await ask_handbook(handbook, "What is a SEV1?")
    assert answer.startswith("SEV1: a full outage of checkout or login, or data loss."), answer


@pytest.mark.parametrize(
    ("question", "thing"),
    [
        ("What is a SEV1?", ["sev1"]),
        ("what are canaries", ["canari"]),
        ("What does SLO mean?", ["slo"]),
        ("What does AFC stand for?", ["afc"]),
        ("Who was Frédéric Chopin?", ["frédéric", "chopin"]),
        ("What's the error budget?", ["error", "budget"]),
        ("How do I roll back a deploy?", None),
        ("What is the name of the service that owns the billing tables?", None),  # too long
        ("When is a SEV1 declared?", None),
    ],
)
def test_a_question_asking_what_a_thing_is_names_the_thing(
    question: str, thing: list[str] | None
) -> None:
    assert asked_about(question) == thing


@pytest.mark.parametrize(
    ("question", "sentence", "says_what_it_is"),
    [
        ("What is a SEV1?", "SEV1: a full outage of checkout or login.", True),
        ("What does SLO mean?", "An SLO is a reliability target.", True),
        ("What was Telenet?", "Telenet was the first public data network.", True),
        ("What is a statocyst?", "The statocyst is protected by a dome of cilia.", False),
        ("What are stromules?", "Stromules are very rare in chloroplasts.", False),
        ("What is Tax Fees?", "Tax Fees; —; —; —", False),  # a table row's empty cells
        ("What is a SEV1?", "Every SEV1 gets a postmortem.", False),
        ("What is a SEV1?", "SEV1", False),
    ],
)
def test_a_sentence_defines_the_thing_when_it_opens_with_it_and_says_what_it_is(
    question: str, sentence: str, says_what_it_is: bool
) -> None:
    thing = asked_about(question)
    assert thing is not None and defines(thing, sentence) is says_what_it_is


DEFINED = [
    Hit(Passage("r", "Every SEV1 gets a postmortem within five days.", "r.md", "Rules"), 0.9),
    Hit(
        Passage("l", "Levels are set by the on-call. SEV1: a full outage.", "l.md", "Levels"),
        0.8,
    ),
]


@pytest.mark.parametrize(
    ("question", "lead"),
    [
        ("What is a SEV1?", "SEV1: a full outage. [1]"),  # cited first, so numbered 1
        ("Is there a postmortem for a SEV1?", "Every SEV1 gets a postmortem"),  # not a definition
    ],
)
async def test_a_sentence_defining_the_asked_thing_leads_the_answer(
    question: str, lead: str
) -> None:
    answer = await answer_question(contestant(SentenceAnswerer), Question(question, DEFINED))
    assert answer.text.startswith(lead), answer.text
    assert "Every SEV1 gets a postmortem within five days." in answer.text  # still there


async def test_a_lead_sentence_opening_with_a_pronoun_comes_with_the_one_before() -> None:
    """'It was founded in 1555' alone does not say what was founded."""
    colony = Hit(
        Passage(
            "c",
            "Villegagnon led the expedition to Rio. It was founded in 1555 by French sailors.",
            "history.md",
            "History",
        ),
        0.9,
    )
    answer = await answer_question(
        contestant(SentenceAnswerer), Question("When was it founded by French sailors?", [colony])
    )
    assert answer.text.startswith("Villegagnon led the expedition to Rio. [1] It was founded")


async def test_a_passages_first_sentence_opening_with_a_pronoun_comes_alone() -> None:
    """Nothing stands before a passage's first sentence: its last one is not pulled in."""
    hit = Hit(
        Passage(
            "p",
            "This policy covers travel and meals. Submit receipts within 30 days.",
            "expenses.md",
            "Expenses",
        ),
        0.9,
    )
    answer = await answer_question(
        sentences_over(Alike), Question("What does the policy cover?", [hit])
    )
    assert answer.text == "This policy covers travel and meals. [1]"


def test_a_sentence_opening_with_a_pronoun_is_compared_with_the_one_before_it() -> None:
    """'It is often found in C4 plants' says nothing of the reticulum asked about; read
    after the sentence before it, it does. A sentence that names its subject is compared
    alone."""
    read = {1: ["The peripheral reticulum is a maze of tubes.", "It is often found in C4 plants."]}
    candidates = [(1, 0), (1, 1)]
    embedder = FakeEmbedder()
    question = embedder.embed(["Where is the peripheral reticulum found?"])[0]
    _, similarity = _similarity(embedder, question, read, candidates)
    alone, after = embedder.embed([read[1][1], " ".join(read[1])]) @ question
    assert after > alone
    assert similarity[1] == pytest.approx(after)
    assert similarity[0] == pytest.approx(embedder.embed(read[1][:1])[0] @ question)


def test_a_rare_question_word_counts_more_than_one_every_sentence_shares() -> None:
    """'canteen' is in three of the four sentences, 'vegan' in one: a sentence holding
    only 'vegan' matches the question better than one holding only 'canteen'."""
    texts = ["canteen opens at noon", "canteen closes at two", "a canteen tour", "a vegan dish"]
    shares = _rare_word_overlap({"canteen", "vegan"}, texts)
    assert shares[3] > shares[2] > 0
    assert shares.max() <= 1.0


@pytest.mark.parametrize("cls", [SentenceAnswerer, PassageAnswerer])
async def test_a_long_sentence_is_trimmed_around_the_words_the_question_repeats(
    cls: type,
) -> None:
    """The answer of a 90-word sentence sits in its second half, beside the asked-about
    words: the trimmed quote keeps that part, marked as cut at both ends, whether one
    sentence is quoted or the whole passage."""
    filler = " ".join(f"word{i}" for i in range(70))
    long = f"{filler} and the lighthouse keeper was Ada Byron until the harbour closed {filler}."
    hit = Hit(Passage("l", long, "coast.md", "Coast"), 0.9)
    spec = ModelSpec(name=cls.__name__, provider="offline")

    answer = await answer_question(
        Contestant(spec, cls(spec, embedder=Alike)),
        Question("Who was the lighthouse keeper?", [hit]),
    )
    assert "Ada Byron" in answer.text
    assert answer.text.count("…") == 2  # cut at both ends


async def test_handbook_says_when_the_rota_has_no_row_for_this_week(
    handbook: KnowledgeBase,
) -> None:
    """The rota's last week starts 2026-11-30; a week later no row covers "this week"."""
    answer = await ask_handbook(handbook, "Who is on call this week?", today=date(2026, 12, 7))
    assert answer.startswith(
        "Nothing I found is dated within the days asked about (2026-12-07 to 2026-12-13)."
    )
    assert "The latest entry before them is: Week starting: 2026-11-30; Primary: Mei Chen" in answer
    assert answer.count("Week starting") == 1


@pytest.mark.parametrize(
    "question", ["What is the parental leave policy?", "What is the sick leave policy?"]
)
async def test_handbook_refuses_a_question_sharing_only_a_title_word(
    handbook: KnowledgeBase, question: str
) -> None:
    """'policy' names the kind of document the expenses policy is, not its subject."""
    assert await ask_handbook(handbook, question) == NOT_FOUND


@pytest.mark.parametrize(
    ("today", "question"),
    [
        (date(2026, 12, 9), "Who is primary on call this week?"),
        (date(2026, 11, 30), "Who is primary on call next week?"),
    ],
)
async def test_a_dated_list_without_the_asked_days_says_so(today: date, question: str) -> None:
    """The rota ends with the week of 2026-11-30: a later week is not answered with an
    older row, and the answer names the days asked about and quotes the latest row."""
    # the rows of one document, as a CSV file's are
    hits = [Hit(Passage(f"p{n}", row, "rota.csv", "Rota"), 1 / n) for n, row in enumerate(ROTA, 1)]
    prompt = compose(Question(question, hits), today=today)
    for cls in (SentenceAnswerer, PassageAnswerer):
        completion = await contestant(cls).provider.complete(prompt)
        assert completion.text.startswith("Nothing I found is dated within the days asked about")
        assert "Primary: Mei Chen" in completion.text and completion.text.endswith("[5]")
        assert completion.text.count("Week starting") == 1, (cls.__name__, completion.text)


async def test_one_dated_sentence_is_not_a_list_that_lacks_today() -> None:
    """'today' in "What is it called today?" asks about now; a passage's single date is
    a fact about the past, not an entry of a list that stops before today."""
    hit = Hit(
        Passage("r", "The square was renamed Victory Square on 3 May 1999.", "city.md", "City"),
        0.9,
    )
    prompt = compose(Question("What is the square called today?", [hit]), today=date(2026, 12, 7))
    for cls in (SentenceAnswerer, PassageAnswerer):
        spec = ModelSpec(name=cls.__name__, provider="offline")
        completion = await cls(spec, embedder=Alike).complete(prompt)
        assert "renamed Victory Square on 3 May 1999." in completion.text
        assert not completion.text.startswith("Nothing I found")


async def test_a_title_word_alone_weighs_half_in_the_relevance_gate() -> None:
    """Halfway in meaning (0.5) and holding one of three words: enough when the word is
    the passage's own ("travel"), not when it only repeats its document's title
    ("policy" of "Expenses policy")."""
    text = "This policy covers travel and meals bought for work."
    for title, answered in (("Expenses policy", False), ("Handbook", True)):
        hit = Hit(Passage("x", text, "expenses.md", title), 0.9)
        for cls in (SentenceAnswerer, PassageAnswerer):
            spec = ModelSpec(name=cls.__name__, provider="offline")
            answer = await answer_question(
                Contestant(spec, cls(spec, embedder=Halfway)),
                Question("What is the parental leave policy?", [hit]),
            )
            assert (NOT_FOUND not in answer.text) is answered, (title, cls.__name__)


async def test_a_when_question_is_answered_by_the_sentence_that_says_a_time() -> None:
    """Both sentences are about the handover (one writes it as two words); only one says
    when it is."""
    hit = Hit(
        Passage(
            "h",
            "At handover the outgoing engineer writes a note about the handover. "
            "Shifts hand over on Mondays at 10:00 UTC.",
            "on-call.md",
            "On-call",
        ),
        0.9,
    )
    answer = await answer_question(
        sentences_over(Alike), Question("When is the next handover?", [hit])
    )
    assert answer.text.startswith("Shifts hand over on Mondays at 10:00 UTC. [1]")


async def test_a_title_line_above_the_text_is_not_quoted_as_a_sentence() -> None:
    """A plain-text document's title line heads its first paragraph: it names the topic
    every question about it repeats, so quoted it would lead the answer, glued to it."""
    hit = Hit(
        Passage(
            "t",
            "North African Campaign\n\nInformation gleaned via Ultra helped the Allies. "
            "The fighting ended in Tunisia.",
            "campaign.txt",
            "North African Campaign",
        ),
        0.9,
    )
    answer = await answer_question(
        contestant(SentenceAnswerer),
        Question("What helped the Allies in the North African Campaign?", [hit]),
    )
    assert answer.text.startswith("Information gleaned via Ultra helped the Allies. [1]")
    assert "North African Campaign" not in answer.text


async def test_a_name_with_an_initial_is_quoted_whole() -> None:
    hit = Hit(
        Passage(
            "n",
            "Chandler was succeeded by Command Sergeant Major Daniel A. Dailey. "
            "Dailey had served in Iraq.",
            "army.md",
            "Sergeant Major of the Army",
        ),
        0.9,
    )
    answer = await answer_question(
        contestant(SentenceAnswerer), Question("Who succeeded Chandler?", [hit])
    )
    assert answer.text.startswith(
        "Chandler was succeeded by Command Sergeant Major Daniel A. Dailey. [1]"
    )
