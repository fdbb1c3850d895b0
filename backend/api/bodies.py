"""Request bodies the routes read themselves, to bound them before parsing: read up to
a limit (413 beyond), decode (400), validate (422 naming the field). FastAPI's own body
parameters would read any size."""

from __future__ import annotations

from typing import TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from backend.api.errors import StrictJSONResponse, error
from backend.config.loading import format_validation_error
from backend.events.envelope import decode

M = TypeVar("M", bound=BaseModel)


async def read_capped(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is larger than `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


async def parse_body(request: Request, model: type[M], limit: int, what: str = "object") -> M | StrictJSONResponse:
    """The body as `model`, or the error answer to send."""
    raw = await read_capped(request, limit)
    if raw is None:
        return error(413, f"{what} larger than {limit} bytes")
    try:
        document = decode(raw)
    except (ValueError, RecursionError):
        return error(400, "body is not valid JSON")
    if not isinstance(document, dict):
        return error(422, "body must be a JSON object", field=None)
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        return error(422, format_validation_error(exc), field=field)
