"""tests/test_08_udp.py -- datagrams: whole or nothing, empty ones, size limit, loss and retry."""
import os
import socket
import threading

import pytest

from conftest import free_port, run_clients
from harness import HarnessError

CHAPTER = "08_udp"


def udp_client(server, timeout=2.0):
    family = socket.AF_INET6 if ":" in server.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.settimeout(timeout)
    return sock


def echo(server, payload):
    with udp_client(server) as sock:
        sock.sendto(payload, server.address)
        reply, sender = sock.recvfrom(65536)
        assert sender[:2] == server.address
        return reply


def test_each_datagram_comes_back_to_its_sender(start_server, run_client):
    server = start_server(CHAPTER)
    assert echo(server, b"hello datagram") == b"hello datagram"
    result = run_client(CHAPTER, server, "one", "two")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "one\ntwo\n"


def test_the_empty_datagram_is_echoed(start_server):
    # recvfrom() returning 0 bytes is not EOF here: it is a datagram.
    server = start_server(CHAPTER, "--verbose")
    assert echo(server, b"") == b""
    server.wait_log(r"datagram from 127\.0\.0\.1:\d+: 0 bytes")


def test_a_datagram_is_logged_only_with_verbose(start_server):
    # Without --verbose a datagram costs recvfrom + sendto and nothing more:
    # no log line (a write() each) unless something is wrong.
    server = start_server(CHAPTER)
    for payload in (b"one", b"", b"three"):
        assert echo(server, payload) == payload
    with udp_client(server, timeout=0.2) as sock:
        sock.sendto(b"x" * 8193, server.address)  # an error is still logged
    server.wait_log(r"^error: datagram from")
    assert [line for line in server.stderr_lines if "bytes" in line and "error" not in line] == []


def test_max_packet_size_is_echoed_whole_and_one_more_byte_is_dropped(start_server):
    server = start_server(CHAPTER)
    assert echo(server, b"m" * 8192) == b"m" * 8192
    with udp_client(server, timeout=0.5) as sock:
        sock.sendto(b"x" * 8193, server.address)
        try:
            reply = sock.recv(65536)
        except socket.timeout:
            reply = None
        assert reply is None, "a cut copy must not be sent back as if it were all"
    server.wait_log(r"^error: datagram from 127\.0\.0\.1:\d+ has .*max_packet_size 8192")
    assert echo(server, b"next") == b"next"


def test_threading_serves_many_clients_at_once(start_server):
    server = start_server(CHAPTER, "--threading")

    def client(n):
        for i in range(10):
            payload = b"client %d datagram %d" % (n, i)
            assert echo(server, payload) == payload

    assert run_clients(client, 20) == []


@pytest.mark.parametrize("mode", [[], ["--threading"]], ids=["iterative", "threading"])
def test_unix_datagram_server(start_server, run_client, tmp_path, mode):
    # UnixDatagramServer and ThreadingUnixDatagramServer.
    path = str(tmp_path / "udp.sock")
    server = start_server(CHAPTER, "--unix", path, *mode)
    assert server.stdout_lines[0] == f"listening on unix:{path}"
    result = run_client(CHAPTER, None, "--unix", path, "over a Unix datagram socket")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "over a Unix datagram socket\n"
    assert server.stop() == 0
    assert not os.path.exists(path)


def test_the_client_gives_up_after_its_retries(run_client):
    # A socket that receives but never answers: every datagram is "lost".
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        result = run_client(CHAPTER, None, "--port", str(port), "--timeout", "0.2",
                            "--retries", "2", "anyone?")
        assert result.returncode == 1
        assert result.stderr.startswith(f"error: recv 127.0.0.1:{port}: timed out")
        silent.settimeout(1)
        assert [silent.recv(100) for _ in range(3)] == [b"anyone?"] * 3, "1 try + 2 retries"


def test_a_retry_recovers_a_lost_datagram(run_client):
    # A server that "loses" the first datagram and answers the second.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as lossy:
        lossy.bind(("127.0.0.1", 0))
        lossy.settimeout(10)
        port = lossy.getsockname()[1]

        def serve():
            lossy.recvfrom(100)  # dropped
            data, sender = lossy.recvfrom(100)
            lossy.sendto(data, sender)

        server = threading.Thread(target=serve)
        server.start()
        result = run_client(CHAPTER, None, "--port", str(port), "--timeout", "0.3", "again")
        server.join(timeout=10)
        assert result.returncode == 0, result.stderr
        assert result.stdout == "again\n"


def test_a_closed_udp_port_is_refused_through_icmp(run_client):
    # connect() on a UDP socket lets the kernel report ICMP port unreachable.
    port = free_port()
    result = run_client(CHAPTER, None, "--port", str(port), "--timeout", "2", "hello")
    assert result.returncode == 1
    assert result.stderr == f"error: recv 127.0.0.1:{port}: Connection refused\n"


def unix_client(tmp_path, name, server_path, timeout=2.0, connected=True):
    """A Unix datagram socket bound to a path of its own (or nothing could
    answer it), connected to the server unless told otherwise."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / name))
    if connected:
        sock.connect(server_path)
    sock.settimeout(timeout)
    return sock


DROPPED = r"^error: reply to unix:.*/{} dropped: its receive queue is full \(\d+ dropped in the last second\)$"


@pytest.mark.parametrize("mode", [[], ["--threading"]], ids=["iterative", "threading"])
def test_a_unix_client_that_never_reads_does_not_stall_the_server(start_server, tmp_path, mode):
    # A UDP sendto() never waits for the receiver; a Unix datagram sendto()
    # waits while the receiver's queue is full. A client that sends and
    # never reads once held the whole server in sendto() (and, threaded,
    # one thread per reply, which the stop then waited for forever).
    path = str(tmp_path / "udp.sock")
    server = start_server(CHAPTER, "--unix", path, *mode)

    # Not connected: the kernel caps its queue (net.unix.max_dgram_qlen,
    # 10); the replies beyond are dropped, and everyone else is served.
    with unix_client(tmp_path, "deaf", path, connected=False) as deaf, \
            unix_client(tmp_path, "other", path) as other:
        for _ in range(200):
            deaf.sendto(b"x" * 1000, path)  # times out, failing the test, if the server is stuck
        server.wait_log(DROPPED.format("deaf"))
        other.send(b"still served")
        assert other.recv(100) == b"still served"

    # Connected to the server: no such cap. Its unread replies are charged to
    # the *server's* send buffer (SO_SNDBUF, ~208 KiB) until it reads them;
    # once that is full, every reply fails with EAGAIN and is dropped, not
    # waited for. When the client goes, its queue and the buffer are freed.
    with unix_client(tmp_path, "hog", path) as hog:
        for _ in range(400):
            hog.send(b"x" * 1000)
        # Drops are logged once a second at most: one more request every
        # 0.1 s until the line for this client comes, 5 s at most.
        for _ in range(50):
            hog.send(b"x")
            try:
                server.wait_log(DROPPED.format("hog"), timeout=0.1)
                break
            except HarnessError:
                pass
        else:
            raise AssertionError(f"no dropped reply logged for hog: {server.stderr_lines}")
    with unix_client(tmp_path, "later", path) as later:
        later.send(b"served again")
        assert later.recv(100) == b"served again"
    assert server.stop() == 0  # within 2 s, no thread left waiting in sendto()
    assert len([line for line in server.stderr_lines if "dropped:" in line]) <= 6, \
        "at most one line a second"


def test_a_datagram_from_an_unbound_unix_socket_is_dropped_and_logged(start_server, tmp_path):
    # recvfrom() gives no address for a Unix socket that never bound a path:
    # there is nothing to answer to (the Python twin once died of it).
    path = str(tmp_path / "udp.sock")
    server = start_server(CHAPTER, "--unix", path)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as unbound:
        unbound.sendto(b"who am I?", path)
    server.wait_log(r"^error: datagram from an unbound socket: no address to answer; dropped$")
    with unix_client(tmp_path, "named", path) as named:
        named.send(b"me")
        assert named.recv(100) == b"me"
    assert server.stop() == 0
    assert not os.path.exists(path)
