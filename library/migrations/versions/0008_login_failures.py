"""Failed logins, shared by every server process and node; recordings stored uncompressed

``login_failures``: failed logins counted by source address (``scope = 'address'``) and by
account name (``scope = 'name'``), so that the login throttle (``web/security.py``) holds for a
library served by several processes (``serve --processes N``) or nodes: an attacker no longer gets
a fresh allowance from each of them. Rows are forgotten an hour after their last failure.

On PostgreSQL, ``media_chunks.data`` is stored EXTERNAL (out of line, not compressed), like the
originals table: a recording is compressed already, and PostgreSQL tried again on every 4 MB chunk.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

REAL = sa.Double().with_variant(sa.REAL(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("scope", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("last", REAL, nullable=False),
        sa.Column("logged", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_login_failures_last", "login_failures", ["last"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE media_chunks ALTER COLUMN data SET STORAGE EXTERNAL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE media_chunks ALTER COLUMN data SET STORAGE EXTENDED")
    op.drop_index("ix_login_failures_last", "login_failures")
    op.drop_table("login_failures")
