"""Storage behind interfaces, on SQLite (the embedded default, a file in the data
directory) or PostgreSQL (HEIMDALL_DATABASE_URL): `RecordStore` (what was ingested) and
`HistoryStore` (check results, their roll-ups, state changes, last known statuses)."""

from backend.storage.database import Database, open_database
from backend.storage.history import CheckRecord, HistoryStore, SQLHistoryStore, StateChange
from backend.storage.records import RecordStore, SQLRecordStore

__all__ = ["CheckRecord", "Database", "HistoryStore", "RecordStore", "SQLHistoryStore", "SQLRecordStore",
           "StateChange", "open_database"]
