"""Moving the log between databases: copies, JSON-lines archives and SQLite backups.

Rows travel exactly as stored (positions, ids, recorded times, payload text, hashes), so a
copy verifies with the same chain as its original and projects into the same read models.
"""

from chronicle.replication.backup import BackupFailed, BackupReport, NotSqlite, backup_sqlite
from chronicle.replication.copy import CopyReport, check_prefix, copy_log, rebuild_read_models
from chronicle.replication.jsonlines import (
    ImportPlan,
    ImportReport,
    check_file,
    export_log,
    import_log,
)
from chronicle.replication.rows import (
    ChainBroken,
    NotAPrefix,
    ReplicationError,
    UnreadableEvent,
)

__all__ = [
    "BackupFailed",
    "BackupReport",
    "ChainBroken",
    "CopyReport",
    "ImportPlan",
    "ImportReport",
    "NotAPrefix",
    "NotSqlite",
    "ReplicationError",
    "UnreadableEvent",
    "backup_sqlite",
    "check_file",
    "check_prefix",
    "copy_log",
    "export_log",
    "import_log",
    "rebuild_read_models",
]
