"""Listener models: one JSON document per profile (ratings, aversions, sensitivity).

Revision ID: 0002_listener_models
Revises: 0001_initial
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_listener_models"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "listener_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["profile_id"], ["profiles.id"],
                                name=op.f("fk_listener_models_profile_id_profiles"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listener_models")),
    )
    op.create_index(op.f("ix_listener_models_profile_id"), "listener_models", ["profile_id"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_listener_models_profile_id"), table_name="listener_models")
    op.drop_table("listener_models")
