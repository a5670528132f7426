"""What the stream client and the subscriber share: defaults, server message parsing, how a session's end is told."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from ._ws import ConnectionClosed, close_of
from .errors import ConnectionLost, EmoError, error_from_close, error_from_message

DEFAULT_URL = "ws://localhost:8080"


@dataclass(frozen=True)
class CloseInfo:
    code: int
    reason: str


def default_url(url: str | None) -> str:
    return url or os.environ.get("EMOSTREAM_URL") or DEFAULT_URL


def default_token(token: str | None) -> str | None:
    """An explicit token wins; else EMOSTREAM_TOKEN; an empty string means none."""
    return token if token is not None else (os.environ.get("EMOSTREAM_TOKEN") or None)


def parse_message(raw: str | bytes) -> dict | None:
    """A server message (JSON text with a string ``type``), or None for anything else (ignored, as the Node client)."""
    if isinstance(raw, bytes):
        return None
    try:
        m = json.loads(raw)
    except ValueError:
        return None
    return m if isinstance(m, dict) and isinstance(m.get("type"), str) else None


async def first_message(ws: Any, wanted: str) -> dict:
    """Waits for the server's opening message (``welcome``, ``subscribed``); an error or a close before it raises."""
    while True:
        try:
            raw = await ws.recv()
        except ConnectionClosed as e:
            code, reason = close_of(e)
            raise error_from_close(code, reason) or ConnectionLost(f"closed before {wanted} ({code} {reason})".strip(), close_code=code) from e
        m = parse_message(raw)
        if m is None:
            continue
        if m["type"] == wanted:
            return m
        if m["type"] == "error":
            raise error_from_message(m)


def final_error(close: CloseInfo, fatal: EmoError | None) -> EmoError | None:
    """What ends a session that was not closed normally: its fatal catalogue error, else the close code's, else lost."""
    if close.code == 1000:
        return None
    if fatal is not None:
        return fatal
    return error_from_close(close.code, close.reason) or ConnectionLost(
        f"connection closed with code {close.code}{f' ({close.reason})' if close.reason else ''}", close_code=close.code
    )
