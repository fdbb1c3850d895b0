"""Where a client is in the gateway's event stream, and the rule that delivers each event
exactly once and in order across reconnects. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass

STATE_TOPICS = frozenset({"services:health", "websdrs:status"})


@dataclass
class StreamPosition:
    epoch: str | None = None
    seq: int = 0

    def since(self) -> dict | None:
        """The resume point to send with a subscribe, if there is one."""
        return {"epoch": self.epoch, "seq": self.seq} if self.epoch is not None else None

    def restart(self, epoch: str) -> None:
        """Fresh state follows (first subscription, or the gateway could not replay): count
        from the start of `epoch`."""
        self.epoch, self.seq = epoch, 0

    def accept(self, event: str, seq: int, snapshot: bool) -> bool:
        """Whether to deliver an event with this seq; advances the position when it does.

        Events at or before the position were delivered already (a resume may repeat
        them); a state snapshot sent after an unrecovered resume is delivered even when
        older, since it is the fresh state the client must see.
        """
        if snapshot and event in STATE_TOPICS:
            self.seq = max(self.seq, seq)
            return True
        if seq <= self.seq:
            return False
        self.seq = seq
        return True

    def advance(self, seq: int) -> None:
        """A control message's seq: everything of our topics up to it has reached us."""
        self.seq = max(self.seq, seq)
