"""Sentences that speak of the speaker or the listener, not of the world: opinions,
feelings, the speaker's own experience, recommendations and courtesies.

"I agree, I enjoy Pop music in general", "You might like it too", "She's a great
actress!" and "Enjoy!" state nothing a source could support or contradict, so a live
flag never marks them and they contradict nothing (their words still weigh in the
support value: ``arena.judge.support``). A stance still states something when it
carries a number ("I paid 40 EUR") or a name in a relation ("I loved him in Takers"
says he was in Takers): such a sentence stays a claim; a taste for something named,
with nothing said of it ("I enjoy Pop music"), does not.

Three shapes are stances, once an opening interjection ("Oh yes,", "Haha, well") and a
reporting verb ("I think he ...", "I can confirm the ...": what follows is claimed) are
set aside:

- the speaker is the subject: "I played in high school", "I'm not too familiar with it";
- a recommendation to the listener: "You may also like it", "If you like thrillers,
  you will like it", "Enjoy!";
- an evaluation with nothing else in it: at least one word of taste ("great",
  "talented", "favorite") and at most one other content word ("She's a great
  actress", "The team is good"); "It is a drama and crime movie" is a claim.
"""

from __future__ import annotations

import re

from knowledge.lexical import STOPWORDS

from .facts import WORD, names_in, numbers_in

__all__ = ["is_stance", "without_lead_in"]

# What a claim opens with that is not part of what it claims: an interjection, a hedge
# or a source ("yes, ...", "I'm not sure, but ...", "I heard that ..."); its "not" would
# otherwise read as a negation of the claim.
_LEAD_IN = re.compile(
    r"^(?:(?:yes|yeah|yep|no|nope|well|oh|ah|so|actually|honestly|haha|lol|sure|ok|okay"
    r"|not really|not sure|i ?'?m not sure|i am not sure|i don'?t know|i do not know|i think"
    r"|i believe|i guess|i suppose|i heard|i know|i read|i recall|maybe|perhaps|probably)"
    # each followed by "that", a mark or "but": "No significant change" keeps its "No"
    r"(?:\s+that\b|\s*[,!.;:-]+|\s+but\b)(?:\s*but\b|\s*and\b)?[\s,]*)+",
    re.I,
)

_OPENER = re.compile(
    r"^(?:(?:yes|yeah|yep|yup|no|nope|oh|ah|aw|well|haha|hahaha|lol|wow|omg|oh my gosh"
    r"|i agree|me too|i see"
    r"|sure|ok|okay|great|cool|awesome|nice|so|and|but|also|actually|honestly|really"
    r"|then|of course|true|right|hmm|hm|ha|agreed|exactly|definitely|absolutely)\b"
    r"[\s,!.;:-]*)+",
    re.I,
)
# "I think he ...", "I can confirm the ...": what follows the reporting verb is what the
# sentence claims
_REPORTED = re.compile(
    r"^i\s+(?:(?:just|really|do|also|can|could|would|'d|’d)\s+)*(?:think|believe|guess"
    r"|suppose|heard|hear|read|recall|remember|feel|bet|know|confirm|found|find|see|saw"
    r"|noticed|notice|understand|checked|learned|learnt|say)\s+(?:that\s+)?(?=\S)",
    re.I,
)
_SPEAKER = re.compile(r"^(?:i|i'm|i’m|im|i've|ive|i'd|i'll|me|my|myself)\b", re.I)
_RECOMMENDATION = re.compile(
    r"^(?:(?:then|so|if you [^,]{1,60},?)\s*)?you(?:'d|'ll|’d|’ll| would| will| might"
    r"| may| could| should| must| can)?\s+(?:(?:also|really|definitely|probably|likely"
    r"|surely|totally|too)\s+)*(?:like|love|enjoy|want|check|try|watch|read|see|listen"
    r"|consider|appreciate)\b"
    r"|^(?:enjoy|have fun|check it out|give it a (?:try|shot|look)|try it)\b",
    re.I,
)
# words of taste and the adverbs that go with them
_TASTE = frozenset(
    """
    good great awesome amazing wonderful excellent fantastic nice cool fun funny hilarious
    interesting boring bad terrible awful horrible favorite favourite favorites favourites
    best worst talented gifted beautiful lovely brilliant incredible enjoyable entertaining
    exciting intense scary creepy sad cute sweet pretty really quite kind kinda sort sorta
    highly recommended recommend must classic underrated overrated impressive perfect
    love loved like liked enjoy enjoyed hate hated fan fans glad happy sorry sure familiar
    definitely totally absolutely alright okay fine ok wow lol haha yes yeah agree agreed
    true right super huge big little much many lot lots bit thing things stuff one ones
    gets get got seems seem sounds sound looks look always sometimes still ever even
    """.split()  # noqa: SIM905
)
_TASTE_OF = re.compile(
    r"^i\s+(?:(?:really|also|just|too|do|still|totally|absolutely|generally)\s+)*"
    r"(?:enjoy|like|love|prefer|adore|hate|dislike|am (?:a |not a )?(?:huge |big )?fan of"
    r"|'m (?:a |not a )?(?:huge |big )?fan of)\s+",
    re.I,
)
_RELATION = re.compile(
    r"\b(?:in|by|with|from|starring|star|stars|starred|written|wrote|directed|as|on|who"
    r"|which|that|was|is|were|are|has|had|have|when|where|because|since|about|of)\b(?! general\b)",
    re.I,
)
MAX_OTHER_WORDS = 1  # content words beside the taste words an evaluation may hold


def _bare(text: str) -> str:
    """The sentence less an opening interjection and a reporting verb."""
    text = _OPENER.sub("", without_lead_in(text.strip()))
    return _REPORTED.sub("", text)


def _words(text: str) -> list[str]:
    """Lower-cased words with a clitic ("'s", "n't") dropped: "she's" is "she"."""
    words = []
    for word in WORD.findall(text):
        base = re.sub(r"(?:['’](?:s|m|re|ve|d|ll|t)|n['’]t)$", "", word.lower())
        words.append(base)
    return words


def _evaluation(text: str) -> bool:
    content = [w for w in _words(text) if w not in STOPWORDS and len(w) > 1]
    taste = [w for w in content if w in _TASTE]
    return bool(taste) and len(content) - len(taste) <= MAX_OTHER_WORDS


def is_stance(sentence: str) -> bool:
    """Whether the sentence speaks of the speaker or the listener and states no number
    or name: an opinion, a feeling, the speaker's experience, a recommendation."""
    if numbers_in(sentence):
        return False
    bare = _bare(sentence)
    if _TASTE_OF.match(bare) and not _RELATION.search(_TASTE_OF.sub("", bare)):
        return True  # "I enjoy Pop music": a taste, whatever it names
    if names_in(bare):
        return False
    return bool(_SPEAKER.match(bare) or _RECOMMENDATION.match(bare) or _evaluation(bare))


def without_lead_in(claim: str) -> str:
    """The claim less an opening interjection, hedge or source ("I'm not sure, but")."""
    return _LEAD_IN.sub("", claim) or claim
