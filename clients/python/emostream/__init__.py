"""emostream: Python client of the emostream real-time emotion recognition server (protocol v1, docs/protocol.md)."""
from __future__ import annotations

from . import errors, frames
from ._messages import CloseInfo
from .client import PROTOCOL_VERSION, EmoStreamClient
from .errors import *  # noqa: F401,F403  (EmoError and one class per catalogue code)
from .errors import __all__ as _error_names
from .reconnect import Backoff
from .subscriber import EmoSubscriber

__version__ = "0.1.0"

__all__ = [
    "PROTOCOL_VERSION",
    "Backoff",
    "CloseInfo",
    "EmoStreamClient",
    "EmoSubscriber",
    "errors",
    "frames",
    *_error_names,
]
