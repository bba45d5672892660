"""Held files of another front door (the gateway's review folder) in the review queue.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    # Batch mode: SQLite changes a column's nullability only by copying the table.
    with op.batch_alter_table("review_items") as table:
        table.add_column(sa.Column("root", sa.String(1024), nullable=True))
        table.alter_column("job_id", existing_type=sa.Integer, nullable=True)
        table.alter_column("job_file_id", existing_type=sa.Integer, nullable=True)
    with op.batch_alter_table("file_records") as table:
        table.alter_column("user_id", existing_type=sa.Integer, nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("file_records") as table:
        table.alter_column("user_id", existing_type=sa.Integer, nullable=False)
    with op.batch_alter_table("review_items") as table:
        table.alter_column("job_file_id", existing_type=sa.Integer, nullable=False)
        table.alter_column("job_id", existing_type=sa.Integer, nullable=False)
        table.drop_column("root")
