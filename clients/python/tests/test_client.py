"""EmoStreamClient and EmoSubscriber against the real server (node bin/emostream.mjs serve, real models)."""
from __future__ import annotations

import asyncio
import math
import socket
import unittest

from _server import FACE_JPEG, ServerTestCase, needs_websockets

try:
    import emostream
    from emostream import EmoStreamClient, EmoSubscriber, frames
except ImportError:  # websockets missing: every test here is skipped by needs_websockets
    pass
from _media import collect_into, face_i420, paced_pcm, speech_f32_stereo_48k, speech_s16


async def collect(client) -> list[dict]:
    return [r async for r in client.results()]


def assert_posterior(tc: unittest.TestCase, post: dict | None, labels: list[str]) -> None:
    tc.assertIsNotNone(post)
    tc.assertEqual(len(post["probs"]), len(labels))
    tc.assertTrue(all(0 <= p <= 1 for p in post["probs"]), post)
    tc.assertAlmostEqual(sum(post["probs"]), 1.0, delta=1e-3)


@needs_websockets
class StreamTest(ServerTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        # ffmpeg runs here, not inside the event loop of a test.
        cls.f32_stereo_48k = speech_f32_stereo_48k()
        cls.i420 = face_i420()

    def assert_result_shapes(self, client, results: list[dict]) -> None:
        w = client.welcome
        labels = w["labels"]
        self.assertEqual(len(labels), 8)
        self.assertGreaterEqual(len(results), 3)
        self.assertEqual([r["hop"] for r in results], list(range(len(results))), "one result per hop, none dropped")
        self.assertEqual([r["final"] for r in results], [False] * (len(results) - 1) + [True])
        # Voice activity (protocol 1.1): a window with too little speech (the clip's leading room tone) has no speech
        # posterior and, with no other modality, no fused one; every other window has both.
        self.assertTrue(any(r["speech"] is not None for r in results), "some window carries speech")
        for r in results:
            self.assertEqual(r["type"], "emotion")
            self.assertEqual(r["sessionId"], client.session_id)
            self.assertLessEqual(r["windowEndUs"] - r["windowStartUs"], w["windowMs"] * 1000)
            self.assertGreaterEqual(r["windowStartUs"], 0)
            if r.get("voice") is not None and not r["voice"]["active"]:
                self.assertIsNone(r["speech"])
                self.assertIsNone(r["fused"])
                continue
            assert_posterior(self, r["speech"], labels)
            assert_posterior(self, r["fused"], labels)
            self.assertIn(r["fused"]["label"], labels)
            self.assertIsNone(r.get("aus"), "no AU frames were sent")
            self.assertTrue(math.isfinite(r["latency"]["totalMs"]))
            self.assertEqual(r["droppedWindows"], 0)

    async def test_stream_s16_mono_clip_results_shape_and_end_summary(self) -> None:
        pcm, rate, channels = speech_s16()
        client = await EmoStreamClient.connect(self.url, client="python-tests")
        self.assertEqual(client.welcome["protocol"].split(".")[0], "1")
        self.assertTrue(any(m["name"] and m["available"] for m in client.welcome["models"] if m["modality"] == "speech"), client.welcome["models"])
        got: list[dict] = []
        reader = collect_into(client, got)
        await paced_pcm(client, pcm, rate, channels, results=got)
        end = await client.end()
        await reader
        # 2.27 s of audio: hops at 0.5, 1.0, 1.5, 2.0 s, and the final window at the end of the audio.
        self.assert_result_shapes(client, got)
        self.assertEqual(len(got), 5)
        self.assertAlmostEqual(got[-1]["windowEndUs"], len(pcm) / 2 / rate * 1e6, delta=1)
        self.assertEqual(end["type"], "end")
        self.assertEqual(end["reason"], "client-end")
        self.assertEqual(end["results"], len(got))
        self.assertEqual(client.close_info.code, 1000)
        self.assertEqual(client.errors, [])
        latencies = [client.latency_ms(r) for r in got]
        self.assertTrue(all(v is not None and v >= 0 for v in latencies), latencies)

    async def test_stream_f32_stereo_48k_as_livekit_frames_carry_it(self) -> None:
        pcm = self.f32_stereo_48k
        async with await EmoStreamClient.connect(self.url) as client:
            got: list[dict] = []
            reader = collect_into(client, got)
            await paced_pcm(client, pcm, 48000, 2, fmt="f32le", results=got)
            await client.end()
            await reader
        self.assert_result_shapes(client, got)
        self.assertEqual(len(got), 5)

    async def test_au_frames_reach_the_face_model_and_come_back_as_the_window_mean(self) -> None:
        # A plausible smile: AU06 (cheek raiser) and AU12 (lip corner puller) intensities, with their presences.
        aus = [0.0] * 35
        aus[4], aus[6] = 2.5, 3.0  # AU06_r, AU12_r (AU01,02,04,05,06,07,09,10,12,... order)
        aus[17 + 4], aus[17 + 6] = 1.0, 1.0
        client = await EmoStreamClient.connect(self.url)
        got: list[dict] = []
        reader = collect_into(client, got)
        for k in range(60):  # 2 s at 30 fps, at most two hops ahead of the results
            pts = round(k * 1e6 / 30)
            while pts - (got[-1]["windowEndUs"] if got else 0) > 1_000_000:
                await asyncio.sleep(0.005)
            self.assertTrue(await client.send_au(aus, pts))
        await client.end()
        await reader
        self.assertGreaterEqual(len(got), 3)
        labels = client.welcome["labels"]
        face_available = any(m["available"] for m in client.welcome["models"] if m["modality"] == "face")
        for r in got:
            self.assertIsNone(r["speech"])
            self.assertEqual(len(r["aus"]["mean"]), 35)
            for sent, mean in zip(aus, r["aus"]["mean"], strict=True):
                self.assertAlmostEqual(sent, mean, delta=1e-4)
            if face_available:
                assert_posterior(self, r["face"], labels)
                self.assertGreaterEqual(r["face"]["frames"], 1)
        self.assertEqual(client.errors, [])

    async def _video_until_face(self, send) -> tuple[list[dict], list]:
        """Sends a video frame every 100 ms until a result reports a face (at most 30 s: a busy analyzer may be slow),
        then ends the session."""
        client = await EmoStreamClient.connect(self.url)
        got: list[dict] = []
        reader = collect_into(client, got)
        for k in range(300):
            self.assertTrue(await send(client, k * 100_000))
            if any(r.get("faces") and r["faces"]["count"] >= 1 for r in got):
                break
            await asyncio.sleep(0.1)
        await client.end()
        await reader
        return got, client.errors

    def assert_face_seen(self, got: list[dict], errors: list) -> None:
        with_face = [r for r in got if r.get("faces") and r["faces"]["count"] == 1]
        self.assertTrue(with_face, [r.get("faces") for r in got])
        for r in with_face:
            self.assertEqual(len(r["aus"]["mean"]), 35)
            self.assertTrue(all(0 <= v <= 5 for v in r["aus"]["mean"]))
        # A loaded analyzer may skip frames (non-fatal); nothing else may go wrong.
        self.assertTrue(all(isinstance(e, emostream.VideoBusyError) for e in errors), errors)

    async def test_jpeg_frames_are_analysed_for_faces(self) -> None:
        jpeg = FACE_JPEG.read_bytes()
        got, errors = await self._video_until_face(lambda c, pts: c.send_jpeg(jpeg, pts))
        self.assert_face_seen(got, errors)

    async def test_i420_frames_are_analysed_for_faces(self) -> None:
        width, height = frames.jpeg_size(FACE_JPEG.read_bytes())
        i420 = self.i420
        self.assertEqual(len(i420), frames.i420_bytes(width, height))
        got, errors = await self._video_until_face(lambda c, pts: c.send_i420(i420, width, height, pts))
        self.assert_face_seen(got, errors)

    async def test_ping_pong_round_trip(self) -> None:
        async with await EmoStreamClient.connect(self.url) as client:
            rtt = await client.ping()
            self.assertGreaterEqual(rtt, 0)
            pongs = [m async for m in self._take(client.messages(), 1)]
            self.assertEqual(pongs[0]["type"], "pong")

    @staticmethod
    async def _take(it, n: int):
        k = 0
        async for m in it:
            yield m
            k += 1
            if k == n:
                return


@needs_websockets
class SubscribeTest(ServerTestCase):

    async def test_a_second_client_gets_the_same_results_and_end(self) -> None:
        pcm, rate, channels = speech_s16()
        client = await EmoStreamClient.connect(self.url)
        sub = await EmoSubscriber.connect(self.url, client.session_id)
        self.assertEqual(sub.subscribed["sessionId"], client.session_id)
        self.assertEqual(sub.subscribed["labels"], client.welcome["labels"])
        seen = asyncio.ensure_future(self._all(sub.messages()))
        got: list[dict] = []
        reader = collect_into(client, got)
        await paced_pcm(client, pcm, rate, channels, results=got)
        end = await client.end()
        await reader
        messages = await asyncio.wait_for(seen, 30)
        observed = [m for m in messages if m["type"] == "emotion"]
        self.assertEqual(len(observed), 5)
        self.assertEqual(observed, got, "the subscriber sees exactly the sender's results")
        self.assertEqual(messages[-1]["type"], "end")
        self.assertEqual(messages[-1]["reason"], "client-end")
        self.assertEqual(messages[-1]["results"], end["results"])
        self.assertEqual(sub.end_message, messages[-1])
        self.assertEqual((await sub.wait_closed()).code, 1000)

    @staticmethod
    async def _all(it) -> list[dict]:
        return [m async for m in it]

    async def test_subscriber_raises_session_lost_when_the_sender_vanishes(self) -> None:
        client = await EmoStreamClient.connect(self.url)
        sub = await EmoSubscriber.connect(self.url, client.session_id)
        client.terminate()
        with self.assertRaises(emostream.SessionLostError) as cm:
            async for _ in sub.results():
                pass
        self.assertEqual(cm.exception.code, "EMO_ERR_SESSION_LOST")
        self.assertEqual(sub.end_message["reason"], "client-gone")
        self.assertEqual((await sub.wait_closed()).code, 4022)

    async def test_unknown_session_is_a_typed_error(self) -> None:
        with self.assertRaises(emostream.UnknownSessionError) as cm:
            await EmoSubscriber.connect(self.url, "no-such-session")
        self.assertTrue(cm.exception.fatal)
        self.assertEqual(cm.exception.close_code, 4020)


@needs_websockets
class ErrorTest(ServerTestCase):

    async def _error_for(self, client, frame: bytes) -> emostream.EmoError:
        await client.send_raw(frame)
        async for m in client.messages():
            if m["type"] == "error":
                return client.errors[-1]
        self.fail("the session closed without an error message")

    async def test_bad_frames_map_to_typed_non_fatal_errors_and_the_session_goes_on(self) -> None:
        cases = [
            (frames.encode_au([0.0] * 34, seq=7, stream_id=3), emostream.AuLengthError, 4013),
            (b"\x02" + frames.encode_au([0.0] * 35, seq=8)[1:], emostream.FrameVersionError, 4007),
            (frames.header(9, 0, 9, 0), emostream.UnknownKindError, 4006),
            (frames.encode_pcm(b"\0\0" * 10, 1000, 1, seq=10), emostream.SampleRateError, 4010),
            (frames.encode_video(frames.KIND_I420, 4, 4, b"\0" * 5, seq=11), emostream.VideoDimensionsError, 4014),
            (b"\x01\x01", emostream.FrameTruncatedError, 4004),
        ]
        async with await EmoStreamClient.connect(self.url) as client:
            for frame, cls, close_code in cases:
                err = await self._error_for(client, frame)
                self.assertIsInstance(err, cls)
                self.assertIsInstance(err, emostream.EmoError)
                self.assertEqual(err.close_code, close_code)
                self.assertFalse(err.fatal)
                self.assertTrue(err.message)
            self.assertEqual(client.errors[0].seq, 7)
            self.assertEqual(client.errors[0].stream_id, 3)
            self.assertGreaterEqual(await client.ping(), 0, "non-fatal errors leave the session open")
        self.assertEqual(client.close_info.code, 1000)

    async def test_a_refused_upgrade_is_an_emo_error_with_its_http_status(self) -> None:
        from emostream._ws import open_socket

        with self.assertRaises(emostream.EmoError) as cm:
            await open_socket(f"{self.url}/v1/nowhere", token=None, timeout_s=5)
        self.assertEqual(cm.exception.http_status, 404)
        self.assertIsNone(cm.exception.code)

    async def test_unsupported_protocol_version_is_raised_by_connect(self) -> None:
        with self.assertRaises(emostream.ProtocolVersionError) as cm:
            await EmoStreamClient.connect(self.url, protocol="2.0")
        self.assertEqual(cm.exception.close_code, 4001)
        self.assertIn("2.0", cm.exception.message)

    async def test_no_server_is_an_emo_error_without_a_code(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        # Nothing listens there now: the refusal is immediate, and carries no catalogue code.
        with self.assertRaises(emostream.EmoError) as cm:
            await EmoStreamClient.connect(f"ws://127.0.0.1:{port}", connect_timeout_s=5)
        self.assertIsNone(cm.exception.code)
        self.assertIn("cannot connect", str(cm.exception))


if __name__ == "__main__":
    unittest.main()
