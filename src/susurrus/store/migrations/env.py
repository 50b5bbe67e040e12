"""Alembic environment for Susurrus' journal schema.

Run programmatically by :func:`susurrus.store.engine.migrate_to_head`, which
passes an open connection in ``config.attributes["connection"]``. From a shell
(for developers): ``alembic -x url=sqlite:///j.db -c <cfg> upgrade head``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from susurrus.store.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    from susurrus.store.paths import default_database_url

    return context.get_x_argument(as_dictionary=True).get("url") or default_database_url()


def run_offline() -> None:
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        engine = create_engine(_url())
        with engine.begin() as conn:
            context.configure(
                connection=conn, target_metadata=target_metadata, render_as_batch=True
            )
            context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
