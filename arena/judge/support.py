"""The support check: which of an answer's claims its passages support, contradict, or
leave unverifiable, and how faithful that makes the answer.

Each claim (``arena.judge.claims``) is matched to the passage sentence that shares the
most of its content words. It is *contradicted* when that sentence lines up with it (it
holds at least ``ALIGNED`` of the claim's words) and fills the same slot differently:
another number or name, a negation the other lacks, an opposite ("rose" for "fell"). It
is *supported* when the passages hold at least ``SUPPORTED`` of its content words and
every number and name it states; otherwise *unverifiable* (not in the passages, which is
not the same as false: a true remark of general knowledge is unverifiable too).

The answer's support value orders contradictions first and the unverifiable share
second: ``1 - missing / (words + PRIOR_WORDS)``, less one for any contradiction. The
share is counted in the claims' content words, each word the passages never use
weighing a quarter more (function words too: "I", "my", "you" mark talk about the
speaker), with ``PRIOR_WORDS`` supported words assumed, so one stray word in a short
answer is not half of it, while a paragraph of invented detail weighs more than one
invented word. An opinion or the speaker's own experience (``arena.judge.stance``) is
not a claim and never flagged, but its words weigh in the value as any claim's do:
what the passages do not hold is not attributable to them (BEGIN's annotators, too,
call a response with a personal opinion not fully attributable). An answer with no
words to weigh at all (a question back, a greeting) is worth ``NOTHING_CLAIMED``:
below an answer whose claims the passages support, since attributable means conveying
something the passages support, yet above a contradiction and above most answers
whose words the passages do not hold. The constants were tuned on BEGIN's
Wizard of Wikipedia dev set and half of the HaluEval dialogue pairs, and confirmed on
BEGIN CMU-DoG and Topical-Chat, the other HaluEval half and the canaries
(``scripts/bench_judge.py``, docs/benchmarks.md).

A live flag marks a sentence that is contradicted, or unverifiable because it states a
number or a name the passages never do. A sentence whose words are merely not in the
passages is unverifiable but not flagged: human chat turns and hosted models' answers
are full of true general remarks, and a flag on every one of them would be ignored.

Everything here is lexical, pure and thread-safe: the embedder was measured at ~11 ms a
sentence on two cores, more than a live answer's whole budget. What it cannot see: a
paraphrase in other words reads as unverifiable; a claim that reuses the passages' words
in a new relation ("A wrote B" for "B wrote A"), or swaps one common noun ("director"
for "manager") among many words the passages hold, reads as supported.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Literal

from arena.citations import MARKER
from knowledge.chunking import split_sentences
from knowledge.lexical import STOPWORDS

from .claims import Sentence, clauses_of, is_claim, sentences_of
from .facts import WORD, content_words, names_in, negations_in, numbers_in
from .stance import is_stance, without_lead_in

__all__ = [
    "MAX_ANSWER_WORDS",
    "NOTHING_CLAIMED",
    "ClaimSupport",
    "SentenceSupport",
    "Support",
    "SupportCheck",
    "check_support",
    "support_check",
]

Support = Literal["supported", "contradicted", "unverifiable", "not_a_claim"]
SUPPORTED = 0.6  # share of a claim's content words the passages must hold
ALIGNED = 0.5  # share of a claim's words a sentence must hold to be about the same thing
CLAUSE_HELD = 0.8  # share of a passage clause's words a claim must hold for its negation
PRIOR_WORDS = 16.0  # supported words assumed before the answer's own are counted
NOTHING_CLAIMED = 0.8  # the value of an answer that states nothing the passages could hold
UNUSED_WEIGHT = 0.25  # extra weight of any word the passages never use ("I", "you" too)
MAX_ANSWER_WORDS = 20_000  # longer answers are not checked (unmeasured, with the reason)
MAX_PASSAGE_SENTENCES = 3_000  # sentences of the passages looked at, in order
# Telling another language: a script beyond Latin, or more of these function words of
# other European languages than of English ones (most English prose has over 15%)
FUNCTION_SHARE = 0.15
MIN_LANGUAGE_WORDS = 8  # fewer words say too little about their language
MIN_LANGUAGE_LETTERS = 20
LATIN_END = 0x24F  # the last code point of Latin Extended-B
FOREIGN_FUNCTION_WORDS = frozenset(
    "der die das und ist nicht ein eine mit von zu den dem des sich auch "  # noqa: SIM905
    "le la les et est une des du pas pour dans qui que sur avec "
    "el los las es por una con para del lo como pero "
    "il di che della per sono non gli "
    "het een van en zijn niet dat op te "
    "och att det som är på för".split()
)
_SEVERITY = {"not_a_claim": 0, "supported": 1, "unverifiable": 2, "contradicted": 3}
# opposites: a claim with one of these lined up with a sentence holding its partner
_OPPOSITES = [
    ("increase", "decrease"),
    ("increased", "decreased"),
    ("rose", "fell"),
    ("rise", "fall"),
    ("more", "less"),
    ("higher", "lower"),
    ("above", "below"),
    ("before", "after"),
    ("first", "last"),
    ("earliest", "latest"),
    ("minimum", "maximum"),
    ("won", "lost"),
    ("win", "lose"),
    ("open", "closed"),
    ("allowed", "forbidden"),
    ("allowed", "prohibited"),
    ("required", "optional"),
    ("mandatory", "optional"),
    ("include", "exclude"),
    ("includes", "excludes"),
    ("always", "never"),
    ("largest", "smallest"),
    ("most", "least"),
    ("true", "false"),
    ("enabled", "disabled"),
    ("approved", "rejected"),
    ("public", "private"),
    ("internal", "external"),
]
OPPOSITE = {a: b for a, b in _OPPOSITES} | {b: a for a, b in _OPPOSITES}


@dataclass(frozen=True)
class ClaimSupport:
    """One claim's verdict; ``passage_index`` is 0-based into the passages, or None."""

    text: str
    support: Support
    passage_index: int | None
    reason: str
    words: int  # content words: the claim's weight
    missing: float  # weighted words the passages do not hold
    unstated: tuple[str, ...] = ()  # numbers and names it states that the passages never do
    stance: bool = False  # an opinion or courtesy: weighs in the value, is not a claim


@dataclass(frozen=True)
class SentenceSupport:
    """One sentence of the answer as a live flag shows it: the worst verdict of its
    claims ("not_a_claim" for a question, greeting, hedge, opinion or courtesy), where
    it stands in the answer (``start``, ``end``) and the passage its claims matched
    best. An opinion keeps its words' verdicts in ``claims``, marked ``stance`` (they
    weigh in the value) though it is not a claim."""

    text: str
    support: Support
    passage_index: int | None
    start: int
    end: int
    claims: tuple[ClaimSupport, ...] = ()

    @property
    def flagged(self) -> bool:
        """Whether a live flag marks it: contradicted, or unverifiable for a number or
        name the passages never state (never a sentence that is not a claim)."""
        if self.support == "contradicted":
            return True
        return self.support == "unverifiable" and any(
            c.unstated for c in self.claims if c.support == "unverifiable"
        )

    def as_dict(self) -> dict[str, object]:
        """The ``ask --json`` shape: ``passage`` is the source's number as shown ([1] first)."""
        number = None if self.passage_index is None else self.passage_index + 1
        return {
            "text": self.text,
            "support": self.support,
            "passage": number,
            "flagged": self.flagged,
        }


@dataclass(frozen=True)
class SupportCheck:
    """The whole answer's check: its sentences, or why it could not be checked."""

    sentences: list[SentenceSupport] = field(default_factory=list)
    unmeasured: str | None = None

    @property
    def claims(self) -> list[ClaimSupport]:
        """What the answer claims (opinions and courtesies left out)."""
        return [c for s in self.sentences for c in s.claims if not c.stance]

    def of(self, support: Support) -> list[ClaimSupport]:
        return [c for c in self.claims if c.support == support]

    @property
    def value(self) -> float | None:
        """1 for an answer whose every claim is supported, lower for each word the
        passages do not hold (an opinion's too), ``NOTHING_CLAIMED`` for an answer with
        no words to weigh (a question, a greeting), below 0 with any contradiction;
        None when unmeasured."""
        if self.unmeasured is not None:
            return None
        weighed = [c for s in self.sentences for c in s.claims]
        if not weighed:
            return NOTHING_CLAIMED
        words = sum(c.words for c in weighed)
        share = 1.0 - sum(c.missing for c in weighed) / (words + PRIOR_WORDS)
        return share - 1.0 if self.of("contradicted") else share

    def as_dict(self) -> dict[str, object]:
        """What a grade keeps of the check: the value, the flagged share, each sentence."""
        value = self.value
        return {
            "unmeasured": self.unmeasured,
            "value": None if value is None else round(value, 4),
            "flagged_share": self.flagged_share,
            "sentences": [s.as_dict() for s in self.sentences],
        }

    @property
    def flagged_share(self) -> float | None:
        """The share of the answer's claim sentences a live flag marks."""
        stated = [s for s in self.sentences if s.support != "not_a_claim"]
        if self.unmeasured is not None or not stated:
            return None
        return sum(s.flagged for s in stated) / len(stated)


@dataclass(frozen=True)
class _PassageSentence:
    passage: int  # 0-based index of the passage it is in
    terms: frozenset[str]
    numbers: frozenset[str]
    names: frozenset[str]
    clauses: tuple[tuple[frozenset[str], int], ...]  # each clause's terms and negations
    text: str  # lowercased


_CLAUSE_BREAK = re.compile(r"[,;:()]|\b(?:and|but|while|whereas|although|though)\b", re.I)


@dataclass(frozen=True)
class _Context:
    """The passages as the check reads them, prepared once per distinct set."""

    terms: frozenset[str]  # content-word stems and numbers
    words: frozenset[str]  # every word lowercased, function words included
    numbers: frozenset[str]
    stems: frozenset[str]  # every word's stem: a name matches "Norman" in "Normans"
    sentences: tuple[_PassageSentence, ...]
    language: str | None  # "en", "other", or None where it cannot be told


def _terms(text: str) -> set[str]:
    return content_words(text) | numbers_in(text)


def _language(text: str) -> str | None:
    """ "en", "other" or None (too little to tell, or neither: a table, code, names)."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= MIN_LANGUAGE_LETTERS and (
        sum(ord(c) > LATIN_END for c in letters) / len(letters) > 0.5
    ):
        return "other"
    words = [w.lower() for w in WORD.findall(text)]
    if len(words) < MIN_LANGUAGE_WORDS:
        return None
    english = sum(w in STOPWORDS for w in words) / len(words)
    foreign = sum(w in FOREIGN_FUNCTION_WORDS for w in words) / len(words)
    if foreign > max(2 * english, FUNCTION_SHARE):  # "Los Angeles" is no Spanish text
        return "other"
    return "en" if english > FUNCTION_SHARE else None


@lru_cache(maxsize=256)
def _context(passages: tuple[str, ...]) -> _Context:
    sentences = []
    for index, passage in enumerate(passages):
        for sentence in split_sentences(passage):
            if len(sentences) >= MAX_PASSAGE_SENTENCES:
                break
            clauses = _clauses(sentence)
            sentences.append(
                _PassageSentence(
                    index,
                    frozenset(_terms(sentence)),
                    frozenset(numbers_in(sentence)),
                    frozenset(names_in(sentence)),
                    clauses,
                    sentence.lower(),
                )
            )
    text = "\n".join(passages)
    lowered = [w.lower() for w in WORD.findall(text)]
    return _Context(
        terms=frozenset(_terms(text)),
        words=frozenset(lowered),
        numbers=frozenset(numbers_in(text)),
        stems=frozenset(_root(w) for w in lowered),
        sentences=tuple(sentences),
        language=_language(text),
    )


def _clauses(sentence: str) -> tuple[tuple[frozenset[str], int], ...]:
    """Each clause's terms and negations; a clause with no content word ("have not")
    belongs to the one before it."""
    out: list[tuple[frozenset[str], int]] = []
    for clause in _CLAUSE_BREAK.split(sentence):
        terms, negations = frozenset(_terms(clause)), negations_in(clause)
        if out and not terms:
            out[-1] = (out[-1][0], out[-1][1] + negations)
        else:
            out.append((terms, negations))
    return tuple(out)


def _root(word: str) -> str:
    """A word less any possessive, contraction or plural s: "Tesla's" is "tesla",
    "Normans" is "norman"."""
    base = re.split("['’]", word.lower())[0]
    return base[:-1] if len(base) > 3 and base.endswith("s") else base


def _opposed(claim_words: set[str], sentence: str) -> str | None:
    """A word of the claim whose opposite the lined-up sentence says instead."""
    their = set(WORD.findall(sentence))
    for word in claim_words:
        other = OPPOSITE.get(word)
        if other and other in their and word not in their:
            return f"says {word!r} where the passage says {other!r}"
    return None


def _claim(text: str, context: _Context) -> ClaimSupport | None:
    terms = _terms(text)
    if not terms:
        return None
    lowered = [w.lower() for w in WORD.findall(text)]
    best, best_at = 0.0, None
    for at, sentence in enumerate(context.sentences):
        shared = len(terms & sentence.terms) / len(terms)
        if shared > best:
            best, best_at = shared, at
    passage = None if best_at is None else context.sentences[best_at].passage
    missing_terms = terms - context.terms
    unused = sum(w not in context.words for w in lowered)
    missing = len(missing_terms) + UNUSED_WEIGHT * unused
    new_numbers = sorted(numbers_in(text) - context.numbers)
    new_names = sorted(n for n in names_in(text) if _root(n) not in context.stems)

    def verdict(support: Support, reason: str, unstated: tuple[str, ...] = ()) -> ClaimSupport:
        return ClaimSupport(text, support, passage, reason, len(terms), missing, unstated)

    if best_at is not None and best >= ALIGNED:
        matched = context.sentences[best_at]
        source = f"passage {passage + 1}"
        numbers = matched.numbers - numbers_in(text)
        # negations only in the clauses of the sentence that are (nearly) all the claim's
        negations = sum(
            n for words, n in matched.clauses if len(words & terms) >= CLAUSE_HELD * len(words)
        )
        said = without_lead_in(text)
        if new_numbers and numbers:
            shown = ", ".join(sorted(numbers))
            return verdict(
                "contradicted", f"states {', '.join(new_numbers)} where {source} says {shown}"
            )
        if new_names and matched.names - names_in(text) - set(lowered):
            return verdict(
                "contradicted", f"names {', '.join(new_names)} where {source} names another"
            )
        if negations_in(said) % 2 != negations % 2:  # "had not no" negates "had no"
            held = "denies" if negations_in(said) % 2 else "asserts"
            return verdict("contradicted", f"{held} what {source} says the other way")
        opposed = _opposed(set(lowered), matched.text)
        if opposed:
            return verdict("contradicted", f"{opposed} ({source})")
    coverage = 1.0 - len(missing_terms) / len(terms)
    if new_numbers or new_names:
        unstated = (*new_numbers, *new_names)
        return verdict("unverifiable", f"the passages do not state {', '.join(unstated)}", unstated)
    if coverage < SUPPORTED:
        return verdict("unverifiable", f"{coverage:.0%} of its words are in the passages")
    return verdict("supported", f"{coverage:.0%} of its words are in the passages")


def _sentence(sentence: Sentence, context: _Context) -> SentenceSupport:
    if not is_claim(sentence.text):
        return SentenceSupport(sentence.text, "not_a_claim", None, sentence.start, sentence.end)
    claims = []
    for text in clauses_of(sentence.text):
        claim = _claim(text, context)
        if claim is not None:
            claims.append(_as_stance(claim) if is_stance(text) else claim)
    stated = [c for c in claims if not c.stance]
    if not stated:
        return SentenceSupport(
            sentence.text, "not_a_claim", None, sentence.start, sentence.end, tuple(claims)
        )
    worst = max(stated, key=lambda c: _SEVERITY[c.support])
    matched = worst.passage_index
    if matched is None:
        matched = next((c.passage_index for c in stated if c.passage_index is not None), None)
    return SentenceSupport(
        sentence.text, worst.support, matched, sentence.start, sentence.end, tuple(claims)
    )


def _as_stance(claim: ClaimSupport) -> ClaimSupport:
    """An opinion's words as the value weighs them: held or not, never a contradiction
    and never a flag."""
    if claim.support == "contradicted":
        claim = replace(claim, support="unverifiable", reason="an opinion or the speaker's own")
    return replace(claim, stance=True, unstated=())


def _why_unmeasured(answer: str, context: _Context) -> str | None:
    count = len(answer.split())
    if count > MAX_ANSWER_WORDS:
        return f"the answer has {count:,} words; the check reads at most {MAX_ANSWER_WORDS:,}"
    if {_language(answer), context.language} == {"en", "other"}:
        return "the answer and its passages are in different languages"
    return None


def support_check(answer: str, passages: Sequence[str]) -> SupportCheck:
    """Every sentence of ``answer`` held against ``passages`` (pure; safe in any thread).

    Citation markers ("[2]") are left out of the claims' words but kept in the text.
    """
    context = _context(tuple(passages))
    reason = _why_unmeasured(answer, context)
    if reason is not None:
        return SupportCheck(unmeasured=reason)
    sentences = []
    for sentence in sentences_of(answer):
        checked = _sentence(
            Sentence(MARKER.sub("", sentence.text), sentence.start, sentence.end), context
        )
        sentences.append(
            SentenceSupport(
                sentence.text,
                checked.support,
                checked.passage_index,
                sentence.start,
                sentence.end,
                checked.claims,
            )
        )
    return SupportCheck(sentences)


def check_support(answer: str, passages: Sequence[str]) -> list[SentenceSupport]:
    """The live flags: one verdict per sentence of the answer, in order (empty when the
    answer could not be checked; ``support_check`` says why)."""
    return support_check(answer, passages).sentences
