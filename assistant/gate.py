"""Fair sharing inside one process (the web app, an API server): caps on the work running at once per user, per
role and in total, and a short queue; work that finds no slot in time is told "busy" in one line instead of piling
up behind the others. Two gates use it: SQL queries on the engine, and model work (answers, SQL writing), so one
user cannot hold every worker of either.
"""

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from core.errors import GovDataError


class Busy(GovDataError):
    """No slot freed up within the wait; the message says which cap was full."""


class Bucket:
    """A token bucket: `rate` queries a second on average, `burst` at once."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst, self.tokens, self.stamp = rate, burst, float(burst), time.monotonic()

    def wait_time(self) -> float:
        """Seconds until a token is free (0: take it now); called under the gate's lock."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class Gate:
    """`noun` names the work in the busy message: ("query", "queries") or ("model answer", "model answers")."""

    def __init__(self, total: int, per_role: int, per_user: int, wait_s: float, per_user_per_minute: int = 0,
                 burst: int = 20, noun: tuple[str, str] = ("query", "queries")) -> None:
        self.wait_s = wait_s
        self.noun = noun
        self._rate = per_user_per_minute / 60
        self._burst = burst
        self._buckets: dict[str, Bucket] = {}
        self._limits = {"user": per_user, "role": per_role, "server": total}
        self._total = threading.BoundedSemaphore(total)
        self._lock = threading.Lock()
        self._groups: dict[tuple[str, str], threading.BoundedSemaphore] = {}
        self.running: dict[str, int] = defaultdict(int)  # by user, for tests and status

    def _semaphore(self, kind: str, name: str) -> threading.BoundedSemaphore:
        with self._lock:
            key = (kind, name)
            if key not in self._groups:
                self._groups[key] = threading.BoundedSemaphore(self._limits[kind])
            return self._groups[key]

    def _pace(self, user: str, deadline: float) -> None:
        """Wait for the user's next token (a client sending queries in a tight loop is slowed to the rate)."""
        if not self._rate:
            return
        while True:
            with self._lock:
                bucket = self._buckets.setdefault(user, Bucket(self._rate, self._burst))
                pause = bucket.wait_time()
            if pause == 0:
                return
            if time.monotonic() + pause > deadline:
                raise Busy(f"busy: you sent more than {round(self._rate * 60)} {self.noun[1]} a minute; "
                           "wait a moment")
            time.sleep(pause)

    @contextmanager
    def slot(self, user: str, role: str) -> Iterator[None]:
        """Pace the user, then hold one slot of each cap (user, role, server) while the work runs."""
        deadline = time.monotonic() + self.wait_s
        self._pace(user, deadline)
        with ExitStack() as held:
            for kind, semaphore in (("user", self._semaphore("user", user)), ("role", self._semaphore("role", role)),
                                    ("server", self._total)):
                if not semaphore.acquire(timeout=max(0.0, deadline - time.monotonic())):
                    raise Busy(self._busy(kind, role))
                held.callback(semaphore.release)
            with self._lock:
                self.running[user] += 1
            try:
                yield
            finally:
                with self._lock:
                    self.running[user] -= 1

    def _busy(self, kind: str, role: str) -> str:
        limit = self._limits[kind]
        who = {"user": "you already have", "role": f"the role {role} already has",
               "server": "the server already has"}[kind]
        return f"busy: {who} {limit} {self.noun[limit != 1]} running; try again in a moment"


class Pace:
    """Requests per minute per key (an API token), refused rather than waited for: a program is told when to try
    again (HTTP 429 with Retry-After) instead of holding a connection open."""

    def __init__(self, per_minute: int, burst: int) -> None:
        self.rate, self.burst = per_minute / 60, burst
        self._buckets: dict[str, Bucket] = {}
        self._lock = threading.Lock()

    def wait(self, key: str) -> float:
        """0 when the key may go now (its token is taken), else the seconds until it may."""
        if not self.rate:
            return 0.0
        with self._lock:
            return self._buckets.setdefault(key, Bucket(self.rate, self.burst)).wait_time()
