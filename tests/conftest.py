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
import select
import time
import socket
import struct
import subprocess
import threading

import pytest

from harness import CHAPTERS, DATAGRAM_CHAPTERS, ROOT, STOP_SECONDS, HarnessError, Server, program  # noqa: F401


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
    """Reads until the peer closes with a FIN (recv returns b''). A reset
    fails the test: where that is the lesson, use how_it_ends()."""
    ending, data = how_it_ends(sock)
    assert ending == "eof", f"the connection was reset, not closed, after {bytes(data)!r}"
    return data


def how_it_ends(sock):
    """Reads until the connection ends; returns ("eof", data) for an orderly
    close (FIN) or ("reset", data) for a reset (RST, ECONNRESET)."""
    data = bytearray()
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return "reset", bytes(data)
        if not chunk:
            return "eof", bytes(data)
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


def run_clients(client, count, timeout=60):
    """Runs client(n) for n in range(count) in as many threads at once and
    returns the failures as strings (an assert inside a thread would be lost).
    Every thread is joined; one still running after `timeout` is a failure."""
    errors = []

    def guarded(n):
        try:
            client(n)
        except Exception as e:
            errors.append(f"client {n}: {e!r}")

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(timeout=max(0, deadline - time.monotonic()))
    errors += [f"{t.name} still running after {timeout} s" for t in threads if t.is_alive()]
    return errors


def thread_count(pid):
    """How many threads the process has right now (/proc/PID/task)."""
    return len(os.listdir(f"/proc/{pid}/task"))


def sanitizer_threads(pid):
    """Threads a sanitizer runtime adds on its own: ThreadSanitizer starts one
    background thread, lazily, once the program has started a thread (a C++
    server starts its stop thread first thing, so soon after startup)."""
    with open(f"/proc/{pid}/maps") as f:
        return 1 if "libtsan" in f.read() else 0


def children(pid):
    """{child pid: state letter} of the process's children ('Z' = zombie)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # it exited while we looked
        # "PID (comm) STATE PPID ...": comm may hold spaces, so split after ")".
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid:
            found[int(entry)] = state
    return found


def wait_for(predicate, timeout, what):
    """Polls predicate() every 10 ms until true; fails after `timeout` s.
    For states no event announces (thread counts, zombies), bounded."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


def echo_line(server, line=b"ping\n"):
    """One connection: send a line, read it back, close."""
    with connect(server) as sock:
        sock.sendall(line)
        assert recv_exactly(sock, len(line)) == line


def assert_waits(sock, size, seconds=0.5):
    """Asserts that nothing arrives on sock for `seconds` (a queued client)."""
    sock.settimeout(seconds)
    try:
        early = sock.recv(size)
    except socket.timeout:
        early = None
    finally:
        sock.settimeout(5)
    assert early is None, f"served too early: {early!r}"


def fill_until_the_server_blocks_in_send(sock, deadline_seconds=20):
    """Sends lines and never reads, until nothing moves for half a second:
    then our receive buffer and the server's send buffer are full, so the
    server is blocked in send(), and its receive buffer and our send buffer
    are full behind it. Returns the bytes sent."""
    line = b"x" * 1023 + b"\n"
    sent = 0
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        try:
            sent += sock.send(line, socket.MSG_DONTWAIT)
            continue
        except BlockingIOError:
            pass
        _, writable, _ = select.select([], [sock], [], 0.5)
        if not writable:  # no room for 0.5 s: the server has stopped reading
            return sent
    raise AssertionError(f"the server kept reading: {sent} bytes sent in {deadline_seconds} s")


def hold_the_server_in(state, server):
    """Puts the server in `state` and returns the sockets to keep open."""
    if state == "idle":
        return []
    sock = connect(server)
    if state == "mid-line":
        sock.sendall(b"half a line")  # no newline: the handler waits in recv()
        server.wait_log("connection from")
        return [sock]
    if state == "blocked-in-send":  # a client that never reads its echo
        sock.close()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(server.address)
        assert fill_until_the_server_blocks_in_send(sock) > 0
        return [sock]
    # queued: the one worker is busy, a second client waits its turn
    sock.sendall(b"busy\n")
    assert recv_exactly(sock, 5) == b"busy\n"
    waiting = connect(server)
    waiting.sendall(b"later\n")
    assert_waits(waiting, 6, seconds=0.2)
    return [sock, waiting]


def assert_two_at_once_and_the_third_waits(server):
    """A pool of two (threads or processes): two clients served at once hold
    both; a third is connected but not served until one of them leaves."""
    held = [connect(server) for _ in range(2)]
    for sock in held:
        sock.sendall(b"mine\n")
        assert recv_exactly(sock, 5) == b"mine\n"  # both are now busy
    with connect(server) as third:
        third.sendall(b"third\n")
        assert_waits(third, 6)
        held[0].close()  # one comes free and takes the next connection
        assert recv_exactly(third, 6) == b"third\n"
    held[1].close()


def open_fds(pid):
    """How many descriptors the process has open right now (/proc/PID/fd)."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def flood_while_sampling(server, sample, clients=20, each=10):
    """`clients` clients at once, `each` one-line connections apiece, while
    another thread records sample() every 5 ms. Returns (failures, samples)."""
    samples, done = [], threading.Event()

    def sampler():
        while not done.is_set():
            samples.append(sample())
            done.wait(0.005)

    def client(n):
        for i in range(each):
            echo_line(server, b"flood %d.%d\n" % (n, i))

    watching = threading.Thread(target=sampler)
    watching.start()
    try:
        errors = run_clients(client, clients)
    finally:
        done.set()
        watching.join()
    return errors, samples


def assert_stopped_without_errors(server):
    """No line of the server's log says "error" after a stop with clients
    connected: ending them is the stop's job, not a fault. (Under
    ThreadSanitizer, 05's children once missed their SIGTERM and were
    killed, logging "ignored SIGTERM; killed": the parent had a stop thread,
    and TSan stops handling deferred signals in the child of a
    multi-threaded fork. The forking parent has one thread now: common/stop.hpp.)"""
    errors = [line for line in server.stderr_lines if "error" in line]
    assert errors == [], server.stderr_text()


# The states a server must stop from (hold_the_server_in).
STOP_STATES = ["idle", "mid-line", "blocked-in-send", "queued"]


def stop_in_state(server, state):
    """Puts the server in `state`, sends SIGTERM, and asserts it exited 0
    within STOP_SECONDS; the clients it held are closed afterwards."""
    held = hold_the_server_in(state, server)
    try:
        assert server.stop() == 0, server.stderr_text()
    finally:
        for sock in held:
            sock.close()


def pytest_collection_modifyitems(config, items):
    """A contract test for a kind of chapter this tree lacks (a lab folder
    from `make export` holds one chapter) has an empty parameter set: leave
    it out instead of reporting it as skipped."""
    empty = [item for item in items
             if any("empty parameter set" in str(mark.kwargs.get("reason", ""))
                    for mark in item.iter_markers("skip"))]
    if empty:
        config.hook.pytest_deselected(items=empty)
        items[:] = [item for item in items if item not in empty]
