"""tests/harness.py -- start a server, wait for it, read its output, stop it.

Standard library only: used by the pytest fixtures (conftest.py), by the
tour (tour.py) and by the benchmark (bench.py).

    server = Server(["01_raw_socket_echo/server", "--port", "0"], cwd=".").wait_ready()
    ...talk to server.address...
    assert server.stop() == 0        # SIGTERM; must exit within 2 s
"""
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted(p.name for p in ROOT.glob("[0-9][0-9]_*") if (p / "reference.py").exists())
# Chapters whose server speaks datagrams: no connection to hold open, so the
# contract tests about connected clients skip them. A new datagram chapter
# goes here (README, "Adding a chapter").
DATAGRAM_CHAPTERS = {"08_udp"}
# The contract: a server stops within 2 s of SIGINT/SIGTERM. Sanitizer
# builds start and exit several times slower, so `make SANITIZE=...` raises
# the bound (STOP_SECONDS=5); the plain build is held to 2 s.
STOP_SECONDS = float(os.environ.get("STOP_SECONDS", "2.0"))


class HarnessError(AssertionError):
    """A bounded wait ran out, or a server broke the contract."""


def program(chapter, impl, name):
    """The argv prefix of a chapter's `server` or `client`, C++ or Python."""
    if impl == "cpp":
        return [str(ROOT / chapter / name)]
    return [sys.executable, str(ROOT / chapter / "reference.py"), name]


class Server:
    """A running server process whose stdout and stderr are drained by two
    threads (a full pipe would block it) and kept for the test to read."""

    def __init__(self, argv, cwd, stderr=None):
        """stderr: a file to write the server's stderr to instead of reading
        it here (the benchmark: a pipe to a Python reader costs the server)."""
        self.argv = argv
        self.proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL,
                                     env={**os.environ, "PYTHONFAULTHANDLER": "1"},
                                     stdout=subprocess.PIPE,
                                     stderr=stderr if stderr is not None else subprocess.PIPE)
        self.stdout_lines, self.stderr_lines = [], []
        self._changed = threading.Condition()
        pipes = [(self.proc.stdout, self.stdout_lines)]
        if stderr is None:
            pipes.append((self.proc.stderr, self.stderr_lines))
        self._readers = [threading.Thread(target=self._drain, args=(pipe, lines), daemon=True)
                         for pipe, lines in pipes]
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
                    raise HarnessError(f"timed out after {timeout} s waiting for {what}; "
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
            raise HarnessError(f"server exited {self.proc.returncode} before listening: {self.stderr_lines}")
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
            evidence = self._why_alive()
            self.proc.kill()
            self.proc.wait()
            for reader in self._readers:
                reader.join(timeout=STOP_SECONDS)
            raise HarnessError(f"{self.argv} did not exit within {timeout} s of {sig!r}\n"
                               f"{evidence}\nstderr: {self.stderr_lines}") from None
        for reader in self._readers:
            reader.join(timeout=STOP_SECONDS)
        return self.proc.returncode

    def _why_alive(self):
        """What a server that missed its stop was doing, for the failure
        message: each thread's state and wait channel, the signal masks
        (SigPnd/ShdPnd: pending; SigBlk: blocked; SigCgt: caught), and the
        stacks: a Python twin's from faulthandler (PYTHONFAULTHANDLER=1,
        below, dumps every thread on SIGABRT), a C++ server's from gdb
        where gdb is installed."""
        pid, lines = self.proc.pid, []
        with contextlib.suppress(OSError):
            status = Path(f"/proc/{pid}/status").read_text().splitlines()
            lines += [line for line in status if line.startswith(("State", "Threads", "Sig", "Shd"))]
            for task in sorted(Path(f"/proc/{pid}/task").iterdir()):
                wchan = (task / "wchan").read_text() or "-"
                state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
                lines.append(f"thread {task.name}: state {state}, wchan {wchan}")
        if Path(self.argv[0]).name.startswith("python"):
            self.proc.send_signal(signal.SIGABRT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=STOP_SECONDS)  # the dump is in stderr
        elif shutil.which("gdb"):
            with contextlib.suppress(subprocess.SubprocessError):
                lines.append(subprocess.run(
                    ["gdb", "-p", str(pid), "-batch", "-ex", "thread apply all bt"],
                    capture_output=True, text=True, timeout=30).stdout)
        return "\n".join(lines)
