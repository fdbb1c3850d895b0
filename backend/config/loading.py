"""Loading the settings: the TOML file (read safely, at most 1 MiB, every problem listed
one line each), environment variables (HEIMDALL_*, ${VAR} in notification URLs) and
the command line.

Precedence for the runtime options (host, port, config, data dir, API token): command
line, then environment (HEIMDALL_*), then the defaults.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import tomllib
from pydantic import ValidationError

from backend.config.schema import (
    DATABASE_FILE,
    DEFAULT_CONFIG_PATH,
    DEFAULT_DATA_DIR,
    DEFAULT_HOST,
    DEFAULT_PORT,
    Config,
    ConfigError,
    check_amqp_url,
    check_redis_url,
)


@dataclass(frozen=True)
class Settings:
    """Everything the process needs to start."""

    host: str
    port: int
    data_dir: Path
    config_path: Path
    api_token: str | None
    config: Config
    demo: bool = False
    session_secret: str | None = None
    redis_url: str = ""  # the event log on Redis; empty: in this process
    database_url: str = ""  # PostgreSQL, shared by several gateways; empty: SQLite in data_dir
    # [auth.oidc]'s client secret, from HEIMDALL_OIDC_CLIENT_SECRET, its file or the config; never shown.
    oidc_client_secret: str = field(default="", repr=False)
    # The platform's RabbitMQ ([feed] url or HEIMDALL_FEED_URL); carries a password, never shown.
    feed_url: str = field(default="", repr=False)

    @property
    def database_location(self) -> Path | str:
        return self.database_url or self.data_dir / DATABASE_FILE

    @property
    def login_required(self) -> bool:
        """Anything but loopback is reachable by others: then login is required."""
        return self.config.auth.required or not is_loopback(self.host)


def database_url_from(environ: Mapping[str, str]) -> str:
    """HEIMDALL_DATABASE_URL: postgresql://user:password@host:port/name. Only from the
    environment, as it may carry a password."""
    value = environ.get("HEIMDALL_DATABASE_URL", "")
    if value and not re.match(r"postgres(ql)?://[^/\s]+/[^\s]+$", value):
        raise ConfigError("HEIMDALL_DATABASE_URL: must be postgresql://user:password@host:port/database")
    return value


def _url_from(environ: Mapping[str, str], variable: str, configured: str, check: Callable[[str], str]) -> str:
    """An environment variable wins over the file's URL (HEIMDALL_REDIS_URL over [cluster]
    redis_url, HEIMDALL_FEED_URL over [feed] url); checked the same way, never quoted."""
    try:
        return check(environ.get(variable, configured))
    except ValueError as error:
        raise ConfigError(f"{variable}: {error}") from None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _format_location(loc: tuple) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _error_line(error: Any) -> str:
    where = _format_location(error["loc"])
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    elif error["type"] == "value_error":
        message = message.removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def format_validation_error(error: ValidationError) -> str:
    """The first problem of a pydantic error as 'key.path: message'."""
    return _error_line(error.errors()[0])


def validation_lines(error: ValidationError) -> list[str]:
    """Every problem of a pydantic error, one 'key.path: message' each."""
    return [_error_line(item) for item in error.errors()]


MAX_CONFIG_BYTES = 1024 * 1024


def read_config_file(path: Path) -> bytes:
    """The bytes of a regular file of at most MAX_CONFIG_BYTES. A FIFO, a device or a
    directory is refused before it is opened for reading, so nothing can hang here."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"config file {path}: not a regular file")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):  # swapped since the stat
                raise ConfigError(f"config file {path}: not a regular file")
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"config file {path}: larger than {MAX_CONFIG_BYTES // 1024} KiB")
    return raw


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate a TOML configuration file. ConfigError lists every problem, one
    line each, each naming the file and the key."""
    raw = read_config_file(path)
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: nested too deeply") from None
    document = with_service_urls(document, environ or {}, path)
    document = with_secrets_from_environment(document, environ or {}, path)
    document = with_trusted_proxies(document, environ or {})
    try:
        return Config.model_validate(document)
    except ValidationError as exc:
        raise ConfigError("\n".join(f"{path}: {line}" for line in validation_lines(exc))) from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply") from None


def with_trusted_proxies(document: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """HEIMDALL_TRUSTED_PROXIES (comma-separated CIDRs) replaces [auth] trusted_proxies:
    a load balancer's address, set where the deployment knows it (deploy/docker-compose.yml)."""
    value = environ.get("HEIMDALL_TRUSTED_PROXIES")
    if value is None:
        return document
    auth = document.get("auth") if isinstance(document.get("auth"), dict) else {}
    return {**document, "auth": {**auth, "trusted_proxies": [p.strip() for p in value.split(",") if p.strip()]}}


_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def with_secrets_from_environment(document: dict[str, Any], environ: Mapping[str, str], path: Path) -> dict[str, Any]:
    """`${VAR}` in the notification URLs of [[alerts]] and [[watches]] from the environment,
    so secrets (bot tokens, passwords) stay out of the file. A variable that is not set
    is an error naming it (never its value)."""
    def expand(url: Any, where: str) -> Any:
        if not isinstance(url, str):
            return url

        def value(found: re.Match) -> str:
            name = found.group(1)
            if name not in environ:
                raise ConfigError(f"{path}: {where}: environment variable {name} is not set")
            return environ[name]
        return _VARIABLE.sub(value, url)

    result = dict(document)
    for section in ("alerts", "watches"):
        items = document.get(section)
        if isinstance(items, list):
            result[section] = [
                {**item, "urls": [expand(url, f"{section}[{i}].urls") for url in item["urls"]]}
                if isinstance(item, dict) and isinstance(item.get("urls"), list) else item
                for i, item in enumerate(items)]
    return result


SERVICE_URL_PREFIX = "HEIMDALL_SERVICE_URL_"


def service_url_variable(name: str) -> str:
    """The environment variable that points service `name` elsewhere: rf-acquisition ->
    HEIMDALL_SERVICE_URL_RF_ACQUISITION."""
    return SERVICE_URL_PREFIX + re.sub(r"[^A-Z0-9]", "_", name.upper())


def with_service_urls(document: dict[str, Any], environ: Mapping[str, str], path: Path) -> dict[str, Any]:
    """Services' health URLs from HEIMDALL_SERVICE_URL_<NAME>, where set (in compose the
    platform's services run under their own host names). A variable for a service the
    configuration does not have is an error, not a silent no-op."""
    wanted = {key: value for key, value in environ.items() if key.startswith(SERVICE_URL_PREFIX)}
    if not wanted:
        return document
    services = document.get("services")
    services = services if isinstance(services, list) else []
    names = {service_url_variable(s["name"]): i for i, s in enumerate(services)
             if isinstance(s, dict) and isinstance(s.get("name"), str)}
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        known = ", ".join(sorted(names)) or "none"
        raise ConfigError(f"{unknown[0]}: no such service in {path} (variables for its services: {known})")
    services = [dict(s) if isinstance(s, dict) else s for s in services]
    for variable, url in wanted.items():
        services[names[variable]]["url"] = url
    return {**document, "services": services}


SUB_COMMANDS = """sub-commands (each has its own --help):
  user         accounts that sign in to the pages: add, passwd, role, remove, list
  token        API tokens for tools: create, list, revoke
  watch        print a gateway's live events (/ws/updates) in a terminal
  notify-test  send a test notification through an alert or a watch
  agent        probe a gateway's targets from another site and report to it

With no sub-command: run the gateway (python main.py --demo for a simulated network)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="main.py", description="Heimdall Live: operations dashboard and API gateway",
                                     epilog=SUB_COMMANDS, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", help=f"address to listen on (HEIMDALL_HOST, default {DEFAULT_HOST})")
    parser.add_argument("--port", help=f"port to listen on (HEIMDALL_PORT, default {DEFAULT_PORT})")
    parser.add_argument("--config", help="TOML configuration file (HEIMDALL_CONFIG, default: the built-in network)")
    parser.add_argument("--data-dir", help=f"where data is kept (HEIMDALL_DATA_DIR, default {DEFAULT_DATA_DIR})")
    parser.add_argument("--demo", action="store_true",
                        help="simulate a Heimdall network on loopback (services, receivers, detections)")
    return parser


def _parse_port(value: str, source: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise ConfigError(f"{source}: port must be a number, got {value!r}") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"{source}: port must be between 0 and 65535, got {port}")
    return port


def load_settings(argv: list[str], environ: Mapping[str, str]) -> Settings:
    """Settings from the command line and the environment. argparse exits 2 on unknown flags."""
    args = _parser().parse_args(argv)

    def pick(flag: str | None, env: str, default: str | None) -> tuple[str | None, str]:
        if flag is not None:
            return flag, "--" + env.removeprefix("HEIMDALL_").lower().replace("_", "-")
        if environ.get(env):
            return environ[env], env
        return default, "default"

    host, _ = pick(args.host, "HEIMDALL_HOST", DEFAULT_HOST)
    port_text, port_source = pick(args.port, "HEIMDALL_PORT", str(DEFAULT_PORT))
    config_text, _ = pick(args.config, "HEIMDALL_CONFIG", None)
    data_text, _ = pick(args.data_dir, "HEIMDALL_DATA_DIR", DEFAULT_DATA_DIR)
    token = environ.get("HEIMDALL_API_TOKEN")  # set but empty is refused as too short, not ignored

    config_path = Path(config_text) if config_text else DEFAULT_CONFIG_PATH
    config = load_config(config_path, environ)
    return Settings(
        host=host or DEFAULT_HOST,
        port=_parse_port(port_text or "", port_source),
        data_dir=Path(data_text or DEFAULT_DATA_DIR),
        config_path=config_path,
        api_token=token,
        config=config,
        demo=args.demo,
        session_secret=environ.get("HEIMDALL_SESSION_SECRET"),
        redis_url=_url_from(environ, "HEIMDALL_REDIS_URL", config.cluster.redis_url, check_redis_url),
        database_url=database_url_from(environ),
        oidc_client_secret=oidc_client_secret(config, environ),
        feed_url=_url_from(environ, "HEIMDALL_FEED_URL", config.feed.url, check_amqp_url),
    )


MAX_SECRET_FILE_BYTES = 64 * 1024


def oidc_client_secret(config: Config, environ: Mapping[str, str]) -> str:
    """The OIDC client's secret: HEIMDALL_OIDC_CLIENT_SECRET, else client_secret_file,
    else client_secret; empty for a public client (PKCE alone)."""
    oidc = config.auth.oidc
    if oidc is None:
        return ""
    if environ.get("HEIMDALL_OIDC_CLIENT_SECRET"):
        return environ["HEIMDALL_OIDC_CLIENT_SECRET"]
    if oidc.client_secret_file:
        try:
            with open(oidc.client_secret_file, "rb") as source:
                text = source.read(MAX_SECRET_FILE_BYTES + 1)
        except OSError as exc:
            raise ConfigError(f"[auth.oidc] client_secret_file {oidc.client_secret_file}: "
                              f"{exc.strerror or exc}") from None
        if len(text) > MAX_SECRET_FILE_BYTES:
            raise ConfigError(f"[auth.oidc] client_secret_file {oidc.client_secret_file}: larger than 64 KiB")
        return text.decode("utf-8", errors="replace").strip()
    return oidc.client_secret.get_secret_value() if oidc.client_secret else ""
