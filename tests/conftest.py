"""tests/conftest.py -- the black-box harness: real binaries, real sockets.

Every test that uses the `impl` fixture runs twice: against the chapter's C++
binaries ("cpp") and against its reference.py ("py"), so the C++ is proven to
behave like the Python it translates.

    def test_echo(start_server, run_client):
        server = start_server("01_raw_socket_echo")          # waits for "listening on"
        out = run_client("01_raw_socket_echo", server, "hi")  # the chapter's own client
        assert out.stdout == "hi\\n"

Rules the fixtures enforce: a server is waited for on its `listening on` line
(never a sleep), every wait is bounded, and every server still running at the
end of a test gets SIGTERM and must exit 0 within 2 s.
"""
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted(p.name for p in ROOT.glob("0[0-9]_*") if (p / "reference.py").exists())
STOP_SECONDS = 2.0


def program(chapter, impl, name):
    """The argv prefix of a chapter's `server` or `client`, C++ or Python."""
    if impl == "cpp":
        return [str(ROOT / chapter / name)]
    return [sys.executable, str(ROOT / chapter / "reference.py"), name]


class Server:
    """A running server process whose stdout and stderr are drained by two
    threads (a full pipe would block it) and kept for the test to read."""

    def __init__(self, argv, cwd):
        self.argv = argv
        self.proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.stdout_lines, self.stderr_lines = [], []
        self._changed = threading.Condition()
        self._readers = [threading.Thread(target=self._drain, args=(pipe, lines), daemon=True)
                         for pipe, lines in ((self.proc.stdout, self.stdout_lines),
                                             (self.proc.stderr, self.stderr_lines))]
        for reader in self._readers:
            reader.start()
        self.address = None  # (host, port) or a Unix path, once ready

    def _drain(self, pipe, lines):
        for raw in pipe:
            with self._changed:
                lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_until(self, predicate, timeout, what):
        """Waits (bounded) until predicate() is true; fails with `what`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail(f"timed out after {timeout} s waiting for {what}; "
                                f"stdout={self.stdout_lines} stderr={self.stderr_lines}")
                self._changed.wait(min(left, 0.1))

    def wait_ready(self, timeout=10.0):
        """Waits for the contract's first stdout line and parses the address."""
        self.wait_until(lambda: self.stdout_lines or self.proc.poll() is not None,
                        timeout, "'listening on'")
        if not self.stdout_lines:
            self.proc.wait(timeout=STOP_SECONDS)
            for reader in self._readers:
                reader.join(timeout=STOP_SECONDS)
            pytest.fail(f"server exited {self.proc.returncode} before listening: {self.stderr_lines}")
        first = self.stdout_lines[0]
        match = re.fullmatch(r"listening on (?:unix:(.+)|\[(.+)\]:(\d+)|([^:]+):(\d+))", first)
        assert match, f"first stdout line is not 'listening on ADDRESS': {first!r}"
        unix, host6, port6, host4, port4 = match.groups()
        self.address = unix if unix else (host6 or host4, int(port6 or port4))
        return self

    @property
    def host(self):
        return self.address[0]

    @property
    def port(self):
        return self.address[1]

    def wait_log(self, pattern, timeout=5.0):
        """Waits for a stderr line matching the regex `pattern`; returns it."""
        found = []

        def seen():
            found[:] = [line for line in self.stderr_lines if re.search(pattern, line)]
            return bool(found)
        self.wait_until(seen, timeout, f"stderr line /{pattern}/")
        return found[0]

    def stderr_text(self):
        with self._changed:
            return "\n".join(self.stderr_lines)

    def stop(self, sig=signal.SIGTERM, timeout=STOP_SECONDS):
        """Sends `sig` and returns the exit status; fails if it takes > timeout."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"{self.argv} did not exit within {timeout} s of {sig!r}")
        for reader in self._readers:
            reader.join(timeout=STOP_SECONDS)
        return self.proc.returncode


@pytest.fixture(params=["cpp", "py"])
def impl(request):
    """Which implementation a test runs against: the C++ binaries or reference.py."""
    return request.param


@pytest.fixture
def start_server(impl, tmp_path):
    """start_server(chapter, *args, ready=True) -> a ready Server on a free
    loopback port (unless args name a port or a Unix path). At teardown each
    one still running gets SIGTERM and must exit 0 within 2 s."""
    started = []

    def start(chapter, *args, ready=True):
        argv = program(chapter, impl, "server") + list(args)
        if "--port" not in args and "--unix" not in args:
            argv += ["--port", "0"]
        server = Server(argv, cwd=tmp_path)
        started.append(server)
        return server.wait_ready() if ready else server

    yield start
    failures = []
    for server in started:
        if server.proc.poll() is None:
            status = server.stop()
            if status != 0:
                failures.append(f"{server.argv} exited {status} on SIGTERM: {server.stderr_lines}")
    if failures:
        pytest.fail("\n".join(failures))


@pytest.fixture
def run_client(impl, tmp_path):
    """run_client(chapter, server_or_None, *args, input=None) -> CompletedProcess
    (text mode), bounded to 20 s. With a server, --host/--port point at it."""

    def run(chapter, server, *args, input=None, timeout=20):
        argv = program(chapter, impl, "client")
        if server is not None and not isinstance(server.address, str):
            argv += ["--host", server.host, "--port", str(server.port)]
        return subprocess.run(argv + list(args), cwd=tmp_path, input=input, capture_output=True,
                              text=True, timeout=timeout)

    return run


def connect(server, timeout=5.0):
    """A plain Python socket connected to the server, every call bounded."""
    if isinstance(server.address, str):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(server.address)
        return sock
    return socket.create_connection(server.address, timeout=timeout)


def recv_exactly(sock, size):
    """Reads exactly `size` bytes (fails on EOF first)."""
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(min(65536, size - len(data)))
        assert chunk, f"EOF after {len(data)} of {size} bytes"
        data += chunk
    return bytes(data)


def recv_until_eof(sock):
    """Reads until the peer closes; a reset counts as the end too."""
    data = bytearray()
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return bytes(data)
        if not chunk:
            return bytes(data)
        data += chunk


def free_port():
    """A loopback port nobody listens on (bound, never listened, closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reset(sock):
    """Closes with SO_LINGER 0: the kernel sends RST instead of FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
