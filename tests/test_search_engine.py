"""The search-engine interface (indexer.search): typed records and requests in, plain answers
out; the two segment writers of the Whoosh backend and the PostgreSQL backend giving the same
answers."""

from __future__ import annotations

import json

import pytest
from search_backends import BACKENDS, open_backend
from test_search_golden import RECORDS, rec

from indexer.search import (
    WRITERS,
    IndexRecord,
    SearchEngine,
    SearchFilters,
    SearchRequest,
    is_expensive,
    open_engine,
    search_writer,
)
from indexer.search.engine import Hit, SearchResult
from indexer.search.vocab import Vocabulary
from library.errors import UsageError

QUERIES = [
    ("党", {}),
    ("绿水青山", {}),
    ("奋斗", {"limit": 5}),
    ("奋斗", {"limit": 5, "page": 3}),
    ("江山 人民", {}),
    ('"不忘初心"', {}),
    ("生态 -碳达峰", {}),
    ("习近平", {"kind": "quote"}),
    ("", {"topic": "ecology"}),
    ("新质生产力", {"sort": "date"}),
    ("2024", {}),
    ("5g", {}),
    ("ai", {}),
    ("绿水清山", {}),
    ("十九大", {"year": "2020"}),
    ("人民", {"audience": "进学校"}),
    ("没有这个词语", {}),
]


@pytest.fixture(scope="module")
def vocab():
    return Vocabulary.load(None)


def _build_and_change(e):
    e.rebuild(IndexRecord.from_row(r) for r in RECORDS)
    e.apply(
        [
            IndexRecord.from_row(rec("p:1", "新质生产力换了一段新的文字。", updated=30)),
            IndexRecord.from_row(rec("p:99", "补充的一段：绿水青山与新质生产力。")),
        ],
        ["q:4"],
    )
    return e


@pytest.fixture(scope="module")
def engines(tmp_path_factory, vocab):
    """The golden library built once by each writer, then changed the same way."""
    out = {}
    for w in WRITERS:
        out[w] = _build_and_change(
            open_engine(tmp_path_factory.mktemp(w) / "index", vocab, writer=w)
        )
    yield out
    for e in out.values():
        e.close()


@pytest.fixture(scope="module")
def pg_engine(tmp_path_factory, vocab, request):
    """The same library, built and changed the same way, in PostgreSQL."""
    e = _build_and_change(open_backend("postgres", tmp_path_factory.mktemp("pg"), vocab, request))
    yield e
    e.close()


@pytest.mark.parametrize("q, kw", QUERIES)
def test_both_writers_give_the_same_answers(engines, q, kw):
    bulk, public = (engines[w].search(q, **kw) for w in WRITERS)
    assert bulk == public
    assert bulk["query"] == q


def test_both_writers_agree_on_everything_else(engines):
    bulk, public = (engines[w] for w in WRITERS)
    assert bulk.ids() == public.ids()
    assert "q:4" not in bulk.ids() and "p:99" in bulk.ids()
    assert bulk.more_like_this("q:2") == public.more_like_this("q:2")
    assert bulk.autocomplete("绿水") == public.autocomplete("绿水")
    assert bulk.facets("人民") == public.facets("人民")
    assert bulk.suggest("绿水青山 -生态 kind:qa") == public.suggest("绿水青山 -生态 kind:qa")


@pytest.mark.postgres
@pytest.mark.parametrize("q, kw", QUERIES)
def test_postgres_gives_the_same_answers(engines, pg_engine, q, kw):
    pg, whoosh = pg_engine.search(q, **kw), engines["bulk"].search(q, **kw)
    assert _unscored(pg) == _unscored(whoosh)
    # BM25 statistics after a change: Whoosh counts deleted documents until it merges their
    # segment, PostgreSQL counts the live ones (after a rebuild the scores are equal too)
    assert [h["score"] for h in pg["hits"]] == pytest.approx(
        [h["score"] for h in whoosh["hits"]], rel=0.02
    )


def _unscored(res: dict) -> dict:
    return {**res, "hits": [{k: v for k, v in h.items() if k != "score"} for h in res["hits"]]}


@pytest.mark.postgres
def test_after_a_rebuild_postgres_scores_as_whoosh_does(tmp_path, vocab, request):
    pg = open_backend("postgres", tmp_path / "pg", vocab, request)
    whoosh = open_engine(tmp_path / "whoosh" / "index", vocab)
    try:
        for e in (pg, whoosh):
            e.rebuild(IndexRecord.from_row(r) for r in RECORDS)
        for q, kw in QUERIES:
            assert pg.search(q, **kw) == whoosh.search(q, **kw)
    finally:
        pg.close()
        whoosh.close()


@pytest.mark.postgres
def test_postgres_agrees_on_everything_else(engines, pg_engine):
    bulk = engines["bulk"]
    assert isinstance(pg_engine, SearchEngine)
    assert pg_engine.status() == "ok"
    assert pg_engine.ids() == bulk.ids()
    assert _unscored({"hits": pg_engine.more_like_this("q:2")}) == _unscored(
        {"hits": bulk.more_like_this("q:2")}
    )
    assert pg_engine.autocomplete("绿水") == bulk.autocomplete("绿水")
    assert pg_engine.facets("人民") == bulk.facets("人民")
    assert pg_engine.suggest("绿水青山 -生态 kind:qa") == bulk.suggest("绿水青山 -生态 kind:qa")
    assert pg_engine.highlight("学习十九大精神", "党的十九大") == bulk.highlight(
        "学习十九大精神", "党的十九大"
    )
    for q in ("不忘初心 -美国 topic:生态文明建设", "党 OR 宪法"):
        a, b = pg_engine.explain(q), bulk.explain(q)
        assert {k: v for k, v in a.items() if k != "compiled"} == {
            k: v for k, v in b.items() if k != "compiled"
        }
    # "compiled" is the backend's own plan: PostgreSQL reads every bigram of a segment (their
    # AND, which the GIN index answers alone; adjacency is verified on the stored text), Whoosh
    # the three rarest; for a short segment they are the same
    e = pg_engine.explain("不忘初心")["compiled"]
    assert e["candidates"] == bulk.explain("不忘初心")["compiled"]["candidates"]
    assert "'不忘' & '忘初' & '初心'" in e["tsquery"]


def test_the_whoosh_engine_is_a_search_engine(engines):
    for e in engines.values():
        assert isinstance(e, SearchEngine)


def test_answers_have_the_keys_the_interface_describes(engines):
    res = engines["bulk"].search("绿水青山")
    assert SearchResult.__required_keys__ <= set(res)
    assert res["hits"]
    for hit in res["hits"]:
        assert Hit.__required_keys__ <= set(hit)
        assert set(hit) <= Hit.__required_keys__ | Hit.__optional_keys__


def test_a_typed_request_is_the_keyword_form(engines):
    e = engines["bulk"]
    req = SearchRequest("人民", SearchFilters(kind=("quote",), topic=("xi-thought",)), limit=3)
    assert e.search(req) == e.search("人民", kind="quote", topic="xi-thought", limit=3)
    assert SearchRequest.of("人民", kind=["quote"]).filters == SearchFilters(kind=("quote",))
    with pytest.raises(TypeError):
        e.search(req, limit=5)
    with pytest.raises(TypeError):
        SearchFilters.of(colour="red")


@pytest.mark.parametrize("backend", BACKENDS)
def test_facets_suggest_highlight_delete(tmp_path, vocab, backend, request):
    e = open_backend(backend, tmp_path, vocab, request)
    e.rebuild(RECORDS, procs=1)
    try:
        assert e.facets("人民") == e.search("人民")["facets"]
        assert e.facets("奋斗")["kind"] == {"quote": 23}  # every hit, not one page
        # nothing found: a looser query that does find something
        assert e.search("绿水青山 -就是")["total"] == 0
        assert {"kind": "query", "query": "绿水青山", "total": 1} in e.suggest("绿水青山 -就是")
        # synonyms are highlighted too, the text escaped
        assert (
            e.highlight("学习十九大精神<b>", "党的十九大") == "学习<mark>十九大</mark>精神&lt;b&gt;"
        )
        assert "q:2" in e.ids()
        e.delete(["q:2", "no:such"])
        assert "q:2" not in e.ids()
        assert e.search("金山银山")["total"] == 0
    finally:
        e.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_empty_library_answers_nothing_found_every_time(tmp_path, vocab, backend, request):
    e = open_backend(backend, tmp_path, vocab, request)
    e.apply([], ["p:1"])  # creates the index, empty
    try:
        for _ in range(3):
            res = e.search("人民")
            assert res["total"] == 0 and res["hits"] == [] and res["suggestions"] == []
    finally:
        e.close()


def test_index_records_are_values(tmp_path):
    r = IndexRecord.from_row(
        rec("q:1", "文字", kind="quote", topics=["ecology"], date="2021-07-01")
    )
    assert r.topics == ("ecology",) and r.year == 2021 and r.year_text == "2021"
    with pytest.raises(Exception):
        r.text = "改"  # frozen
    assert IndexRecord.coerce(r) is r
    assert IndexRecord(id="p:1", date="2019-03").year_text == "2019"
    with pytest.raises(TypeError, match="titel"):
        IndexRecord.from_row({"id": "p:1", "titel": "错字"})


def test_is_expensive_takes_the_query_as_typed():
    assert not is_expensive("绿水青山")
    assert is_expensive("的 了 是")
    assert is_expensive("一 二 三 四 五 六 七")


# --- the writer setting -------------------------------------------------------------------


def test_the_writer_comes_from_the_home_settings_and_the_environment(tmp_path, vocab, monkeypatch):
    monkeypatch.delenv("LECTURELIB_SEARCH_WRITER", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    assert open_engine(home / "index", vocab).writer == "bulk"
    (home / "settings.json").write_text(json.dumps({"search_writer": "public"}), "utf-8")
    assert open_engine(home / "index", vocab).writer == "public"
    monkeypatch.setenv("LECTURELIB_SEARCH_WRITER", "bulk")
    assert open_engine(home / "index", vocab).writer == "bulk"
    assert open_engine(home / "index", vocab, writer="public").writer == "public"
    assert search_writer({"search_writer": "bulk"}) == "bulk"
    monkeypatch.setenv("LECTURELIB_SEARCH_WRITER", "fast")
    with pytest.raises(UsageError) as e:
        open_engine(home / "index", vocab)
    assert "LECTURELIB_SEARCH_WRITER" in str(e.value) and "fast" in str(e.value)
    monkeypatch.delenv("LECTURELIB_SEARCH_WRITER")
    (home / "settings.json").write_text(json.dumps({"search_writer": "quick"}), "utf-8")
    with pytest.raises(UsageError, match="quick"):
        open_engine(home / "index", vocab)


def test_a_public_writer_index_is_used_by_the_bulk_writer_and_back(tmp_path, vocab):
    """Switching the setting needs no rebuild: both write the same format."""
    path = tmp_path / "index"
    e = open_engine(path, vocab, writer="public")
    e.rebuild(RECORDS[:10], procs=1)
    e.close()
    e = open_engine(path, vocab, writer="bulk")
    assert e.status() == "ok"
    e.apply(RECORDS[10:], [])
    assert e.ids() == {r["id"] for r in RECORDS}
    e.close()
    e = open_engine(path, vocab, writer="public")
    e.apply([], ["q:1"])
    assert e.search("江山就是人民")["total"] == 0
    assert len(e.ids()) == len(RECORDS) - 1
    e.close()


# --- the backend choice -------------------------------------------------------------------


def test_a_postgresql_database_url_chooses_the_postgresql_backend(tmp_path, vocab, monkeypatch):
    monkeypatch.delenv("LECTURELIB_DATABASE_URL", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    assert type(open_engine(home / "index", vocab)).__name__ == "SearchIndex"  # the default
    url = "postgresql://lib@db.example:5432/lecturelib"
    assert type(open_engine(home / "index", vocab, database_url=url)).__name__ == "PgSearchEngine"
    for given in ("postgresql+psycopg://lib@db/x", "postgres://lib@db/x"):
        e = open_engine(home / "index", vocab, database_url=given)
        assert e.dsn == "postgresql://lib@db/x"
    (home / "settings.json").write_text(json.dumps({"database_url": url}), "utf-8")
    assert type(open_engine(home / "index", vocab)).__name__ == "PgSearchEngine"
    monkeypatch.setenv("LECTURELIB_DATABASE_URL", "sqlite:///" + str(tmp_path / "x.sqlite3"))
    assert type(open_engine(home / "index", vocab)).__name__ == "SearchIndex"
    monkeypatch.setenv("LECTURELIB_DATABASE_URL", url)
    (home / "settings.json").write_text("{}", "utf-8")
    assert open_engine(home / "index", vocab).dsn == url


@pytest.mark.postgres
def test_postgres_index_goes_stale_with_the_vocabulary_and_comes_back(tmp_path, request):
    vocab = Vocabulary.load(tmp_path)
    e = open_backend("postgres", tmp_path, vocab, request)
    assert e.status() == "missing"
    e.rebuild(RECORDS[:5], procs=2)
    assert e.status() == "ok" and len(e.ids()) == 5
    other = open_engine(tmp_path / "index", Vocabulary.load(tmp_path), database_url=e.dsn)
    assert other.search("江山")["total"] == 1  # another node sees the same index
    vocab.add_terms(["金山银山就是"])
    assert e.status() == "stale"
    with pytest.raises(Exception, match="过期"):
        e.search("江山")
    e.rebuild(RECORDS, procs=1)
    assert e.status() == "ok" and len(e.ids()) == len(RECORDS)
    e.close()
    other.close()


@pytest.mark.postgres
def test_postgres_search_within_a_tiny_budget_is_partial_not_an_error(tmp_path, vocab, request):
    e = open_backend("postgres", tmp_path, vocab, request)
    e.rebuild(RECORDS, procs=1)
    res = e.search("的 一 是 人 国 大", budget_s=1e-6)
    assert res["partial"] is True and any("时限" in n for n in res["notices"])
    e.close()
