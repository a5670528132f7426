"""Decoding any file ffmpeg reads to 16 kHz mono s16le, chunk by chunk, in a subprocess."""
from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator

STREAM_SAMPLE_RATE = 16000


class DecodeError(Exception):
    """ffmpeg is missing or could not decode the file."""


async def decode_pcm16k(path: str, chunk_samples: int) -> AsyncIterator[bytes]:
    """Yields chunks of ``chunk_samples`` 16 kHz mono s16le samples (the last one may be shorter) as ffmpeg decodes."""
    if shutil.which("ffmpeg") is None:
        raise DecodeError("ffmpeg is not on PATH (Debian: apt-get install ffmpeg)")
    proc = await asyncio.create_subprocess_exec(
        "ffmpeg", "-nostdin", "-v", "error", "-i", path, "-vn", "-ac", "1", "-ar", str(STREAM_SAMPLE_RATE), "-f", "s16le", "-",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    stderr_task = asyncio.ensure_future(proc.stderr.read())
    chunk_bytes = chunk_samples * 2
    try:
        while True:
            try:
                chunk = await proc.stdout.readexactly(chunk_bytes)
            except asyncio.IncompleteReadError as e:
                chunk = e.partial[: len(e.partial) - len(e.partial) % 2]
                if chunk:
                    yield chunk
                break
            yield chunk
        code = await proc.wait()
        err = (await stderr_task).decode("utf-8", "replace").strip()
        if code != 0:
            if "does not contain any stream" in err:  # ffmpeg's words when -vn leaves nothing to decode
                raise DecodeError(f"ffmpeg could not decode {path}: it has no audio track")
            said = "; ".join(err.splitlines()[-3:]) if err else f"exit code {code}"
            raise DecodeError(f"ffmpeg could not decode {path}: {said}")
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        stderr_task.cancel()
