"""What ``mutation_sweep.py`` mutates, area by area, and the test files that guard it."""

from __future__ import annotations

# area -> (modules with the functions mutated, or None for the whole module; test files)
AREAS: dict[str, tuple[dict[str, list[str] | None], list[str]]] = {
    "service": (
        {"bot/service.py": ["ask", "_pick", "_reply", "vote", "thumb", "leaderboard"]},
        [
            "tests/bot/test_service.py",
            "tests/bot/test_vote_rules.py",
            "tests/bot/test_service_leaderboard.py",
        ],
    ),
    "votes": (
        {
            "arena/votes.py": None,
            "arena/vote_counts.py": [
                "PairCount",
                "pair_counts",
                "_counted_votes",
                "left_out_counts",
            ],
        },
        [
            "tests/arena/test_votes.py",
            "tests/bot/test_vote_rules.py",
        ],
    ),
    "ratings": (
        {
            "arena/elo.py": None,
            "arena/leaderboard.py": [
                "LeaderboardRow",
                "Leaderboard",
                "build_board",
                "board_fit",
                "leaderboard_rows",
                "_unrated",
                "_ties_halved",
                "thumbs_up_rate",
            ],
            "arena/pair_table.py": ["from_counts", "ties_as_half_wins", "battles", "per_model"],
            "arena/ratings.py": [
                "fit_bradley_terry",
                "_centred",
                "normal_intervals",
                "rank_upper_bounds",
            ],
        },
        [
            "tests/arena/test_ratings.py",
            "tests/arena/test_leaderboard.py",
        ],
    ),
    "judge": (
        {
            "arena/judge/audit.py": [
                "_mean",
                "_beside",
                "graded_nothing",
                "_per_model",
                "_worst",
                "_thumbs",
                "run_audit",
                "_report",
            ],
            "arena/judge/grades.py": None,
            "arena/judge/support.py": ["SupportCheck", "_claim", "_sentence", "support_check"],
        },
        [
            "tests/arena/judge/test_audit.py",
            "tests/arena/judge/test_grades.py",
            "tests/arena/judge/test_support.py",
        ],
    ),
    "adapters": (
        {
            "bot/slack/clicks.py": ["_where", "vote", "thumb"],
            "bot/discord/views.py": ["location", "VoteButton", "ThumbButton"],
        },
        ["tests/bot/slack/test_feedback.py", "tests/bot/discord/test_votes.py"],
    ),
    "store": (
        {
            "arena/store.py": [
                "record_battle",
                "record_vote",
                "record_thumb",
                "battle_place",
                "votes_stored",
                "thumb_reasons",
            ],
            "arena/vote_counts.py": ["elo_ratings", "_elo_battles", "thumb_counts", "style_rows"],
        },
        [
            "tests/arena/test_store.py",
            "tests/arena/test_votes.py",
            "tests/arena/test_ratings.py",
            "tests/bot/test_vote_rules.py",
        ],
    ),
    "support": (
        {"arena/judge/support.py": None},
        ["tests/arena/judge/test_support.py", "tests/arena/judge/test_stance.py"],
    ),
}
