"""A streaming session (``/v1/stream``): hello/welcome, binary media frames, results, pings, ``end``, reconnect."""
from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from . import frames
from ._channel import Channel
from ._messages import CloseInfo, default_token, default_url, final_error, first_message, parse_message
from ._ws import ConnectionClosed, abort, close_of, endpoint, open_socket
from .errors import ConnectionLost, EmoError, error_from_message
from .reconnect import Backoff, should_reconnect

PROTOCOL_VERSION = "1.0"
log = logging.getLogger("emostream")
# Send times are kept for the latest frames only (enough for several minutes of 20 ms audio chunks).
MAX_SEND_TIMES = 20000


class EmoStreamClient:
    """One streaming session. Create it with ``await EmoStreamClient.connect(url)`` (or ``async with``).

    ``send_pcm``/``send_au``/``send_jpeg``/``send_i420`` write binary frames and return False when the connection is
    not open (frames are not queued across a reconnect); ``results()`` yields every emotion result and ends after the
    final one (or raises the error that ended the session); ``end()`` asks for the final result and returns the
    server's ``end`` summary. Non-fatal errors about single frames are collected in ``errors`` as typed exceptions.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None,
        client: str,
        protocol: str,
        reconnect: Backoff | None,
        connect_timeout_s: float,
        max_queue: int,
        on_reconnect: Callable[[EmoStreamClient], Awaitable[None] | None] | None,
    ) -> None:
        self.url = url
        self._token = token
        self._client_name = client
        self._protocol = protocol
        self._reconnect = reconnect
        self._connect_timeout_s = connect_timeout_s
        self._on_reconnect = on_reconnect
        self._results: Channel[dict] = Channel(max_queue)
        self._messages: Channel[dict] = Channel(max_queue)
        self._send_times: dict[int, float] = {}
        self._pongs: dict[int, asyncio.Future[float]] = {}
        self._ping_ids = itertools.count(1)
        self._seq = 0
        self._ws: Any = None
        self._connected = False
        self._ending = False
        self._fatal: EmoError | None = None
        self._closed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        # Session clock for frames sent without pts: audio counts samples, other frames follow the audio (or the
        # wall clock since the first frame when no audio was sent).
        self._audio_pos_us: dict[int, float] = {}
        self._clock_t0: float | None = None
        self.welcome: dict = {}
        self.errors: list[EmoError] = []
        self.end_message: dict | None = None
        self.close_info: CloseInfo | None = None
        self.reconnects = 0

    @classmethod
    async def connect(
        cls,
        url: str | None = None,
        *,
        token: str | None = None,
        client: str = "emostream-python",
        protocol: str = PROTOCOL_VERSION,
        reconnect: Backoff | None = None,
        connect_timeout_s: float = 10.0,
        max_queue: int = 10000,
        on_reconnect: Callable[[EmoStreamClient], Awaitable[None] | None] | None = None,
    ) -> EmoStreamClient:
        """Opens the session: hello, then waits for welcome. Raises the typed error when the server refuses.

        ``url`` defaults to EMOSTREAM_URL or ws://localhost:8080; ``token`` (default EMOSTREAM_TOKEN) is sent as
        ``Authorization: Bearer``; ``reconnect`` opens a new session (new ``session_id``) after an abnormal close
        (1006/1001/1011) before ``end``.
        """
        c = cls(
            default_url(url),
            token=default_token(token),
            client=client,
            protocol=protocol,
            reconnect=reconnect,
            connect_timeout_s=connect_timeout_s,
            max_queue=max_queue,
            on_reconnect=on_reconnect,
        )
        await c._open()
        return c

    async def __aenter__(self) -> EmoStreamClient:
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc is None and not self._ending:
            await self.end()
        else:
            await self.close()

    # -- connection ---------------------------------------------------------------------------------------------

    async def _open(self) -> None:
        ws = await open_socket(endpoint(self.url, "/v1/stream"), token=self._token, timeout_s=self._connect_timeout_s)
        try:
            hello = {"type": "hello", "protocol": self._protocol, "client": self._client_name, "streams": []}
            await ws.send(json.dumps(hello))
            welcome = await asyncio.wait_for(first_message(ws, "welcome"), self._connect_timeout_s)
        except BaseException as e:
            abort(ws)
            if isinstance(e, ConnectionClosed):
                raise ConnectionLost(f"connection closed while sending hello ({close_of(e)[0]})") from e
            if isinstance(e, TimeoutError):
                raise EmoError(f"no welcome from {self.url} within {self._connect_timeout_s} s") from e
            raise
        # The client's clock (frames sent without pts) goes on across a reconnect: the new session takes its origin
        # from its first frame, and send times stay unique per pts for latency_ms().
        self._ws = ws
        self._connected = True
        self._fatal = None
        self.welcome = welcome
        self._reader = asyncio.get_running_loop().create_task(self._read(ws))

    async def _read(self, ws: Any) -> None:
        while True:
            try:
                raw = await ws.recv()
            except ConnectionClosed as e:
                code, reason = close_of(e)
                break
            m = parse_message(raw)
            if m is not None:
                self._on_message(m)
        self._connected = False
        await self._on_close(CloseInfo(code, reason))

    def _on_message(self, m: dict) -> None:
        self._messages.put(m)
        kind = m["type"]
        if kind == "emotion":
            self._results.put(m)
        elif kind == "error":
            err = error_from_message(m)
            self.errors.append(err)
            if err.fatal:
                self._fatal = err
        elif kind == "end":
            self.end_message = m
        elif kind == "pong":
            fut = self._pongs.pop(m.get("id", -1), None)
            if fut is not None and not fut.done():
                fut.set_result(time.monotonic())

    async def _on_close(self, close: CloseInfo) -> None:
        if should_reconnect(close.code, ending=self._ending, policy=self._reconnect):
            assert self._reconnect is not None
            for delay in self._reconnect.delays():
                await asyncio.sleep(delay)
                if self._ending:
                    break
                try:
                    await self._open()
                except EmoError as e:
                    if e.code is not None:  # an answer from the server (unauthorized, too many sessions): stop
                        self._fatal = e
                        break
                    continue  # not reachable yet
                except Exception:  # noqa: BLE001  (anything else from the network: try again after the next delay)
                    continue
                self.reconnects += 1
                if self._ending:  # end() was called while the new session was opening
                    await self._send_end()
                await self._notify_reconnect()
                return
        self.close_info = close
        error = final_error(close, self._fatal)
        for fut in self._pongs.values():
            if not fut.done():
                fut.set_exception(error or ConnectionLost("closed before the pong"))
        self._pongs.clear()
        self._results.close(error)
        self._messages.close(error)
        self._closed.set()

    async def _notify_reconnect(self) -> None:
        if self._on_reconnect is None:
            return
        try:
            maybe = self._on_reconnect(self)
            if asyncio.iscoroutine(maybe):
                await maybe
        except Exception:  # noqa: BLE001  (a failing callback must not stop the session's reader)
            log.exception("on_reconnect callback failed")

    # -- sending ------------------------------------------------------------------------------------------------

    @property
    def session_id(self) -> str:
        return self.welcome["sessionId"]

    @property
    def is_open(self) -> bool:
        return self._connected

    @property
    def buffered_bytes(self) -> int:
        """Bytes written but not yet handed to the kernel (for pacing)."""
        transport = getattr(self._ws, "transport", None)
        return transport.get_write_buffer_size() if transport is not None else 0

    def _now_us(self) -> float:
        if self._audio_pos_us:
            return max(self._audio_pos_us.values())
        if self._clock_t0 is None:
            self._clock_t0 = time.monotonic()
        return (time.monotonic() - self._clock_t0) * 1e6

    def _next_seq(self) -> int:
        seq = self._seq
        self._seq = (self._seq + 1) & 0xFFFFFFFF
        return seq

    async def _write(self, frame: bytes | str, pts_us: int | None = None) -> bool:
        if not self._connected or self._ending:
            return False
        if pts_us is not None:
            self._send_times[pts_us] = time.monotonic()
            if len(self._send_times) > MAX_SEND_TIMES:
                del self._send_times[next(iter(self._send_times))]
        try:
            await self._ws.send(frame)
        except ConnectionClosed:
            return False
        return True

    async def send_pcm(
        self,
        data: object,
        sample_rate: int,
        channels: int = 1,
        *,
        format: str = "s16le",
        pts_us: int | None = None,
        stream_id: int = 0,
    ) -> bool:
        """Interleaved PCM (bytes, memoryview, array): s16le (Pipecat, LiveKit) or f32le in [-1, 1].

        Without ``pts_us`` the stream's clock counts the samples sent so far (send contiguous audio).
        """
        _, width = frames.PCM_FORMATS.get(format, (0, 4))
        n_bytes = memoryview(data).nbytes  # type: ignore[arg-type]
        start = self._audio_pos_us.get(stream_id) if pts_us is None else float(pts_us)
        if start is None:
            start = self._now_us()
        pts = int(round(start))
        frame = frames.encode_pcm(data, sample_rate, channels, fmt=format, stream_id=stream_id, seq=self._next_seq(), pts_us=pts)
        self._audio_pos_us[stream_id] = start + n_bytes / (width * channels) * 1e6 / sample_rate
        return await self._write(frame, pts)

    async def send_au(self, values: Sequence[float], pts_us: int | None = None, *, stream_id: int = 1) -> bool:
        """35 AU values in OpenFace order: AU01_r..AU45_r (17 intensities 0-5), AU01_c..AU45_c (18 presences 0-1)."""
        if len(values) != frames.AU_VECTOR_LENGTH:
            raise ValueError(f"an AU vector has {frames.AU_VECTOR_LENGTH} values, got {len(values)}")
        pts = int(round(self._now_us() if pts_us is None else pts_us))
        return await self._write(frames.encode_au(values, stream_id=stream_id, seq=self._next_seq(), pts_us=pts), pts)

    async def send_jpeg(
        self, jpeg: bytes, pts_us: int | None = None, *, width: int | None = None, height: int | None = None, stream_id: int = 2
    ) -> bool:
        """A JPEG video frame for the server's face analysis; the size is read from the JPEG when not given."""
        if width is None or height is None:
            width, height = frames.jpeg_size(jpeg)
        pts = int(round(self._now_us() if pts_us is None else pts_us))
        frame = frames.encode_video(frames.KIND_JPEG, width, height, jpeg, stream_id=stream_id, seq=self._next_seq(), pts_us=pts)
        return await self._write(frame, pts)

    async def send_i420(self, data: object, width: int, height: int, pts_us: int | None = None, *, stream_id: int = 2) -> bool:
        """A raw I420 frame: Y (w*h), then U and V (ceil(w/2)*ceil(h/2) each)."""
        expected = frames.i420_bytes(width, height)
        if memoryview(data).nbytes != expected:  # type: ignore[arg-type]
            raise ValueError(f"I420 {width}x{height} needs {expected} bytes, got {memoryview(data).nbytes}")  # type: ignore[arg-type]
        pts = int(round(self._now_us() if pts_us is None else pts_us))
        frame = frames.encode_video(frames.KIND_I420, width, height, data, stream_id=stream_id, seq=self._next_seq(), pts_us=pts)
        return await self._write(frame, pts)

    async def send_raw(self, data: bytes | str) -> bool:
        """Anything at all (a frame built with ``emostream.frames``, or bad input in tests)."""
        return await self._write(data)

    async def ping(self, timeout_s: float = 5.0) -> float:
        """Round trip of a protocol ``ping``/``pong``, in milliseconds."""
        ping_id = next(self._ping_ids)
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._pongs[ping_id] = fut
        sent = time.monotonic()
        if not await self._write(json.dumps({"type": "ping", "id": ping_id})):
            self._pongs.pop(ping_id, None)
            raise ConnectionLost("not connected")
        try:
            return (await asyncio.wait_for(fut, timeout_s) - sent) * 1000
        finally:
            self._pongs.pop(ping_id, None)

    # -- receiving ----------------------------------------------------------------------------------------------

    def results(self) -> Channel[dict]:
        """Emotion results as they arrive (across reconnects); ends after the final one, or raises what ended the session."""
        return self._results

    def messages(self) -> Channel[dict]:
        """Every server message after ``welcome`` (results, errors, pongs, ``end``), across reconnects."""
        return self._messages

    def sent_at(self, pts_us: int) -> float | None:
        """time.monotonic() at which the frame with this pts was sent, if still remembered."""
        return self._send_times.get(pts_us)

    def latency_ms(self, result: dict, received_at: float | None = None) -> float | None:
        """End-to-end latency: from sending the window's last frame (``lastFramePtsUs``) to receiving the result."""
        pts = result.get("lastFramePtsUs")
        sent = self._send_times.get(pts) if pts is not None else None
        if sent is None:
            return None
        return ((received_at if received_at is not None else time.monotonic()) - sent) * 1000

    async def wait_closed(self) -> CloseInfo:
        await self._closed.wait()
        assert self.close_info is not None
        return self.close_info

    async def end(self, timeout_s: float = 30.0) -> dict | None:
        """Sends ``end``, waits for the final result and the close; returns the server's ``end`` message.

        Raises what ended the session when it ended without an ``end`` message (a fatal error, a lost connection).
        """
        if self._connected and not self._ending:
            self._ending = True
            await self._send_end()
        self._ending = True
        await asyncio.wait_for(self._closed.wait(), timeout_s)
        if self.end_message is None:
            assert self.close_info is not None
            error = final_error(self.close_info, self._fatal)
            if error is not None:
                raise error
        return self.end_message

    async def _send_end(self) -> None:
        try:
            await self._ws.send(json.dumps({"type": "end"}))
        except ConnectionClosed:
            pass

    async def close(self, code: int = 1000) -> None:
        """Closes without ``end`` (no final result)."""
        self._ending = True
        if self._ws is not None:
            await self._ws.close(code)
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    def terminate(self) -> None:
        """Drops the connection without a close frame (what a crashing client does)."""
        self._ending = True
        abort(self._ws)
