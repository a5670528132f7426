"""Reconnect: the backoff and the rule (unit), then a real drop between the client and the real server (a TCP relay
cuts the connection), which opens a new session; and tokens reaching the server as an Authorization header."""
from __future__ import annotations

import asyncio
import os
import unittest

from _server import ServerTestCase, needs_websockets

try:
    import emostream
    from emostream import Backoff, EmoStreamClient
    from emostream.reconnect import RECONNECT_CLOSE_CODES, should_reconnect
except ImportError:
    pass
from _media import collect_into, paced_pcm, speech_s16
from _proxy import Relay


@needs_websockets
class BackoffTest(unittest.TestCase):
    def test_delays_grow_geometrically_up_to_the_cap(self) -> None:
        b = Backoff(retries=6, initial_s=0.5, factor=2, max_s=5, jitter=0)
        self.assertEqual(list(b.delays()), [0.5, 1.0, 2.0, 4.0, 5.0, 5.0])
        self.assertEqual(list(Backoff(retries=0).delays()), [])

    def test_jitter_stays_within_its_fraction(self) -> None:
        b = Backoff(retries=3, initial_s=1, factor=1, jitter=0.1)
        self.assertEqual(list(b.delays(rand=lambda: 0.0)), [0.9, 0.9, 0.9])
        self.assertEqual([round(d, 9) for d in b.delays(rand=lambda: 1.0)], [1.1, 1.1, 1.1])

    def test_only_abnormal_closes_before_end_reconnect(self) -> None:
        policy = Backoff()
        self.assertEqual(RECONNECT_CLOSE_CODES, {1001, 1006, 1011})
        for code in (1001, 1006, 1011):
            self.assertTrue(should_reconnect(code, ending=False, policy=policy))
            self.assertFalse(should_reconnect(code, ending=True, policy=policy), "after end() the close is expected")
            self.assertFalse(should_reconnect(code, ending=False, policy=None), "no policy, no reconnect")
            self.assertFalse(should_reconnect(code, ending=False, policy=Backoff(retries=0)))
        for code in (1000, 4000, 4020, 4021, 4030, 4034):
            self.assertFalse(should_reconnect(code, ending=False, policy=policy), code)


@needs_websockets
class DropTest(ServerTestCase):

    async def asyncSetUp(self) -> None:
        await super().asyncSetUp()
        self.relay = await Relay(self.server.port).start()

    async def asyncTearDown(self) -> None:
        await self.relay.close()

    async def _wait_for(self, predicate, timeout_s: float = 30) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not predicate():
            if loop.time() > deadline:
                self.fail("condition not reached in time")
            await asyncio.sleep(0.02)

    async def test_a_dropped_connection_opens_a_new_session_and_results_go_on(self) -> None:
        pcm, rate, channels = speech_s16()
        reopened: list[str] = []
        client = await EmoStreamClient.connect(
            self.relay.url, token="tok-123", reconnect=Backoff(retries=5, initial_s=0.05, jitter=0),
            on_reconnect=lambda c: reopened.append(c.session_id),
        )
        first_session = client.session_id
        got: list[dict] = []
        reader = collect_into(client, got)
        half = len(pcm) // 4 * 2  # whole samples
        await paced_pcm(client, pcm[:half], rate, channels, results=got)
        await self._wait_for(lambda: len(got) >= 1)
        self.relay.cut()
        await self._wait_for(lambda: client.reconnects == 1)
        self.assertNotEqual(client.session_id, first_session)
        self.assertEqual(reopened, [client.session_id])
        mark = len(got)
        await paced_pcm(client, pcm[half:], rate, channels, results=got)
        end = await client.end()
        await reader
        after = got[mark:]
        self.assertEqual(end["reason"], "client-end")
        self.assertEqual(end["results"], len(after), "the end summary is the new session's")
        self.assertTrue(after and all(r["sessionId"] == client.session_id for r in after), [r["sessionId"] for r in after])
        self.assertEqual([r["hop"] for r in after], list(range(len(after))), "the new session counts hops from 0")
        self.assertTrue(after[-1]["final"])
        self.assertTrue(all(r["sessionId"] == first_session for r in got[:mark]))
        self.assertEqual(len(self.relay.requests), 2)
        for head in self.relay.requests:
            self.assertIn(b"authorization: bearer tok-123", head.lower(), "the token goes with every upgrade")

    async def test_without_a_policy_a_drop_raises_connection_lost(self) -> None:
        client = await EmoStreamClient.connect(self.relay.url)
        self.relay.cut()
        with self.assertRaises(emostream.ConnectionLost):
            async for _ in client.results():
                pass
        self.assertEqual(client.close_info.code, 1006)
        self.assertEqual(client.reconnects, 0)
        with self.assertRaises(emostream.ConnectionLost):
            await client.end()

    async def test_when_every_attempt_fails_results_raise_connection_lost(self) -> None:
        reopened: list[str] = []
        client = await EmoStreamClient.connect(
            self.relay.url, reconnect=Backoff(retries=3, initial_s=0.01, jitter=0), on_reconnect=lambda c: reopened.append(c.session_id)
        )
        await self.relay.close()  # nothing listens there any more: every attempt is refused
        with self.assertRaises(emostream.ConnectionLost):
            async for _ in client.results():
                pass
        self.assertEqual((client.reconnects, reopened, client.close_info.code), (0, [], 1006))

    async def test_emostream_token_from_the_environment(self) -> None:
        os.environ["EMOSTREAM_TOKEN"] = "from-env"
        try:
            async with await EmoStreamClient.connect(self.relay.url):
                pass
            async with await EmoStreamClient.connect(self.relay.url, token=""):
                pass
        finally:
            del os.environ["EMOSTREAM_TOKEN"]
        self.assertIn(b"authorization: bearer from-env", self.relay.requests[0].lower())
        self.assertNotIn(b"authorization", self.relay.requests[1].lower(), "an empty token sends no header")


if __name__ == "__main__":
    unittest.main()
