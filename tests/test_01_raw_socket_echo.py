"""tests/test_01_raw_socket_echo.py -- the bare calls: exact echo, iterative service."""
import socket
import threading

from conftest import connect, recv_exactly, recv_until_eof

CHAPTER = "01_raw_socket_echo"


def test_every_byte_value_comes_back_unchanged(start_server):
    server = start_server(CHAPTER)
    payload = bytes(range(256)) * 4 + b"\x00\r\n\xff"
    with connect(server) as sock:
        sock.sendall(payload)
        assert recv_exactly(sock, len(payload)) == payload


def test_4_mib_echo_while_writing_exercises_partial_writes(start_server):
    # Writing 4 MiB before reading would fill both directions' buffers; the
    # server's send() then takes only part of each buffer: its loop must go on.
    server = start_server(CHAPTER)
    payload = bytes((i * 7 + i // 251) % 256 for i in range(4 * 1024 * 1024))
    with connect(server, timeout=20) as sock:
        writer = threading.Thread(target=sock.sendall, args=(payload,))
        writer.start()
        echoed = recv_exactly(sock, len(payload))
        writer.join(timeout=20)
    assert echoed == payload


def test_the_client_prints_each_reply_on_its_own_line(start_server, run_client):
    server = start_server(CHAPTER)
    result = run_client(CHAPTER, server, "hello", "two words", "")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello\ntwo words\n\n"


def test_a_second_client_is_served_only_after_the_first_leaves(start_server):
    server = start_server(CHAPTER)
    first = connect(server)
    first.sendall(b"first")
    assert recv_exactly(first, 5) == b"first"

    second = connect(server)  # completes: the kernel queues it in the backlog
    second.sendall(b"second")
    second.settimeout(0.5)
    try:
        early = second.recv(6)
    except socket.timeout:
        early = None
    assert early is None, "an iterative server must not serve two clients at once"

    first.close()  # the server goes back to accept() and takes the second one
    second.settimeout(5)
    assert recv_exactly(second, 6) == b"second"
    second.close()


def test_eof_is_an_empty_recv_not_an_error(start_server):
    # The notes compare recv() with '' (a str), which is never equal to b''
    # and loops forever at EOF. Here: half-close, and the server closes too.
    server = start_server(CHAPTER)
    with connect(server) as sock:
        sock.sendall(b"bye")
        sock.shutdown(socket.SHUT_WR)
        assert recv_until_eof(sock) == b"bye"
    server.wait_log(r"^closed 127\.0\.0\.1:\d+$")
