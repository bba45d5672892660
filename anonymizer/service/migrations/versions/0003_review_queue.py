"""The review queue and its audit, and each failed file's reason.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    # Why a file failed, digits masked so that like reasons count together (no value of the file).
    op.add_column("file_records", sa.Column("reason", sa.String(200), nullable=False, server_default=""))
    op.create_table(
        "review_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id"), nullable=False, index=True),
        sa.Column("job_file_id", sa.Integer, sa.ForeignKey("job_files.id"), nullable=False),
        sa.Column("file_record_id", sa.Integer, sa.ForeignKey("file_records.id"), nullable=False),
        sa.Column("sidecar", sa.String(1024), nullable=False),
        sa.Column("boxes", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False, index=True),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
    )
    op.create_table(
        "review_decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("review_item_id", sa.Integer, sa.ForeignKey("review_items.id"), nullable=False, index=True),
        sa.Column("box", sa.Integer, nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("review_decisions")
    op.drop_table("review_items")
    op.drop_column("file_records", "reason")
