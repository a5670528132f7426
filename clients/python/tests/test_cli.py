"""``python3 -m emostream stream|subscribe`` as a user runs it, against the real server."""
from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import unittest

from _server import PACKAGE_DIR, SPEECH_CLIP, ServerTestCase, needs_websockets, shared_server

try:
    from emostream import EmoStreamClient
except ImportError:
    pass
from _media import collect_into, paced_pcm, speech_s16


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(PACKAGE_DIR) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("EMOSTREAM_TOKEN", None)
    return env


def run_cli(*args: str, timeout_s: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "emostream", *args], env=cli_env(), capture_output=True, text=True, timeout=timeout_s)


@needs_websockets
class CliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.url = shared_server().url

    def test_stream_json_fast_prints_one_result_per_line_and_the_summary_on_stderr(self) -> None:
        r = run_cli("stream", str(SPEECH_CLIP), "--url", self.url, "--json", "--fast")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual([m["hop"] for m in lines], [0, 1, 2, 3, 4])
        self.assertTrue(all(m["type"] == "emotion" for m in lines))
        # Voice activity (protocol 1.1): windows with too little speech carry no speech posterior; the others one of 8.
        self.assertTrue(all(len(m["speech"]["probs"]) == 8 for m in lines if m["voice"]["active"]), lines)
        self.assertTrue(all(m["speech"] is None for m in lines if not m["voice"]["active"]), lines)
        self.assertTrue(any(m["voice"]["active"] for m in lines))
        self.assertTrue(all(isinstance(m["e2eMs"], float) and m["e2eMs"] >= 0 for m in lines), [m["e2eMs"] for m in lines])
        self.assertEqual([m["final"] for m in lines], [False, False, False, False, True])
        self.assertRegex(r.stderr, r"^session [0-9a-f-]+  window 3000 ms, hop 500 ms  models: .*speech")
        self.assertIn("results: 5, dropped windows: 0", r.stderr)
        self.assertRegex(r.stderr, r"latency end-to-end p50 [\d.]+ ms")

    def test_stream_prints_a_live_line_per_result_and_a_summary(self) -> None:
        r = run_cli("stream", str(SPEECH_CLIP), "--url", self.url, "--fast")
        self.assertEqual(r.returncode, 0, r.stderr)
        timeline = [line for line in r.stdout.splitlines() if re.match(r"^\s+\d+\.\d\ds  ", line)]
        self.assertEqual(len(timeline), 5, r.stdout)
        self.assertRegex(timeline[0], r"^\s+0\.50s  (no voice\s+-|\w+\s+\w+ 0\.\d\d  \w+ 0\.\d\d  \w+ 0\.\d\d)\s+voice:[\w-]+ face:-  e2e [\d.]+ ms srv [\d.]+ ms$")
        spoken = [line for line in timeline if "voice:-" not in line]
        self.assertTrue(spoken, r.stdout)
        self.assertRegex(spoken[0], r"^\s+\d+\.\d\ds  \w+\s+\w+ 0\.\d\d  \w+ 0\.\d\d  \w+ 0\.\d\d\s+voice:\w+ face:-  e2e [\d.]+ ms srv [\d.]+ ms")
        self.assertTrue(timeline[-1].endswith("(final)"))
        self.assertIn("results: 5, dropped windows: 0", r.stdout)
        self.assertRegex(r.stdout, r"mean fused posterior: \w+ 0\.\d\d")

    def test_real_time_pace_by_default(self) -> None:
        import time

        t0 = time.monotonic()
        r = run_cli("stream", str(SPEECH_CLIP), "--url", self.url, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        # The clip lasts 2.27 s; real-time pacing cannot send it faster than that (slower is fine on a busy machine).
        self.assertGreaterEqual(time.monotonic() - t0, 2.2)
        self.assertEqual(len(r.stdout.splitlines()), 5)

    def test_missing_file_undecodable_file_and_unknown_session_are_clear_errors(self) -> None:
        missing = run_cli("stream", "/nonexistent/clip.wav", "--url", self.url)
        self.assertEqual(missing.returncode, 2)
        self.assertIn("no such file: /nonexistent/clip.wav", missing.stderr)
        not_media = run_cli("stream", str(PACKAGE_DIR / "pyproject.toml"), "--url", self.url)
        self.assertEqual(not_media.returncode, 1)
        self.assertIn("ffmpeg could not decode", not_media.stderr)
        self.assertNotIn("session", not_media.stdout, "no session is opened for a file ffmpeg cannot read")
        unknown = run_cli("subscribe", "no-such-session", "--url", self.url)
        self.assertEqual(unknown.returncode, 1)
        self.assertIn("EMO_ERR_UNKNOWN_SESSION", unknown.stderr)


@needs_websockets
class CliSubscribeTest(ServerTestCase):

    async def test_subscribe_prints_another_sessions_results_and_its_end(self) -> None:
        pcm, rate, channels = speech_s16()
        client = await EmoStreamClient.connect(self.url)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "emostream", "subscribe", client.session_id, "--url", self.url, "--json",
            env=cli_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        first = json.loads(await asyncio.wait_for(proc.stdout.readline(), 60))
        self.assertEqual((first["type"], first["sessionId"]), ("subscribed", client.session_id))
        got: list[dict] = []
        reader = collect_into(client, got)
        await paced_pcm(client, pcm, rate, channels, results=got)
        await client.end()
        await reader
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        self.assertEqual(proc.returncode, 0, err.decode())
        messages = [json.loads(line) for line in out.decode().splitlines()]
        self.assertEqual([m for m in messages if m["type"] == "emotion"], got)
        self.assertEqual(messages[-1]["type"], "end")
        self.assertEqual(messages[-1]["results"], len(got))


if __name__ == "__main__":
    unittest.main()
