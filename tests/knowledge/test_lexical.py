"""The lexical index on both engines (SQLite FTS5, PostgreSQL full-text search): stemming,
stopwords, hostile queries, BM25, replace, delete, get, files."""

from __future__ import annotations

import pytest

from knowledge.errors import EmbedderMismatch, IndexStoreError
from knowledge.lexical import FileRecord, compounds, match_expression, query_terms


@pytest.fixture
def index(make_passage, open_lexical):
    ix = open_lexical()
    ix.upsert(
        [
            make_passage("We deployed the payments service twice.", id="deploy"),
            make_passage("Travel expenses need a receipt.", id="expense", title="Expenses"),
            make_passage(
                "Call the secondary after fifteen minutes.",
                id="oncall",
                title="On-call",
                heading_path=("Escalation", "Paging"),
                location="page 2",
            ),
        ]
    )
    return ix


def test_titles_come_biggest_document_first(index, make_passage):
    index.upsert([make_passage("Expense limits are per trip.", id="e2", title="Expenses")])
    assert index.titles(5) == ["Expenses", "A", "On-call"]  # two passages, then by name
    assert index.titles(1) == ["Expenses"]


def ids(results):
    return [i for i, _ in results]


def test_stemming_matches_other_word_forms(index):
    assert ids(index.search("deploying", 5)) == ["deploy"]
    assert ids(index.search("receipts", 5)) == ["expense"]


def test_stopwords_do_not_match_on_their_own(index):
    # "the" and "after" are in two passages; only "minutes" should decide
    assert ids(index.search("the minutes after the", 5)) == ["oncall"]
    assert query_terms("What is the on-call rota?") == ["call", "rota"]


def test_a_compound_asked_as_two_words_finds_it_written_as_one(index, make_passage):
    index.upsert(
        [
            make_passage("The rollback takes ten minutes.", id="rollback"),
            make_passage("Read the oncall runbook first.", id="runbook"),
        ]
    )
    assert ids(index.search("How do I roll back?", 5)) == ["rollback"]
    assert "runbook" in ids(index.search("on-call", 5))
    assert index.scores("roll back", ["rollback", "deploy"]) == {
        "rollback": pytest.approx(index.search("rollback", 1)[0][1]),
        "deploy": 0,
    }


def test_a_compound_asked_as_one_word_finds_its_two_words_side_by_side(index, make_passage):
    index.upsert(
        [
            make_passage("Shifts hand over on Mondays at 10:00 UTC.", id="shifts"),
            make_passage("Hand the laptop over to IT when you leave.", id="laptop"),
            make_passage("Shifts hand over the pager, and over the week hand notes on.", id="both"),
        ]
    )
    found = index.search("When is the handover?", 5)
    assert ids(found) == ["shifts", "both"]  # side by side only; the shorter passage first
    assert found[0][1] > found[1][1] > 0
    assert index.scores("handover", ["shifts", "laptop"]) == {
        "shifts": pytest.approx(found[0][1]),
        "laptop": 0,
    }


def test_compounds_are_spelled_the_other_way_and_other_words_are_left_alone():
    assert compounds("roll back the set-up") == ["rollback", "setup"]
    assert compounds("the handover and the checkout") == ["hand over", "check out"]
    assert compounds("an on-call pre-game") == ["oncall", "pregame"]
    # a stopword or too short a stem before the particle, a particle starting a word, a
    # word ending in "in" or "on", joined numbers
    assert compounds("without the cover, online, protein in season, 15-1") == []
    assert compounds("set it up") == []  # "it" is no verb to join "up" to


def test_query_of_only_stopwords_still_searches(index):
    assert query_terms("the") == ["the"]
    assert "deploy" in ids(index.search("the", 5))


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "NOT OR AND",
        "deploy*",
        "(travel",
        "col:umn",
        "a - b ^ c",
        "NEAR(x y)",
        "'; DROP TABLE",
    ],
)
def test_odd_punctuation_and_operators_never_break_the_query(index, query):
    index.search(query, 5)  # must not raise
    assert '"' not in "".join(query_terms(query))


def test_quotes_are_escaped_in_the_match_expression():
    assert match_expression(['say"hi', "x"]) == '"say""hi" OR "x"'


def test_scores_are_higher_for_better_matches(index, make_passage):
    index.upsert([make_passage("receipt receipt receipt for travel expenses", id="many")])
    results = index.search("travel expenses receipt", 5)
    assert ids(results)[0] == "many"
    assert results[0][1] > results[1][1] > 0


def test_title_and_headings_are_searchable(index):
    assert ids(index.search("escalation paging", 5)) == ["oncall"]


def test_get_returns_whole_passages_and_skips_unknown_ids(index):
    found = index.get(["oncall", "missing"])
    assert set(found) == {"oncall"}
    passage = found["oncall"]
    assert passage.heading_path == ("Escalation", "Paging")
    assert (passage.title, passage.location, passage.source) == ("On-call", "page 2", "/docs/a.md")


def test_upsert_replaces_a_passage_with_the_same_id(index, make_passage):
    index.upsert([make_passage("Rollbacks take five minutes.", id="deploy")])
    assert index.count() == 3
    assert index.search("payments", 5) == []
    assert ids(index.search("rollbacks", 5)) == ["deploy"]


def test_delete_removes_record_and_index_entries(index):
    index.delete(["deploy", "never-existed"])
    assert index.count() == 2
    assert index.search("deployed", 5) == []
    assert index.get(["deploy"]) == {}


def test_replace_file_swaps_a_files_passages_and_records_it(index, make_passage):
    record = FileRecord("/docs/a.md", 10, 1, "sha-1")
    old = [make_passage("Old lunch at noon.", id="o1"), make_passage("Old coffee.", id="o2")]
    assert index.replace_file(record, old) == ["deploy", "expense", "oncall"]
    new = [make_passage("New lunch at one.", id="n1"), make_passage("Old coffee.", id="o2")]
    assert index.replace_file(FileRecord("/docs/a.md", 12, 2, "sha-2"), new) == ["o1"]
    assert set(index.get(["o1", "o2", "n1"])) == {"o2", "n1"}
    assert ids(index.search("lunch", 5)) == ["n1"]
    assert index.files() == {"/docs/a.md": FileRecord("/docs/a.md", 12, 2, "sha-2")}
    index.touch_file(FileRecord("/docs/a.md", 12, 3, "ignored"))
    assert index.files()["/docs/a.md"] == FileRecord("/docs/a.md", 12, 3, "sha-2")
    assert sorted(index.forget_file("/docs/a.md")) == ["n1", "o2"]
    assert index.files() == {} and index.count() == 0


def test_a_failed_file_write_changes_nothing(index, make_passage):
    clash = [make_passage("Twice the same id.", id="x"), make_passage("Again.", id="x")]
    with pytest.raises(IndexStoreError):
        index.replace_file(FileRecord("/docs/a.md", 1, 1, "sha"), clash)
    assert index.count() == 3 and index.files() == {}  # the old passages are all still there


def test_the_embedder_that_built_the_index_is_checked(tmp_path, open_lexical, engine):
    ix = open_lexical(tmp_path / "lexical.db")
    ix.check_embedder("model-a", 384)  # nothing recorded: anything goes, nothing is noted
    ix.check_embedder("model-b", 256, record=True)
    ix.check_embedder("model-b", 256)
    with pytest.raises(EmbedderMismatch, match="built with the embedder model-b") as failure:
        ix.check_embedder("model-a", 384, record=True)
    # says which folder, or which database, to rebuild (never the password)
    expected = str(tmp_path) if engine == "sqlite" else "PostgreSQL (postgresql://postgres@"
    assert expected in str(failure.value)


def test_index_persists_when_reopened(tmp_path, make_passage, open_lexical):
    path = tmp_path / "lexical.db"
    first = open_lexical(path)
    first.upsert([make_passage("Persistent words here.", id="kept")])
    first.close()
    again = open_lexical(path)
    assert ids(again.search("persistent", 5)) == ["kept"]


def test_scores_gives_bm25_of_the_asked_for_passages_that_match(index):
    everything = dict(index.search("receipt minutes deployed", 10))
    asked = index.scores("receipt minutes deployed", ["oncall", "expense", "unknown"])
    assert asked == pytest.approx({k: everything[k] for k in ("oncall", "expense")})
    # a passage the query's words do not match scores 0; an unknown id is left out
    assert index.scores("receipt", ["deploy", "oncall", "gone"]) == {"deploy": 0, "oncall": 0}
    assert index.scores("?!", ["deploy", "gone"]) == {"deploy": 0}  # no words at all
    assert index.scores("receipt", []) == {}


def test_common_words_alone_do_not_make_a_search_score_every_row(
    make_passage, monkeypatch, open_lexical
):
    ix = open_lexical()
    common = [make_passage(f"The service answered request {n}.", id=f"c{n}") for n in range(30)]
    ix.upsert([*common, make_passage("Roll the service back.", id="rollback")])
    query = "service back"
    everything = dict(ix.search(query, 50))
    assert len(everything) == 31  # under the row budget every match is scored

    monkeypatch.setattr("knowledge.lexical.SCORED_ROWS", 5)
    pruned = ix.search(query, 50)
    # only passages holding the rare word are scored, with their full-query score
    assert pruned == [("rollback", pytest.approx(everything["rollback"]))]
    # a query of common words only still scores them, rarest first
    assert len(ix.search("service", 50)) == 31
