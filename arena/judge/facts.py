"""The checkable facts of a text: numbers, names, negations, content words, refusals.

Embedding similarity scores an answer with one swapped number or name about as high as
the right one, and tokenisers that drop stopwords drop "not" with them; these plain
lexical checks are what the offline judge and the canary maker use instead.
"""

from __future__ import annotations

import re

from arena.compose import NOT_FOUND
from knowledge.chunking import split_sentences
from knowledge.lexical import STOPWORDS

__all__ = [
    "NEGATIONS",
    "NUMBER",
    "WORD",
    "content_words",
    "is_refusal",
    "names_in",
    "negations_in",
    "numbers_in",
    "stem",
]

NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w])|\d+")
WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)
NEGATIONS = frozenset(
    "not no never none nobody nothing neither nor cannot without".split()  # noqa: SIM905
)
REFUSALS = re.compile(
    r"\b(could not|couldn't|cannot|can't|unable to|do not|don't) (find|answer|know|tell)"
    r"|\bno (relevant )?information\b|\bnot (mentioned|stated|covered) in\b",
    re.IGNORECASE,
)


def numbers_in(text: str) -> set[str]:
    """Numbers as written, thousands separators dropped ("1,000" and "1000" match)."""
    return {re.sub(r",(?=\d{3}\b)", "", n).rstrip(".,") for n in NUMBER.findall(text)}


def names_in(text: str) -> set[str]:
    """Capitalised words that do not open a sentence, lowercased: the names a text states
    ("I'm" and "He's" are not: a function word with a clitic)."""
    names = set()
    for sentence in split_sentences(text):
        for word in WORD.findall(sentence)[1:]:
            if word[0].isupper() and re.split("['’]", word.lower())[0] not in STOPWORDS:
                names.add(word.lower())
    return names


def negations_in(text: str) -> int:
    """How many negating words a text has ("n't" counts; "not only" adds, not negates)."""
    words = [w.lower() for w in WORD.findall(text)]
    return sum(
        (w in NEGATIONS or w.endswith(("n't", "n’t")))
        and not (w == "not" and words[n + 1 : n + 2] == ["only"])
        for n, w in enumerate(words)
    )


def stem(word: str) -> str:
    """A crude stem (the first six letters), enough to match "defeated" with "defeat"."""
    return word[:6]


def content_words(text: str) -> set[str]:
    """Lowercased words that carry meaning, stemmed; stopwords and negations left out."""
    return {
        stem(w)
        for w in (w.lower() for w in WORD.findall(text))
        if len(w) > 1 and w not in STOPWORDS and w not in NEGATIONS and not w.endswith("n't")
    }


def is_refusal(text: str) -> bool:
    """The answer declines ("I could not find this ...") instead of answering."""
    flat = " ".join(text.split())
    return NOT_FOUND.lower() in flat.lower() or (
        len(flat.split()) <= 25 and REFUSALS.search(flat) is not None
    )
