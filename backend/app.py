"""Builds the gateway: storage, hub, monitor, /ws/updates, REST. Pages are added by `ui/`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator

from fastapi import FastAPI

from backend import __version__
from backend.alerting.delivery import Delivery
from backend.alerting.engine import AlertEngine
from backend.alerting.kept import KeptQueue
from backend.alerting.outcomes import Outcomes
from backend.alerting.store import AlertStore
from backend.alerting.underneath import watch as watch_underneath
from backend.api import alerts as alerts_api
from backend.api import (
    announcements,
    apidocs,
    contract,
    errors,
    history,
    ingest,
    locating,
    operations,
    push,
    sites,
    status,
    targets,
)
from backend.api import metrics as metrics_api
from backend.api.errors import StrictJSONResponse, UnknownMethods, internal_error
from backend.auth.guard import Guard
from backend.auth.principal import Authenticator
from backend.auth.revalidate import Revalidator
from backend.auth.store import AuthStore
from backend.cluster.instances import InstanceRegistry
from backend.cluster.leader import LocalLease, RedisLease, instance_id, lease_ttl_s
from backend.config.loading import Settings
from backend.events.bus import Bus, LocalBus
from backend.events.hub import Hub
from backend.events.redis_bus import RedisBus
from backend.ingest.outbox import Outbox
from backend.ingest.push import PushStore
from backend.kinds import initial_state
from backend.metrics.collector import Metrics
from backend.monitor.poller import Monitor
from backend.monitor.scheduler import build_scheduler, poll_now
from backend.reconfigure.reloader import ConfigReloader
from backend.runtime import Runtime
from backend.safety.destinations import DestinationPolicy, policy_of
from backend.sites.book import SiteBook
from backend.statuspage.page import StatusPages
from backend.storage import Database, SQLHistoryStore, SQLRecordStore, open_database
from backend.web import login, setup, sso, status_pages
from backend.ws.endpoint import UpdatesEndpoint, UpdatesRouter
from backend.ws.manager import ConnectionManager


def build_runtime(settings: Settings, api_token: str, session_secret: str, bus: Bus | None = None,
                  base_url: str = "", database: Database | None = None) -> Runtime:
    config = settings.config
    if database is None:
        database = open_database(settings.database_location)
    history_store = SQLHistoryStore(database)
    records = SQLRecordStore(database)
    if bus is None:
        bus = RedisBus(settings.redis_url, config.hub.replay_buffer) if settings.redis_url else LocalBus()
    me = instance_id()
    lease: LocalLease | RedisLease = LocalLease()
    if settings.redis_url:
        lease = RedisLease(settings.redis_url, me,
                           lease_ttl_s(config.polling.services_interval_s, config.polling.websdrs_interval_s))
    # The last known statuses from before a restart are there before the first round.
    hub = Hub(bus, initial_state(config, history_store.last_entries()), passed=tuple(config.feed.pass_through) if settings.feed_url else (),
              replay_size=config.hub.replay_buffer, replay_bytes=config.hub.replay_bytes)
    outcomes = Outcomes(AlertStore(database), database)  # each attempt's outcome, kept by delivery itself
    delivery = Delivery(config.delivery.timeout_s, config.delivery.retries, record=outcomes.keep,
                        kept=KeptQueue(database, me))  # what is queued survives this process
    alerts = AlertEngine(config, hub, database, delivery,
                         config.http.public_url or base_url or f"http://{settings.host}:{settings.port}",
                         active=lambda: lease.held, outcomes=outcomes)

    def alert_policy(alert: str) -> DestinationPolicy | None:
        """An alert rule made at run time sends only where [targets] allows."""
        running = runtime.settings.config
        return policy_of(running.targets) if running.made_at_run_time("alerts", alert) else None
    delivery.policy_for = alert_policy
    lease.on_acquired.append(alerts.take_over)
    runtime = Runtime(
        settings=settings,
        hub=hub,
        database=database,
        records=records,
        history=history_store,
        monitor=Monitor(config, hub, history_store, records, lease, sites=SiteBook(database)),
        manager=ConnectionManager(hub, config.websocket),
        api_token=api_token,
        auth=Authenticator(config, database, AuthStore(database), api_token, session_secret, settings.login_required,
                           settings.host),
        alerts=alerts,
        config_listeners=[alerts.reconfigure],
    )
    if config.auth.oidc is not None:
        from backend.auth.oidc import OidcClient

        public = (config.http.public_url or base_url or f"http://{settings.host}:{settings.port}").rstrip("/")
        runtime.oidc = OidcClient(config.auth.oidc, settings.oidc_client_secret, public + "/auth/oidc/callback",
                                  session_secret)
    runtime.monitor.round_listeners.append(alerts.take_round)  # the poller's rounds, judged by the engine
    runtime.status_pages = StatusPages(lambda: runtime.settings.config, hub, history_store, database)
    runtime.metrics = Metrics(runtime)
    runtime.revalidator = Revalidator(runtime.auth)
    runtime.revalidator.sources.append(runtime.manager.open_principals)
    runtime.outbox = Outbox(records, hub, shared=bool(settings.database_url and settings.redis_url))
    runtime.push = PushStore(database)
    runtime.monitor.push_reports = lambda: database.run(runtime.push.latest)
    if settings.feed_url:  # the platform's RabbitMQ feed (backend/feed)
        from backend.feed.joined import feed_of

        runtime.feed = feed_of(runtime)
    if settings.redis_url:
        runtime.instances = InstanceRegistry(settings.redis_url, lease.instance, lambda: {
            "poller_leader": lease.held, "ws_clients": len(runtime.manager.connections), "version": __version__,
            "uptime_s": round(runtime.uptime_s())})
    runtime.config_listeners += [runtime.auth.reconfigure, lease.retime]
    return runtime


def build_app(runtime: Runtime) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.hub.join()
        await runtime.monitor.start()
        await runtime.alerts.start()
        scheduler = build_scheduler(runtime.monitor, runtime.settings.config)
        scheduler.start()
        runtime.monitor.lease.on_acquired.append(lambda: poll_now(scheduler))
        reloader = runtime.reloader = ConfigReloader(runtime, scheduler)
        tasks = [asyncio.create_task(runtime.manager.heartbeat_loop()), asyncio.create_task(runtime.alerts.run()),
                 asyncio.create_task(runtime.monitor.lease.run()), asyncio.create_task(runtime.outbox.run()),
                 asyncio.create_task(runtime.alerts.delivery.run()), asyncio.create_task(runtime.revalidator.run())]
        tasks += [asyncio.create_task(job()) for job in runtime.background]
        kept = runtime.alerts.delivery.kept
        if kept is not None:  # holds renewed; on the poller, what gateways gone left queued is sent
            tasks.append(asyncio.create_task(kept.run(lambda: runtime.monitor.lease.held, runtime.alerts.send_kept)))
        if runtime.instances is not None:
            tasks.append(asyncio.create_task(runtime.instances.run()))
        if runtime.oidc is not None:
            tasks.append(asyncio.create_task(refresh_sso_sessions(runtime)))
        tasks.append(asyncio.create_task(reloader.watch()))  # the file (not in the demo) and the browser's entries
        tasks.append(asyncio.create_task(watch_underneath(runtime)))  # storage and the event bus
        if runtime.feed is not None:
            from backend.feed.joined import watch as watch_feed

            tasks += [asyncio.create_task(runtime.feed.run()), asyncio.create_task(watch_feed(runtime))]
        reload_on_sighup(reloader, tasks)
        try:
            yield
        finally:
            await runtime.monitor.stop()  # a round in flight ends quietly (no gateway problem of a stop)
            scheduler.shutdown(wait=False)  # and none starts
            # What the alert rules already decided to tell goes out before the workers
            # stop (bounded): a deploy, a restart, is no reason to lose a DOWN.
            await runtime.alerts.finish()
            for task in tasks:
                task.cancel()
            await runtime.manager.close_all(grace_s=0)  # normally done already, before uvicorn's 1012
            await runtime.hub.bus.stop()
            await runtime.database.close()

    app = FastAPI(title="Heimdall Live", version=__version__, lifespan=lifespan,
                  default_response_class=StrictJSONResponse, docs_url=None, redoc_url=None)
    app.state.runtime = runtime
    app.state.authenticator = runtime.auth
    app.add_exception_handler(Exception, internal_error)
    contract.install(app)
    app.include_router(login.router)
    app.include_router(sso.router)
    app.include_router(setup.router)
    app.include_router(status.router)
    app.include_router(locating.router)
    app.include_router(history.router)
    app.include_router(ingest.router)
    app.include_router(push.router)
    app.include_router(alerts_api.router)
    app.include_router(operations.router)
    app.include_router(sites.router)
    app.include_router(announcements.router)
    app.include_router(targets.router)
    app.include_router(status_pages.router)
    app.include_router(metrics_api.router)
    app.include_router(apidocs.router)
    apidocs.mount_assets(app)
    app.include_router(errors.router)  # last of the API: what no route above took
    return app


async def refresh_sso_sessions(runtime: Runtime) -> None:
    """Single sign-on sessions' claims asked again when due, by the poller alone (one
    refresh a session, as refresh tokens may be used once)."""
    from backend.auth.oidc import REFRESH_EVERY_S, refresh_due_sessions

    while True:
        await asyncio.sleep(REFRESH_EVERY_S)
        if runtime.monitor.lease.held:
            try:
                await refresh_due_sessions(runtime.oidc, runtime.auth)
            except Exception:
                logging.getLogger("heimdall.auth").exception("refreshing single sign-on sessions failed")


def reload_on_sighup(reloader: ConfigReloader, tasks: list[asyncio.Task]) -> None:
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGHUP, lambda: tasks.append(loop.create_task(reloader.reload())))
    except (NotImplementedError, RuntimeError, ValueError):  # no signals here (a thread, or Windows)
        pass


def with_updates_endpoint(app: FastAPI, runtime: Runtime) -> Guard:
    """The ASGI app to serve: the guard in front of everything, then /ws/updates, then
    the FastAPI app (REST, pages)."""
    runtime.guard = Guard(UpdatesRouter(UnknownMethods(app), UpdatesEndpoint(runtime.manager)), runtime.auth, app)
    return runtime.guard
