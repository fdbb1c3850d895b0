"""Settings: the TOML configuration file, environment variables and command line.

Precedence for the runtime options (host, port, config, data dir, API token):
command line, then environment (HEIMDALL_*), then the defaults. The TOML file
describes what to monitor and how; a file given replaces the built-in default
(`default_config.toml`) entirely, and a section it leaves out is empty (lists)
or takes the defaults below (tables).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import re
import stat
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_CONFIG_PATH = Path(__file__).with_name("default_config.toml")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_DATA_DIR = "./data"
DATABASE_FILE = "heimdall.db"  # SQLite, in the data directory

_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


class ConfigError(Exception):
    """A configuration problem, worded for one line on stderr."""


class _Section(BaseModel):
    # strict: a string is not a number and a boolean is not a number (TOML has all three).
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _tile_template(value: str) -> str:
    if value == "":  # no tiles: the map shows positions on a plain background
        return value
    if not re.match(r"^(https?://[^/\s]+|/)", value) or not all(part in value for part in ("{z}", "{x}", "{y}")):
        raise ValueError("must be an http(s):// URL or a path on this gateway, with {z}, {x} and {y}")
    return value


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError("must be an http:// or https:// URL")
    return value


HttpUrlText = Annotated[str, AfterValidator(_http_url)]


def _number(low: float, high: float, low_inclusive: bool = True) -> Any:
    """A finite number within bounds (TOML also has inf and nan)."""
    bound = {"ge": low} if low_inclusive else {"gt": low}
    return Annotated[float, Field(**bound, le=high, allow_inf_nan=False)]


# Bounds that keep the gateway sane: a shorter interval than this would spin a core, a
# longer timeout would let a round outlast its interval many times over.
INTERVAL_S = _number(1, 86_400)
TIMEOUT_S = _number(0.1, 120)
HEARTBEAT_S = _number(0.2, 3600)  # also the ping timeout: below this, sound peers are closed
RETENTION = _number(0, 100_000, low_inclusive=False)


class ServiceTarget(_Section):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    url: HttpUrlText


class WebSDRTarget(_Section):
    id: str
    name: Annotated[str, Field(min_length=1, max_length=128)]
    url: HttpUrlText
    kind: Literal["openwebrx", "kiwisdr", "websdr", "http"]
    latitude: _number(-90, 90)
    longitude: _number(-180, 180)
    altitude_m: _number(-500, 10_000) | None = None
    frequency_ranges_mhz: list[Annotated[list[_number(0, 1e6, low_inclusive=False)],
                                         Field(min_length=2, max_length=2)]] = []

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not _ID_PATTERN.match(value):
            raise ValueError("must be lower-case letters, digits, '-', '_' or '.', at most 64 characters")
        return value

    @field_validator("frequency_ranges_mhz")
    @classmethod
    def _check_ranges(cls, ranges: list[list[float]]) -> list[list[float]]:
        for low, high in ranges:
            if not low < high:
                raise ValueError(f"range [{low}, {high}] must be two increasing positive numbers")
        return ranges


class PollingSettings(_Section):
    services_interval_s: INTERVAL_S = 30
    websdrs_interval_s: INTERVAL_S = 60
    timeout_s: TIMEOUT_S = 5
    degraded_threshold_ms: _number(1, 600_000) = 1000  # a slower 2xx is "degraded"
    max_concurrency: Annotated[int, Field(ge=1, le=10_000)] = 256  # probes in flight at once
    down_after: Annotated[int, Field(ge=1, le=100)] = 2  # consecutive failed checks before a target is down
    up_after: Annotated[int, Field(ge=1, le=100)] = 1  # consecutive good checks before it is up again


class HistorySettings(_Section):
    raw_retention_h: RETENTION = 6  # every single check
    minute_retention_h: RETENTION = 25
    hour_retention_d: RETENTION = 31
    day_retention_d: RETENTION = 366
    changes_retention_d: RETENTION = 366
    prune_interval_min: _number(1, 10_080) = 60

    def retention_s(self) -> dict[str, float]:
        return {"checks": self.raw_retention_h * 3600, "minute": self.minute_retention_h * 3600,
                "hour": self.hour_retention_d * 86400, "day": self.day_retention_d * 86400,
                "changes": self.changes_retention_d * 86400}


class WebSocketSettings(_Section):
    heartbeat_interval_s: HEARTBEAT_S = 30
    send_queue_bytes: Annotated[int, Field(ge=1024, le=1 << 30)] = 1024 * 1024
    max_message_bytes: Annotated[int, Field(ge=256, le=1 << 20)] = 64 * 1024
    rate_limit_per_s: _number(0.1, 10_000) = 20
    rate_limit_burst: Annotated[int, Field(ge=1, le=100_000)] = 40


class HubSettings(_Section):
    replay_buffer: Annotated[int, Field(ge=1, le=1_000_000)] = 10_000


OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'


class MapSettings(_Section):
    """Where the operator's browser fetches map tiles (an offline tile server, say)."""

    tile_url: Annotated[str, AfterValidator(_tile_template)] = OSM_TILES
    attribution: Annotated[str, Field(max_length=500)] = OSM_ATTRIBUTION
    max_zoom: Annotated[int, Field(ge=1, le=24)] = 19


def _cidr(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not an address or a CIDR block such as 10.0.0.0/8") from None
    return value


def _header_name(value: str) -> str:
    if value and not re.fullmatch(r"[A-Za-z0-9-]{1,64}", value):
        raise ValueError("must be an HTTP header name such as X-Forwarded-User")
    return value


def _host_name(value: str) -> str:
    if not re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]{1,253})", value):
        raise ValueError(f"{value!r} is not a host name or address such as heimdall.example.org (no port)")
    return value.lower()


def _origin(value: str) -> str:
    if not re.fullmatch(r"https?://[^/\s?#]+", value):
        raise ValueError(f"{value!r} is not an origin such as https://tools.example.org (no path)")
    return value


class AuthSettings(_Section):
    """Who may read. Bound to anything but loopback, login is required whatever this says."""

    required: bool = False
    trusted_header: Annotated[str, AfterValidator(_header_name)] = ""  # e.g. X-Forwarded-User from oauth2-proxy
    trusted_proxies: list[Annotated[str, AfterValidator(_cidr)]] = []  # the header counts only from these


class HttpSettings(_Section):
    public_url: Annotated[str, AfterValidator(lambda v: v and _http_url(v))] = ""  # as browsers reach it
    allowed_origins: list[Annotated[str, AfterValidator(_origin)]] = []  # other sites' pages that may call the API
    # Host headers answered besides public_url's host (and loopback names when bound to loopback).
    allowed_hosts: list[Annotated[str, AfterValidator(_host_name)]] = []
    # Origins that may show the pages in a frame; empty: none (clickjacking).
    frame_ancestors: list[Annotated[str, AfterValidator(_origin)]] = []
    header_timeout_s: _number(1, 120) = 10  # a connection must have sent its request headers by then
    max_header_bytes: Annotated[int, Field(ge=4096, le=1 << 20)] = 64 * 1024  # larger: 431
    max_connections_per_address: Annotated[int, Field(ge=1, le=1_000_000)] = 1000  # trusted proxies exempt
    keep_alive_s: _number(1, 300) = 5  # an idle keep-alive connection is closed after this


class RecordsSettings(_Section):
    retention_days: _number(0, 36_500, low_inclusive=False) = 90  # detections and localizations
    prune_interval_min: _number(1, 10_080) = 60


def _redis_url_check(value: str) -> str:
    if value and not re.match(r"(rediss?|unix)://", value):
        raise ValueError("must start with redis://, rediss:// or unix://")
    return value


class ClusterSettings(_Section):
    """Several gateway processes (README: Scaling out). Empty: one process, as embedded."""

    redis_url: Annotated[str, Field(max_length=2000), AfterValidator(_redis_url_check)] = ""  # or HEIMDALL_REDIS_URL


def _target_pattern(value: str) -> str:
    if not re.fullmatch(r"(services|websdrs):(\*|[A-Za-z0-9][A-Za-z0-9_. -]{0,63})", value):
        raise ValueError(f"{value!r} is not kind:id, e.g. services:*, websdrs:torino")
    return value


TargetPattern = Annotated[str, AfterValidator(_target_pattern)]
AppriseUrls = Annotated[list[Annotated[str, Field(min_length=3, max_length=2048)]], Field(min_length=1, max_length=20)]


class AlertSettings(_Section):
    """Where and when to tell people that targets went down and came back."""

    name: Annotated[str, Field(min_length=1, max_length=64)]
    urls: AppriseUrls  # apprise URLs; ${VAR} comes from the environment
    targets: Annotated[list[TargetPattern], Field(min_length=1)]
    failure_threshold: Annotated[int, Field(ge=1, le=100)] = 3  # consecutive failed checks before DOWN
    success_threshold: Annotated[int, Field(ge=1, le=100)] = 2  # consecutive good checks before RESOLVED
    send_resolved: bool = True
    reminder_every_min: _number(0, 10_080) = 0  # repeat DOWN while still down; 0: never


class MaintenanceSettings(_Section):
    """A window in which targets are checked but nothing is sent: once, or on a cron schedule."""

    name: Annotated[str, Field(max_length=64)] = ""
    targets: Annotated[list[TargetPattern], Field(min_length=1)]
    start: datetime | None = None  # a TOML date-time; without an offset it is UTC
    cron: str = ""  # crontab, UTC: "0 3 * * 0" is Sundays at 03:00
    duration_min: _number(1, 10_080, low_inclusive=True)

    @model_validator(mode="after")
    def _one_schedule(self) -> "MaintenanceSettings":
        if (self.start is None) == (not self.cron):
            raise ValueError("give either start or cron")
        if self.cron:
            from backend.alerting.rules import cron_trigger

            try:
                cron_trigger(self.cron)
            except ValueError as exc:
                raise ValueError(f"cron {self.cron!r}: {exc}") from None
        return self


class WatchArea(_Section):
    latitude: _number(-90, 90)
    longitude: _number(-180, 180)
    radius_km: _number(0, 20_000, low_inclusive=False)


class WatchSettings(_Section):
    """Tell someone when a frequency is heard, or a transmitter located in an area."""

    name: Annotated[str, Field(min_length=1, max_length=64)]
    urls: AppriseUrls
    frequency_mhz: _number(0, 1e6, low_inclusive=False) | None = None
    tolerance_khz: _number(0, 1e6) = 5
    min_snr_db: _number(-200, 200) | None = None
    receivers: list[str] = []
    area: WatchArea | None = None
    max_uncertainty_m: _number(0, 1e8, low_inclusive=False) | None = None
    cooldown_s: _number(0, 86_400 * 7) = 0

    @model_validator(mode="after")
    def _one_kind(self) -> "WatchSettings":
        if (self.frequency_mhz is None) == (self.area is None):
            raise ValueError("give either frequency_mhz (detections) or area (localizations)")
        return self


class DeliverySettings(_Section):
    timeout_s: _number(1, 120) = 10  # per URL and attempt
    retries: Annotated[int, Field(ge=0, le=10)] = 2  # after the first attempt, with backoff 1, 2, 4 ... s


def _host_port(value: str) -> str:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not host:port, e.g. 1.1.1.1:53")
    return value


class ConnectivitySettings(_Section):
    """Reference endpoints the gateway should always reach (Gatus's connectivity checker).
    When every target fails in a way that implicates the gateway's own reach, one of
    these answering proves the network works, and the targets' alerts go out."""

    references: list[Annotated[str, AfterValidator(_host_port)]] = []  # TCP host:port
    timeout_s: _number(0.1, 30) = 3


class BadgesSettings(_Section):
    public: bool = False  # serve the status and uptime badges without credentials


class Config(_Section):
    """What the TOML file holds."""

    services: list[ServiceTarget] = []
    websdrs: list[WebSDRTarget] = []
    polling: PollingSettings = PollingSettings()
    websocket: WebSocketSettings = WebSocketSettings()
    hub: HubSettings = HubSettings()
    history: HistorySettings = HistorySettings()
    map: MapSettings = MapSettings()
    auth: AuthSettings = AuthSettings()
    http: HttpSettings = HttpSettings()
    records: RecordsSettings = RecordsSettings()
    alerts: list[AlertSettings] = []
    maintenance: list[MaintenanceSettings] = []
    watches: list[WatchSettings] = []
    delivery: DeliverySettings = DeliverySettings()
    connectivity: ConnectivitySettings = ConnectivitySettings()
    badges: BadgesSettings = BadgesSettings()
    cluster: ClusterSettings = ClusterSettings()

    @model_validator(mode="after")
    def _unique_names(self) -> "Config":
        for label, keys in (("services", [s.name for s in self.services]), ("websdrs", [w.id for w in self.websdrs]),
                            ("alerts", [a.name for a in self.alerts]), ("watches", [w.name for w in self.watches])):
            seen = set()
            for key in keys:
                if key in seen:
                    raise ValueError(f"{label}: '{key}' appears twice")
                seen.add(key)
        return self


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


def _redis_url_from(environ: Mapping[str, str], configured: str) -> str:
    """HEIMDALL_REDIS_URL wins over [cluster] redis_url; checked the same way."""
    value = environ.get("HEIMDALL_REDIS_URL", configured)
    try:
        return _redis_url_check(value)
    except ValueError as error:
        raise ConfigError(f"HEIMDALL_REDIS_URL: {error}") from None


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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="main.py", description="Heimdall Live: operations dashboard and API gateway")
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
        redis_url=_redis_url_from(environ, config.cluster.redis_url),
        database_url=database_url_from(environ),
    )
