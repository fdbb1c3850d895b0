"""Announcements on the public status pages (backend/statuspage/announcements.py): made,
changed and archived by operators (the `operator` scope, which admins have too); listed
for anyone who may read. Each change shows on the pages at once and is audited."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from backend.api.requests import actor_of, audit, runtime_of
from backend.auth.scopes import ScopedRouter

router = ScopedRouter(tags=["status pages"])

Kind = Literal["information", "maintenance", "incident", "resolved"]
Title = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=5000)]
Pages = Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(min_length=1, max_length=50)]
AnnouncementId = Annotated[int, Path(ge=1, le=2**62)]


class NewAnnouncement(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {
        "type": "maintenance", "title": "Torino receiver offline on Saturday", "text": "Antenna work, 09:00-12:00 UTC.",
        "pages": ["network"]}})
    type: Kind
    title: Title
    text: Text = ""
    pages: Pages


class AnnouncementChange(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"type": "resolved"}})
    type: Kind | None = None
    title: Title | None = None
    text: Text | None = None
    pages: Pages | None = None


def _check_pages(request: Request, pages: list[str] | None) -> None:
    known = {page.slug for page in runtime_of(request).settings.config.status_pages}
    unknown = [slug for slug in pages or [] if slug not in known]
    if unknown:
        raise HTTPException(422, f"pages: no status page {unknown[0]!r} (known: {', '.join(sorted(known)) or 'none'})")


async def _store(request: Request, method: str, *args: Any) -> Any:
    runtime = runtime_of(request)
    store = runtime.status_pages.announcements
    result = await runtime.database.run(getattr(store, method), *args)
    if method != "listed":
        runtime.status_pages.forget()
    return result


@router.get("/api/v1/announcements", scope="read")
async def list_announcements(request: Request, archived: Annotated[bool | None, Query()] = None) -> list[dict[str, Any]]:
    """Announcements, newest first: current ones (`archived=false`), archived ones (`true`) or all."""
    return await _store(request, "listed", archived)


@router.post("/api/v1/announcements", scope="operator", status_code=201)
async def make_announcement(request: Request, body: NewAnnouncement) -> dict[str, Any]:
    """An announcement on the chosen status pages. Needs `operator`."""
    _check_pages(request, body.pages)
    made = await _store(request, "add", body.type, body.title, body.text, body.pages, actor_of(request))
    await audit(request, "announcement made", f"#{made['id']}", body.title[:100])
    return made


@router.patch("/api/v1/announcements/{announcement_id}", scope="operator")
async def change_announcement(request: Request, announcement_id: AnnouncementId,
                              body: AnnouncementChange) -> dict[str, Any]:
    """Change an announcement's type, title, text or pages (an incident's update, say). Needs `operator`."""
    _check_pages(request, body.pages)
    changed = await _store(request, "change", announcement_id, body.model_dump(exclude_none=True))
    if changed is None:
        raise HTTPException(404, "no such announcement")
    await audit(request, "announcement changed", f"#{announcement_id}")
    return changed


@router.post("/api/v1/announcements/{announcement_id}/archive", scope="operator")
async def archive_announcement(request: Request, announcement_id: AnnouncementId) -> dict[str, Any]:
    """Take it off the pages' current list into their archive. Needs `operator`."""
    archived = await _store(request, "archive", announcement_id)
    if archived is None:
        raise HTTPException(404, "no such announcement")
    await audit(request, "announcement archived", f"#{announcement_id}")
    return archived
