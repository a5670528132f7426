"""Starts the real emostream server (node bin/emostream.mjs serve) on a free port for the tests, and stops it."""
from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import unittest
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]
REPO = PACKAGE_DIR.parents[1]
FIXTURES = REPO / "tests" / "fixtures"
SPEECH_CLIP = FIXTURES / "speech" / "cremad-1001_DFA_ANG_XX.wav"
FACE_JPEG = FIXTURES / "faces" / "cremad-1001-neutral.jpg"

if str(PACKAGE_DIR) not in sys.path:
    sys.path.insert(0, str(PACKAGE_DIR))

try:
    import websockets  # noqa: F401

    WEBSOCKETS = True
except ImportError:
    WEBSOCKETS = False

needs_websockets = unittest.skipUnless(
    WEBSOCKETS, "the Python package 'websockets' is not importable: apt-get install python3-websockets (Debian) or pip install websockets"
)

# The port appears in the JSON log line ("port":N), in its text ("listening on host:N"), or in a URL to open.
_PORT = re.compile(r'"port":\s*(\d+)|listening on \S+?:(\d+)|https?://127\.0\.0\.1:(\d+)')


def server_prerequisites() -> str | None:
    """Why the real server cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not (REPO / "bin" / "emostream.mjs").exists() or not (REPO / "node_modules").exists():
        return "the emostream checkout has no node_modules (run npm ci at the repository root)"
    return None


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM if the test process dies without stopping it (a killed CI job, Ctrl-C)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class ServerProcess:
    """``node bin/emostream.mjs serve --port 0`` on loopback; ``url`` is ws://127.0.0.1:PORT once it listens."""

    def __init__(self, timeout_s: float = 120.0) -> None:
        env = dict(os.environ)
        env.pop("EMOSTREAM_TOKEN", None)
        env.pop("EMOSTREAM_PORT", None)
        env.pop("EMOSTREAM_CONFIG", None)
        self.proc = subprocess.Popen(
            ["node", "bin/emostream.mjs", "serve", "--port", "0", "--host", "127.0.0.1"],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        self.log: list[str] = []
        port: list[int] = []
        ready = threading.Event()

        def pump() -> None:
            # Keeps draining the log so the server never blocks on a full pipe.
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.log.append(line)
                m = None if port else _PORT.search(line)
                if m:
                    port.append(int(next(g for g in m.groups() if g)))
                    ready.set()
            ready.set()

        self._pump = threading.Thread(target=pump, daemon=True)
        self._pump.start()
        deadline = time.monotonic() + timeout_s
        while not ready.wait(0.2):
            if time.monotonic() > deadline:
                break
        if not port:
            self.stop()
            raise RuntimeError("emostream server did not start listening:\n" + "".join(self.log[-30:]))
        self.port = port[0]
        self.url = f"ws://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._pump.join(5)
        if self.proc.stdout is not None and not self._pump.is_alive():
            self.proc.stdout.close()


class AsyncTestCase(unittest.IsolatedAsyncioTestCase):
    """unittest runs these loops in debug mode, which reports every step over 0.1 s: noise on a busy machine."""

    async def asyncSetUp(self) -> None:
        asyncio.get_running_loop().slow_callback_duration = 5.0


class ServerTestCase(AsyncTestCase):
    """Async tests against the one real server of the run: ``cls.server``, ``cls.url``."""

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.server = shared_server()
        cls.url = cls.server.url


_shared: ServerProcess | None = None


def shared_server(testcase: unittest.TestCase | None = None) -> ServerProcess:
    """One real server for the whole test run (starting one takes seconds); stopped when the interpreter exits."""
    global _shared
    why = server_prerequisites()
    if why is not None:
        raise unittest.SkipTest(f"the real emostream server cannot start: {why}")
    if _shared is None or _shared.proc.poll() is not None:
        _shared = ServerProcess()
        import atexit

        atexit.register(_shared.stop)
    return _shared
