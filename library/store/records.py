"""What the search index is derived from: one record per searchable unit (a passage of a
current version, a quote cited by one), as the dicts the engine indexes."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from .database import Database
from .quotes import QuoteRepository
from .topics import TopicRepository


def _year(date: str | None) -> int | None:
    if date and len(date) >= 4 and date[:4].isdigit():
        return int(date[:4])
    return None


class IndexRecords:
    def __init__(self, db: Database, topics: TopicRepository, quotes: QuoteRepository):
        self.db = db
        self.topics = topics
        self.quotes = quotes

    def ids(self) -> set[str]:
        """Ids of every unit that should be searchable now."""
        ids = {
            f"p:{r['id']}"
            for r in self.db.rows(
                "SELECT p.id FROM passages p JOIN documents d ON d.current_version_id = p.version_id "
                "WHERE d.status = 'active'"
            )
        }
        ids |= {f"q:{q}" for q in self.quotes.visible_ids()}
        return ids

    def records(self, ids: Iterable[str] | None = None, *, batch: int = 500) -> Iterator[dict]:
        """Index records for the given ids, or for everything searchable. Ids that are not
        searchable any more (trashed, superseded, deleted) are simply absent."""
        if ids is None:
            pids = None
            qids = None
        else:
            ids = list(ids)
            pids = [int(i[2:]) for i in ids if i.startswith("p:")]
            qids = [int(i[2:]) for i in ids if i.startswith("q:")]
        yield from self._passage_records(pids, batch)
        yield from self._quote_records(qids, batch)

    def quote_ids_in_topic(self, slug: str) -> list[int]:
        """Visible quotes that belong to a topic: exactly the quote records the search index
        files under it (their own topics, else their document's)."""
        return [int(r["id"][2:]) for r in self._quote_records(None, 500) if slug in r["topics"]]

    def _batches(self, base: str, ids: list[int] | None, batch: int) -> Iterator[list[dict]]:
        """Rows of ``base`` in id order, ``batch`` at a time (keyset paging keeps memory flat)."""
        if ids is None:
            last = 0
            while True:
                rows = self.db.rows(
                    base + "AND x.id > :last ORDER BY x.id LIMIT :lim", last=last, lim=batch
                )
                if not rows:
                    return
                yield rows
                last = rows[-1]["id"]
        else:
            for i in range(0, len(ids), batch):
                marks = ",".join(str(int(x)) for x in ids[i : i + batch])
                rows = self.db.rows(base + f"AND x.id IN ({marks}) ORDER BY x.id")
                if rows:
                    yield rows

    def _passage_records(self, ids: list[int] | None, batch: int) -> Iterator[dict]:
        if ids is not None and not ids:
            return
        base = (
            "SELECT x.*, d.id AS document_id, d.title AS document_title, d.kind AS doc_kind, "
            "d.date AS doc_date, d.updated_at, v.filename FROM passages x "
            "JOIN documents d ON d.current_version_id = x.version_id "
            "JOIN versions v ON v.id = x.version_id WHERE d.status = 'active' "
        )
        for rows in self._batches(base, ids, batch):
            doc_ids = {r["document_id"] for r in rows}
            topics = self.topics.member_topics("document_topics", "document_id", doc_ids)
            auds = self.topics.audiences_for(doc_ids)
            for r in rows:
                yield {
                    "id": f"p:{r['id']}",
                    "kind": "qa" if r["kind"] == "qa" else "passage",
                    "text": r["text"],
                    "question": r["question"],
                    "heading": " › ".join(json.loads(r["heading_path"])),
                    "source": "",
                    "speaker": "",
                    "date": r["doc_date"],
                    "year": _year(r["doc_date"]),
                    "topics": topics.get(r["document_id"], []),
                    "audiences": auds.get(r["document_id"], []),
                    "doc_kind": r["doc_kind"],
                    "document_id": r["document_id"],
                    "document_title": r["document_title"],
                    "filename": r["filename"],
                    "page": r["page"],
                    "updated": r["updated_at"],
                    "seq": r["seq"],
                    "start": r["start_s"],
                    "end": r["end_s"],
                }

    def _quote_records(self, ids: list[int] | None, batch: int) -> Iterator[dict]:
        if ids is not None and not ids:
            return
        # the first current occurrence gives the document a quote hit links to
        base = (
            "SELECT x.*, o.page, o.seq AS occ_seq, o.theme AS occ_theme, d.id AS document_id, "
            "d.title AS document_title, d.kind AS doc_kind, v.filename, v.id AS version_id "
            "FROM quotes x JOIN occurrences o ON o.id = (SELECT o2.id FROM occurrences o2 "
            "JOIN documents d2 ON d2.current_version_id = o2.version_id "
            "WHERE o2.quote_id = x.id AND d2.status = 'active' ORDER BY o2.id LIMIT 1) "
            "JOIN versions v ON v.id = o.version_id JOIN documents d ON d.id = v.document_id "
            "WHERE 1 = 1 "
        )
        for rows in self._batches(base, ids, batch):
            qtopics = self.topics.member_topics("quote_topics", "quote_id", {r["id"] for r in rows})
            doc_ids = {r["document_id"] for r in rows}
            dtopics = self.topics.member_topics("document_topics", "document_id", doc_ids)
            auds = self.topics.audiences_for(doc_ids)
            spoken = self._spoken_at(rows)
            for r in rows:
                start, end = spoken.get(r["id"], (None, None))
                yield {
                    "id": f"q:{r['id']}",
                    "kind": "quote",
                    "text": r["text"],
                    "question": None,
                    # the heading where the linked document has it (the quote's own theme may
                    # come from another document that cites it)
                    "heading": r["occ_theme"] or "",
                    "source": r["source"] or "",
                    "speaker": r["speaker"] or "",
                    "date": r["date"],
                    "year": _year(r["date"]),
                    "topics": qtopics.get(r["id"]) or dtopics.get(r["document_id"], []),
                    "audiences": auds.get(r["document_id"], []),
                    "doc_kind": r["doc_kind"],
                    "document_id": r["document_id"],
                    "document_title": r["document_title"],
                    "filename": r["filename"],
                    "page": r["page"],
                    "updated": r["updated_at"],
                    "seq": r["occ_seq"],
                    "start": start,
                    "end": end,
                }

    def _spoken_at(self, rows: list[dict]) -> dict[int, tuple[float, float]]:
        """For quotes first found in a recording: the times of the transcript passage that
        says them, so that a quote hit opens the recording at that moment too."""
        media = [r for r in rows if r["doc_kind"] == "media"]
        if not media:
            return {}
        marks = ",".join(str(int(v)) for v in {r["version_id"] for r in media})
        timed: dict[int, list[dict]] = {}
        for p in self.db.rows(
            f"SELECT version_id, text, start_s, end_s FROM passages WHERE version_id IN ({marks}) "
            "AND start_s IS NOT NULL ORDER BY version_id, seq"
        ):
            timed.setdefault(p["version_id"], []).append(p)
        out = {}
        for r in media:
            said = _squeeze(r["text"]).strip("。！？!?；;，,")
            for p in timed.get(r["version_id"], []):
                if said and said in _squeeze(p["text"]):
                    out[r["id"]] = (p["start_s"], p["end_s"])
                    break
        return out


def _squeeze(text: str) -> str:
    return "".join(str(text or "").split())


__all__ = ["IndexRecords"]
