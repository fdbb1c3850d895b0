"""Prints, as JSON, the scope table the gateway derives from its routes: every route of
ours with its declared scope, and the scope each (method, path) read from stdin needs.
Run in a process of its own (tests/auth/test_scopes.py): NiceGUI's pages are global."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path


def main() -> None:
    from backend.app import build_app, build_runtime
    from backend.config.loading import load_settings

    asked = json.load(sys.stdin)
    folder = Path(tempfile.mkdtemp())
    (folder / "c.toml").write_text("")
    settings = load_settings(["--config", str(folder / "c.toml"), "--data-dir", str(folder)], {})
    runtime = build_runtime(settings, "token-0123456789abcdef", "s" * 48)
    app = build_app(runtime)
    import ui

    ui.attach(app, runtime)
    from backend.auth.scopes import ScopeTable

    table = ScopeTable.of(app)
    print(json.dumps({
        "ours": [{"path": e.path, "methods": sorted(e.methods or []), "scope": e.scope} for e in table.ours()],
        "needed": [[m, p, table.needed(m, p), table.needed(m, p, badges_public=True)] for m, p in asked],
    }))


if __name__ == "__main__":
    main()
