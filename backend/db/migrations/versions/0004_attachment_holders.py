"""attachment holders: who has sent a photo's bytes (photo read rights and per-user quotas)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 23:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import advanced_alchemy.types

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'attachment_holder',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.String(length=36), nullable=False),
        sa.Column('at', advanced_alchemy.types.DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('sha256', 'user_id', name=op.f('pk_attachment_holder')),
    )
    with op.batch_alter_table('attachment_holder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachment_holder_user_id'), ['user_id'], unique=False)
    # Every photo stored so far is held by whoever uploaded it.
    op.execute(
        "INSERT INTO attachment_holder (sha256, user_id, at) SELECT sha256, uploaded_by, uploaded_at FROM attachment"
    )


def downgrade() -> None:
    with op.batch_alter_table('attachment_holder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachment_holder_user_id'))
    op.drop_table('attachment_holder')
