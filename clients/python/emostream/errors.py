"""Typed errors: ``EmoError`` and one subclass per catalogue code (``AuLengthError`` for ``EMO_ERR_AU_LENGTH``, ...).

The subclasses are generated from the server's catalogue (src/protocol/v1/errors.ts) into _catalogue.py. A code this
client does not know (a newer server) becomes a plain ``EmoError`` carrying that code.
"""
from __future__ import annotations

import re

from ._catalogue import *  # noqa: F401,F403  (the generated classes are part of this module's API)
from ._catalogue import CATALOGUE
from ._catalogue import __all__ as _catalogue_names
from ._error_base import ConnectionLost, EmoError

BY_CLOSE_CODE: dict[int, type[EmoError]] = {cls.close_code: cls for cls in CATALOGUE.values() if cls.close_code}

# Upgrade refusals whose body names no code (websockets < 13 does not expose the body): the status says enough.
BY_HTTP_STATUS: dict[int, str] = {
    400: "EMO_ERR_BAD_SUBPROTOCOL",
    401: "EMO_ERR_UNAUTHORIZED",
    403: "EMO_ERR_FORBIDDEN",
    429: "EMO_ERR_RATE_LIMITED",
}

_CODE_IN_TEXT = re.compile(r"\bEMO_ERR_[A-Z0-9_]+\b")


def error_class(code: str | None) -> type[EmoError]:
    return CATALOGUE.get(code or "", EmoError)


def error_from_message(m: dict) -> EmoError:
    """The exception for a server ``{"type": "error", ...}`` message."""
    code = m.get("code")
    return error_class(code)(m.get("message"), code=code, stream_id=m.get("streamId"), seq=m.get("seq"))


def error_from_close(code: int, reason: str = "") -> EmoError | None:
    """The catalogue error a close code stands for, or None (1000, 1006 and other non-catalogue codes)."""
    cls = BY_CLOSE_CODE.get(code)
    if cls is None:
        return None
    return cls(reason or None, close_code=code)


def error_from_http(status: int, body: str = "") -> EmoError:
    """The exception for a refused WebSocket upgrade (HTTP status, and the body when the library gives it)."""
    m = _CODE_IN_TEXT.search(body)
    code = m.group(0) if m else BY_HTTP_STATUS.get(status)
    text = body.strip() or f"server refused the WebSocket upgrade (HTTP {status})"
    return error_class(code)(text, code=code, http_status=status)


__all__ = [
    "EmoError",
    "ConnectionLost",
    "BY_CLOSE_CODE",
    "error_class",
    "error_from_message",
    "error_from_close",
    "error_from_http",
    *_catalogue_names,
]
