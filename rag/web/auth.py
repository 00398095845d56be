"""The login check: constant-time comparison, and a growing delay after each wrong password.

Gradio's ``auth`` accepts a callable of (username, password) only: it is not given the
client's address, so attempts are limited per username. Gradio awaits a coroutine function
on its event loop, so the delay is an ``asyncio.sleep``: it ties up neither the event loop
(a blocking ``time.sleep`` there would freeze every user) nor a worker thread.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable

from ingest.settings import Settings

MAX_DELAY_S = 30.0
"""The longest wait after one wrong password, however many came before it."""

FORGET_AFTER_S = 900.0
"""Failures older than this (with none since) no longer count: a typo next week waits the base delay."""

AuthCheck = Callable[[str, str], Awaitable[bool]]


class _Attempts:
    """Consecutive failures of one username, and the lock that makes its attempts take turns."""

    def __init__(self) -> None:
        self.failures = 0
        self.last_failure = 0.0
        self.lock: asyncio.Lock | None = None


def failure_delay(failures: int, base_s: float, cap_s: float = MAX_DELAY_S) -> float:
    """Seconds to wait after the ``failures``-th consecutive failure: base, 2×base, 4×base… ≤ cap."""
    if failures <= 0 or base_s <= 0:
        return 0.0
    return min(cap_s, base_s * 2 ** min(failures - 1, 32))


def make_auth(settings: Settings) -> AuthCheck | None:
    """The coroutine Gradio's ``launch(auth=...)`` calls, or None when no login is configured.

    Raises ``CongvanError`` when only one of user and password is set (as ``auth_of`` does).

    Attempts for one username take turns, and a wrong password is answered only after
    ``auth_failure_delay_s``, doubled for each further consecutive failure (at most
    ``MAX_DELAY_S``), so guesses cannot be sped up by sending them in parallel. The password
    is checked after the turn comes, never before: a right guess must not come back sooner
    than a wrong one. A right password resets the count. Every username other than the
    configured one shares one counter, so invented names cannot grow memory. The price of
    taking turns is that someone guessing can make the real user wait for their turn too.
    """
    from rag.web.server import auth_of  # the one place that reads and validates the pair

    pair = auth_of(settings)
    if pair is None:
        return None
    user, password = (p.encode("utf-8") for p in pair)
    base_s = settings.auth_failure_delay_s
    known, others = _Attempts(), _Attempts()

    async def check(username: str, given: str) -> bool:
        name = (username or "").encode("utf-8")
        # Both comparisons always run, so timing does not tell a right name from a wrong one.
        name_ok = hmac.compare_digest(name, user)
        attempts = known if name_ok else others
        if attempts.lock is None:
            attempts.lock = asyncio.Lock()
        async with attempts.lock:
            password_ok = hmac.compare_digest((given or "").encode("utf-8"), password)
            if name_ok and password_ok:
                attempts.failures = 0
                return True
            now = time.monotonic()
            if now - attempts.last_failure > FORGET_AFTER_S:
                attempts.failures = 0
            attempts.failures += 1
            attempts.last_failure = now
            await asyncio.sleep(failure_delay(attempts.failures, base_s))
            return False

    return check
