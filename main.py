"""Heimdall Live: read settings, build the app, run it. Wiring only (and the CLI verbs)."""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

DEMO_DATA_SUBDIR = "demo"  # --demo keeps its database and token in DATA_DIR/demo


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    verb = next((arg for arg in argv if not arg.startswith("-")), None)
    if argv[:1] == ["watch"]:
        from client.watch import main as watch

        return watch(argv[1:])
    if argv[:1] == ["notify-test"]:
        from backend.alerting.notify_test import main as notify_test

        return notify_test(argv[1:])
    if argv[:1] == ["agent"]:
        from backend.sites.agent import main as agent

        return agent(argv[1:])
    if verb in ("user", "token"):
        from backend.auth.cli import main as accounts

        return accounts(argv)
    return serve_gateway(argv)


def serve_gateway(argv: list[str]) -> int:
    from backend.app import build_app, build_runtime, with_updates_endpoint
    from backend.auth.first_start import announce_access
    from backend.auth.secrets_files import (
        TOKEN_FILE,
        SecretError,
        SharedSecrets,
        load_or_create_session_secret,
        load_or_create_token,
        private_directory,
    )
    from backend.config.loading import load_settings
    from backend.config.schema import ConfigError
    from backend.serving.edge import EdgeLimits
    from backend.serving.server import ListenError, bind_socket, serve
    from backend.storage.database import DatabaseUnavailable, open_database

    try:
        settings = load_settings(argv, os.environ)
        if settings.demo:  # the demo never writes into the production data, nor its event log
            settings = dataclasses.replace(settings, data_dir=settings.data_dir / DEMO_DATA_SUBDIR, database_url="",
                                           redis_url="")
        try:
            private_directory(settings.data_dir)
            database = open_database(settings.database_location)
            shared = SharedSecrets(database) if settings.database_url else None
            token, generated = load_or_create_token(settings.data_dir, settings.api_token, shared)
            session_secret = load_or_create_session_secret(settings.data_dir, settings.session_secret, shared)
        except DatabaseUnavailable as exc:
            raise ConfigError(str(exc)) from None
        except OSError as exc:
            raise ConfigError(f"data directory {settings.data_dir}: {exc.strerror or exc}") from None
        except SecretError as exc:
            raise ConfigError(str(exc)) from None
        sock = bind_socket(settings.host, settings.port)
        demo_sock = bind_socket("127.0.0.1", 0) if settings.demo else None
    except (ConfigError, ListenError) as exc:
        for line in str(exc).splitlines():
            print(f"heimdall: {line}", file=sys.stderr)
        return 2

    if generated:
        where = (f"the database, shared by every gateway on it (shared_secrets, name '{TOKEN_FILE}')"
                 if settings.database_url else settings.data_dir / TOKEN_FILE)
        # Never the token itself: the console ends up in journald and `docker logs`.
        print(f"Generated an API token for ingestion, kept in {where} "
              f"(or make one of your own: python main.py token create NAME --scope ingest)")
    host, port = sock.getsockname()[:2]
    from backend.safety.destinations import listening_on

    listening_on(settings.host, port)  # never a destination of targets and alert rules made at run time
    if demo_sock is not None:
        from demo.simulator import SimulatedNetwork, SimulatedPlatform, demo_config

        settings = dataclasses.replace(settings, config=demo_config(demo_sock.getsockname()[1]))
    # The running configuration: the file's (or the demo's), with what was made in the browser.
    from backend.config.managed import ManagedStore, merged

    file_config = settings.config
    config, problems = merged(file_config, ManagedStore(database).rows())
    for problem in problems:
        print(f"heimdall: {problem}", file=sys.stderr, flush=True)
    settings = dataclasses.replace(settings, config=config)
    runtime = build_runtime(settings, token, session_secret, base_url=f"http://{host}:{port}", database=database)
    runtime.file_config = file_config
    if demo_sock is not None:
        local = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        runtime.background += [SimulatedNetwork(demo_sock).serve,
                               SimulatedPlatform(f"http://{local}:{port}", token).run]
        print(f"Demo: a simulated Heimdall network on 127.0.0.1:{demo_sock.getsockname()[1]}; "
              f"its data is kept apart, in {settings.data_dir}", flush=True)
    from backend.config.schema import DEFAULT_DATA_DIR

    default_dir = settings.data_dir == Path(DEFAULT_DATA_DIR) and not settings.database_url
    announce_access(runtime.settings.login_required, runtime.auth.store, runtime.database, host, port,
                    "" if default_dir else f" --data-dir {settings.data_dir}")
    app = build_app(runtime)

    import ui  # NiceGUI is imported only once the settings are known to be good

    ui.attach(app, runtime)
    source = "the demo network" if settings.demo else settings.config_path
    print(f"Heimdall Live listening on http://{host}:{port}/ (config: {source})", flush=True)
    runtime.edge = EdgeLimits.from_settings(settings.config.http, settings.config.auth.trusted_proxies)
    serve(with_updates_endpoint(app, runtime), settings, sock, before_shutdown=runtime.manager.close_all,
          edge=runtime.edge)
    return 0


if __name__ == "__main__":
    sys.exit(main())
