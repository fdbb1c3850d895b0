"""Signing in with the platform's identity provider (backend/auth/oidc.py): the start of
the flow, the callback, and the pages that say why a sign-in was refused. Plain HTML,
like the login page."""

from __future__ import annotations

import logging
import time

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from backend.api.requests import authenticator_of, is_secure
from backend.auth.guard import client_address
from backend.auth.oidc import OidcError
from backend.auth.scopes import ScopedRouter
from backend.auth.store import FLOW_MS, AuthError
from backend.safety.sparse_log import SparseLog
from backend.web.login import safe_next
from backend.web.plain_page import error_line, plain_page

router = ScopedRouter(include_in_schema=False)
log = logging.getLogger("heimdall.auth")

FLOW_COOKIE = "heimdall_oidc"  # the sign-in under way belongs to this browser (login CSRF)
MAX_PARAMETER_CHARS = 4096
made_up_callbacks = SparseLog(log)
MAX_NEXT_CHARS = 512  # where to land after signing in: a longer one lands on the dashboard

def refused(reason: str, status: int = 403) -> HTMLResponse:
    return plain_page("Sign-in refused", "Sign-in refused",
                      error_line(reason) + '<p><a href="/login">Back to sign-in</a></p>', status)


def _flow_signer(request: Request) -> URLSafeTimedSerializer:
    return authenticator_of(request).flow_signer


@router.get("/auth/oidc/login", scope="public")
async def begin(request: Request, next: str = "/") -> Response:
    oidc = request.app.state.runtime.oidc
    if oidc is None:
        return refused("Single sign-on is not configured on this gateway ([auth.oidc]).", 404)
    target = safe_next(next) if len(next) <= MAX_NEXT_CHARS else "/"
    auth, address = authenticator_of(request), client_address(request.scope)
    # Each start is a row in the database, asked for by anyone: bounded per address and in all.
    wait = auth.sign_in_starts.retry_after(address)
    if wait:
        return refused(f"Too many sign-ins started from your address; try again in {wait} s.", 429)
    auth.sign_in_starts.failed(address)
    try:
        url, (state, nonce, verifier) = await oidc.begin(target)
    except OidcError as problem:
        return refused(f"Single sign-on is not available: {problem}.", 502)
    try:
        await auth.store_call(auth.store.put_flow, state, nonce, verifier, target)
    except AuthError as busy:
        return refused(str(busy).capitalize() + ".", 429)
    response = RedirectResponse(url, status_code=303)
    cookie = _flow_signer(request).dumps(state)
    response.headers["set-cookie"] = (f"{FLOW_COOKIE}={cookie}; Path=/auth/oidc; Max-Age={FLOW_MS // 1000}; HttpOnly; "
                                      f"SameSite=Lax" + ("; Secure" if is_secure(request) else ""))
    return response


@router.get("/auth/oidc/callback", scope="public")
async def callback(request: Request, code: str = "", state: str = "", error: str = "",
                   error_description: str = "") -> Response:
    runtime = request.app.state.runtime
    oidc, auth, address = runtime.oidc, authenticator_of(request), client_address(request.scope)
    if oidc is None:
        return refused("Single sign-on is not configured on this gateway ([auth.oidc]).", 404)

    async def refuse(reason: str, status: int = 403, genuine: bool = False) -> HTMLResponse:
        """Logged and audited for a sign-in this gateway started (a taken state); a made-up
        callback is anyone's to send: it writes nothing and is logged sparsely."""
        if genuine:
            log.warning("single sign-on refused from %s: %s", address, reason[:300])
            await auth.store_call(auth.store.audit, "login refused (single sign-on)", None, None, address, reason[:300])
        else:
            made_up_callbacks.warning("single sign-on callback refused from %s: %s", address, reason[:120])
        return refused(reason[:1].upper() + reason[1:] + ".", status)

    if len(code) > MAX_PARAMETER_CHARS or len(state) > MAX_PARAMETER_CHARS:
        return await refuse("the identity provider's answer is too long", 400)
    try:
        started_here = _flow_signer(request).loads(request.cookies.get(FLOW_COOKIE, ""), max_age=FLOW_MS // 1000)
    except BadSignature:
        started_here = None
    if error and (not state or started_here != state):
        return await refuse(f"the identity provider said: {(error_description or error)[:300]}")
    if not error and (not code or not state):
        return await refuse("the identity provider's answer lacks its code or state", 400)
    if started_here != state:
        return await refuse("this sign-in was not started in this browser (or took over 10 minutes); sign in again")
    flow = await auth.store_call(auth.store.take_flow, state)
    if flow is None:
        return await refuse("this sign-in link was used already or has expired (a replayed state); sign in again")
    if error:
        return await refuse(f"the identity provider said: {(error_description or error)[:300]}", genuine=True)
    nonce, verifier, target = flow
    try:
        signed_in = await oidc.finish(code, nonce, verifier)
        account = await auth.store_call(auth.store.oidc_account, signed_in.issuer, signed_in.subject,
                                        signed_in.name, signed_in.role)
    except (OidcError, AuthError) as problem:
        return await refuse(str(problem), genuine=True)
    due = int(time.time() * 1000 + oidc.settings.refresh_interval_s * 1000)
    session_id = await auth.store_call(auth.store.open_session, account.name, signed_in.sealed_tokens, due)
    await auth.store_call(auth.store.audit, "login (single sign-on)", account.name, account.name, address,
                          f"role {account.role}")
    response = RedirectResponse(target, status_code=303)
    response.headers["set-cookie"] = auth.session_cookie(session_id, is_secure(request))
    return response
