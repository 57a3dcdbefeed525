"""Audits and the judge's leaderboard columns through the service, the only door."""

from __future__ import annotations

from arena.store import Store
from bot.cli.leaderboard_table import board_table
from bot.cli.votes import board_json
from bot.service import Ask
from tests.fakes.providers import fake, roster
from tests.fakes.service import service_over_fakes


async def test_audit_then_leaderboard_with_judge_columns(store: Store, real_embedder) -> None:
    svc = service_over_fakes(
        store,
        roster(
            fake("alpha", *["Run shipit rollback to roll back [1]."] * 3),
            fake("beta", *["Call Bob on 555-0199 to roll back [1]."] * 3),
        ),
        battle_share=1.0,
        seed=7,
    )
    for user in ("ana", "bo", "cy"):
        reply = await svc.ask(Ask("How do I roll back?", user, "eng", None, "slack"))
        winner = "a" if reply.answers[0].answer.model == "alpha" else "b"
        await svc.vote(reply.battle_id, user, winner, platform="slack", channel="eng")
        if user == "ana":  # and thumbs, as people give them
            for shown in reply.answers:
                liked = shown.answer.model == "alpha"
                await svc.thumb(shown.answer_id, user, 1 if liked else -1, None if liked else "odd")
    assert await svc.latest_audit() is None
    report = await svc.audit(sample=10)
    assert report["judge"] == "offline" and report["answers"] == 6
    assert report["models"]["alpha"]["score"] > report["models"]["beta"]["score"]
    votes = report["agreement"]
    assert votes["battles"] == 3 and votes["without_ties"]["agree"] == 3
    assert report["thumbs"]["agreement"] == {"thumbs": 2, "ratio": 1.0, "kappa": 1.0}
    assert report["worst"][0]["thumbs_down"] == ["odd"]
    assert await svc.latest_audit() == report

    board = await svc.leaderboard(judge=True)
    assert board.rows[0].model == "alpha"  # the human score, as before
    # beta's invented number is in no passage (unverifiable, not contradicted): Bad, 40
    assert board.judged["alpha"].graded == 3 and board.judged["beta"].score == 40
    # the share of sentences the support check flagged, kept for the --judge columns
    assert board.judged["alpha"].flagged_share == 0.0
    assert board.judged["beta"].flagged_share == 1.0
    text = board_table(board.leaderboard, width=200, judged=board.judged)
    assert "Judge legacy" in text and "Graded" in text
    cells = [line.split() for line in text.splitlines()[2:4]]
    flagged = {cell[1].rstrip("*"): cell[-3] for cell in cells}  # before legacy and graded
    assert flagged == {"alpha": "0%", "beta": "100%"}
    judged = {line["model"]: line["judge"] for line in board_json(board)}
    assert (judged["alpha"]["flagged_share"], judged["beta"]["flagged_share"]) == (0.0, 1.0)
    assert (await svc.leaderboard()).judged is None
