"""Storage in SQLite in the data directory, behind interfaces a PostgreSQL
implementation can take later: `RecordStore` (what was ingested) and `HistoryStore`
(check results, their roll-ups, state changes, last known statuses)."""

from backend.storage.database import Database
from backend.storage.history import CheckRecord, HistoryStore, SQLiteHistoryStore, StateChange
from backend.storage.records import RecordStore, SQLiteRecordStore

__all__ = ["CheckRecord", "Database", "HistoryStore", "RecordStore", "SQLiteHistoryStore", "SQLiteRecordStore",
           "StateChange"]
