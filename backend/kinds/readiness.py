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


Band = tuple[float, float]


def usable_bands(reported: Iterable[Iterable[float]] | None,
                 configured: Iterable[Iterable[float]] | None) -> tuple[list[Band] | None, str]:
    """The bands a receiver can be used on, and whose they are: what the operator
    configured (`frequency_ranges_mhz`: an antenna, a filter) narrows what the receiver
    reports; either alone stands; None when neither says."""
    have = [(float(low), float(high)) for low, high in reported or []]
    meant = [(float(low), float(high)) for low, high in configured or []]
    if not meant:
        return (have or None), "its bands"
    if not have:
        return meant, "its configured bands"
    both = [(max(a, c), min(b, d)) for a, b in have for c, d in meant if max(a, c) < min(b, d)]
    return both, "its configured bands within those it reports"


def spans(bands: Iterable[Band]) -> str:
    return ", ".join(f"{low:g}–{high:g} MHz" for low, high in bands)


def band_problems(details: Mapping[str, Any], freq_mhz: float | None,
                  configured: Iterable[Iterable[float]] | None = None) -> list[Problem]:
    """Whether the receiver's usable bands hold the frequency (none asked: only whether it
    has any at all)."""
    bands, whose = usable_bands(details.get("bands_mhz"), configured)
    if bands is not None and not bands:
        return [(UNUSABLE, f"its configured bands ({spans((float(a), float(b)) for a, b in configured or [])}) "
                           f"are outside those it reports ({spans(details.get('bands_mhz') or [])})")]
    if freq_mhz is None:
        return []
    if bands is None:
        return [(LIMITED, f"its bands are not known: {freq_mhz:g} MHz may be outside them")]
    if any(low <= freq_mhz <= high for low, high in bands):
        return []
    return [(UNUSABLE, f"{freq_mhz:g} MHz is outside {whose} ({spans(bands)})")]


def free_slot_problems(details: Mapping[str, Any], noun: str) -> list[Problem]:
    """No place for one more listener (a TDoA run needs one)."""
    users, most = details.get("users"), details.get("users_max")
    if isinstance(users, int) and isinstance(most, int) and most > 0 and users >= most:
        return [(UNUSABLE, f"no free {noun} ({users} of {most} in use)")]
    return []


def of_entry(kind_rules, entry: Mapping[str, Any], freq_mhz: float | None,
             configured_bands: Iterable[Iterable[float]] | None = None) -> dict[str, Any]:
    """A receiver's readiness from its status entry; `kind_rules(details)` gives its kind's
    own problems; `configured_bands` are the operator's (`frequency_ranges_mhz`). Without a
    frequency, the band is not judged.

    It follows the confirmed status, the one the cards and tables show (the one flap
    rule): a receiver still shown online after one failed check stays ready, and says so."""
    status = entry.get("status") or "unknown"
    if status == "unknown":
        return judge([(UNUSABLE, "not checked yet")])
    reason = entry.get("error_message") or entry.get("error")
    if is_down(status):
        return judge([(UNUSABLE, "not answering" + (f": {reason}" if reason else ""))])
    details = entry.get("details") or {}
    bands = band_problems(details, freq_mhz, configured_bands)
    if is_down(entry.get("check_status") or status):  # what it told of that moment is gone: not judged
        return judge([*bands, (READY, "its last check failed" + (f" ({reason})" if reason else "")
                               + "; still counted until the failure is confirmed")])
    return judge([*kind_rules(details), *bands])


def readiness_change(before: Mapping[str, Any] | None, now: Mapping[str, Any]) -> str | None:
    """The state a receiver's readiness moved from, when it moved (sent as status:changed
    with `aspect: "readiness"`). Its first judgement after being unchecked is no change:
    a start would otherwise announce every receiver."""
    was = (before or {}).get("readiness")
    if not was or (before or {}).get("status", "unknown") == "unknown" or was["state"] == now["state"]:
        return None
    return was["state"]
