"""The first admin (backend/auth/first_start.py): `/setup`, a plain HTML form, answered
only while no admin exists, and only to the gateway's own machine (listening on
loopback) or with the setup code the start printed. Then it signs the new admin in."""

from __future__ import annotations

import asyncio
import html
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from backend.api.requests import authenticator_of, is_secure
from backend.auth.first_start import admin_exists, came_through_proxy, forget_setup_code, may_set_up, setup_code
from backend.auth.guard import client_address
from backend.auth.passwords import password_problem
from backend.auth.scopes import ScopedRouter
from backend.auth.store import AuthError
from backend.config.loading import is_loopback
from backend.web.login import MAX_FORM_BYTES
from backend.web.plain_page import error_line, plain_page

router = ScopedRouter(include_in_schema=False)

FORM = """{message}<p>This gateway has no admin account yet. The admin manages tokens, accounts and targets.</p>
<form method="post" action="/setup">
 <input type="hidden" name="code" value="{code}">
 <label for="name">Account name</label><input id="name" name="name" autocomplete="username" required value="{name}">
 <label for="password">Password (at least 12 characters)</label>
 <input id="password" name="password" type="password" autocomplete="new-password" required minlength="12">
 <label for="again">The password again</label>
 <input id="again" name="again" type="password" autocomplete="new-password" required minlength="12">
 <button type="submit">Create the admin and sign in</button>
</form>"""


def answer(body: str, status: int = 200) -> HTMLResponse:
    return plain_page("First start", "Create the first admin", body, status)


def form(code: str, name: str = "admin", message: str = "", status: int = 200) -> HTMLResponse:
    return answer(FORM.format(message=error_line(message), code=html.escape(code), name=html.escape(name)), status)


DONE = answer('<p>An admin account exists: this page is closed. <a href="/login">Sign in</a>.</p>', 404)
REFUSED = answer('<p class="error" role="alert">Open this page in a browser on the gateway\'s own machine, or with '
                 'the setup code the gateway printed when it started (<code>/setup?code=…</code>).</p>', 403)


async def _state(request: Request, code: str) -> tuple[bool, bool, bool]:
    """(setup is closed, this visitor may set up, the code given is the right one)."""
    runtime = request.app.state.runtime
    auth = authenticator_of(request)
    if await auth.store_call(admin_exists, auth.store):
        return True, False, False
    expected = await runtime.database.run(setup_code, runtime.database)
    proxied = came_through_proxy(request.headers.keys())
    right_code = may_set_up(False, None, True, code, expected)
    allowed = may_set_up(is_loopback(runtime.settings.host), client_address(request.scope), proxied, code, expected)
    return False, allowed, right_code


async def _refused(request: Request, code: str, name: str = "") -> HTMLResponse:
    """A visitor who may not set up: a wrong code counts against its address (GET or POST),
    and an address with too many waits; the right code is never refused (96 random bits:
    guessing it is hopeless, so nobody is locked out by someone else's failures)."""
    auth, address = authenticator_of(request), client_address(request.scope)
    if code:
        auth.logins.failed("setup", address)
        await asyncio.sleep(0.2)
        if auth.logins.retry_after("setup", address):  # audited once a block, not once a guess
            await auth.store_call(auth.store.audit, "setup refused (wrong codes)", None, name or None, address)
    wait = auth.logins.retry_after("setup", address)
    if wait:
        return answer(f'<p class="error">Too many wrong setup codes from your address. Try again in {wait} s.</p>',
                      429)
    return REFUSED


@router.get("/setup", scope="public")
async def setup_page(request: Request, code: str = "") -> Response:
    code = code[:200]
    closed, allowed, right_code = await _state(request, code)
    if closed:
        return DONE
    if not right_code and authenticator_of(request).logins.retry_after("setup", client_address(request.scope)):
        return await _refused(request, "")
    return form(code) if allowed else await _refused(request, code)


@router.post("/setup", scope="public")
async def set_up(request: Request) -> Response:
    auth, address = authenticator_of(request), client_address(request.scope)
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return answer('<p class="error">That form is too large.</p>', 413)
    fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8", errors="replace")).items()}
    code, name = fields.get("code", "")[:200], fields.get("name", "").strip()[:64]
    closed, allowed, right_code = await _state(request, code)
    if closed:
        return DONE
    if not right_code and auth.logins.retry_after("setup", address):
        return await _refused(request, "")
    if not allowed:
        return await _refused(request, code, name)
    password = fields.get("password", "")
    problem = password_problem(password) or (None if password == fields.get("again") else "the passwords differ")
    if problem:
        return form(code, name, problem.capitalize() + ".", 422)
    try:
        account = await auth.store_call(auth.store.add_first_admin, name, password)
    except AuthError as refused:
        return form(code, name, str(refused).capitalize() + ".", 422)
    runtime = request.app.state.runtime
    await runtime.database.run(forget_setup_code, runtime.database)
    await auth.store_call(auth.store.audit, "account added", "first start setup", account.name, address, "role admin")
    session_id = await auth.store_call(auth.store.open_session, account.name)
    response = RedirectResponse("/admin", status_code=303)
    response.headers["set-cookie"] = auth.session_cookie(session_id, is_secure(request))
    return response
