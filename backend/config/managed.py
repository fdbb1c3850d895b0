"""Targets and alert rules made in the browser or through the API (`/targets`,
`/api/v1/targets`), kept in the database beside the configuration file, which stays
authoritative: an entry of the file is never changed here, and a name the file takes is
refused. The running configuration is the file's with these added (`merged`), validated
by the same schema, so an entry made here obeys every rule a file entry does.

On PostgreSQL every gateway shares them; each notices a change within seconds
(`signature`, watched with the file by backend/reconfigure/reloader.py)."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from backend.config.loading import format_validation_error
from backend.config.schema import AlertSettings, Config, ServiceTarget, WebSDRTarget
from backend.storage.database import Database

log = logging.getLogger(__name__)

SECTIONS = {"services": ServiceTarget, "websdrs": WebSDRTarget, "alerts": AlertSettings}
KEY_FIELD = {"services": "name", "websdrs": "id", "alerts": "name"}
MAX_ENTRIES = 10_000


class EntryError(ValueError):
    """An entry refused: `field` names where (e.g. `latitude`), the message says why."""

    def __init__(self, message: str, field: str | None = None, status: int = 422) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


@dataclass(frozen=True)
class Managed:
    section: str
    key: str
    entry: dict[str, Any]
    paused: bool
    updated_ms: int
    by: str | None


def key_of(section: str, entry: dict[str, Any]) -> str:
    return str(entry.get(KEY_FIELD[section], ""))


def file_keys(file_config: Config, section: str) -> set[str]:
    return {key_of(section, item.model_dump()) for item in getattr(file_config, section)}


def checked(section: str, entry: Any) -> dict[str, Any]:
    """The entry as the file's schema takes it (strict: a string is not a number), or
    EntryError naming the field."""
    if section not in SECTIONS:
        raise EntryError(f"section: one of {', '.join(SECTIONS)}", "section")
    if not isinstance(entry, dict):
        raise EntryError("entry: a JSON object with the keys of a file entry", "entry")
    try:
        made = SECTIONS[section].model_validate(entry)
    except ValidationError as problem:
        first = problem.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise EntryError(format_validation_error(problem), field) from None
    return made.model_dump(mode="json", exclude_defaults=True) | {KEY_FIELD[section]: key_of(section, entry)}


CHECKED_TOGETHER = ("services", "websdrs", "alerts", "readiness_alerts", "watches", "status_pages", "sites")


def merged(file_config: Config, rows: list[Managed]) -> tuple[Config, list[str]]:
    """The running configuration: the file's, with the managed entries that are not
    paused added; an entry the whole no longer takes (the file took its name since, say)
    is left out and said. Only the sections whose rules span entries are validated
    again; the rest of the file's configuration is kept as loaded (its secrets too)."""
    document = {name: [item.model_dump(mode="json") for item in getattr(file_config, name)]
                for name in CHECKED_TOGETHER if name != "sites"}
    document["sites"] = file_config.sites.model_dump(mode="json")
    problems, kept = [], []
    for row in rows:
        if row.paused:
            continue
        trial = {**document, row.section: [*document[row.section], row.entry]}
        try:
            Config.model_validate(trial)
        except ValidationError as problem:
            problems.append(f"{row.section} '{row.key}' (made in the browser) left out: "
                            f"{format_validation_error(problem)}")
            continue
        document = trial
        kept.append(row)
    if not kept:
        return file_config, problems
    together = Config.model_validate(document)
    running = file_config.model_copy(update={name: getattr(together, name) for name in ("services", "websdrs",
                                                                                         "alerts")})
    running._made_at_run_time = frozenset((row.section, row.key) for row in kept)
    return running, problems


class ManagedStore:
    """Synchronous methods, for the database thread (`Database.run`)."""

    def __init__(self, db: Database) -> None:
        self._c = db.connection

    def rows(self) -> list[Managed]:
        found = self._c.execute("SELECT section, key, entry, paused, updated_ms, by FROM managed_targets "
                                "ORDER BY section, created_ms, key").fetchall()
        return [Managed(section, key, json.loads(entry), bool(paused), updated, by)
                for section, key, entry, paused, updated, by in found]

    def get(self, section: str, key: str) -> Managed | None:
        row = self._c.execute("SELECT entry, paused, updated_ms, by FROM managed_targets WHERE section = ? AND key = ?",
                              (section, key)).fetchone()
        return Managed(section, key, json.loads(row[0]), bool(row[1]), row[2], row[3]) if row else None

    def add(self, section: str, key: str, entry: dict[str, Any], by: str | None) -> None:
        if self._c.execute("SELECT count(*) FROM managed_targets").fetchone()[0] >= MAX_ENTRIES:
            raise EntryError(f"at most {MAX_ENTRIES} entries are made in the browser; use the file", None, 409)
        now = int(time.time() * 1000)
        if self._c.execute("INSERT INTO managed_targets (section, key, entry, paused, created_ms, updated_ms, by) "
                           "VALUES (?, ?, ?, 0, ?, ?, ?) ON CONFLICT (section, key) DO NOTHING",
                           (section, key, json.dumps(entry), now, now, by)).rowcount == 0:
            raise EntryError(f"{section} '{key}' exists already", KEY_FIELD[section], 409)

    def change(self, section: str, key: str, entry: dict[str, Any] | None, paused: bool | None, by: str | None) -> bool:
        sets, values = ["updated_ms = ?", "by = ?"], [int(time.time() * 1000), by]
        if entry is not None:
            sets.append("entry = ?")
            values.append(json.dumps(entry))
        if paused is not None:
            sets.append("paused = ?")
            values.append(int(paused))
        return self._c.execute(f"UPDATE managed_targets SET {', '.join(sets)} WHERE section = ? AND key = ?",
                               (*values, section, key)).rowcount == 1

    def remove(self, section: str, key: str) -> bool:
        return self._c.execute("DELETE FROM managed_targets WHERE section = ? AND key = ?",
                               (section, key)).rowcount == 1

    def signature(self) -> tuple[int, int]:
        """Changes within seconds on every gateway: (how many, the latest change). A
        removal lowers the count; anything else moves the latest change."""
        count, latest = self._c.execute("SELECT count(*), max(updated_ms) FROM managed_targets").fetchone()
        return count, latest or 0
