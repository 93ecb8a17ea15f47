"""OCR recorded in columns of its own

``versions.ocr``: what OCR did when a version's text was read from scans (JSON: engine, mean
confidence, each page's confidence, the low-confidence pages), NULL for a version that was not
OCR'd. ``passages.ocr_confidence``: the engine's confidence (0–1) on the page where an OCR'd
passage starts, NULL otherwise.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

REAL = sa.Double().with_variant(sa.REAL(), "sqlite")


def upgrade() -> None:
    op.add_column("versions", sa.Column("ocr", sa.Text))
    op.add_column("passages", sa.Column("ocr_confidence", REAL))


def downgrade() -> None:
    with op.batch_alter_table("passages") as batch:
        batch.drop_column("ocr_confidence")
    with op.batch_alter_table("versions") as batch:
        batch.drop_column("ocr")
