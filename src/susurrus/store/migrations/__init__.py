"""Alembic migrations of the journal schema (run on open by :func:`susurrus.store.open_store`)."""
