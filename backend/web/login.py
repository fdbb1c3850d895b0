"""The login page and logout: a plain HTML form, so that signing in needs nothing but
the browser (no socket, no script). A good login opens a session and sets its signed
cookie; every attempt is audited, failures are throttled per account and address
(backend/auth/throttle.py) and answered with this page and the wait."""

from __future__ import annotations

import asyncio
import html
import logging
from urllib.parse import parse_qs, quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backend.api.requests import authenticator_of, is_secure
from backend.auth.guard import client_address
from backend.auth.passwords import PasswordsBusy
from backend.auth.scopes import ScopedRouter
from backend.safety.sparse_log import SparseLog
from backend.web.plain_page import error_line, plain_page

router = ScopedRouter(include_in_schema=False)
log = logging.getLogger("heimdall.auth")
MAX_FORM_BYTES = 4096
BUSY_RETRY_S = 2  # a full password lane empties in about 5 s (32 checks of ~0.15 s)
busy_log = SparseLog(log)  # a flood of sign-ins is a line now and then, not a line each

FORM = """<form method="post" action="/login">
 <input type="hidden" name="next" value="{next}">
 <label for="name">Account</label><input id="name" name="name" autocomplete="username" required autofocus value="{name}">
 <label for="password">Password</label>
 <input id="password" name="password" type="password" autocomplete="current-password" required>
 <button type="submit">Sign in</button>
</form>"""


def safe_next(target: str | None) -> str:
    """Only a path on this gateway: never another site (an open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def page(next_path: str = "/", message: str = "", name: str = "", status: int = 200,
         retry_after: int | None = None, sso_label: str = "", passwords: bool = True,
         setup: bool = False) -> HTMLResponse:
    """The sign-in page: the identity provider's button when single sign-on is set up, the
    password form unless `[auth] password_login` is off."""
    target = html.escape(safe_next(next_path))
    sso = (f'<a class="sso" href="/auth/oidc/login?next={quote(safe_next(next_path), safe="")}">'
           f'{html.escape(sso_label)}</a>') if sso_label else ""
    form = FORM.format(next=target, name=html.escape(name)) if passwords else ""
    first = ('<p><a class="sso" href="/setup">First start: create the admin account</a></p>' if setup else "")
    return plain_page("Sign in", "Heimdall Live", error_line(message) + first + sso + form, status,
                      {"Retry-After": str(retry_after)} if retry_after else None)


def page_for(request: Request, next_path: str = "/", message: str = "", name: str = "", status: int = 200,
             retry_after: int | None = None, setup: bool = False) -> HTMLResponse:
    config = authenticator_of(request).config
    oidc = config.auth.oidc
    return page(next_path, message, name, status, retry_after, oidc.button_label if oidc else "",
                config.auth.password_login, setup)


@router.get("/login", scope="public")
async def login_page(request: Request, next: str = "/") -> HTMLResponse:
    auth = authenticator_of(request)
    fresh = not await auth.store_call(auth.store.setup_closed)  # a fresh install: the way to its first admin
    return page_for(request, next, setup=fresh)


@router.post("/login", scope="public")
async def login(request: Request) -> Response:
    auth = authenticator_of(request)
    address = client_address(request.scope)
    if not auth.config.auth.password_login:
        return page_for(request, message="Signing in with a password is switched off here.", status=403)
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return page_for(request, message="That form is too large.", status=413)
    form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", errors="replace")).items()}
    name, password, target = form.get("name", "")[:64], form.get("password", ""), safe_next(form.get("next"))
    wait = auth.logins.retry_after(name, address)
    if wait:
        log.warning("refused a login for account %r from %s: too many failures", name, address)
        return page_for(request, target, f"Too many failed sign-ins for this account from your address. "
                                         f"Try again in {wait} s.", name, status=429, retry_after=wait)
    try:
        account = await auth.check_password(name, password)
    except PasswordsBusy:
        busy_log.warning("refused a login for account %r from %s: %d password checks already waiting",
                         name, address, auth.passwords.max_waiting)
        return page_for(request, target, f"Many people are signing in at once. Try again in {BUSY_RETRY_S} s.",
                        name, status=503, retry_after=BUSY_RETRY_S)
    if account is None:
        auth.logins.failed(name, address)
        await auth.store_call(auth.store.audit, "login failed", None, name, address)
        log.warning("failed login for account %r from %s", name, address)
        await asyncio.sleep(0.2)  # a little friction for guessing, on top of the throttle
        return page_for(request, target, "Wrong account name or password.", name, status=401)
    session_id = await auth.store_call(auth.store.open_session, account.name)
    await auth.store_call(auth.store.audit, "login", account.name, account.name, address)
    response = RedirectResponse(target, status_code=303)
    response.headers["set-cookie"] = auth.session_cookie(session_id, is_secure(request))
    return response


@router.post("/logout", scope="read")
async def logout(request: Request) -> Response:
    auth = authenticator_of(request)
    session_id = auth.session_id({"cookie": request.headers.get("cookie", "")})
    provider_logout = None
    if session_id is not None:
        oidc = request.app.state.runtime.oidc
        if oidc is not None:  # a single sign-on session ends at the identity provider too
            sealed = await auth.store_call(auth.store.oidc_tokens_of, session_id)
            if sealed:
                provider_logout = await oidc.logout_url(sealed, oidc.redirect_uri.rsplit("/auth/", 1)[0] + "/login")
        await auth.store_call(auth.store.close_session, session_id)
        auth.forget("session:" + session_id)
        principal = getattr(request.state, "principal", None)
        await auth.store_call(auth.store.audit, "logout", getattr(principal, "name", None), None,
                              client_address(request.scope))
    response = RedirectResponse(provider_logout or "/login", status_code=303)
    response.headers["set-cookie"] = auth.clear_cookie(is_secure(request))
    return response
