"""A bounded async queue for one reader, that ends (or raises) when the connection closes."""
from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class Channel(Generic[T]):
    """Oldest items go first when the reader falls behind by more than ``capacity`` (counted in ``dropped``)."""

    def __init__(self, capacity: int = 10000) -> None:
        self._items: deque[T] = deque()
        self._capacity = capacity
        self._wake = asyncio.Event()
        self._closed = False
        self._error: BaseException | None = None
        self.dropped = 0

    def put(self, item: T) -> None:
        if self._closed:
            return
        if len(self._items) >= self._capacity:
            self._items.popleft()
            self.dropped += 1
        self._items.append(item)
        self._wake.set()

    def close(self, error: BaseException | None = None) -> None:
        """After the queued items, iteration ends, or raises ``error`` once."""
        if self._closed:
            return
        self._closed = True
        self._error = error
        self._wake.set()

    def __aiter__(self) -> Channel[T]:
        return self

    async def __anext__(self) -> T:
        while True:
            if self._items:
                return self._items.popleft()
            if self._closed:
                err, self._error = self._error, None
                if err is not None:
                    raise err
                raise StopAsyncIteration
            self._wake.clear()
            await self._wake.wait()
