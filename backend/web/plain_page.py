"""The few pages served without the operators' UI (sign-in, single sign-on refusals, the
first admin's setup): plain HTML, no script, one look."""

from __future__ import annotations

import html

from fastapi.responses import HTMLResponse

PAGE = """<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Heimdall Live</title>
<style>
 body {{ font-family: system-ui, sans-serif; background: #0f172a; color: #f8fafc; display: grid; place-items: center;
        min-height: 100vh; margin: 0; }}
 main {{ background: #1e293b; padding: 2rem clamp(1rem, 5vw, 2.5rem); border-radius: .8rem; width: min(26rem, 94vw);
        box-sizing: border-box; }}
 h1 {{ margin: 0 0 1.2rem; font-size: 1.6rem; }}
 label {{ display: block; margin: .8rem 0 .3rem; font-weight: 600; }}
 input {{ width: 100%; box-sizing: border-box; padding: .6rem; font-size: 1.1rem; border-radius: .4rem; border: 0; }}
 button {{ margin-top: 1.4rem; width: 100%; padding: .7rem; font-size: 1.1rem; font-weight: 700; border: 0;
          border-radius: .4rem; background: #16a34a; color: #fff; cursor: pointer; }}
 .error {{ background: #b91c1c; padding: .6rem .8rem; border-radius: .4rem; font-weight: 600; }}
 .sso {{ display: block; text-align: center; margin: 1rem 0; padding: .7rem; font-size: 1.1rem; font-weight: 700;
        border-radius: .4rem; background: #2563eb; color: #fff; text-decoration: none; }}
 a {{ color: #93c5fd; }}
</style></head>
<body><main>
<h1>{heading}</h1>
{body}
</main></body></html>"""


def plain_page(title: str, heading: str, body: str, status: int = 200,
               headers: dict[str, str] | None = None) -> HTMLResponse:
    """`body` is HTML already; title and heading are escaped here. Never cached."""
    return HTMLResponse(PAGE.format(title=html.escape(title), heading=html.escape(heading), body=body),
                        status_code=status, headers={"Cache-Control": "no-store", **(headers or {})})


def error_line(message: str) -> str:
    return f'<p class="error" role="alert">{html.escape(message)}</p>' if message else ""
