"""Quotes (金句, one record per normalized text) and their occurrences in versions."""

from __future__ import annotations

import json
import re
import time
import unicodedata
from collections.abc import Iterable

from ..content import clean_text
from ..errors import NotFoundError
from .database import Database
from .topics import TopicRepository

# characters of key below which a cited quotation is not linked to a longer quote
MIN_PART = 6

_PLAIN_DROP = re.compile(r"[\W_]+")


def _plain(text: str) -> str:
    """Text without punctuation and white space (for finding a quotation in a passage)."""
    return _PLAIN_DROP.sub("", text or "")


def _pieces_of(text_: str) -> list[str]:
    """The keys of a quotation's pieces (a quotation that leaves words out with “……”)."""
    parts = re.split(r"…+|⋯+|\.{3,}", text_)
    return [
        k
        for k in (
            re.sub(r"[\s\W_]+", "", unicodedata.normalize("NFKC", t).casefold()) for t in parts
        )
        if k
    ]


def _holds(long_key: str, parts: list[str]) -> bool:
    """Whether ``long_key`` holds every piece, in order."""
    pos = 0
    for part in parts:
        pos = long_key.find(part, pos)
        if pos < 0:
            return False
        pos += len(part)
    return True


class QuoteRepository:
    def __init__(self, db: Database, topics: TopicRepository):
        self.db = db
        self.topics = topics

    def row(self, quote_id: int) -> dict:
        row = self.db.one("SELECT * FROM quotes WHERE id = :q", q=quote_id)
        if row is None:
            raise NotFoundError(f"找不到编号为 {quote_id} 的金句。")
        return row

    def by_keys(self, keys: Iterable[str]) -> dict[str, dict]:
        """Stored quotes by their de-duplication key (text_key → row): what a new file's
        quotes will be merged into, with the 出处, date and speaker editors may have corrected."""
        keys = sorted({k for k in keys if k})
        out: dict[str, dict] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i : i + 500]
            marks = ",".join(f":k{n}" for n in range(len(chunk)))
            for r in self.db.rows(
                f"SELECT * FROM quotes WHERE text_key IN ({marks})",
                **{f"k{n}": k for n, k in enumerate(chunk)},
            ):
                out[r["text_key"]] = r
        return out

    def visible_ids(self) -> list[int]:
        """Quotes cited by the current version of an active document."""
        return [
            r["quote_id"]
            for r in self.db.rows(
                "SELECT DISTINCT o.quote_id FROM occurrences o JOIN documents d "
                "ON d.current_version_id = o.version_id WHERE d.status = 'active' "
                "ORDER BY o.quote_id"
            )
        ]

    # -- writing ---------------------------------------------------------------------------

    def attach(
        self,
        version_id: int,
        quotes: list,
        keys: list[str],
        *,
        cited: bool,
        quote_topics: list,
        topics_manual: bool,
        now: float,
    ) -> set[str]:
        """Record the quotes of a new version: one record per normalized text, one occurrence
        per appearance. A quotation cited in running text (``cited``: a handout, script, case,
        Q&A) that is part of a longer quote is another occurrence of that quote, whichever
        document came first: a new cited quotation joins the shortest stored quote whose key
        holds it (its pieces in order when it leaves words out with “……”); a new quote absorbs
        the shorter quotations only cited so far (never an editor-edited one or one with chosen
        topics). Returns the ids of quote records that disappeared in a merge."""
        gone: set[str] = set()
        ex = self.db.execute
        with self.db.transaction():
            for i, q in enumerate(quotes):
                key = keys[i]
                row = self.db.one(
                    "SELECT id, source, date, speaker, theme, note FROM quotes WHERE text_key = :k",
                    k=key,
                )
                if row is None and cited and len(key) >= MIN_PART:
                    parts = _pieces_of(q.text) or [key]
                    probe = max(parts, key=len)
                    for cand in self.db.rows(
                        "SELECT id, source, date, speaker, theme, note, text_key FROM quotes "
                        f"WHERE length(text_key) > :n AND {self.db.contains('text_key', 'p')} "
                        "ORDER BY length(text_key), id",
                        n=len(key),
                        p=probe,
                    ):
                        if _holds(cand["text_key"], parts):
                            row = cand
                            break
                if row is None:
                    qid = self.db.insert(
                        "INSERT INTO quotes (text, text_key, source, date, speaker, theme, "
                        "note, topics_manual, created_at, updated_at) VALUES (:t, :k, :src, "
                        ":date, :sp, :th, :note, :tm, :now, :now)",
                        {
                            "t": q.text,
                            "k": key,
                            "src": q.source,
                            "date": q.date,
                            "sp": q.speaker,
                            "th": q.theme,
                            "note": q.note,
                            "tm": int(topics_manual),
                            "now": now,
                        },
                    )
                    qt = quote_topics[i] if i < len(quote_topics) else []
                    self.topics.add_quote_topics(qid, qt, manual=topics_manual)
                    if len(key) > MIN_PART:
                        gone |= self._absorb_shorter(qid, key)
                else:
                    qid = row["id"]
                    # fill what the first occurrence did not say
                    ex(
                        "UPDATE quotes SET source = COALESCE(source, :src), date = COALESCE(date, "
                        ":date), speaker = COALESCE(speaker, :sp), theme = COALESCE(theme, :th), "
                        "note = COALESCE(note, :note), updated_at = :now WHERE id = :q",
                        {
                            "src": q.source,
                            "date": q.date,
                            "sp": q.speaker,
                            "th": q.theme,
                            "note": q.note,
                            "now": now,
                            "q": qid,
                        },
                    )
                ex(
                    "INSERT INTO occurrences (quote_id, version_id, seq, page, theme, source, date) "
                    "VALUES (:q, :v, :seq, :p, :th, :src, :date)",
                    {
                        "q": qid,
                        "v": version_id,
                        "seq": q.seq,
                        "p": q.page,
                        "th": q.theme,
                        "src": q.source,
                        "date": q.date,
                    },
                )
        return gone

    def _absorb_shorter(self, qid: int, key: str) -> set[str]:
        """Move the occurrences of shorter, only-cited quotations that ``key`` holds onto the
        new quote ``qid``; returns the ids of the absorbed records."""
        ex = self.db.execute
        gone: set[str] = set()
        shorter = self.db.rows(
            "SELECT x.id, x.text, x.text_key, x.source, x.date, x.speaker "
            "FROM quotes x WHERE x.id != :q AND length(x.text_key) >= :m "
            "AND length(x.text_key) < :n AND x.topics_manual = 0 "
            "AND NOT EXISTS (SELECT 1 FROM occurrences o JOIN versions v ON "
            "v.id = o.version_id JOIN documents d ON d.id = v.document_id "
            "WHERE o.quote_id = x.id AND d.kind = 'quotes') "
            "AND NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.action = "
            "'edit_quote' AND a.target = 'quote:' || x.id)",
            q=qid,
            m=MIN_PART,
            n=len(key),
        )
        for sh in shorter:
            if not _holds(key, _pieces_of(sh["text"]) or [sh["text_key"]]):
                continue
            ex(
                "UPDATE occurrences SET quote_id = :q WHERE quote_id = :old",
                {"q": qid, "old": sh["id"]},
            )
            ex(
                "UPDATE quotes SET source = COALESCE(source, :src), date = "
                "COALESCE(date, :date), speaker = COALESCE(speaker, :sp) "
                "WHERE id = :q",
                {"src": sh["source"], "date": sh["date"], "sp": sh["speaker"], "q": qid},
            )
            ex("DELETE FROM quote_topics WHERE quote_id = :old", {"old": sh["id"]})
            ex("DELETE FROM quotes WHERE id = :old", {"old": sh["id"]})
            gone.add(f"q:{sh['id']}")
        return gone

    def update_fields(self, quote_id: int, **fields: str | None) -> dict:
        """Set the given columns (text, source, date, speaker, theme; None: leave alone),
        cleaned, and the edit time; returns what changed."""
        changes: dict = {}
        with self.db.transaction():
            for col in ("text", "source", "date", "speaker", "theme"):
                val = fields.get(col)
                if val is not None:
                    val = clean_text(val)
                    self.db.execute(
                        f"UPDATE quotes SET {col} = :v WHERE id = :q",
                        {"v": val or None, "q": quote_id},
                    )
                    changes[col] = val
        return changes

    def touch(self, quote_id: int) -> None:
        self.db.execute(
            "UPDATE quotes SET updated_at = :now WHERE id = :q", {"now": time.time(), "q": quote_id}
        )

    def delete_orphans(self) -> list[tuple[int, str]]:
        """Delete the quotes no occurrence cites any more; returns their (id, text)."""
        with self.db.transaction():
            orphans = [
                (r["id"], r["text"])
                for r in self.db.rows(
                    "SELECT id, text FROM quotes WHERE id NOT IN "
                    "(SELECT DISTINCT quote_id FROM occurrences)"
                )
            ]
            self.db.execute(
                "DELETE FROM quotes WHERE id NOT IN (SELECT DISTINCT quote_id FROM occurrences)"
            )
        return orphans

    # -- reading ---------------------------------------------------------------------------

    def get(self, quote_id: int) -> dict:
        """A quote with its topics and where it is cited now (with the citing passage)."""
        q = self.row(quote_id)
        q["topics"] = self.db.rows(
            "SELECT topic, score, origin FROM quote_topics WHERE quote_id = :q ORDER BY score DESC",
            q=quote_id,
        )
        q["occurrences"] = self.db.rows(
            "SELECT d.id AS document_id, d.title, d.kind, d.status, v.filename, o.page, o.theme, "
            "o.source, o.date, v.id AS version_id FROM occurrences o "
            "JOIN versions v ON v.id = o.version_id "
            "JOIN documents d ON d.id = v.document_id AND d.current_version_id = v.id "
            "WHERE o.quote_id = :q AND d.status = 'active' ORDER BY d.id",
            q=quote_id,
        )
        for o in q["occurrences"]:
            o["context"] = self.context_of(q["text"], o.pop("version_id"))
        return q

    def context_of(self, quote: str, version_id: int) -> dict | None:
        """The passage of a version that cites ``quote`` (punctuation and spaces ignored; a
        quotation cut with …… matches by its first words), with its heading path and page; None
        for a compilation, whose quotes are not passages."""
        key = _plain(quote)
        heads = [k for k in (_plain(part) for part in re.split(r"…+|\.{3,}", quote)) if k]
        probe = heads[0][:12] if heads else key[:12]
        if not probe:
            return None
        for p in self.db.rows(
            "SELECT text, heading_path, page, seq FROM passages WHERE version_id = :v ORDER BY seq",
            v=version_id,
        ):
            if probe in _plain(p["text"]):
                return {
                    "text": p["text"],
                    "heading_path": json.loads(p["heading_path"]),
                    "page": p["page"],
                }
        return None


__all__ = ["QuoteRepository", "MIN_PART"]
