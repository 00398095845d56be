"""The one line that every ingestion waits in: one writer at a time, small files first, no starving.

The index has a single writer, so ingestions run one after another. A plain lock served them
in whatever order the threads woke, and a one-line file could wait behind a 20 MB one with
no word of why. Here each waiting job has a *virtual deadline*: when it arrived plus the
time its size suggests it will take (``size / BYTES_PER_SECOND``). The waiting job with the
earliest one goes next. A small file therefore overtakes a big one that arrived shortly
before it, but a big file is never starved: once its deadline has passed, every newcomer's
deadline is later than its own. A running job is never interrupted (the pipeline bounds one
file's work with ``max_chunks_per_file``); instead every waiting job can say what it waits
for (``Ticket.waiting_message``): which file is being ingested, how far it has got, and how
many jobs are ahead.

Nothing here imports Gradio.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

BYTES_PER_SECOND = 20_000.0
"""A rough ingestion rate of plain text on two CPU cores (a 20 MB text file takes about half an
hour to chunk and embed); only its order of magnitude matters for the ordering."""


@dataclass(eq=False)
class Ticket:
    """One job's place in the queue; its progress is visible to the jobs waiting behind it."""

    name: str
    size: int
    seq: int
    arrived: float
    deadline: float
    started: float | None = None
    done: int = 0
    total: int = 0
    _queue: IngestQueue | None = field(default=None, repr=False)

    def report(self, done: int, total: int) -> None:
        """Record progress (chunks embedded of chunks to embed), for those waiting to read."""
        self.done, self.total = done, total

    def waiting_message(self) -> str:
        """Where this job stands, in Vietnamese ('' once it runs)."""
        return self._queue.waiting_message(self) if self._queue is not None else ""


class IngestQueue:
    """Serialises ingestion jobs, earliest virtual deadline first (see the module docstring)."""

    def __init__(self, bytes_per_second: float = BYTES_PER_SECOND, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.bytes_per_second = bytes_per_second
        self._clock = clock  # only orders jobs and stamps them; waiting uses real time
        self._cond = threading.Condition()
        self._waiting: list[Ticket] = []
        self._running: Ticket | None = None
        self._seq = itertools.count()

    # Joining and leaving ------------------------------------------------------------------

    def enqueue(self, name: str, size: int = 0) -> Ticket:
        """Join the queue with a job called ``name`` (shown to others) of ``size`` bytes."""
        now = self._clock()
        ticket = Ticket(name=name, size=max(0, int(size)), seq=next(self._seq), arrived=now,
                        deadline=now + max(0, int(size)) / self.bytes_per_second, _queue=self)
        with self._cond:
            self._waiting.append(ticket)
            self._cond.notify_all()
        return ticket

    def wait_turn(self, ticket: Ticket, timeout: float | None = None) -> bool:
        """Block until ``ticket`` may run (then it is the running job) or ``timeout`` passes.

        Returns True when it runs, False on timeout (it keeps its place). The caller that
        got True must call ``finish`` when done.
        """
        end = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while True:
                if self._running is ticket:
                    return True
                if self._running is None and self._next() is ticket:
                    self._waiting.remove(ticket)
                    ticket.started = self._clock()
                    self._running = ticket
                    return True
                if ticket not in self._waiting:
                    raise ValueError(f"{ticket.name} is not in the queue")
                remaining = None if end is None else end - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)

    def finish(self, ticket: Ticket) -> None:
        """Leave the queue: the running job ends, or a waiting one gives up its place."""
        with self._cond:
            if self._running is ticket:
                self._running = None
            elif ticket in self._waiting:
                self._waiting.remove(ticket)
            self._cond.notify_all()

    @contextmanager
    def turn(self, name: str, size: int = 0) -> Iterator[Ticket]:
        """``with queue.turn(name, size) as ticket:`` runs the body as the only job (waiting first)."""
        ticket = self.enqueue(name, size)
        try:
            self.wait_turn(ticket)
            yield ticket
        finally:
            self.finish(ticket)

    # What is going on ---------------------------------------------------------------------

    @property
    def running(self) -> Ticket | None:
        """The job being ingested now, if any."""
        return self._running

    def ahead_of(self, ticket: Ticket) -> int:
        """Waiting jobs that will go before ``ticket`` (the running one not counted)."""
        with self._cond:
            return sum(1 for t in self._waiting if t is not ticket and self._order(t) < self._order(ticket))

    def waiting_message(self, ticket: Ticket) -> str:
        """'Đang chờ: tệp “X” đang được nạp (120/17000 đoạn)…; còn 1 tệp xếp trước.' ('' once running)."""
        with self._cond:
            running = self._running
            if running is ticket or ticket not in self._waiting:
                return ""
            ahead = sum(1 for t in self._waiting if t is not ticket and self._order(t) < self._order(ticket))
        if running is None:
            now = "sắp đến lượt"
        elif running.total:
            now = f"tệp “{running.name}” đang được nạp ({running.done}/{running.total} đoạn)"
        else:
            now = f"tệp “{running.name}” đang được đọc và chia đoạn"
        queued = f"; còn {ahead} tệp xếp trước “{ticket.name}”" if ahead else ""
        return f"Đang chờ: {now}{queued}. Mỗi lần chỉ nạp một tệp; tệp nhỏ được ưu tiên."

    def _order(self, ticket: Ticket) -> tuple[float, int]:
        return ticket.deadline, ticket.seq

    def _next(self) -> Ticket | None:
        return min(self._waiting, key=self._order) if self._waiting else None
