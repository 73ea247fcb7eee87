"""tests/test_03_stream_handler.py -- lines over a byte stream: rfile, wfile, timeout, limits."""
import socket
import time

from conftest import connect, recv_exactly, recv_until_eof

CHAPTER = "03_stream_handler"


def test_each_line_is_echoed_once(start_server, run_client):
    # The notes' handler calls readline() twice per loop: every other line is lost.
    server = start_server(CHAPTER)
    result = run_client(CHAPTER, server, "one", "two", "three")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "one\ntwo\nthree\n"


def test_1000_lines_in_one_send(start_server):
    server = start_server(CHAPTER)
    lines = b"".join(b"line %d\n" % i for i in range(1000))
    with connect(server) as sock:
        sock.sendall(lines)
        assert recv_exactly(sock, len(lines)) == lines


def test_one_line_sent_byte_by_byte(start_server):
    server = start_server(CHAPTER)
    with connect(server) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for byte in b"trickle\n":
            sock.send(bytes([byte]))
        assert recv_exactly(sock, 8) == b"trickle\n"


def test_last_line_without_newline_is_echoed_at_eof(start_server):
    server = start_server(CHAPTER)
    with connect(server) as sock:
        sock.sendall(b"full line\nno newline")
        sock.shutdown(socket.SHUT_WR)
        assert recv_until_eof(sock) == b"full line\nno newline"


def test_timeout_closes_an_idle_client_and_logs_it(start_server):
    server = start_server(CHAPTER, "--timeout", "1")
    with connect(server, timeout=10) as sock:
        sock.sendall(b"awake\n")
        assert recv_exactly(sock, 6) == b"awake\n"
        assert recv_until_eof(sock) == b"", "the server closes after 1 s of silence"
    server.wait_log(r"timed out: 127\.0\.0\.1:\d+")


def test_nodelay_is_set_on_each_connection(start_server):
    server = start_server(CHAPTER, "--nodelay")
    with connect(server) as sock:
        sock.sendall(b"x\n")
        assert recv_exactly(sock, 2) == b"x\n"
    server.wait_log(r"connection from 127\.0\.0\.1:\d+ \(TCP_NODELAY on\)")


def test_a_line_in_two_writes_waits_for_a_delayed_ack_unless_the_client_sets_nodelay(
        start_server, run_client):
    # The client writes "N" and then "\n". Nagle's algorithm holds the "\n"
    # back until "N" is acknowledged, and the server delays that ACK (about
    # 40 ms on Linux) because it has nothing to send yet: it waits for the
    # newline. The server's own TCP_NODELAY cannot help; the client's can.
    server = start_server(CHAPTER, "--nodelay")
    lines = "".join(f"{n}\n" for n in range(20))

    def timed(*options):
        start = time.monotonic()
        result = run_client(CHAPTER, server, *options, input=lines)
        assert result.returncode == 0 and result.stdout == lines, result.stderr
        return time.monotonic() - start

    split = timed("--split")
    split_nodelay = timed("--split", "--nodelay")
    assert split >= 20 * 0.02, f"20 split lines took only {split:.3f} s: no delayed ACK?"
    assert split_nodelay < split / 2, f"--nodelay did not help: {split_nodelay:.3f} s vs {split:.3f} s"
