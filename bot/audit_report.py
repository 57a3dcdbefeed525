"""An audit report as text: a one-line summary and the lines under it (a chat thread's
shape), drawn from the report dict ``arena.judge.audit.run_audit`` returns. The CLI
prints it; the Slack and Discord posters post the summary with the details in its thread.
"""

from __future__ import annotations

from arena.judge.audit import graded_nothing

__all__ = ["report_lines"]


def report_lines(report: dict) -> tuple[str, list[str]]:
    """A one-line summary and the details under it, in plain text."""
    if graded_nothing(report):
        return (
            f"Audit by {report['judge']}: nothing new to grade; the last report stays"
            " (`parley audit --report`).",
            [],
        )
    canaries = report.get("canaries")
    verdict = (
        "no canaries"
        if not canaries
        else ("FAILED its canaries" if canaries["flagged"] else "passed its canaries")
        + f" (AUC {canaries['auc']:.2f})"
    )
    summary = (
        f"Audit by {report['judge']}: {report['answers']} answers graded"
        f" ({report['unmeasured']} unmeasured); the judge {verdict};"
        f" {report['wall_s']:.1f} s, ${report['cost_usd']:.4f}."
    )
    details = []
    for model, m in report["models"].items():
        criteria = ", ".join(f"{c} {v:.1f}" for c, v in m["criteria"].items() if v is not None)
        score = "-" if m["score"] is None else f"{m['score']:.0f}"
        legacy = "-" if m["legacy_score"] is None else f"{m['legacy_score']:.0f}"
        details.append(
            f"{model}: score {score} (legacy {legacy}) over {m['answers']} answers; {criteria}"
        )
        details += _support_lines(report["judge"], m.get("support"))
    for w in report["worst"]:
        details.append(
            f"worst: #{w['answer_id']} {w['model']} scored {w['score']:.0f} on {w['question']!r}"
        )
        details += [f"  {c}: {why}" for c, why in w["faults"].items()]
        details += [f"  thumbs down: {reason}" for reason in w["thumbs_down"]]
    if canaries:
        below = ", ".join(f"{k} {v:.0%}" for k, v in sorted(canaries["below"].items()))
        details.append(f"canaries below their real answer: {below}")
    thumbs = report["thumbs"]
    for label in ("up", "down"):
        t = thumbs[label]
        if t["answers"]:
            details.append(f"thumbs {label}: {t['answers']} answers, judge score {t['score']:.0f}")
    agree = thumbs["agreement"]
    if agree["thumbs"]:
        kappa = "-" if agree["kappa"] is None else f"{agree['kappa']:.2f}"
        details.append(
            f"thumbs vs judge: {agree['ratio']:.0%} of {agree['thumbs']} agree, kappa {kappa}"
        )
    votes = report.get("agreement")
    if votes and votes.get("with_ties"):
        with_ties, without = votes["with_ties"], votes["without_ties"]
        details.append(
            f"judge vs votes on {votes['battles']} battles: {_share(with_ties)} with ties,"
            f" {_share(without)} without; {votes['position_flips']} verdicts flipped with"
            " the order (ties)"
        )
    latency = report["latency_ms"]
    if latency["p50"] is not None:
        details.append(f"judge latency p50 {latency['p50']:.0f} ms, max {latency['max']:.0f} ms")
    return summary, details


def _support_lines(judge: str, support: dict | None) -> list[str]:
    """The support check beside the judge: what it flagged, and (beside another judge)
    how often the two disagree on whether an answer is faithful."""
    if not support or support["flagged_share"] is None:
        return []
    line = f"  support check: {support['flagged_share']:.0%} of sentences flagged"
    if judge != "offline" and support["compared"]:
        line += (
            f"; disagrees with {judge} on faithfulness for {support['disagree']} of"
            f" {support['compared']} answers ({support['disagreement']:.0%})"
        )
    return [line]


def _share(figures: dict) -> str:
    ratio, kappa = figures["ratio"], figures["kappa"]
    agree = "-" if ratio is None else f"{ratio:.0%}"
    k = "-" if kappa is None else f"{kappa:.2f}"
    return f"{agree} ({figures['agree']}/{figures['total']}, kappa {k})"
