"""Topics and audiences of documents and quotes, and the one rule of topic membership."""

from __future__ import annotations

from collections.abc import Iterable

from .database import Database

# Topic membership, one rule for every count and every list (topic page, home tile, search
# facets and filters, CLI, topic packs): a document or quote belongs to a topic when an editor
# chose it, when it is its best-scoring suggestion, or when a further suggestion scores at least
# SECONDARY_TOPIC_MIN (a report that is 16 % about ecology is not an ecology document).
SECONDARY_TOPIC_MIN = 0.30


def member_sql(table: str, col: str, alias: str = "t") -> str:
    """SQL condition on ``alias`` (a row of document_topics or quote_topics): the row makes its
    document/quote a member of the row's topic (see SECONDARY_TOPIC_MIN)."""
    return (
        f"({alias}.origin = 'manual' OR {alias}.score >= {SECONDARY_TOPIC_MIN} OR "
        f"{alias}.score >= (SELECT MAX(m.score) FROM {table} m WHERE m.{col} = {alias}.{col}))"
    )


def member_flag(table: str, col: str, alias: str = "t") -> str:
    """:func:`member_sql` as a column: 1 or 0 on every database (PostgreSQL would say
    true/false)."""
    return f"CASE WHEN {member_sql(table, col, alias)} THEN 1 ELSE 0 END"


def _origin(manual: bool) -> str:
    return "manual" if manual else "auto"


class TopicRepository:
    def __init__(self, db: Database):
        self.db = db

    # -- documents -------------------------------------------------------------------------

    def document_topics(self, doc_id: int) -> list[dict]:
        """Every topic row of a document, best first, each with ``member``: whether the document
        counts under that topic (the rule above); the others are weak suggestions."""
        return self.db.rows(
            f"SELECT topic, score, origin, "
            f"{member_flag('document_topics', 'document_id')} AS member "
            "FROM document_topics t WHERE document_id = :d "
            "ORDER BY score DESC, topic",
            d=doc_id,
        )

    def set_document_topics(
        self, doc_id: int, scored: Iterable[tuple[str, float]], *, manual: bool
    ) -> None:
        """Replace a document's topics (``manual``: an editor chose them; they survive a new
        version)."""
        with self.db.transaction():
            self.db.execute("DELETE FROM document_topics WHERE document_id = :d", {"d": doc_id})
            rows = [
                {"d": doc_id, "t": slug, "s": score, "o": _origin(manual)}
                for slug, score in dict(scored).items()
            ]
            if rows:
                self.db.execute("INSERT INTO document_topics VALUES (:d, :t, :s, :o)", rows)
            self.db.execute(
                "UPDATE documents SET topics_manual = :m WHERE id = :d",
                {"m": int(manual), "d": doc_id},
            )

    def document_ids(self, slug: str, kinds: list[str] | None = None) -> list[int]:
        """Active documents that belong to a topic (the membership rule above)."""
        rows = self.db.rows(
            "SELECT d.id, d.kind FROM documents d WHERE d.status = 'active' AND d.id IN "
            "(SELECT document_id FROM document_topics t WHERE topic = :t AND "
            f"{member_sql('document_topics', 'document_id')}) ORDER BY d.id",
            t=slug,
        )
        return [r["id"] for r in rows if not kinds or r["kind"] in kinds]

    # -- quotes ----------------------------------------------------------------------------

    def quote_topics(self, quote_ids: Iterable[int]) -> dict[int, list[dict]]:
        ids = sorted(set(int(i) for i in quote_ids))
        out: dict[int, list[dict]] = {}
        for i in range(0, len(ids), 500):
            marks = ",".join(str(x) for x in ids[i : i + 500])
            for r in self.db.rows(
                f"SELECT quote_id, topic, score, origin FROM quote_topics "
                f"WHERE quote_id IN ({marks}) ORDER BY score DESC, topic"
            ):
                out.setdefault(r["quote_id"], []).append(
                    {"topic": r["topic"], "score": r["score"], "origin": r["origin"]}
                )
        return out

    def add_quote_topics(
        self, quote_id: int, scored: Iterable[tuple[str, float]], *, manual: bool
    ) -> None:
        rows = [
            {"q": quote_id, "t": slug, "s": score, "o": _origin(manual)} for slug, score in scored
        ]
        if rows:
            self.db.execute(
                "INSERT INTO quote_topics VALUES (:q, :t, :s, :o) ON CONFLICT DO NOTHING", rows
            )

    def set_quote_topics(self, quote_id: int, slugs: Iterable[str]) -> None:
        """An editor's choice of topics for a quote (replaces the suggestions)."""
        with self.db.transaction():
            self.db.execute("DELETE FROM quote_topics WHERE quote_id = :q", {"q": quote_id})
            rows = [{"q": quote_id, "t": slug} for slug in dict.fromkeys(slugs)]
            if rows:
                self.db.execute("INSERT INTO quote_topics VALUES (:q, :t, 1.0, 'manual')", rows)
            self.db.execute("UPDATE quotes SET topics_manual = 1 WHERE id = :q", {"q": quote_id})

    # -- members in bulk (index records) ---------------------------------------------------

    def member_topics(self, table: str, col: str, ids: set[int]) -> dict[int, list[str]]:
        """id → its member topics, best first (``table`` document_topics or quote_topics)."""
        if not ids:
            return {}
        marks = ",".join(str(int(i)) for i in ids)
        out: dict[int, list[str]] = {}
        for r in self.db.rows(
            f"SELECT {col} AS k, topic FROM {table} t WHERE {col} IN ({marks}) "
            f"AND {member_sql(table, col)} ORDER BY score DESC, topic"
        ):
            out.setdefault(r["k"], []).append(r["topic"])
        return out

    # -- audiences -------------------------------------------------------------------------

    def document_audiences(self, doc_id: int) -> list[str]:
        return [
            r["audience"]
            for r in self.db.rows(
                "SELECT audience FROM document_audiences WHERE document_id = :d ORDER BY audience",
                d=doc_id,
            )
        ]

    def set_audiences(self, doc_id: int, audiences: Iterable[str]) -> None:
        with self.db.transaction():
            self.db.execute("DELETE FROM document_audiences WHERE document_id = :d", {"d": doc_id})
            rows = [{"d": doc_id, "a": a} for a in dict.fromkeys(audiences)]
            if rows:
                self.db.execute("INSERT INTO document_audiences VALUES (:d, :a)", rows)

    def audiences_for(self, doc_ids: set[int]) -> dict[int, list[str]]:
        if not doc_ids:
            return {}
        marks = ",".join(str(int(i)) for i in doc_ids)
        out: dict[int, list[str]] = {}
        for r in self.db.rows(
            f"SELECT document_id AS k, audience FROM document_audiences "
            f"WHERE document_id IN ({marks}) ORDER BY audience"
        ):
            out.setdefault(r["k"], []).append(r["audience"])
        return out


__all__ = ["TopicRepository", "SECONDARY_TOPIC_MIN", "member_sql"]
