"""The OpenAPI description, made true to what the API does: request bodies of the two
POSTs (they read the body themselves, to bound and check it, so FastAPI cannot see
it), the one error shape everywhere, every status a route can answer, the ways to
authenticate. Schemathesis checks it against a running gateway (tests/api/test_contract.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.api.errors import StrictJSONResponse, error
from backend.api.sites import Round
from backend.ingest.models import Detection, Localization

ERROR_SCHEMA = {
    "type": "object", "required": ["detail"],
    "properties": {"detail": {"type": "string", "description": "what is wrong, for people"},
                   "field": {"type": ["string", "null"], "description": "the field or parameter at fault"}},
}
EXAMPLES = {
    "Detection": {"frequency_mhz": 145.5, "snr_db": 12.3, "websdr_id": "torino", "timestamp": "2026-11-25T14:02:00Z"},
    "Localization": {"latitude": 45.06, "longitude": 7.66, "uncertainty_m": 850.0, "confidence": 0.8,
                     "timestamp": "2026-11-25T14:02:01Z",
                     "uncertainty_ellipse": {"semi_major_m": 1200.0, "semi_minor_m": 400.0, "orientation_deg": 35.0}},
}
INGEST = {"/api/v1/signals": Detection, "/api/v1/localizations": Localization}
REASONS = {401: "no valid credentials (login required, or a wrong token)",
           400: "body is not JSON, or the Host is not one of the gateway's names",
           403: "the credentials lack the scope, or the browser's Origin is not allowed",
           404: "no such target", 409: "the agent's site is the gateway's own", 405: "method not allowed", 413: "body over 16 KiB",
           422: "a field or parameter is invalid (named in `field`)", 429: "too many failed attempts from this address (a valid token is never refused)",
           500: "internal error"}


async def validation_error(request: Request, exc: RequestValidationError) -> StrictJSONResponse:
    """A bad query or path parameter: the one error shape, naming it."""
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"] if part not in ("query", "path", "body"))
    return error(422, f"{field}: {first['msg']}" if field else first["msg"], field=field or None)


async def http_error(request: Request, exc: StarletteHTTPException) -> StrictJSONResponse:
    return error(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.openapi = lambda: app.openapi_schema or _build(app)


def _error_response(status: int) -> dict[str, Any]:
    return {"description": REASONS[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _build(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(title=app.title, version=app.version, routes=app.routes,
                         description="The operations dashboard and API gateway of Heimdall. Live events: "
                                     "the WebSocket /ws/updates (see docs/protocol.md).")
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    schemas["Round"] = Round.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schemas["Round"].pop("$defs", {}))
    for model in (Detection, Localization):
        body = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(body.pop("$defs", {}))
        schemas[model.__name__] = {**body, "additionalProperties": True, "example": EXAMPLES[model.__name__]}
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    components["securitySchemes"] = {
        "bearerAuth": {"type": "http", "scheme": "bearer",
                       "description": "HEIMDALL_API_TOKEN, or a token from `python main.py token create`"},
        "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "heimdall_session",
                          "description": "set by signing in at /login"},
    }
    # Open reading on loopback needs nothing; elsewhere a token or a session.
    schema["security"] = [{"bearerAuth": []}, {"sessionCookie": []}, {}]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            codes = {401, 403, 429, 500}
            if path == "/healthz":
                operation["security"] = [{}]
                codes = {500}
            if operation.get("parameters") or path in INGEST or "requestBody" in operation:
                codes.add(422)
            if "{" in path or "requestBody" in operation:  # a named target or record that is not there
                codes.add(404)
            if method == "post" and path in INGEST:
                model = INGEST[path].__name__
                operation["requestBody"] = {"required": True, "content": {"application/json": {
                    "schema": {"$ref": f"#/components/schemas/{model}"}, "example": EXAMPLES[model]}}}
                stored = {"description": "stored and published (201), or the same `id` again: the first "
                                         "object, not published twice (200)",
                          "content": {"application/json": {"schema": {"type": "object"}}}}
                responses.pop("200", None)
                responses["201"] = stored
                responses["200"] = stored
                codes |= {400, 413}
            codes |= set(operation.pop("x-statuses", ()))  # a route's own (a body it reads itself: 400, 413)
            for code in codes:
                responses[str(code)] = _error_response(code)
    app.openapi_schema = schema
    return schema
