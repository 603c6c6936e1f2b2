"""FairQueue: turns at the one model context of this process, in a fair order.

Start-time fair queueing across owners: each ticket gets a virtual start tag one past the
later of the queue's virtual clock and its owner's previous tag, and tickets are served by
tag, then arrival. So a user who asks five questions at once gets every other turn, not five
in a row, and a newcomer waits behind at most one question of each other user. A waiter polls `wait(ticket, timeout)` so it can
report its place and notice a client that went away; `release` frees the turn or leaves the
queue, whichever the ticket holds.
"""
from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field

from ..errors import Busy


@dataclass(eq=False)
class Ticket:
    owner: str
    seq: int
    tag: int = 0
    joined: float = field(default_factory=time.monotonic)
    started: float | None = None

    @property
    def waited_ms(self) -> float:
        end = self.started if self.started is not None else time.monotonic()
        return round((end - self.joined) * 1000, 1)


class FairQueue:
    """One turn (`slots`, normally 1) at a time; at most `limit` tickets waiting."""

    def __init__(self, limit: int = 64, slots: int = 1):
        self.limit, self.slots = limit, slots
        self._cond = threading.Condition()
        self._waiting: list[Ticket] = []
        self._running: list[Ticket] = []
        self._seq = itertools.count(1)
        self._clock = 0                    # tag of the ticket served last
        self._last_tag: dict[str, int] = {}

    # -- joining and leaving ---------------------------------------------------------------
    def check_capacity(self) -> None:
        with self._cond:
            if len(self._waiting) >= self.limit:
                raise Busy(f"the appliance is busy ({len(self._waiting)} questions waiting); "
                           "try again in a minute")

    def join(self, owner: str) -> Ticket:
        with self._cond:
            if len(self._waiting) >= self.limit:
                raise Busy("the appliance is busy; try again in a minute")
            tag = max(self._clock, self._last_tag.get(owner, 0)) + 1
            self._last_tag[owner] = tag
            ticket = Ticket(owner, next(self._seq), tag)
            self._waiting.append(ticket)
            self._grant()
            return ticket

    def release(self, ticket: Ticket) -> None:
        with self._cond:
            if ticket in self._running:
                self._running.remove(ticket)
            elif ticket in self._waiting:
                self._waiting.remove(ticket)
            self._grant()
            self._cond.notify_all()

    # -- waiting -------------------------------------------------------------------------
    def wait(self, ticket: Ticket, timeout: float) -> bool:
        """True once the ticket holds a turn; False after `timeout` seconds without one."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while ticket not in self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def position(self, ticket: Ticket) -> int:
        """1 = next to be served; 0 = being served (or gone)."""
        with self._cond:
            order = self._order()
            return order.index(ticket) + 1 if ticket in order else 0

    def snapshot(self) -> tuple[int, int]:
        """(waiting, running) now."""
        with self._cond:
            return len(self._waiting), len(self._running)

    # -- internals -----------------------------------------------------------------------
    def _order(self) -> list[Ticket]:
        return sorted(self._waiting, key=lambda t: (t.tag, t.seq))

    def _grant(self) -> None:
        granted = False
        while len(self._running) < self.slots and self._waiting:
            nxt = self._order()[0]
            self._waiting.remove(nxt)
            nxt.started = time.monotonic()
            self._running.append(nxt)
            self._clock = max(self._clock, nxt.tag)
            granted = True
        # Owners with nothing queued and no lead over the clock need no memory.
        busy = {t.owner for t in self._waiting} | {t.owner for t in self._running}
        for owner in [o for o, tag in self._last_tag.items()
                      if o not in busy and tag <= self._clock]:
            del self._last_tag[owner]
        if granted:
            self._cond.notify_all()
