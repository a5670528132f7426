"""Test media from the committed fixtures: the speech clip as PCM, the face photo as JPEG and I420."""
from __future__ import annotations

import asyncio
import subprocess
import wave

from _server import FACE_JPEG, SPEECH_CLIP


def speech_s16() -> tuple[bytes, int, int]:
    """(s16le bytes, sample rate, channels) of the committed CREMA-D clip (16 kHz mono, 2.27 s)."""
    with wave.open(str(SPEECH_CLIP)) as w:
        assert w.getsampwidth() == 2
        return w.readframes(w.getnframes()), w.getframerate(), w.getnchannels()


def speech_f32_stereo_48k() -> bytes:
    """The clip as LiveKit/WebRTC-style 48 kHz interleaved stereo float32, converted by ffmpeg."""
    return subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(SPEECH_CLIP), "-ac", "2", "-ar", "48000", "-f", "f32le", "-"],
        check=True, capture_output=True,
    ).stdout


def face_i420() -> bytes:
    """The committed face photo as one raw I420 frame (same size as the JPEG)."""
    return subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(FACE_JPEG), "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"],
        check=True, capture_output=True,
    ).stdout


async def paced_pcm(
    client, pcm: bytes, sample_rate: int, channels: int, *, fmt: str = "s16le", chunk_ms: int = 20, results: list | None = None, ahead_hops: int = 2
) -> None:
    """Sends PCM in chunks, staying at most ``ahead_hops`` hops ahead of the newest result (as the CLI's --fast)."""
    width = 2 if fmt == "s16le" else 4
    chunk = sample_rate * chunk_ms // 1000 * channels * width
    hop_us = client.welcome["hopMs"] * 1000
    sent_us = 0.0
    loop = asyncio.get_running_loop()
    for i in range(0, len(pcm), chunk):
        # A generous stall limit only, so a server that stops answering fails the test's assertions, not its clock.
        waited_since = loop.time()
        while results is not None and sent_us - (results[-1]["windowEndUs"] if results else 0) > ahead_hops * hop_us:
            if loop.time() - waited_since > 30:
                break
            await asyncio.sleep(0.005)
        part = pcm[i : i + chunk]
        assert await client.send_pcm(part, sample_rate, channels, format=fmt)
        sent_us += len(part) / (width * channels) * 1e6 / sample_rate


def collect_into(client, out: list) -> asyncio.Task[None]:
    """A task appending the client's results to ``out`` as they arrive (ends with the session)."""

    async def read() -> None:
        async for r in client.results():
            out.append(r)

    return asyncio.ensure_future(read())
