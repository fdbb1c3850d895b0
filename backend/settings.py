"""Settings: the TOML configuration file, environment variables and command line.

Precedence for the runtime options (host, port, config, data dir, API token):
command line, then environment (HEIMDALL_*), then the defaults. The TOML file
describes what to monitor and how; a file given replaces the built-in default
(`default_config.toml`) entirely, and a section it leaves out is empty (lists)
or takes the defaults below (tables).
"""

from __future__ import annotations

import argparse
import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, Mapping

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_CONFIG_PATH = Path(__file__).with_name("default_config.toml")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_DATA_DIR = "./data"

_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


class ConfigError(Exception):
    """A configuration problem, worded for one line on stderr."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError("must be an http:// or https:// URL")
    return value


HttpUrlText = Annotated[str, AfterValidator(_http_url)]


class ServiceTarget(_Section):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    url: HttpUrlText


class WebSDRTarget(_Section):
    id: str
    name: Annotated[str, Field(min_length=1, max_length=128)]
    url: HttpUrlText
    kind: Literal["openwebrx", "kiwisdr", "websdr", "http"]
    latitude: Annotated[float, Field(ge=-90, le=90)]
    longitude: Annotated[float, Field(ge=-180, le=180)]
    altitude_m: float | None = None
    frequency_ranges_mhz: list[tuple[float, float]] = []

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not _ID_PATTERN.match(value):
            raise ValueError("must be lower-case letters, digits, '-', '_' or '.', at most 64 characters")
        return value

    @field_validator("frequency_ranges_mhz")
    @classmethod
    def _check_ranges(cls, ranges: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for low, high in ranges:
            if not (0 < low < high) or math.isinf(high):
                raise ValueError(f"range [{low}, {high}] must be two increasing positive numbers")
        return ranges


class PollingSettings(_Section):
    services_interval_s: Annotated[float, Field(gt=0)] = 30
    websdrs_interval_s: Annotated[float, Field(gt=0)] = 60
    timeout_s: Annotated[float, Field(gt=0)] = 5
    degraded_threshold_ms: Annotated[float, Field(gt=0)] = 1000  # a slower 2xx is "degraded"
    max_concurrency: Annotated[int, Field(ge=1, le=10_000)] = 256  # probes in flight at once
    down_after: Annotated[int, Field(ge=1)] = 2  # consecutive failed checks before a target is down
    up_after: Annotated[int, Field(ge=1)] = 1  # consecutive good checks before it is up again


class HistorySettings(_Section):
    raw_retention_h: Annotated[float, Field(gt=0)] = 6  # every single check
    minute_retention_h: Annotated[float, Field(gt=0)] = 25
    hour_retention_d: Annotated[float, Field(gt=0)] = 31
    day_retention_d: Annotated[float, Field(gt=0)] = 366
    changes_retention_d: Annotated[float, Field(gt=0)] = 366
    prune_interval_min: Annotated[float, Field(gt=0)] = 60

    def retention_s(self) -> dict[str, float]:
        return {"checks": self.raw_retention_h * 3600, "minute": self.minute_retention_h * 3600,
                "hour": self.hour_retention_d * 86400, "day": self.day_retention_d * 86400,
                "changes": self.changes_retention_d * 86400}


class WebSocketSettings(_Section):
    heartbeat_interval_s: Annotated[float, Field(gt=0)] = 30
    send_queue_bytes: Annotated[int, Field(ge=1024)] = 1024 * 1024
    max_message_bytes: Annotated[int, Field(ge=256)] = 64 * 1024
    rate_limit_per_s: Annotated[float, Field(gt=0)] = 20
    rate_limit_burst: Annotated[int, Field(ge=1)] = 40


class HubSettings(_Section):
    replay_buffer: Annotated[int, Field(ge=1)] = 10_000


class Config(_Section):
    """What the TOML file holds."""

    services: list[ServiceTarget] = []
    websdrs: list[WebSDRTarget] = []
    polling: PollingSettings = PollingSettings()
    websocket: WebSocketSettings = WebSocketSettings()
    hub: HubSettings = HubSettings()
    history: HistorySettings = HistorySettings()

    @model_validator(mode="after")
    def _unique_names(self) -> "Config":
        for label, keys in (("services", [s.name for s in self.services]), ("websdrs", [w.id for w in self.websdrs])):
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


def _format_location(loc: tuple) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def format_validation_error(error: ValidationError) -> str:
    """The first problem of a pydantic error as 'key.path: message'."""
    first = error.errors()[0]
    where = _format_location(first["loc"])
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    return f"{where}: {message}" if where else message


def load_config(path: Path) -> Config:
    """Read and validate a TOML configuration file; ConfigError names the file and the key."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return Config.model_validate(document)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {format_validation_error(exc)}") from None


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
    token = environ.get("HEIMDALL_API_TOKEN") or None

    config_path = Path(config_text) if config_text else DEFAULT_CONFIG_PATH
    return Settings(
        host=host or DEFAULT_HOST,
        port=_parse_port(port_text or "", port_source),
        data_dir=Path(data_text or DEFAULT_DATA_DIR),
        config_path=config_path,
        api_token=token,
        config=load_config(config_path),
        demo=args.demo,
    )
