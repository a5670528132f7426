"""``python3 -m emostream stream FILE`` and ``python3 -m emostream subscribe ID``."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator

from ._messages import default_url
from .client import EmoStreamClient
from .errors import EmoError
from .media import STREAM_SAMPLE_RATE, DecodeError, decode_pcm16k
from .subscriber import EmoSubscriber
from .timeline import format_result, format_summary, summarize

# Fast mode stays this many hops ahead of the last result, so the server's bounded queues never drop a window; a
# session that stops producing results (no model answers) goes on after STALL_S.
AHEAD_HOPS = 2
STALL_S = 1.0
MAX_BUFFERED_BYTES = 1 << 20


def _model_name(m: dict) -> str:
    if not m.get("available"):
        return f"{m['name']} (unavailable)"
    return f"{m['name']}@{m['provider']}" if m.get("provider") else m["name"]


def _models_line(welcome: dict) -> str:
    return ", ".join(_model_name(m) for m in welcome.get("models", []))


async def _started(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Waits for the first item (errors raise here), then yields it and the rest."""
    try:
        first: bytes | None = await anext(chunks)
    except StopAsyncIteration:
        first = None

    async def rest() -> AsyncIterator[bytes]:
        if first is not None:
            yield first
        async for chunk in chunks:
            yield chunk

    return rest()


async def stream(args: argparse.Namespace) -> int:
    if not os.path.isfile(args.file):
        print(f"no such file: {args.file}", file=sys.stderr)
        return 2
    out = sys.stderr if args.json else sys.stdout

    def log(line: str) -> None:
        print(line, file=out, flush=True)

    # The first chunk is decoded before the session opens: a file ffmpeg cannot read fails without one.
    pcm = await _started(decode_pcm16k(args.file, STREAM_SAMPLE_RATE * args.chunk_ms // 1000))
    client = await EmoStreamClient.connect(args.url, token=args.token, client="emostream-python-cli")
    w = client.welcome
    labels = w["labels"]
    log(f"session {client.session_id}  window {w['windowMs']} ms, hop {w['hopMs']} ms  models: {_models_line(w)}")
    log(f"streaming {args.file}{' as fast as accepted' if args.fast else ' in real time'}")
    results: list[dict] = []
    e2e: list[float] = []
    last_end_us = -1.0
    last_result_at = time.monotonic()

    async def read() -> None:
        nonlocal last_end_us, last_result_at
        async for r in client.results():
            lat = client.latency_ms(r)
            results.append(r)
            if lat is not None:
                e2e.append(lat)
            last_end_us = r["windowEndUs"]
            last_result_at = time.monotonic()
            if args.json:
                print(json.dumps({**r, "e2eMs": lat}), flush=True)
            else:
                print(format_result(r, labels, lat), flush=True)

    reader = asyncio.ensure_future(read())
    ahead_us = AHEAD_HOPS * w["hopMs"] * 1000
    sent_samples = 0
    t0 = time.monotonic()
    try:
        async for chunk in pcm:
            pts_us = round(sent_samples * 1e6 / STREAM_SAMPLE_RATE)
            end_us = round((sent_samples + len(chunk) // 2) * 1e6 / STREAM_SAMPLE_RATE)
            if args.fast:
                since = time.monotonic()
                while client.is_open and (pts_us - max(last_end_us, 0) > ahead_us or client.buffered_bytes > MAX_BUFFERED_BYTES):
                    if time.monotonic() - max(last_result_at, since) > STALL_S and client.buffered_bytes <= MAX_BUFFERED_BYTES:
                        break
                    await asyncio.sleep(0.002)
            else:
                # Pace by the wall clock from the first chunk, so a slow moment is caught up instead of drifting.
                wait_s = t0 + end_us / 1e6 - time.monotonic()
                if wait_s > 0:
                    await asyncio.sleep(wait_s)
            if not await client.send_pcm(chunk, STREAM_SAMPLE_RATE, 1, pts_us=pts_us):
                break
            sent_samples += len(chunk) // 2
    except DecodeError:
        await client.close()
        reader.cancel()
        raise
    end = await client.end() if client.is_open else None
    await reader
    if client.errors:
        log("server errors: " + "; ".join(str(e) for e in client.errors))
    if end is None:
        log("the session ended without an end message")
    log(format_summary(summarize(results, labels, e2e)))
    return 0


async def subscribe(args: argparse.Namespace) -> int:
    sub = await EmoSubscriber.connect(args.url, args.session_id, token=args.token)
    labels = sub.subscribed.get("labels", [])
    if args.json:
        print(json.dumps(sub.subscribed), flush=True)
    else:
        print(f"subscribed to {sub.session_id}", flush=True)
    async for m in sub.messages():
        if args.json:
            print(json.dumps(m), flush=True)
        elif m["type"] == "emotion":
            print(format_result(m, labels, None), flush=True)
        elif m["type"] == "end":
            print(f"session ended ({m['reason']}): {m['results']} results, {m['droppedWindows']} dropped windows", flush=True)
        elif m["type"] == "error":
            print(f"{m['code']}: {m['message']}", file=sys.stderr, flush=True)
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python3 -m emostream", description="Client of the emostream emotion recognition server")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--url", default=default_url(None), help="server URL (env EMOSTREAM_URL; default ws://localhost:8080)")
        sp.add_argument("--token", default=None, help="access token, sent as Authorization: Bearer (env EMOSTREAM_TOKEN)")
        sp.add_argument("--json", action="store_true", help="one JSON message per line on stdout")

    s = sub.add_parser("stream", help="stream a media file (anything ffmpeg decodes) and print its emotion timeline")
    s.add_argument("file")
    common(s)
    s.add_argument("--fast", action="store_true", help="send as fast as the server keeps up instead of in real time")
    s.add_argument("--chunk-ms", type=int, default=20, help="audio chunk length in ms (default 20)")
    s.set_defaults(run=stream)

    b = sub.add_parser("subscribe", help="print another session's results as they arrive")
    b.add_argument("session_id")
    common(b)
    b.set_defaults(run=subscribe)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return asyncio.run(args.run(args))
    except (EmoError, DecodeError) as e:
        print(str(e), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
