"""When and how fast to reopen a session after the connection drops (the Node client's rule, with backoff)."""
from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

# Abnormal closure (no close frame), going away (server restart) and server error: worth a new session. Catalogue
# codes (4xxx) are answers about this client's input or rights; retrying would get the same answer.
RECONNECT_CLOSE_CODES = frozenset({1001, 1006, 1011})


@dataclass(frozen=True)
class Backoff:
    """``retries`` attempts; the n-th waits ``initial_s * factor**n`` (at most ``max_s``), +/- ``jitter`` of that."""

    retries: int = 5
    initial_s: float = 0.5
    factor: float = 2.0
    max_s: float = 10.0
    jitter: float = 0.1

    def delays(self, rand: Callable[[], float] = random.random) -> Iterator[float]:
        for n in range(self.retries):
            base = min(self.max_s, self.initial_s * self.factor**n)
            # Spread clients that lost the same server so they do not all come back in the same millisecond.
            yield max(0.0, base * (1 + self.jitter * (2 * rand() - 1)))


def should_reconnect(close_code: int, *, ending: bool, policy: Backoff | None) -> bool:
    """A new session is opened only for a drop the client did not ask for, before it sent ``end``."""
    return policy is not None and policy.retries > 0 and not ending and close_code in RECONNECT_CLOSE_CODES
