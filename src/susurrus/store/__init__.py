"""Storage: SQLAlchemy 2 models, Alembic migrations, SQLite by default, PostgreSQL by URL.

>>> from susurrus.store import open_store
>>> store = open_store("sqlite:///journal.db")        # doctest: +SKIP
>>> with store.session() as s:                        # doctest: +SKIP
...     s.add(Profile(name="ada"))

The default database is ``susurrus.db`` in the user's data directory; set
``SUSURRUS_DATA_DIR`` to move it or ``SUSURRUS_DATABASE_URL`` to use another
database (``postgresql+psycopg://user@host/db``).
"""

from __future__ import annotations

from .engine import HEAD_REVISION, Store, alembic_config, migrate_to_head, open_store
from .errors import ExportFormatError, ProfileExistsError, ProfileNotFoundError, StoreError
from .models import (
    Account,
    Base,
    CheckIn,
    HRRecording,
    HRSample,
    ListenerModel,
    Profile,
    QuestionnaireResponse,
    Session,
    SleepEntry,
    utcnow,
)
from .paths import data_dir, default_database_url
from .transfer import (
    EXPORT_FORMAT,
    delete_profile,
    export_profile,
    export_profile_csv,
    import_profile,
    profile_tables,
    read_export,
    write_export,
)

__all__ = [
    "EXPORT_FORMAT",
    "HEAD_REVISION",
    "Account",
    "Base",
    "CheckIn",
    "ExportFormatError",
    "HRRecording",
    "HRSample",
    "ListenerModel",
    "Profile",
    "ProfileExistsError",
    "ProfileNotFoundError",
    "QuestionnaireResponse",
    "Session",
    "SleepEntry",
    "Store",
    "StoreError",
    "alembic_config",
    "data_dir",
    "default_database_url",
    "delete_profile",
    "export_profile",
    "export_profile_csv",
    "import_profile",
    "migrate_to_head",
    "open_store",
    "profile_tables",
    "read_export",
    "utcnow",
    "write_export",
]
