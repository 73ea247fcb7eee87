"""tests/test_01_raw_socket_echo.py -- the bare calls: exact echo, iterative service."""
import re
import select
import socket
import threading

from conftest import connect, echo_line, recv_exactly, recv_until_eof, reset

CHAPTER = "01_raw_socket_echo"


def test_every_byte_value_comes_back_unchanged(start_server):
    server = start_server(CHAPTER)
    payload = bytes(range(256)) * 4 + b"\x00\r\n\xff"
    with connect(server) as sock:
        sock.sendall(payload)
        assert recv_exactly(sock, len(payload)) == payload


def echo_while_writing(server, payload, rcvbuf=None, fill_first=False, read_size=65536):
    """Sends payload from a second thread while reading the echo, so neither
    side's buffers stay full; returns what came back. With fill_first, the
    reading starts only once our own send buffer is full: then the server has
    stopped reading, because it waits for room to send, so every buffer on
    the way is full and the server has large reads to send when we read."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:  # a small receive window: the server's send buffer fills often
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(10)  # a lost byte fails the test within 10 s
    full = threading.Event()

    def write():
        view = memoryview(payload)
        while view:
            # Asked first: with a timeout set, Python's send() would wait for
            # room itself (up to the timeout) instead of saying there is none.
            _, writable, _ = select.select([], [sock], [], 0)
            if not writable:  # our send buffer is full: the event we wait for
                full.set()
                select.select([], [sock], [], 10)
                continue
            view = view[sock.send(view[:65536], socket.MSG_DONTWAIT):]
        full.set()

    with sock:
        sock.connect(server.address)
        writer = threading.Thread(target=write)
        writer.start()
        if fill_first:
            assert full.wait(timeout=20), "the send buffer never filled"
        echoed = bytearray()
        while len(echoed) < len(payload):
            chunk = sock.recv(read_size)
            assert chunk, f"EOF after {len(echoed)} of {len(payload)} bytes"
            echoed += chunk
        writer.join(timeout=20)
    return echoed


def test_4_mib_echo_comes_back_whole_with_no_short_send_on_a_blocking_socket(start_server):
    # The README's claim: on Linux a blocking send() of at most 8 KiB (the
    # server's recv size) waits for room and takes it all; no signal comes.
    server = start_server(CHAPTER)
    payload = bytes((i * 7 + i // 251) % 256 for i in range(4 * 1024 * 1024))
    assert echo_while_writing(server, payload, fill_first=True) == payload
    server.wait_log(r"^closed 127\.0\.0\.1:\d+ \(0 short sends\)$")


def test_short_sends_on_a_nonblocking_socket_are_sent_again(start_server):
    # A non-blocking send() into a send buffer with less room than asked
    # takes what fits and returns that count. A 4 KiB SO_SNDBUF (the kernel
    # doubles it) and reads of up to 1 MiB make every send that is not
    # refused outright a short one. The server counts them; a server that
    # sent once and moved on would lose the rest, and the echo would differ.
    server = start_server(CHAPTER, "--nonblocking", "--buffer", "1048576", "--sndbuf", "4096")
    payload = bytes((i * 13 + i // 509) % 256 for i in range(4 * 1024 * 1024))
    assert echo_while_writing(server, payload, rcvbuf=16384, fill_first=True) == payload
    line = server.wait_log(r"^closed 127\.0\.0\.1:\d+ ")
    assert int(re.search(r"\((\d+) short sends\)$", line).group(1)) > 0, line


def test_a_blocking_send_waits_for_room_instead_even_with_a_small_buffer(start_server):
    # The same small buffer and large reads, blocking: send() sleeps until
    # there is room for all of it, and no count comes back short.
    server = start_server(CHAPTER, "--buffer", "1048576", "--sndbuf", "4096")
    payload = bytes((i * 13 + i // 509) % 256 for i in range(4 * 1024 * 1024))
    assert echo_while_writing(server, payload, rcvbuf=16384, fill_first=True) == payload
    server.wait_log(r"^closed 127\.0\.0\.1:\d+ \(0 short sends\)$")


def test_the_client_prints_each_reply_on_its_own_line(start_server, run_client):
    server = start_server(CHAPTER)
    result = run_client(CHAPTER, server, "hello", "two words", "")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello\ntwo words\n\n"


def test_eof_is_an_empty_recv_not_an_error(start_server):
    # The notes compare recv() with '' (a str), which is never equal to b''
    # and loops forever at EOF. Here: half-close, and the server closes too.
    server = start_server(CHAPTER)
    with connect(server) as sock:
        sock.sendall(b"bye")
        sock.shutdown(socket.SHUT_WR)
        assert recv_until_eof(sock) == b"bye"
    server.wait_log(r"^closed 127\.0\.0\.1:\d+ \(0 short sends\)$")


def test_a_client_that_resets_mid_echo_costs_only_its_own_connection(start_server):
    # 12 KB sent, then close() with SO_LINGER {on, 0}: an RST while the
    # server is still echoing. send() fails with ECONNRESET or EPIPE; the
    # server logs one line for that client and serves the next.
    server = start_server(CHAPTER)
    for _ in range(50):
        sock = connect(server)
        port = sock.getsockname()[1]
        sock.sendall(b"x" * 12000)
        reset(sock)
        server.wait_log(rf"^connection from 127\.0\.0\.1:{port}$")  # one at a time
    echo_line(server)  # still serving
    assert "Traceback" not in server.stderr_text()
    errors = [line for line in server.stderr_lines if line.startswith("error")]
    assert all(re.fullmatch(r"error: (send|recv) 127\.0\.0\.1:\d+: "
                            r"(Connection reset by peer|Broken pipe)", line) for line in errors), errors
