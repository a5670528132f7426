"""An observer of another session (``/v1/subscribe?session=ID``): ``subscribed``, every result, ``end``."""
from __future__ import annotations

import asyncio
from typing import Any

from ._channel import Channel
from ._messages import CloseInfo, default_token, default_url, final_error, first_message, parse_message
from ._ws import ConnectionClosed, close_of, endpoint, open_socket
from .errors import EmoError, error_from_message


class EmoSubscriber:
    """Create with ``await EmoSubscriber.connect(url, session_id)``; raises ``UnknownSessionError`` for a bad id.

    ``messages()`` yields every message after ``subscribed`` (results, errors, ``end``); ``results()`` only the
    emotion results. Both end when the session ends normally, or raise what ended it (``SessionLostError`` when the
    streaming client vanished, ``SlowConsumerError`` when this reader fell too far behind).
    """

    def __init__(self, ws: Any, subscribed: dict, max_queue: int) -> None:
        self._ws = ws
        self.subscribed = subscribed
        self._messages: Channel[dict] = Channel(max_queue)
        self._results: Channel[dict] = Channel(max_queue)
        self._fatal: EmoError | None = None
        self.end_message: dict | None = None
        self.close_info: CloseInfo | None = None
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def connect(
        cls, url: str | None, session_id: str, *, token: str | None = None, timeout_s: float = 10.0, max_queue: int = 10000
    ) -> EmoSubscriber:
        ws = await open_socket(
            endpoint(default_url(url), "/v1/subscribe", {"session": session_id}), token=default_token(token), timeout_s=timeout_s
        )
        try:
            first = await asyncio.wait_for(first_message(ws, "subscribed"), timeout_s)
        except BaseException:
            await ws.close()
            raise
        return cls(ws, first, max_queue)

    @property
    def session_id(self) -> str:
        return self.subscribed["sessionId"]

    async def _read(self) -> None:
        while True:
            try:
                raw = await self._ws.recv()
            except ConnectionClosed as e:
                code, reason = close_of(e)
                break
            m = parse_message(raw)
            if m is None:
                continue
            self._messages.put(m)
            if m["type"] == "emotion":
                self._results.put(m)
            elif m["type"] == "end":
                self.end_message = m
            elif m["type"] == "error":
                err = error_from_message(m)
                if err.fatal:
                    self._fatal = err
        self.close_info = CloseInfo(code, reason)
        error = final_error(self.close_info, self._fatal)
        self._messages.close(error)
        self._results.close(error)

    def messages(self) -> Channel[dict]:
        return self._messages

    def results(self) -> Channel[dict]:
        return self._results

    async def wait_closed(self) -> CloseInfo:
        await asyncio.gather(self._reader, return_exceptions=True)
        assert self.close_info is not None
        return self.close_info

    async def close(self) -> None:
        await self._ws.close(1000)
        await asyncio.gather(self._reader, return_exceptions=True)

    async def __aenter__(self) -> EmoSubscriber:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
