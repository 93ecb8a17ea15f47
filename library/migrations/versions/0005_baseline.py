"""Baseline: the schema of the hand-written migrations 1-5

The schema lecturelib had when it moved to Alembic (``MIGRATIONS`` in library/db.py). A new
library gets it from here; a library made before Alembic was brought to it by those
migrations and is stamped with this revision (library.migrations).

Revision ids are the schema's number, four digits (0005, 0006 …): ``library.db`` compares the
stored one with its HEAD without loading Alembic, and a backup records the number.

Written with SQLAlchemy types so that it creates the same tables on PostgreSQL. What is
SQLite-specific: ``sqlite_autoincrement`` (ids are never given out again, AUTOINCREMENT;
PostgreSQL's sequences never reuse ids anyway) and REAL for times and scores on SQLite, where
PostgreSQL gets DOUBLE PRECISION (its REAL has 24 bits: not enough for a Unix time).

Revision ID: 0005
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = None
branch_labels = None
depends_on = None

REAL = sa.Double().with_variant(sa.REAL(), "sqlite")
FOREVER = {"sqlite_autoincrement": True}  # ids never reused (SQLite AUTOINCREMENT)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True)


def _ref(table: str, column: str) -> sa.Column:
    return sa.Column(
        column, sa.Integer, sa.ForeignKey(f"{table}.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    text, integer = sa.Text, sa.Integer
    op.create_table(
        "documents",
        _id(),
        sa.Column("title", text, nullable=False),
        sa.Column("title_key", text, nullable=False),
        sa.Column("kind", text, nullable=False),
        sa.Column("status", text, nullable=False, server_default="active"),
        sa.Column("date", text),
        sa.Column("source", text),
        sa.Column("current_version_id", integer),
        sa.Column("topics_manual", integer, nullable=False, server_default=sa.text("0")),
        sa.Column("created_at", REAL, nullable=False),
        sa.Column("updated_at", REAL, nullable=False),
        **FOREVER,
    )
    op.create_index("ix_documents_title_key", "documents", ["title_key"])
    op.create_index("ix_documents_status", "documents", ["status"])
    op.create_table(
        "versions",
        _id(),
        _ref("documents", "document_id"),
        sa.Column("number", integer, nullable=False),
        sa.Column("sha256", text, nullable=False),
        sa.Column("filename", text, nullable=False),
        sa.Column("format", text, nullable=False),
        sa.Column("size", integer, nullable=False),
        sa.Column("pages", integer),
        sa.Column("chars", integer, nullable=False, server_default=sa.text("0")),
        sa.Column("status", text, nullable=False),
        sa.Column("warnings", text, nullable=False, server_default="[]"),
        sa.Column("created_at", REAL, nullable=False),
        sa.UniqueConstraint("document_id", "number", name="uq_versions_document_number"),
        **FOREVER,
    )
    op.create_index("ux_versions_sha256", "versions", ["sha256"], unique=True)
    op.create_table(
        "headings",
        _id(),
        _ref("versions", "version_id"),
        sa.Column("seq", integer, nullable=False),
        sa.Column("level", integer, nullable=False),
        sa.Column("text", text, nullable=False),
        sa.Column("page", integer),
    )
    op.create_index("ix_headings_version", "headings", ["version_id", "seq"])
    op.create_table(
        "passages",
        _id(),
        _ref("versions", "version_id"),
        sa.Column("seq", integer, nullable=False),
        sa.Column("kind", text, nullable=False, server_default="passage"),
        sa.Column("text", text, nullable=False),
        sa.Column("question", text),
        sa.Column("heading_path", text, nullable=False, server_default="[]"),
        sa.Column("page", integer),
        **FOREVER,
    )
    op.create_index("ix_passages_version", "passages", ["version_id", "seq"])
    op.create_table(
        "quotes",
        _id(),
        sa.Column("text", text, nullable=False),
        sa.Column("text_key", text, nullable=False),
        sa.Column("source", text),
        sa.Column("date", text),
        sa.Column("speaker", text),
        sa.Column("theme", text),
        sa.Column("note", text),
        sa.Column("topics_manual", integer, nullable=False, server_default=sa.text("0")),
        sa.Column("created_at", REAL, nullable=False),
        sa.Column("updated_at", REAL, nullable=False),
        **FOREVER,
    )
    op.create_index("ux_quotes_text_key", "quotes", ["text_key"], unique=True)
    op.create_table(
        "occurrences",
        _id(),
        _ref("quotes", "quote_id"),
        _ref("versions", "version_id"),
        sa.Column("seq", integer, nullable=False),
        sa.Column("page", integer),
        sa.Column("theme", text),
        sa.Column("source", text),
        sa.Column("date", text),
    )
    op.create_index("ix_occurrences_quote", "occurrences", ["quote_id"])
    op.create_index("ix_occurrences_version", "occurrences", ["version_id"])
    for owner, key in (("documents", "document_id"), ("quotes", "quote_id")):
        op.create_table(
            f"{owner[:-1]}_topics",
            sa.Column(
                key, integer, sa.ForeignKey(f"{owner}.id", ondelete="CASCADE"), primary_key=True
            ),
            sa.Column("topic", text, primary_key=True),
            sa.Column("score", REAL, nullable=False),
            sa.Column("origin", text, nullable=False),
        )
    op.create_table(
        "document_audiences",
        sa.Column(
            "document_id",
            integer,
            sa.ForeignKey("documents.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("audience", text, primary_key=True),
    )
    op.create_table(
        "audit_log",
        _id(),
        sa.Column("at", REAL, nullable=False),
        sa.Column("actor", text, nullable=False),
        sa.Column("action", text, nullable=False),
        sa.Column("target", text),
        sa.Column("detail", text, nullable=False, server_default="{}"),
    )
    op.create_table(
        "settings",
        sa.Column("key", text, primary_key=True),
        sa.Column("value", text, nullable=False),
    )
    op.create_table(
        "index_queue",
        sa.Column("seq", integer, primary_key=True),
        sa.Column("record_id", text, nullable=False),
        **FOREVER,
    )
    op.create_table(
        "users",
        _id(),
        sa.Column("name", text, nullable=False, unique=True),
        sa.Column("password_hash", text, nullable=False),
        sa.Column("role", text, nullable=False, server_default="editor"),
        sa.Column("active", integer, nullable=False, server_default=sa.text("1")),
        sa.Column("created_at", REAL, nullable=False),
        sa.Column("failed_logins", integer, nullable=False, server_default=sa.text("0")),
        sa.Column("last_failed_at", REAL),
        sa.Column("session_gen", integer, nullable=False, server_default=sa.text("0")),
        sa.Column("session_end", text),
        **FOREVER,
    )
    op.create_table(
        "drafts",
        _id(),
        sa.Column("actor", text, nullable=False),
        sa.Column("created_at", REAL, nullable=False),
        sa.Column("filename", text, nullable=False),
        sa.Column("sha256", text, nullable=False),
        sa.Column("payload", text, nullable=False),
        **FOREVER,
    )
    op.create_table(
        "tombstones",
        _id(),
        sa.Column("record", text, nullable=False),
        sa.Column("title", text),
        sa.Column("at", REAL, nullable=False),
        sa.Column("actor", text),
        **FOREVER,
    )
    op.create_index("ix_tombstones_record", "tombstones", ["record", "at"])


def downgrade() -> None:
    for table in (
        "tombstones",
        "drafts",
        "users",
        "index_queue",
        "settings",
        "audit_log",
        "document_audiences",
        "quote_topics",
        "document_topics",
        "occurrences",
        "quotes",
        "passages",
        "headings",
        "versions",
        "documents",
    ):
        op.drop_table(table)
