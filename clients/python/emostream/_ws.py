"""The few websockets calls the client needs, across websockets 10-12 (Debian bookworm ships 10.4) and 13+."""
from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from websockets.exceptions import ConnectionClosed, InvalidHandshake

from .errors import EmoError, error_from_http

try:  # websockets >= 13: the new asyncio implementation
    from websockets.asyncio.client import connect as _connect

    _HEADERS_ARG = "additional_headers"
except ImportError:  # websockets 10-12
    from websockets.legacy.client import connect as _connect  # type: ignore[no-redef]

    _HEADERS_ARG = "extra_headers"

SUBPROTOCOL = "emo.v1"
MAX_MESSAGE_BYTES = 1 << 24

__all__ = ["ConnectionClosed", "SUBPROTOCOL", "endpoint", "open_socket", "close_of", "abort"]


def endpoint(base: str, path: str, query: dict[str, str] | None = None) -> str:
    """ws://host:port[/anything] -> ws://host:port/path?query (http(s) URLs become ws(s))."""
    u = urlsplit(base)
    scheme = {"http": "ws", "https": "wss"}.get(u.scheme, u.scheme)
    if scheme not in ("ws", "wss"):
        raise ValueError(f"server URL must be ws://, wss://, http:// or https://, got {base!r}")
    return urlunsplit((scheme, u.netloc, path, urlencode(query or {}), ""))


def auth_headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


async def open_socket(url: str, *, token: str | None, timeout_s: float) -> Any:
    """Opens a WebSocket offering emo.v1; a refused upgrade raises the catalogue error its status/body names."""
    kwargs: dict[str, Any] = {
        "subprotocols": [SUBPROTOCOL],
        "compression": None,  # the server disables permessage-deflate
        "max_size": MAX_MESSAGE_BYTES,
        "open_timeout": timeout_s,
        _HEADERS_ARG: auth_headers(token),
    }
    try:
        return await asyncio.wait_for(_connect(url, **kwargs), timeout_s + 1)
    except InvalidHandshake as e:
        status = getattr(e, "status_code", None)  # websockets < 13: InvalidStatusCode
        response = getattr(e, "response", None)  # websockets >= 13: InvalidStatus
        if response is not None:
            status = response.status_code
        if status is None:
            raise EmoError(f"WebSocket handshake with {url} failed: {e}") from e
        body = getattr(response, "body", b"") or b""
        raise error_from_http(status, body.decode("utf-8", "replace")) from e
    except TimeoutError as e:
        raise EmoError(f"connect to {url} timed out after {timeout_s} s") from e
    except OSError as e:
        raise EmoError(f"cannot connect to {url}: {e}") from e


def close_of(e: ConnectionClosed) -> tuple[int, str]:
    """(code, reason) the peer closed with; 1006 when the connection dropped without a close frame."""
    rcvd = getattr(e, "rcvd", None)
    if rcvd is not None:
        return rcvd.code, rcvd.reason
    return 1006, ""


def abort(ws: Any) -> None:
    """Drops the TCP connection without a close frame (what a crashing client does)."""
    transport = getattr(ws, "transport", None)
    if transport is not None:
        transport.abort()
