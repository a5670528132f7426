"""Binary media frames of protocol v1 (docs/protocol.md, src/protocol/v1/frames.ts), all little-endian.

Fixed 16-byte header: version u8 (1), kind u8, streamId u16, seq u32, ptsUs i64. Audio sub-header: sampleRate u32,
channels u8, 3 reserved. Video sub-header: width u16, height u16, 4 reserved. AU frames: no sub-header, 35 float32.
"""
from __future__ import annotations

import math
import struct
import sys
from array import array
from collections.abc import Sequence

FRAME_VERSION = 1
HEADER = struct.Struct("<BBHIq")
AUDIO_SUBHEADER = struct.Struct("<IB3x")
VIDEO_SUBHEADER = struct.Struct("<HH4x")

KIND_PCM_S16 = 1
KIND_PCM_F32 = 2
KIND_AU = 3
KIND_JPEG = 4
KIND_I420 = 5
KIND_RGBA = 6

AU_VECTOR_LENGTH = 35
PCM_FORMATS = {"s16le": (KIND_PCM_S16, 2), "f32le": (KIND_PCM_F32, 4)}

Buffer = bytes | bytearray | memoryview


def header(kind: int, stream_id: int, seq: int, pts_us: int) -> bytes:
    return HEADER.pack(FRAME_VERSION, kind, stream_id & 0xFFFF, seq & 0xFFFFFFFF, int(round(pts_us)))


def _as_bytes(data: object) -> bytes:
    """Any buffer (bytes, memoryview of int16 as LiveKit's AudioFrame.data, array, numpy array) as raw bytes."""
    return memoryview(data).cast("B").tobytes()  # type: ignore[arg-type]


def encode_pcm(data: object, sample_rate: int, channels: int, *, fmt: str = "s16le", stream_id: int = 0, seq: int = 0, pts_us: int = 0) -> bytes:
    """PCM audio: interleaved samples in native byte order (little-endian hosts only need no swap)."""
    if fmt not in PCM_FORMATS:
        raise ValueError(f"PCM format {fmt!r}: use 's16le' or 'f32le'")
    kind, width = PCM_FORMATS[fmt]
    payload = _as_bytes(data)
    if len(payload) % (width * channels):
        raise ValueError(f"{len(payload)} bytes are not a whole number of {channels}-channel {fmt} samples")
    if sys.byteorder != "little":
        swapped = array("h" if width == 2 else "f", payload)
        swapped.byteswap()
        payload = swapped.tobytes()
    return header(kind, stream_id, seq, pts_us) + AUDIO_SUBHEADER.pack(sample_rate, channels) + payload


def encode_au(values: Sequence[float], *, stream_id: int = 1, seq: int = 0, pts_us: int = 0) -> bytes:
    """An AU vector, any length (the server refuses all but 35 with EMO_ERR_AU_LENGTH)."""
    return header(KIND_AU, stream_id, seq, pts_us) + struct.pack(f"<{len(values)}f", *values)


def encode_video(kind: int, width: int, height: int, payload: object, *, stream_id: int = 2, seq: int = 0, pts_us: int = 0) -> bytes:
    return header(kind, stream_id, seq, pts_us) + VIDEO_SUBHEADER.pack(width, height) + _as_bytes(payload)


def i420_bytes(width: int, height: int) -> int:
    """Bytes of an I420 frame: full luma plus two chroma planes of ceil(w/2) x ceil(h/2)."""
    return width * height + 2 * math.ceil(width / 2) * math.ceil(height / 2)


# Start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not SOFs.
_SOF_MARKERS = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def jpeg_size(data: Buffer) -> tuple[int, int]:
    """(width, height) from a JPEG's start-of-frame segment; ValueError when there is none."""
    b = bytes(data[: 1 << 20])
    if b[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG (no SOI marker)")
    i = 2
    while i + 4 <= len(b):
        if b[i] != 0xFF:
            raise ValueError(f"bad JPEG marker at byte {i}")
        marker = b[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # markers without a length
            i += 2
            continue
        seg_len = int.from_bytes(b[i + 2 : i + 4], "big")
        if marker in _SOF_MARKERS and i + 9 <= len(b):
            height = int.from_bytes(b[i + 5 : i + 7], "big")
            width = int.from_bytes(b[i + 7 : i + 9], "big")
            return width, height
        i += 2 + seg_len
    raise ValueError("JPEG without a start-of-frame segment")
