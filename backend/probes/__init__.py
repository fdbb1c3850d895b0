"""Probes: one module per kind of target, each a pure parser plus thin fetching code.

Adding a kind of receiver is adding a module here and a line in `RECEIVER_PROBES`.
"""

from backend.probes import http, kiwisdr, openwebrx, websdr
from backend.probes.base import ProbeResult, ReceiverProbe

RECEIVER_PROBES: dict[str, ReceiverProbe] = {
    "openwebrx": openwebrx.probe,
    "kiwisdr": kiwisdr.probe,
    "websdr": websdr.probe,
    "http": http.probe,
}

__all__ = ["RECEIVER_PROBES", "ProbeResult", "ReceiverProbe"]
