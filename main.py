"""Heimdall Live: read settings, build the app, run it. Wiring only."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    from backend.app import build_app, build_runtime, with_updates_endpoint
    from backend.auth import TOKEN_FILE, load_or_create_token
    from backend.server import ListenError, bind_socket, serve
    from backend.settings import ConfigError, load_settings

    argv = sys.argv[1:] if argv is None else argv
    try:
        settings = load_settings(argv, os.environ)
        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            token, generated = load_or_create_token(settings.data_dir, settings.api_token)
        except OSError as exc:
            raise ConfigError(f"data directory {settings.data_dir}: {exc.strerror or exc}") from None
        sock = bind_socket(settings.host, settings.port)
    except (ConfigError, ListenError) as exc:
        print(f"heimdall: {exc}", file=sys.stderr)
        return 2

    if generated:
        print(f"Generated an API token for ingestion (kept in {settings.data_dir / TOKEN_FILE}): {token}")
    runtime = build_runtime(settings, token)
    app = build_app(runtime)

    import ui  # NiceGUI is imported only once the settings are known to be good

    ui.attach(app, runtime)
    host, port = sock.getsockname()[:2]
    print(f"Heimdall Live listening on http://{host}:{port}/ (config {settings.config_path})", flush=True)
    serve(with_updates_endpoint(app, runtime), settings, sock)
    return 0


if __name__ == "__main__":
    sys.exit(main())
