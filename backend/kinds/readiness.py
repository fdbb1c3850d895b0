"""Readiness: can a receiver take part in locating a signal, now, on a frequency?

`ready`, `limited` (it can, with a caveat) or `unusable`, with every reason in words.
The rules come from what the receivers really report (tests/fixtures/receivers/) and,
for KiwiSDR, from the conditions of its public TDoA service, which refuses receivers
that are offline, password-only, without a GPS fix or without a free channel. Plain
functions: the kinds add their own rules (`TargetKind.readiness`), this module adds what
every receiver shares (answering at all, its bands covering the frequency).

What a probe cannot see: OpenWebRX+ retries a failed SDR ten times, 15 s apart, and keeps
listing it in `status.json` meanwhile (about 135 s); readiness follows what the receiver
says, so such an SDR reads as running until then.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from backend.kinds.status import is_down

READY, LIMITED, UNUSABLE = "ready", "limited", "unusable"
ORDER = (READY, LIMITED, UNUSABLE)  # from best to worst

# (state it leads to, reason)
Problem = tuple[str, str]


def judge(problems: Iterable[Problem]) -> dict[str, Any]:
    """The worst state the problems lead to, and every reason, worst first."""
    found = sorted(problems, key=lambda problem: -ORDER.index(problem[0]))
    state = found[0][0] if found else READY
    return {"state": state, "reasons": [reason for _, reason in found]}


def band_problems(details: Mapping[str, Any], freq_mhz: float | None) -> list[Problem]:
    """Whether the receiver's bands hold the frequency (none asked: nothing to say)."""
    if freq_mhz is None:
        return []
    bands = details.get("bands_mhz")
    if not bands:
        return [(LIMITED, f"its bands are not known: {freq_mhz:g} MHz may be outside them")]
    if any(low <= freq_mhz <= high for low, high in bands):
        return []
    spans = ", ".join(f"{low:g}–{high:g} MHz" for low, high in bands)
    return [(UNUSABLE, f"{freq_mhz:g} MHz is outside its bands ({spans})")]


def free_slot_problems(details: Mapping[str, Any], noun: str) -> list[Problem]:
    """No place for one more listener (a TDoA run needs one)."""
    users, most = details.get("users"), details.get("users_max")
    if isinstance(users, int) and isinstance(most, int) and most > 0 and users >= most:
        return [(UNUSABLE, f"no free {noun} ({users} of {most} in use)")]
    return []


def of_entry(kind_rules, entry: Mapping[str, Any], freq_mhz: float | None) -> dict[str, Any]:
    """A receiver's readiness from its status entry; `kind_rules(details)` gives its kind's
    own problems. Without a frequency, the band is not judged."""
    status = entry.get("status") or "unknown"
    if status == "unknown":
        return judge([(UNUSABLE, "not checked yet")])
    if is_down(entry.get("check_status") or status):
        reason = entry.get("error_message") or entry.get("error")
        return judge([(UNUSABLE, "not answering" + (f": {reason}" if reason else ""))])
    details = entry.get("details") or {}
    return judge([*kind_rules(details), *band_problems(details, freq_mhz)])


def readiness_change(before: Mapping[str, Any] | None, now: Mapping[str, Any]) -> str | None:
    """The state a receiver's readiness moved from, when it moved (sent as status:changed
    with `aspect: "readiness"`). Its first judgement after being unchecked is no change:
    a start would otherwise announce every receiver."""
    was = (before or {}).get("readiness")
    if not was or (before or {}).get("status", "unknown") == "unknown" or was["state"] == now["state"]:
        return None
    return was["state"]
