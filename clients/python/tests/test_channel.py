"""The bounded queue behind results() and messages(): drop-oldest at capacity, end or raise once on close."""
from __future__ import annotations

import asyncio
import unittest

from _server import AsyncTestCase, needs_websockets

try:
    from emostream._channel import Channel
    from emostream.errors import SessionLostError
except ImportError:
    pass


@needs_websockets
class ChannelTest(AsyncTestCase):
    async def test_a_reader_that_falls_behind_loses_the_oldest_items_only(self) -> None:
        ch: Channel[int] = Channel(capacity=3)
        for i in range(5):
            ch.put(i)
        ch.close()
        self.assertEqual([i async for i in ch], [2, 3, 4])
        self.assertEqual(ch.dropped, 2)
        ch.put(9)  # after close: ignored
        self.assertEqual([i async for i in ch], [])

    async def test_close_with_an_error_raises_it_once_after_the_items(self) -> None:
        ch: Channel[str] = Channel()
        ch.put("a")
        ch.close(SessionLostError("gone"))
        self.assertEqual(await anext(ch), "a")
        with self.assertRaises(SessionLostError):
            await anext(ch)
        with self.assertRaises(StopAsyncIteration):
            await anext(ch)

    async def test_a_waiting_reader_wakes_on_put_and_on_close(self) -> None:
        ch: Channel[int] = Channel()
        waiting = asyncio.ensure_future(anext(ch))
        await asyncio.sleep(0)
        self.assertFalse(waiting.done())
        ch.put(7)
        self.assertEqual(await asyncio.wait_for(waiting, 5), 7)
        ending = asyncio.ensure_future(anext(ch))
        await asyncio.sleep(0)
        ch.close()
        with self.assertRaises(StopAsyncIteration):
            await asyncio.wait_for(ending, 5)


if __name__ == "__main__":
    unittest.main()
