"""The Python exception classes against the server's one catalogue (src/protocol/v1/errors.ts)."""
from __future__ import annotations

import importlib.util
import unittest

from _server import PACKAGE_DIR, REPO, needs_websockets

ERRORS_TS = REPO / "src" / "protocol" / "v1" / "errors.ts"


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_catalogue", PACKAGE_DIR / "tools" / "gen_catalogue.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@unittest.skipUnless(ERRORS_TS.exists(), "src/protocol/v1/errors.ts is not here (the package was copied out of the repository)")
class CatalogueTest(unittest.TestCase):
    def test_generated_file_matches_the_typescript_catalogue(self) -> None:
        gen = load_generator()
        expected = gen.render(gen.parse_entries(ERRORS_TS.read_text(encoding="utf-8")))
        actual = (PACKAGE_DIR / "emostream" / "_catalogue.py").read_text(encoding="utf-8")
        self.assertTrue(
            actual == expected,
            "emostream/_catalogue.py differs from src/protocol/v1/errors.ts: run python3 clients/python/tools/gen_catalogue.py",
        )

    def test_parser_sees_every_code_of_the_catalogue(self) -> None:
        gen = load_generator()
        source = ERRORS_TS.read_text(encoding="utf-8")
        entries = gen.parse_catalogue(source)
        body = source.split("export const ERROR_CATALOGUE", 1)[1].split("} as const", 1)[0]
        declared = [line.split(":", 1)[0].strip() for line in body.splitlines() if line.strip().startswith("EMO_ERR_")]
        self.assertEqual([e[0] for e in entries], declared)
        self.assertGreaterEqual(len(entries), 30)
        self.assertIn(("EMO_ERR_AU_LENGTH", 4013, False, "AU vector has the wrong length"), entries)

    @needs_websockets
    def test_classes_carry_code_close_code_and_fatality(self) -> None:
        import emostream
        from emostream import errors

        entries = load_generator().parse_catalogue(ERRORS_TS.read_text(encoding="utf-8"))
        self.assertEqual(set(errors.CATALOGUE), {e[0] for e in entries})
        for code, close_code, fatal, text in entries:
            cls = errors.CATALOGUE[code]
            self.assertTrue(issubclass(cls, emostream.EmoError))
            self.assertIs(getattr(emostream, cls.__name__), cls, "exported from the package")
            self.assertEqual((cls.code, cls.close_code, cls.fatal, cls.default_message), (code, close_code, fatal, text))
            if close_code is not None:
                self.assertIs(errors.BY_CLOSE_CODE[close_code], cls)
            else:  # answered over HTTP only (WHIP): the class carries its status instead
                self.assertIsInstance(cls.http_status, int)

    @needs_websockets
    def test_messages_close_codes_and_http_refusals_map_to_classes(self) -> None:
        from emostream import errors

        e = errors.error_from_message({"type": "error", "code": "EMO_ERR_AU_LENGTH", "message": "34 values", "streamId": 1, "seq": 5})
        self.assertIsInstance(e, errors.AuLengthError)
        self.assertEqual((e.message, e.stream_id, e.seq, str(e)), ("34 values", 1, 5, "EMO_ERR_AU_LENGTH: 34 values"))
        newer = errors.error_from_message({"type": "error", "code": "EMO_ERR_FROM_THE_FUTURE", "message": "?"})
        self.assertIs(type(newer), errors.EmoError)
        self.assertEqual(newer.code, "EMO_ERR_FROM_THE_FUTURE")
        self.assertIsInstance(errors.error_from_close(4021), errors.SlowConsumerError)
        self.assertIsNone(errors.error_from_close(1006))
        self.assertIsNone(errors.error_from_close(1000))
        self.assertIsInstance(errors.error_from_http(401, "EMO_ERR_TOKEN_EXPIRED: token expired"), errors.TokenExpiredError)
        self.assertIsInstance(errors.error_from_http(401), errors.UnauthorizedError)
        self.assertIsInstance(errors.error_from_http(403), errors.ForbiddenError)
        self.assertIsInstance(errors.error_from_http(400, "EMO_ERR_BAD_SUBPROTOCOL: offer emo.v1"), errors.BadSubprotocolError)
        other = errors.error_from_http(404, "no WebSocket endpoint at /x")
        self.assertIs(type(other), errors.EmoError)
        self.assertEqual(other.http_status, 404)


if __name__ == "__main__":
    unittest.main()
