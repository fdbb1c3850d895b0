"""The configuration file's schema: every section and its rules (pydantic, strict: an
unknown key is an error, no string or boolean taken as a number, bounds on every
interval, timeout and size). A file given replaces the built-in default
(`default_config.toml`) entirely; a section it leaves out is empty (lists) or takes
the defaults below (tables). Loading it, with the environment and the command line:
loading.py."""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    create_model,
    field_validator,
    model_validator,
)

from backend.config.crontab import cron_trigger
from backend.kinds import KINDS, default_kind, kind_names, where_fields
from backend.kinds.base import http_url
from backend.kinds.tcp import split_address
from backend.safety.destinations import DEFAULT_REFUSED

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


HttpUrlText = Annotated[str, AfterValidator(http_url)]


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


def _known_kind(group: str, name: str) -> str:
    if (group, name) not in KINDS:
        raise ValueError(f"{name!r} is not one of {', '.join(kind_names(group))}")
    return name


def _kind_check(group: str, target: Any) -> Any:
    """The target has what its kind needs (backend/kinds)."""
    kind = KINDS[(group, target.kind)]
    if kind.where_field and not getattr(target, kind.where_field):
        raise ValueError(f"a {target.kind} target needs {kind.where_field}")
    problem = kind.config_problem(target)
    if problem:
        raise ValueError(problem)
    return target


# How many sites must see a target down before it is down for alerting: a number, or
# "majority" of the sites that reported (backend/sites/quorum.py).
Quorum = Annotated[int, Field(ge=1, le=100)] | Literal["majority"]


def _where_fields(group: str) -> dict[str, Any]:
    """The location fields of a group, as its kinds declare them (backend/kinds): a kind
    with a field of its own adds it here without a change to this file. Required where
    every kind of the group shares one field."""
    fields = where_fields(group)
    made: dict[str, Any] = {}
    for where in fields:
        text = Annotated[str, Field(max_length=where.max_length), AfterValidator(where.check)]
        made[where.name] = (text, ...) if len(fields) == 1 else (text | None, None)
    return made


class _ServiceTarget(_Section):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    kind: Annotated[str, Field(max_length=32), AfterValidator(lambda v: _known_kind("services", v))] = \
        default_kind("services")
    quorum: Quorum | None = None  # this target's own [sites] quorum
    # A push service (kind = "push"): down when no report came for this long.
    deadline_s: _number(1, 86_400) | None = None

    @model_validator(mode="after")
    def _check_kind(self) -> "_ServiceTarget":
        return _kind_check("services", self)


# name, kind, quorum, and where each kind of service is (url: the health endpoint;
# address: host:port of a TCP service).
ServiceTarget = create_model("ServiceTarget", __base__=_ServiceTarget, **_where_fields("services"))


class _WebSDRTarget(_Section):
    id: str
    name: Annotated[str, Field(min_length=1, max_length=128)]
    kind: Annotated[str, Field(max_length=32), AfterValidator(lambda v: _known_kind("websdrs", v))]
    latitude: _number(-90, 90)
    longitude: _number(-180, 180)
    altitude_m: _number(-500, 10_000) | None = None
    frequency_ranges_mhz: list[Annotated[list[_number(0, 1e6, low_inclusive=False)],
                                         Field(min_length=2, max_length=2)]] = []
    quorum: Quorum | None = None  # this receiver's own [sites] quorum
    # The Heimdall platform's id of this receiver (its station_id, "3" or a UUID), when it
    # is not this `id`: the platform's feed names receivers by it (backend/feed).
    platform_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not _ID_PATTERN.match(value):
            raise ValueError("must be lower-case letters, digits, '-', '_' or '.', at most 64 characters")
        return value

    @model_validator(mode="after")
    def _check_kind(self) -> "_WebSDRTarget":
        return _kind_check("websdrs", self)

    @field_validator("frequency_ranges_mhz")
    @classmethod
    def _check_ranges(cls, ranges: list[list[float]]) -> list[list[float]]:
        for low, high in ranges:
            if not low < high:
                raise ValueError(f"range [{low}, {high}] must be two increasing positive numbers")
        return ranges


# Where each kind of receiver is: every kind today reads a receiver's URL.
WebSDRTarget = create_model("WebSDRTarget", __base__=_WebSDRTarget, **_where_fields("websdrs"))


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
    # ... and at most this many bytes of them: a state topic's round is a full snapshot
    # (176 KiB at 200 receivers), and 10,000 of them would hold gigabytes.
    replay_bytes: Annotated[int, Field(ge=64 * 1024, le=1 << 34)] = 32 * 1024 * 1024


OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'


class MapSettings(_Section):
    """Where the operator's browser fetches map tiles (an offline tile server, say)."""

    tile_url: Annotated[str, AfterValidator(_tile_template)] = OSM_TILES
    attribution: Annotated[str, Field(max_length=500)] = OSM_ATTRIBUTION
    max_zoom: Annotated[int, Field(ge=1, le=24)] = 19
    # The coverage layer: how well the receivers ready on this frequency locate a
    # transmitter (each tab may choose another; 0 for none by default).
    coverage_freq_mhz: _number(0, 1e6) = 145.5
    coverage_sigma_t_us: _number(0, 1000, low_inclusive=False) = 1.0  # timing error, 1 sigma


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


GATEWAY_ROLES = ("viewer", "operator", "admin")  # as backend/auth/store.py ROLES


class OidcSettings(_Section):
    """Sign-in with the platform's OpenID Connect provider (Keycloak's realm roles by default)."""

    issuer: HttpUrlText  # e.g. https://sso.example.org/realms/heimdall; discovery at {issuer}/.well-known/...
    client_id: Annotated[str, Field(min_length=1, max_length=200)]
    # Better from HEIMDALL_OIDC_CLIENT_SECRET or client_secret_file than here.
    client_secret: SecretStr | None = None
    client_secret_file: Annotated[str, Field(max_length=1000)] = ""
    scopes: list[Annotated[str, Field(pattern=r"^[\x21\x23-\x5b\x5d-\x7e]{1,100}$")]] = ["openid", "profile"]
    roles_claim: Annotated[str, Field(min_length=1, max_length=200)] = "realm_access.roles"  # dotted path
    # The provider's role names that may sign in, and the gateway role each gives (the highest wins).
    allowed_roles: list[Annotated[str, Field(min_length=1, max_length=200)]] = list(GATEWAY_ROLES)
    role_map: dict[str, Literal["viewer", "operator", "admin"]] = {role: role for role in GATEWAY_ROLES}
    name_claim: Annotated[str, Field(min_length=1, max_length=100)] = "preferred_username"
    button_label: Annotated[str, Field(min_length=1, max_length=60)] = "Sign in with single sign-on"
    # Claims are asked again this often with the refresh token: a role removed at the
    # provider is lost by then (and at the next sign-in).
    refresh_interval_s: _number(5, 86_400) = 300
    timeout_s: _number(1, 60) = 10  # each request to the provider

    @model_validator(mode="after")
    def _scopes(self) -> "OidcSettings":
        if "openid" not in self.scopes:
            raise ValueError("scopes must include openid")
        return self


class AuthSettings(_Section):
    """Who may read. Bound to anything but loopback, login is required whatever this says."""

    required: bool = False
    trusted_header: Annotated[str, AfterValidator(_header_name)] = ""  # e.g. X-Forwarded-User from oauth2-proxy
    trusted_proxies: list[Annotated[str, AfterValidator(_cidr)]] = []  # the header counts only from these
    password_login: bool = True  # local accounts' passwords; off: single sign-on and tokens only
    # Password checks (argon2id, ~0.15 s of a core each, one at a time) that may wait; a
    # sign-in beyond them is answered 503 with Retry-After, not queued for minutes.
    password_checks_waiting: Annotated[int, Field(ge=1, le=10_000)] = 32
    oidc: OidcSettings | None = None


class HttpSettings(_Section):
    public_url: Annotated[str, AfterValidator(lambda v: v and http_url(v))] = ""  # as browsers reach it
    allowed_origins: list[Annotated[str, AfterValidator(_origin)]] = []  # other sites' pages that may call the API
    # Host headers answered besides public_url's host (and loopback names when bound to loopback).
    allowed_hosts: list[Annotated[str, AfterValidator(_host_name)]] = []
    # Origins that may show the pages in a frame; empty: none (clickjacking).
    frame_ancestors: list[Annotated[str, AfterValidator(_origin)]] = []
    header_timeout_s: _number(1, 120) = 10  # a connection must have sent its request headers by then
    max_header_bytes: Annotated[int, Field(ge=4096, le=1 << 20)] = 64 * 1024  # larger: 431
    max_connections_per_address: Annotated[int, Field(ge=1, le=1_000_000)] = 1000  # trusted proxies exempt
    keep_alive_s: _number(1, 300) = 5  # an idle keep-alive connection is closed after this


class TargetsSettings(_Section):
    """Where targets and alert rules made at run time may make the gateway connect
    (backend/safety/destinations.py); the file's own entries are unrestricted."""

    refuse_networks: list[Annotated[str, AfterValidator(_cidr)]] = list(DEFAULT_REFUSED)
    allow_networks: list[Annotated[str, AfterValidator(_cidr)]] = []  # exceptions to refuse_networks


class RecordsSettings(_Section):
    retention_days: _number(0, 36_500, low_inclusive=False) = 90  # detections and localizations
    prune_interval_min: _number(1, 10_080) = 60


def check_redis_url(value: str) -> str:
    if value and not re.match(r"(rediss?|unix)://", value):
        raise ValueError("must start with redis://, rediss:// or unix://")
    return value


class ClusterSettings(_Section):
    """Several gateway processes (README: Scaling out). Empty: one process, as embedded."""

    redis_url: Annotated[str, Field(max_length=2000), AfterValidator(check_redis_url)] = ""  # or HEIMDALL_REDIS_URL


def check_amqp_url(value: str) -> str:
    if value and not re.match(r"amqps?://[^\s]+$", value):
        raise ValueError("must be amqp://user:password@host:port/vhost (or amqps://)")
    return value


class FeedSettings(_Section):
    """The Heimdall platform's own events, from its RabbitMQ exchange (backend/feed).
    Without a URL (here or HEIMDALL_FEED_URL) there is no feed."""

    url: Annotated[str, Field(max_length=2000), AfterValidator(check_amqp_url)] = ""  # its password is a secret
    exchange: Annotated[str, Field(min_length=1, max_length=255)] = "heimdall.events"  # a topic exchange
    queue: Annotated[str, Field(min_length=1, max_length=200)] = "heimdall-live"  # ours: durable
    bindings: Annotated[list[Annotated[str, Field(min_length=1, max_length=255)]],
                        Field(min_length=1, max_length=50)] = ["#"]
    # Event names passed to /ws/updates as they come (fnmatch patterns: "training:*").
    pass_through: Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]], Field(max_length=50)] = [
        "training:*", "dataset:*", "export:*", "terrain:*", "session:*"]
    prefetch: Annotated[int, Field(ge=1, le=10_000)] = 200  # unacknowledged at once: a flood waits in RabbitMQ
    alert_after_s: _number(1, 86_400) = 120  # FEED PROBLEM when it has been down this long
    publish: bool = False  # answer on the same exchange: status changes and incidents


def _target_pattern(value: str) -> str:
    if not re.fullmatch(r"(services|websdrs|sites|feed):(\*|[A-Za-z0-9][A-Za-z0-9_. -]{0,63})", value):
        raise ValueError(f"{value!r} is not kind:id, e.g. services:*, websdrs:torino, sites:milano, feed:*")
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
    # What fails together is told together (backend/alerting/grouping.py): targets at one
    # host, everything of this alert, or each alone; over one round, or group_wait_s more.
    group_by: Literal["host", "alert", "none"] = "host"
    group_wait_s: _number(0, 3600) = 0


class ReadinessAlertSettings(_Section):
    """Tell people when fewer than `min_ready` receivers can take part in locating a
    signal on `freq_mhz` for `for_min` minutes, and once when enough are back."""

    name: Annotated[str, Field(min_length=1, max_length=64)]
    urls: AppriseUrls
    freq_mhz: _number(0, 1e6, low_inclusive=False)
    min_ready: Annotated[int, Field(ge=1, le=100_000)] = 3  # a position needs at least 3
    for_min: _number(0, 10_080) = 5  # how long the shortfall lasts before anyone is told
    send_resolved: bool = True


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
    # A planned stop sends what is queued (and what waits for its group) for up to this
    # long; what is not out by then is kept as dropped. Within docker stop's 10 s.
    stop_wait_s: _number(0, 60) = 5


def _host_port(value: str) -> str:
    if split_address(value) is None:  # the rule the tcp kind connects by
        raise ValueError(f"{value!r} is not host:port, e.g. 1.1.1.1:53")
    return value


class ConnectivitySettings(_Section):
    """Reference endpoints the gateway should always reach (Gatus's connectivity checker).
    When every target fails in a way that implicates the gateway's own reach, one of
    these answering proves the network works, and the targets' alerts go out."""

    references: list[Annotated[str, AfterValidator(_host_port)]] = []  # TCP host:port
    timeout_s: _number(0.1, 30) = 3
    # A part underneath the gateway (its storage, its event bus) down this long is the
    # gateway's own problem, told once (backend/alerting/underneath.py).
    parts_grace_s: _number(0, 3600) = 10


SITE_NAME = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
SiteName = Annotated[str, Field(pattern=SITE_NAME)]


class AgentSite(_Section):
    """A site whose agent probes a subset of the targets (any site not listed probes all)."""

    name: SiteName
    targets: Annotated[list[TargetPattern], Field(min_length=1)]  # services:*, websdrs:torino ...


class SitesSettings(_Section):
    """Probing from several sites (README: Probes from several sites)."""

    gateway_site: SiteName = "gateway"  # the gateway's own votes are this site's
    quorum: Quorum = "majority"  # of the sites that reported in the last interval
    agents: list[AgentSite] = []

    @model_validator(mode="after")
    def _distinct(self) -> "SitesSettings":
        names = [agent.name for agent in self.agents]
        if self.gateway_site in names:
            raise ValueError(f"agents: '{self.gateway_site}' is the gateway's own site")
        if len(set(names)) != len(names):
            raise ValueError("agents: a site is listed twice")
        return self


class StatusPageSettings(_Section):
    """A public, read-only page of some targets' states (`/status/{slug}`), for the
    receivers' owners and listeners: no account, nothing beyond what it lists."""

    slug: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
    title: Annotated[str, Field(min_length=1, max_length=120)]
    description: Annotated[str, Field(max_length=1000)] = ""
    services: list[Annotated[str, Field(min_length=1, max_length=64)]] = []  # service names
    websdrs: list[Annotated[str, Field(min_length=1, max_length=64)]] = []  # receiver ids
    show_latency: bool = False


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
    readiness_alerts: list[ReadinessAlertSettings] = []
    maintenance: list[MaintenanceSettings] = []
    watches: list[WatchSettings] = []
    delivery: DeliverySettings = DeliverySettings()
    connectivity: ConnectivitySettings = ConnectivitySettings()
    badges: BadgesSettings = BadgesSettings()
    cluster: ClusterSettings = ClusterSettings()
    sites: SitesSettings = SitesSettings()
    status_pages: list[StatusPageSettings] = []
    targets: TargetsSettings = TargetsSettings()
    feed: FeedSettings = FeedSettings()
    # (section, key) of the entries made at run time (backend/config/managed.py `merged`):
    # never read from the file, so no file can claim its entries are confined or not.
    _made_at_run_time: frozenset[tuple[str, str]] = PrivateAttr(default=frozenset())

    def made_at_run_time(self, section: str, key: str) -> bool:
        return (section, key) in self._made_at_run_time

    @model_validator(mode="after")
    def _status_pages_list_known_targets(self) -> "Config":
        services, websdrs = {s.name for s in self.services}, {w.id for w in self.websdrs}
        slugs = set()
        for page in self.status_pages:
            if page.slug in slugs:
                raise ValueError(f"status_pages: '{page.slug}' appears twice")
            slugs.add(page.slug)
            for name in page.services:
                if name not in services:
                    raise ValueError(f"status_pages '{page.slug}': no service named '{name}'")
            for key in page.websdrs:
                if key not in websdrs:
                    raise ValueError(f"status_pages '{page.slug}': no receiver with id '{key}'")
        return self

    @model_validator(mode="after")
    def _platform_ids_name_one_receiver(self) -> "Config":
        ids = {w.id for w in self.websdrs}
        seen: set[str] = set()
        for receiver in self.websdrs:
            wanted = receiver.platform_id
            if wanted is None:
                continue
            if wanted in seen or (wanted in ids and wanted != receiver.id):
                raise ValueError(f"websdrs: platform_id '{wanted}' names more than one receiver")
            seen.add(wanted)
        return self

    @model_validator(mode="after")
    def _unique_names(self) -> "Config":
        for label, keys in (("services", [s.name for s in self.services]), ("websdrs", [w.id for w in self.websdrs]),
                            ("alerts", [a.name for a in [*self.alerts, *self.readiness_alerts]]),
                            ("watches", [w.name for w in self.watches])):
            seen = set()
            for key in keys:
                if key in seen:
                    raise ValueError(f"{label}: '{key}' appears twice")
                seen.add(key)
        return self


