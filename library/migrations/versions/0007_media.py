"""Media (视频/音频) with time-coded transcripts

``passages.start_s`` / ``passages.end_s``: where a transcript passage is spoken in its
recording (seconds; NULL for every other passage). ``versions.media``: what ffprobe said of a
media version and what goes with it (JSON: format, duration, streams, mime, the poster frame's
and the transcript file's hashes), NULL for documents. ``media_chunks``: the media files of a
PostgreSQL store, in chunks (an SQLite library keeps them in its originals folder, unused here).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

REAL = sa.Double().with_variant(sa.REAL(), "sqlite")


def upgrade() -> None:
    op.add_column("passages", sa.Column("start_s", REAL))
    op.add_column("passages", sa.Column("end_s", REAL))
    op.add_column("versions", sa.Column("media", sa.Text))
    op.create_table(
        "media_chunks",
        sa.Column("sha256", sa.Text, primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("media_chunks")
    with op.batch_alter_table("versions") as batch:
        batch.drop_column("media")
    with op.batch_alter_table("passages") as batch:
        batch.drop_column("end_s")
        batch.drop_column("start_s")
