"""What the `/targets` page and `/api/v1/targets` both do, in one place: list the running
targets and alert rules with where each comes from, add, change, pause and remove the
ones made in the browser (never the file's), and test one once before saving. Each
change is stored (backend/config/managed.py), then applied in place by the reloader."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from backend.config.managed import KEY_FIELD, EntryError, Managed, ManagedStore, checked, file_keys, merged
from backend.kinds import GROUPS, default_kind, where_fields
from backend.kinds.tcp import split_address
from backend.monitor.trial import probe_once
from backend.safety.destinations import DestinationPolicy, first_refusal, policy_of
from backend.safety.redact import redact_notification_url, redact_url

if TYPE_CHECKING:
    from backend.runtime import Runtime


def shown(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as answers show it: URLs redacted as everywhere else."""
    out = dict(entry)
    if isinstance(out.get("url"), str):
        out["url"] = redact_url(out["url"])
    if isinstance(out.get("urls"), list):  # notification URLs carry tokens in their paths too
        out["urls"] = [redact_notification_url(str(url)) for url in out["urls"]]
    return out


def restored(given: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """A changed entry as sent back from a form filled with `shown(stored)`: a value left as
    it was shown (redacted) keeps the stored secret; a retyped one replaces it."""
    as_shown = shown(stored)
    out = dict(given)
    for name, value in given.items():
        if name not in stored:
            continue
        if value == as_shown.get(name):
            out[name] = stored[name]
        elif isinstance(value, list) and isinstance(stored[name], list) and isinstance(as_shown.get(name), list):
            raw_of = dict(zip(as_shown[name], stored[name]))
            out[name] = [raw_of.get(item, item) if isinstance(item, str) else item for item in value]
    return out


def destinations(section: str, entry: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(field, host, port) of where an entry makes the gateway connect, as far as its text
    tells: a target's url or address, a notification URL's real host."""
    found = []
    for field in (where.name for where in where_fields(section)) if section in GROUPS else ():
        value = entry.get(field)
        if isinstance(value, str) and value:
            place = _host_port(value) if "://" in value else split_address(value)
            if place is not None:
                found.append((field, place[0].strip("[]"), place[1]))
    for url in entry.get("urls") or [] if section == "alerts" else []:
        place = _host_port(str(url))
        if place is not None:
            found.append(("urls", place[0], place[1]))
    return found


def _host_port(url: str) -> tuple[str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.hostname, port or (443 if parts.scheme.endswith("s") else 80)


class TargetChanges:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._store = ManagedStore(runtime.database)

    @property
    def _file(self):
        return self._runtime.file_config or self._runtime.settings.config

    async def _rows(self):
        return await self._runtime.database.run(self._store.rows)

    async def listed(self) -> list[dict[str, Any]]:
        """Every entry, its secrets redacted (passwords in URLs, notification URLs' tokens)."""
        rows = await self._rows()
        found = [{"section": section, "id": item.model_dump()[KEY_FIELD[section]],
                  "source": "file", "paused": False, "entry": shown(item.model_dump(mode="json"))}
                 for section in KEY_FIELD for item in getattr(self._file, section)]
        found += [{"section": row.section, "id": row.key, "source": "browser", "paused": row.paused,
                   "entry": shown(row.entry), "updated_ms": row.updated_ms, "by": row.by} for row in rows]
        return found

    def _not_the_files(self, section: str, key: str) -> None:
        if key in file_keys(self._file, section):
            raise EntryError(f"{section} '{key}' comes from the configuration file ({self._runtime.settings.config_path})"
                             f"; change it there", KEY_FIELD[section], 409)

    async def _apply_checked(self, section: str, key: str, entry: dict[str, Any]) -> None:
        """The whole configuration with this entry must hold (unique names, known targets...)."""
        others = [row for row in await self._rows() if (row.section, row.key) != (section, key)]
        _, problems = merged(self._file, [*others, Managed(section, key, entry, False, 0, None)])
        mine = [p for p in problems if p.startswith(f"{section} '{key}' ")]
        if mine:
            raise EntryError(mine[0].split(" left out: ", 1)[-1], KEY_FIELD[section])

    async def _audit(self, action: str, by: str | None, section: str, key: str, address: str | None) -> None:
        auth = self._runtime.auth
        await auth.store_call(auth.store.audit, action, by, f"{section}:{key}", address)

    async def _reload(self) -> None:
        if self._runtime.reloader is not None:
            await self._runtime.reloader.reload("targets changed in the browser", read_file=False)

    @property
    def _policy(self) -> DestinationPolicy:
        return policy_of(self._runtime.settings.config.targets)

    async def _check_destinations(self, section: str, entry: dict[str, Any]) -> None:
        """What is made at run time connects only where [targets] allows (the connection
        itself is checked again each time); its URLs carry no credentials to send."""
        for field in ("url",):
            value = entry.get(field)
            if section != "alerts" and isinstance(value, str) and "@" in (urlsplit(value).netloc if value else ""):
                raise EntryError(f"{field}: a target made here carries no user name or password in its URL "
                                 f"(they would be sent to whatever it points at); put it in the file", field)
        for field, host, port in destinations(section, entry):
            reason = await first_refusal(self._policy, host, port)
            if reason is not None:
                raise EntryError(f"{field}: not reachable from here: {reason}", field)

    async def add(self, section: str, entry: Any, by: str | None, address: str | None = None) -> dict[str, Any]:
        made = checked(section, entry)
        key = made[KEY_FIELD[section]]
        self._not_the_files(section, key)
        await self._check_destinations(section, made)
        await self._apply_checked(section, key, made)
        await self._runtime.database.run(self._store.add, section, key, made, by)
        await self._audit("target added", by, section, key, address)
        await self._reload()
        return {"section": section, "id": key, "source": "browser", "paused": False, "entry": shown(made)}

    async def change(self, section: str, key: str, entry: dict[str, Any] | None, paused: bool | None,
                     by: str | None, address: str | None = None) -> dict[str, Any]:
        self._not_the_files(section, key)
        kept = await self._runtime.database.run(self._store.get, section, key)
        if kept is None:
            raise EntryError(f"no {section} '{key}' made in the browser", None, 404)
        new = None
        if entry is not None:
            if KEY_FIELD[section] in entry and entry[KEY_FIELD[section]] != key:
                raise EntryError(f"the {KEY_FIELD[section]} stays; add a new one and remove this one instead",
                                 KEY_FIELD[section])
            new = checked(section, {**kept.entry, **restored(entry, kept.entry)})
            await self._check_destinations(section, new)
            await self._apply_checked(section, key, new)
        await self._runtime.database.run(self._store.change, section, key, new, paused, by)
        what = "changed" if new is not None or paused is None else ("paused" if paused else "resumed")
        await self._audit(f"target {what}", by, section, key, address)
        await self._reload()
        return {"section": section, "id": key, "source": "browser",
                "paused": kept.paused if paused is None else paused, "entry": shown(new or kept.entry)}

    async def remove(self, section: str, key: str, by: str | None = None, address: str | None = None) -> None:
        self._not_the_files(section, key)
        if not await self._runtime.database.run(self._store.remove, section, key):
            raise EntryError(f"no {section} '{key}' made in the browser", None, 404)
        await self._audit("target removed", by, section, key, address)
        await self._reload()

    async def trial(self, section: str, entry: Any) -> dict[str, Any]:
        if not isinstance(entry, dict):
            raise EntryError("entry: a JSON object with the keys of a file entry", "entry")
        fields = [where.name for where in where_fields(section)]
        where = {k: v for k, v in entry.items() if k in (*fields, "kind") and v not in (None, "")}
        if not any(where.get(name) for name in fields):
            raise EntryError("entry: give where it is (" + ", or ".join(
                f"{w.name}: {w.label}, e.g. {w.example}" for w in where_fields(section)) + ")", fields[0])
        try:  # the same rules as the file for what is given (a well-formed URL, a known kind)
            checked(section, {**self._placeholder(section), **where})
        except EntryError as problem:
            if problem.field in (*fields, "kind"):
                raise
        await self._check_destinations(section, where)
        polling = self._runtime.settings.config.polling
        return await probe_once(section, where, polling.timeout_s, polling.degraded_threshold_ms, self._policy)

    @staticmethod
    def _placeholder(section: str) -> dict[str, Any]:
        """Fields a trial does not need yet, so the given ones are checked on their own."""
        if section == "websdrs":
            return {"id": "trial", "name": "trial", "latitude": 0.0, "longitude": 0.0, "kind": default_kind(section)}
        return {"name": "trial"}
