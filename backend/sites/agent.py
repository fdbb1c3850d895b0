"""`python main.py agent`: a probe agent. It probes the gateway's targets from another
site with the gateway's own probes (backend/kinds), on the gateway's schedule, and
posts each round to the gateway over HTTP(S). The same code and image as the gateway.

Each round it asks the gateway what to probe (its site's targets, the intervals, the
timeout, the reference endpoints), so a change of the gateway's configuration reaches
it at the next round. While the gateway cannot be reached, rounds wait in a bounded
buffer, oldest dropped first, and are sent in order once it answers again, with the
count of what was dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import signal
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, TextIO

import httpx

from backend import __version__
from backend.alerting.connectivity import network_works
from backend.kinds import CheckSpec
from backend.kinds.probing import SOURCE_ADDRESS, describe_failure
from backend.kinds.rounds import probe_all
from backend.safety.destinations import DestinationPolicy
from backend.timefmt import iso_from_ms

log = logging.getLogger(__name__)

DEFAULT_BUFFER_ROUNDS = 1000
GATEWAY_TIMEOUT_S = 15.0  # one request to the gateway
RETRY_S = (1, 2, 5, 10, 30)  # waiting for the gateway's plan at start


def confinement(given: Any) -> DestinationPolicy | None:
    """The gateway's [targets] policy for a target made at run time, applied here too."""
    if not isinstance(given, dict):
        return None
    return DestinationPolicy(tuple(str(n) for n in given.get("refuse") or ()),
                             tuple(str(n) for n in given.get("allow") or ()))


class AgentRefused(Exception):
    """The gateway refuses this agent's token: nothing to retry."""


@dataclass
class RoundBuffer:
    """Rounds not yet accepted by the gateway, oldest first; when full, the oldest go
    and are counted, and the count is told with the next round that gets through."""

    limit: int
    rounds: deque = field(default_factory=deque)
    dropped: int = 0  # since the gateway last took a round

    def add(self, round_: dict[str, Any]) -> None:
        if len(self.rounds) >= self.limit:
            self.rounds.popleft()
            self.dropped += 1
        self.rounds.append(round_)

    def oldest(self) -> dict[str, Any] | None:
        return {**self.rounds[0], "dropped": self.dropped} if self.rounds else None

    def taken(self) -> None:
        self.rounds.popleft()
        self.dropped = 0


class Agent:
    def __init__(self, gateway: str, token: str, site: str, bind_address: str | None = None,
                 buffer_rounds: int = DEFAULT_BUFFER_ROUNDS, out: TextIO = sys.stdout) -> None:
        self.gateway = gateway.rstrip("/")
        self.site = site
        self.bind_address = bind_address
        self.buffer = RoundBuffer(buffer_rounds)
        self._out = out
        self._headers = {"Authorization": f"Bearer {token}", "User-Agent": f"heimdall-agent/{__version__}"}
        self._plan: dict[str, Any] | None = None
        self._gateway_down: str | None = None  # why the gateway is not answering, once said
        self.rounds_sent = 0

    def say(self, line: str) -> None:
        print(f"[agent {self.site}] {line}", file=self._out, flush=True)

    def _client(self) -> httpx.AsyncClient:
        transport = httpx.AsyncHTTPTransport(local_address=self.bind_address) if self.bind_address else None
        return httpx.AsyncClient(headers=self._headers, timeout=GATEWAY_TIMEOUT_S, transport=transport,
                                 trust_env=False)

    async def _get_plan(self, client: httpx.AsyncClient) -> dict[str, Any]:
        answer = await client.get(self.gateway + "/api/v1/agent/targets")
        if answer.status_code in (401, 403):
            raise AgentRefused(f"the gateway refuses this token ({answer.status_code}: {_detail(answer)})")
        answer.raise_for_status()
        plan = answer.json()
        if plan.get("site") != self.site:
            raise AgentRefused(f"this token is site {plan.get('site')!r}'s, not {self.site!r}")
        return plan

    async def refresh_plan(self, client: httpx.AsyncClient) -> None:
        try:
            self._plan = await self._get_plan(client)
            self._gateway_up()
        except (httpx.HTTPError, ValueError) as exc:
            self._gateway_unreachable(exc)

    def _gateway_unreachable(self, exc: BaseException) -> None:
        reason = describe_failure(exc, GATEWAY_TIMEOUT_S)
        if isinstance(exc, httpx.HTTPStatusError):
            reason = f"HTTP {exc.response.status_code}"
        if self._gateway_down != reason:
            self._gateway_down = reason
            self.say(f"gateway {self.gateway} not reachable: {reason}; rounds wait here "
                     f"(at most {self.buffer.limit}, the oldest dropped first)")

    def _gateway_up(self) -> None:
        if self._gateway_down is not None:
            self._gateway_down = None
            self.say(f"gateway {self.gateway} answers again")

    async def probe_round(self, group: str) -> dict[str, Any]:
        """One round of a group's targets, as the gateway's own probes see them from here."""
        plan = self._plan or {}
        targets = plan["targets"].get(group, [])
        specs = [CheckSpec(t["probe"], t["url"], t["timeout_s"], t["degraded_after_ms"], confinement(t.get("confined")))
                 for t in targets]
        checked_ms = int(time.time() * 1000)
        results = await probe_all(specs, plan["polling"]["max_concurrency"]) if specs else []
        connectivity = plan.get("connectivity") or {}
        references_ok = await network_works(connectivity.get("references") or [], connectivity.get("timeout_s", 3))
        return {"group": group, "checked_at": iso_from_ms(checked_ms), "references_ok": references_ok,
                "agent": f"heimdall-agent {__version__}" + (f" from {self.bind_address}" if self.bind_address else ""),
                "results": [{"key": t["key"], "status": r.status, "response_time_ms": r.response_time_ms,
                             "error": r.error[:500] if r.error else None} for t, r in zip(targets, results)]}

    async def flush(self, client: httpx.AsyncClient) -> None:
        """Send what waits, oldest first, until the buffer is empty or the gateway fails."""
        while (round_ := self.buffer.oldest()) is not None:
            try:
                answer = await client.post(self.gateway + "/api/v1/agent/results", json=round_)
            except httpx.HTTPError as exc:
                self._gateway_unreachable(exc)
                return
            if answer.status_code in (401, 403):
                raise AgentRefused(f"the gateway refuses this token ({answer.status_code}: {_detail(answer)})")
            if answer.status_code == 422 or answer.status_code == 409:  # never accepted: not kept for ever
                self.say(f"the gateway refused a round: {_detail(answer)}")
            elif answer.status_code >= 400:
                self._gateway_unreachable(httpx.HTTPStatusError("", request=answer.request, response=answer))
                return
            elif round_["dropped"]:
                self.say(f"{round_['dropped']} rounds were dropped while the gateway was unreachable")
            self._gateway_up()
            self.buffer.taken()
            self.rounds_sent += 1

    async def run(self) -> int:
        """Until stopped: each group's rounds at the gateway's interval for it."""
        SOURCE_ADDRESS.set(self.bind_address)
        async with self._client() as client:
            for attempt in itertools.count():
                await self.refresh_plan(client)
                if self._plan is not None:
                    break
                await asyncio.sleep(RETRY_S[min(attempt, len(RETRY_S) - 1)])
            counts = {g: len(t) for g, t in self._plan["targets"].items()}
            self.say(f"probing {', '.join(f'{n} {g}' for g, n in counts.items())} for gateway {self.gateway}"
                     + (f" from {self.bind_address}" if self.bind_address else ""))
            due = {group: time.monotonic() for group in self._plan["targets"]}
            while True:
                group = min(due, key=due.get)
                await asyncio.sleep(max(0.0, due[group] - time.monotonic()))
                await self.refresh_plan(client)  # the gateway's configuration, as it is now
                interval = self._plan["polling"][f"{group}_interval_s"]
                due[group] = max(due[group] + interval, time.monotonic())
                if self._plan["targets"].get(group):
                    self.buffer.add(await self.probe_round(group))
                    await self.flush(client)


def _detail(answer: httpx.Response) -> str:
    try:
        return str(answer.json().get("detail"))[:300]
    except ValueError:
        return answer.text[:300]


def main(argv: list[str], out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    parser = argparse.ArgumentParser(
        prog="main.py agent", description="Probe a Heimdall Live gateway's targets from another site and report "
                                          "to the gateway.")
    parser.add_argument("--gateway", required=True, help="the gateway's URL, e.g. https://heimdall.example.org")
    parser.add_argument("--token", help="an agent token (token create NAME --scope agent --site SITE); "
                                        "or HEIMDALL_AGENT_TOKEN, which keeps it out of the process list")
    parser.add_argument("--site", required=True, help="this site's name, as its token says")
    parser.add_argument("--bind-address", help="the local address probes and reports leave from (several uplinks)")
    parser.add_argument("--buffer-rounds", type=int, default=DEFAULT_BUFFER_ROUNDS,
                        help=f"rounds kept while the gateway is unreachable (default {DEFAULT_BUFFER_ROUNDS})")
    args = parser.parse_args(argv)
    token = args.token or os.environ.get("HEIMDALL_AGENT_TOKEN")
    if not token:
        print("heimdall agent: give --token or HEIMDALL_AGENT_TOKEN", file=err)
        return 2
    if not args.gateway.startswith(("http://", "https://")):
        print("heimdall agent: --gateway must be an http:// or https:// URL", file=err)
        return 2
    if not 1 <= args.buffer_rounds <= 1_000_000:
        print("heimdall agent: --buffer-rounds is 1 to 1,000,000", file=err)
        return 2
    agent = Agent(args.gateway, token, args.site, args.bind_address, args.buffer_rounds, out)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    async def until_stopped() -> int:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, task.cancel)
        try:
            return await agent.run()
        except asyncio.CancelledError:
            agent.say(f"stopped; {len(agent.buffer.rounds)} rounds not sent")
            return 0

    try:
        return asyncio.run(until_stopped())
    except AgentRefused as refused:
        print(f"heimdall agent: {refused}", file=err)
        return 2
    except OSError as exc:  # a --bind-address this host does not have, say
        print(f"heimdall agent: {exc.strerror or exc}", file=err)
        return 2
