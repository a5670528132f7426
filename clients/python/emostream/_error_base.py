"""Base class of every error the client raises; one subclass per catalogue code lives in _catalogue.py (generated)."""
from __future__ import annotations


class EmoError(Exception):
    """An error from an emostream server (or the connection to it).

    ``code`` is the catalogue code (``EMO_ERR_...``) or None when the failure carries none (a dropped connection, an
    HTTP refusal without a known code); ``close_code`` is the WebSocket close code the server uses for it; ``fatal``
    says whether the session cannot go on. ``stream_id`` and ``seq`` echo the offending frame when the error is about
    one.
    """

    code: str | None = None
    close_code: int | None = None
    #: The HTTP status of a code answered over HTTP only (WHIP), or of an HTTP refusal.
    http_status: int | None = None
    fatal: bool = True
    default_message: str = "emostream error"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        stream_id: int | None = None,
        seq: int | None = None,
        close_code: int | None = None,
        http_status: int | None = None,
    ) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)
        # Only an unknown code (a newer server) or a connection-level error sets these per instance.
        if code is not None:
            self.code = code
        if close_code is not None:
            self.close_code = close_code
        self.stream_id = stream_id
        self.seq = seq
        if http_status is not None:
            self.http_status = http_status

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.code else self.message


class ConnectionLost(EmoError):
    """The connection closed abnormally (no catalogue error, no ``end``) and was not (or could not be) reopened."""

    default_message = "connection to the server lost"
