"""The throwaway PostgreSQL cluster the PostgreSQL-marked tests run against is a real server."""

import pytest

pytestmark = pytest.mark.postgres


def test_fresh_database_is_a_real_server_with_tsvector_and_gin(pg_url):
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()[0]
        assert int(version) >= 150000
        conn.execute("CREATE TABLE t (body text, tsv tsvector)")
        conn.execute("CREATE INDEX t_tsv ON t USING gin (tsv)")
        conn.execute("INSERT INTO t VALUES ('绿水青山', to_tsvector('simple', '绿水 水青 青山'))")
        hit = conn.execute(
            "SELECT body FROM t WHERE tsv @@ to_tsquery('simple', '绿水 <-> 水青')"
        ).fetchone()
        assert hit == ("绿水青山",)


def test_each_test_gets_its_own_empty_database(pg_url):
    import psycopg

    with psycopg.connect(pg_url) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()[0]
    assert tables == 0
