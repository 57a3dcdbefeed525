"""The support check: each claim supported, contradicted or unverifiable against the
passages it was shown; an answer that adds true general knowledge around a supported
core never grades below one that contradicts; bad input gets a verdict or a reason."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from arena.judge.faithfulness import NOTHING_STATED, judged_faithfulness, unmeasured_faithfulness
from arena.judge.grades import LEVEL_VALUE
from arena.judge.support import MAX_ANSWER_WORDS, NOTHING_CLAIMED, check_support, support_check

HANDBOOK = Path(__file__).parents[3] / "examples" / "handbook"


def section(name: str, heading: str) -> str:
    """One section of a handbook page: the passage an answer would be shown."""
    text = (HANDBOOK / name).read_text(encoding="utf-8")
    start = text.index(heading)
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


PAGING = section("on-call.md", "## Paging")
PAY = section("on-call.md", "## Compensation")
ROLLBACK = section("deploys-and-rollbacks.md", "## Rolling back a deploy")
FREEZE = section("deploys-and-rollbacks.md", "## Deploy freeze")

# (passages, a right answer that adds true general knowledge around a supported core,
#  an answer that contradicts the passages): hand-made from the bundled handbook
ELABORATION_PAIRS = [
    (
        [PAGING],
        "Acknowledge a page within 5 minutes. PagerDuty is a widely used incident alerting"
        " service, and it can reach you by phone call, SMS or push notification.",
        "Acknowledge a page within 15 minutes.",
    ),
    (
        [PAY, PAGING],
        "On-call engineers receive a stipend of 250 EUR per week of on-call. Stipends like"
        " this are common in the industry because on-call work disrupts evenings and sleep.",
        "On-call engineers receive a stipend of 300 EUR per week of on-call.",
    ),
    (
        [ROLLBACK],
        "Run shipit rollback SERVICE --to PREVIOUS_VERSION --env prod; the command redeploys"
        " the last known-good image in about three minutes. Rolling back first limits the"
        " number of users who see errors while you investigate.",
        "The command never redeploys the last known-good image.",
    ),
    (
        [FREEZE],
        "There are no production deploys on Fridays after 15:00 UTC. Many teams freeze"
        " deploys before weekends because fewer people are around to fix problems.",
        "There are production deploys on Fridays after 15:00 UTC.",
    ),
    (
        [FREEZE],
        "Exceptions need approval from the on-call engineer and an engineering manager in"
        " the #deploys channel. A second approver is a common safeguard against mistakes.",
        "Exceptions do not need approval from the on-call engineer.",
    ),
]


@pytest.mark.parametrize(("passages", "elaborated", "contradicting"), ELABORATION_PAIRS)
def test_elaboration_is_never_graded_below_a_contradiction(
    passages, elaborated, contradicting
) -> None:
    right, wrong = support_check(elaborated, passages), support_check(contradicting, passages)
    assert wrong.of("contradicted"), wrong.claims
    assert not right.of("contradicted"), right.of("contradicted")
    assert right.of("supported") and right.of("unverifiable")  # a core, and what it adds
    assert right.value > wrong.value
    right_level, wrong_level = judged_faithfulness(right), judged_faithfulness(wrong)
    assert LEVEL_VALUE[right_level.level] > LEVEL_VALUE[wrong_level.level] == 1


def test_each_verdict_names_its_passage_and_reason() -> None:
    passages = [PAY, PAGING]
    sentences = check_support(
        "The emergency pager number is +1 555 0100. Pages go out through Opsgenie."
        " Shifts pay 250 EUR a week of on-call. Did that help?",
        passages,
    )
    assert [(s.support, s.passage_index) for s in sentences] == [
        ("supported", 1),
        ("contradicted", 1),  # the passage names PagerDuty in that slot
        ("supported", 0),
        ("not_a_claim", None),
    ]
    assert "names opsgenie where passage 2 names another" in sentences[1].claims[0].reason
    assert [s.flagged for s in sentences] == [False, True, False, False]
    assert sentences[0].as_dict() == {
        "text": "The emergency pager number is +1 555 0100.",
        "support": "supported",
        "passage": 2,
        "flagged": False,
    }


def test_contradictions_of_each_kind() -> None:
    passages = [PAGING, "Error rates rose after the March release."]
    reasons = {
        text: support_check(text, passages).claims[0]
        for text in (
            "If the primary does not acknowledge within 20 minutes, the secondary is paged.",
            "Pages do not go out through PagerDuty.",
            "Error rates fell after the March release.",
        )
    }
    assert [c.support for c in reasons.values()] == ["contradicted"] * 3
    reason = [c.reason for c in reasons.values()]
    assert reason[0] == "states 20 where passage 1 says 10, 5"  # the sentence's numbers
    assert reason[1] == "denies what passage 1 says the other way"
    assert reason[2] == "says 'fell' where the passage says 'rose' (passage 2)"


def test_a_sentence_is_as_bad_as_its_worst_claim() -> None:
    """An unverifiable clause before a contradicted one does not hide the contradiction:
    the sentence is flagged as contradicted, pointing at the passage it contradicts."""
    (sentence,) = check_support(
        "Kubernetes restarts crashed pods, and pages do not go out through PagerDuty.", [PAGING]
    )
    assert [c.support for c in sentence.claims] == ["unverifiable", "contradicted"]
    assert (sentence.support, sentence.passage_index) == ("contradicted", 0)


def test_a_negation_in_a_clause_of_its_own_still_denies() -> None:
    """ "..., but they are not" has no content word of its own: its "not" belongs to the
    clause before it, so the passage denies what the claim asserts."""
    (sentence,) = check_support(
        "Contractors are on the on-call rota.",
        ["Contractors are on the on-call rota, but they are not."],
    )
    assert sentence.support == "contradicted"
    assert sentence.claims[0].reason == "asserts what passage 1 says the other way"


def test_a_double_negative_asserts() -> None:
    (sentence,) = check_support(
        "Contractors are never not on the on-call rota.",
        ["Contractors are on the on-call rota, but they are not."],
    )
    assert sentence.claims[0].reason == "asserts what passage 1 says the other way"


def test_a_question_back_to_the_asker_is_no_claim_and_never_flagged() -> None:
    """A sentence that states nothing (a question) gets no verdict, even naming
    something the passages never mention."""
    stated, asked = check_support(
        "Pages go out through PagerDuty. Should I page the secondary on call, and do you want"
        " the Kubernetes runbook too?",
        [PAGING],
    )
    assert (stated.support, asked.support, asked.flagged) == ("supported", "not_a_claim", False)
    assert asked.claims == ()  # not even its first half, which alone reads as a statement


def test_unstated_numbers_come_before_names_in_the_reason() -> None:
    (sentence,) = check_support("The pager waits for Kubernetes 30 seconds first.", [PAGING])
    assert sentence.claims[0].unstated == ("30", "kubernetes")
    assert sentence.claims[0].reason == "the passages do not state 30, kubernetes"


def test_a_name_in_the_plural_or_possessive_is_the_name_the_passage_gives() -> None:
    """ "the Normans" and "Norman's" name the passage's "Norman": nothing unstated."""
    for claim in ("The castle was held by the Normans.", "The castle was Norman's."):
        (sentence,) = check_support(claim, ["The Norman lord held the castle."])
        assert (sentence.support, sentence.claims[0].unstated) == ("supported", ())


def test_a_common_noun_swapped_is_not_seen() -> None:
    """A known limit: "director" for "manager" leaves most of the claim's words in place."""
    (sentence,) = check_support(
        "Exceptions need approval from the on-call engineer and an engineering director.",
        [FREEZE],
    )
    assert sentence.support == "supported"


def test_a_claim_the_passages_do_not_hold_is_unverifiable_and_flagged_when_specific() -> None:
    vague, named, counted = check_support(
        "Kubernetes restarts crashed pods automatically. Crashed pods restart under"
        " Kubernetes. It waits 30 seconds first.",
        [PAGING],
    )
    assert [s.support for s in (vague, named, counted)] == ["unverifiable"] * 3
    # only a number or a name the passages never state raises a flag: a sentence's
    # first word says nothing of a name, and a true general remark is not an alarm
    assert [s.flagged for s in (vague, named, counted)] == [False, True, True]
    assert named.claims[0].unstated == ("kubernetes",)
    assert counted.claims[0].unstated == ("30",)
    assert support_check("Kubernetes restarts crashed pods.", [PAGING]).value < 1


def test_an_answer_that_claims_nothing_ranks_below_support_and_is_not_graded() -> None:
    check = support_check("Thanks! Which service do you mean?", [PAGING])
    assert check.flagged_share is None and not any(s.flagged for s in check.sentences)
    # BEGIN's "attributable" needs the answer to convey something the passages support:
    # stating nothing ranks below a supported answer, and above a contradiction
    supported = support_check("Pages go out through PagerDuty.", [PAGING])
    contradicted = support_check("Pages go out through Opsgenie.", [PAGING])
    assert supported.value > check.value == NOTHING_CLAIMED > contradicted.value
    # its faithfulness is neither Excellent nor unfaithful: unmeasured, with the reason
    assert judged_faithfulness(check) is None
    assert unmeasured_faithfulness(check) == NOTHING_STATED


@pytest.mark.parametrize(
    ("answer", "passages"),
    [
        ("", [PAGING]),
        ("   \n ", [PAGING]),
        ("...!?", [PAGING]),
        ("Pages go out through PagerDuty.", []),
        ("Pages go out through PagerDuty.", ["", "   "]),
        (
            "Pages go out through PagerDuty.",
            ["| Service | Owner | Tier |\n|---|---|---|\n| checkout | payments | 1 |" * 40],
        ),
        (
            "Run shipit rollback to roll back.",
            ["def rollback(service):\n    return shipit(['rollback', service])\n" * 50],
        ),
    ],
)
def test_bad_input_gets_a_verdict_never_an_exception(answer: str, passages: list[str]) -> None:
    check = support_check(answer, passages)
    assert check.unmeasured is None
    for sentence in check.sentences:
        assert sentence.support in ("supported", "contradicted", "unverifiable", "not_a_claim")
    judged = judged_faithfulness(check)
    assert (judged is not None and judged.reason) or (
        unmeasured_faithfulness(check) == NOTHING_STATED and check.value == NOTHING_CLAIMED
    )


def test_another_language_or_a_huge_answer_is_unmeasured_with_a_reason() -> None:
    german = (
        "Die Bereitschaft dauert eine Woche und die Übergabe ist am Montag um 10 Uhr. Der"
        " Notruf ist nicht für das Team, sondern für alle anderen."
    )
    check = support_check("The on-call shift lasts one week and hands over on Mondays.", [german])
    assert check.unmeasured == "the answer and its passages are in different languages"
    assert check.value is None and check.sentences == [] and judged_faithfulness(check) is None
    assert support_check(german, [german]).unmeasured is None  # the same language: checked
    settings = "Port 8080, host db01, login admin, timeout 30s, retries 5, region eu-west."
    assert support_check(settings, [german]).unmeasured is None  # no language: checked
    huge = "Pages go out through PagerDuty. " * (MAX_ANSWER_WORDS // 5 + 1)
    too_long = support_check(huge, [PAGING])
    assert too_long.unmeasured.startswith(f"the answer has {len(huge.split()):,} words")
    assert check_support(huge, [PAGING]) == []


def test_the_check_is_the_same_from_many_threads() -> None:
    answers = [elaborated for _, elaborated, _ in ELABORATION_PAIRS] * 20
    passages = [p for p, _, _ in ELABORATION_PAIRS] * 20
    alone = [support_check(a, p) for a, p in zip(answers, passages, strict=True)]
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(support_check, answers, passages))
    assert together == alone
