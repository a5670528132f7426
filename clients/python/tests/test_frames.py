"""Byte layout of the binary media frames (docs/protocol.md), checked field by field."""
from __future__ import annotations

import struct
import unittest
from array import array

from _server import FACE_JPEG, needs_websockets

try:
    from emostream import frames
except ImportError:
    pass


@needs_websockets
class FramesTest(unittest.TestCase):
    def test_header_fields_are_little_endian_at_their_offsets(self) -> None:
        h = frames.header(frames.KIND_AU, 0x0102, 0x03040506, -5)
        self.assertEqual(len(h), 16)
        self.assertEqual(h[0], 1)
        self.assertEqual(h[1], 3)
        self.assertEqual(h[2:4], b"\x02\x01")
        self.assertEqual(h[4:8], b"\x06\x05\x04\x03")
        self.assertEqual(struct.unpack("<q", h[8:16])[0], -5)
        self.assertEqual(frames.header(1, 0, 2**32 + 3, 0)[4:8], b"\x03\0\0\0", "seq wraps at u32")

    def test_pcm_frames_carry_rate_channels_and_the_samples_unchanged(self) -> None:
        samples = array("h", [0, 1, -1, 32767, -32768, 12345])
        f = frames.encode_pcm(memoryview(samples), 48000, 2, seq=9, pts_us=20000)
        self.assertEqual(f[1], frames.KIND_PCM_S16)
        self.assertEqual(struct.unpack("<IB3x", f[16:24]), (48000, 2))
        self.assertEqual(f[24:], samples.tobytes())
        self.assertEqual(struct.unpack("<q", f[8:16])[0], 20000)
        floats = array("f", [0.5, -0.25])
        g = frames.encode_pcm(floats, 16000, 1, fmt="f32le")
        self.assertEqual(g[1], frames.KIND_PCM_F32)
        self.assertEqual(struct.unpack("<2f", g[24:]), (0.5, -0.25))
        with self.assertRaises(ValueError):
            frames.encode_pcm(b"\0\0\0", 16000, 1)  # half a sample
        with self.assertRaises(ValueError):
            frames.encode_pcm(b"\0\0", 16000, 1, fmt="u8")

    def test_au_and_video_frames(self) -> None:
        au = frames.encode_au([float(i) for i in range(35)], stream_id=1, seq=2, pts_us=3)
        self.assertEqual(len(au), 16 + 35 * 4)
        self.assertEqual(struct.unpack("<35f", au[16:])[34], 34.0)
        v = frames.encode_video(frames.KIND_I420, 3, 3, b"\x10" * frames.i420_bytes(3, 3))
        self.assertEqual(frames.i420_bytes(3, 3), 9 + 2 * 4)
        self.assertEqual((v[1], struct.unpack("<HH4x", v[16:24])), (frames.KIND_I420, (3, 3)))
        self.assertEqual(len(v), 24 + 17)

    def test_jpeg_size_is_read_from_the_start_of_frame(self) -> None:
        self.assertEqual(frames.jpeg_size(FACE_JPEG.read_bytes()), (480, 360))
        with self.assertRaises(ValueError):
            frames.jpeg_size(b"GIF89a")


if __name__ == "__main__":
    unittest.main()
