"""Targets and alert rules managed through the API (the `operator` scope; admins have it
too), as the `/targets` page manages them: list, add, change, pause, remove, and test
once before saving. Entries have the keys of a `[[services]]`, `[[websdrs]]` or
`[[alerts]]` entry of the file and obey the same rules; the file's own entries are
listed as such and refused here (409). A change takes effect at once on this gateway,
within seconds on the others, survives a restart, and is audited."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from backend.api.errors import StrictJSONResponse, error
from backend.api.requests import actor_of, runtime_of
from backend.auth.guard import client_address
from backend.auth.scopes import ScopedRouter
from backend.config.managed import EntryError
from backend.kinds import detection_order
from backend.reconfigure.target_changes import TargetChanges

router = ScopedRouter(tags=["targets"])

Section = Literal["services", "websdrs", "alerts"]
Key = Annotated[str, Path(min_length=1, max_length=128)]
EXAMPLE = {"section": "websdrs", "entry": {"id": "asti", "name": "Asti", "url": "http://asti.example.org:8073/",
                                           "kind": detection_order("websdrs")[0], "latitude": 44.9,
                                           "longitude": 8.2}}


class TargetBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": EXAMPLE})
    section: Section
    entry: dict[str, Any] = Field(description="the keys of a [[services]], [[websdrs]] or [[alerts]] entry of the file")


class TrialBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {
        "section": "websdrs", "entry": {"url": "http://asti.example.org:8073/"}}})
    section: Literal["services", "websdrs"]
    entry: dict[str, Any] = Field(description="at least where it is (url, or address for a tcp service); "
                                              "a receiver without a kind has it told from its answer")


class TargetChange(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"paused": True}})
    entry: dict[str, Any] | None = Field(None, description="keys to change (the name or id itself stays)")
    paused: bool | None = None


def _changes(request: Request) -> TargetChanges:
    return TargetChanges(runtime_of(request))


def _refused(problem: EntryError) -> StrictJSONResponse:
    return error(problem.status, str(problem), field=problem.field)


@router.get("/api/v1/targets", scope="operator")
async def list_targets(request: Request) -> list[dict[str, Any]]:
    """Every service, receiver and alert rule: from the file (`source: file`, read-only
    here) or made in the browser or the API (`source: browser`, with `paused`)."""
    return await _changes(request).listed()


@router.post("/api/v1/targets", scope="operator", status_code=201)
async def add_target(request: Request, body: TargetBody) -> Any:
    try:
        return await _changes(request).add(body.section, body.entry, actor_of(request), client_address(request.scope))
    except EntryError as problem:
        return _refused(problem)


@router.patch("/api/v1/targets/{section}/{key}", scope="operator")
async def change_target(request: Request, section: Section, key: Key, body: TargetChange) -> Any:
    try:
        return await _changes(request).change(section, key, body.entry, body.paused, actor_of(request),
                                              client_address(request.scope))
    except EntryError as problem:
        return _refused(problem)


@router.delete("/api/v1/targets/{section}/{key}", scope="operator", status_code=204)
async def remove_target(request: Request, section: Section, key: Key) -> Response:
    try:
        await _changes(request).remove(section, key, actor_of(request), client_address(request.scope))
    except EntryError as problem:
        return _refused(problem)
    return Response(status_code=204)


@router.post("/api/v1/targets/test", scope="operator")
async def test_target(request: Request, body: TrialBody) -> Any:
    """Probe once, now, without saving: the status, the response time, the reason, the kind
    (told from the answer when not given) and what the target says of itself (software,
    users, bands, position)."""
    try:
        return await _changes(request).trial(body.section, body.entry)
    except EntryError as problem:
        return _refused(problem)

