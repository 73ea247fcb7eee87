"""tests/test_04_threading.py -- a thread per connection: no head-of-line blocking, no leaks."""
import socket
import threading

from conftest import (connect, echo_line, recv_exactly, recv_until_eof, run_clients,
                      sanitizer_threads, thread_count, wait_for)

CHAPTER = "04_threading"


def test_a_slow_client_never_delays_a_fast_one(start_server):
    server = start_server(CHAPTER)
    with connect(server) as slow:
        slow.sendall(b"half a li")  # no newline: its handler waits in recv
        server.wait_log("connection from")
        with connect(server, timeout=2) as fast:
            fast.sendall(b"fast\n")
            assert recv_exactly(fast, 5) == b"fast\n"  # within 2 s, while slow is connected
        slow.sendall(b"ne\n")  # the slow client was alive all along
        assert recv_exactly(slow, 12) == b"half a line\n"


def test_50_concurrent_clients_all_get_their_own_echo(start_server):
    server = start_server(CHAPTER)
    ready = threading.Barrier(50, timeout=10)

    def client(n):
        with connect(server, timeout=10) as sock:
            ready.wait()  # all 50 connected before anyone talks
            lines = b"".join(b"client %d line %d\n" % (n, i) for i in range(20))
            sock.sendall(lines)
            assert recv_exactly(sock, len(lines)) == lines

    assert run_clients(client, 50) == []


def test_threads_are_joined_and_never_leak(start_server, impl):
    server = start_server(CHAPTER)
    pid = server.proc.pid
    # Idle: the main thread, plus the C++ stop thread (common/stop.hpp),
    # plus a sanitizer's own thread if it runs under one.
    idle = (2 if impl == "cpp" else 1) + sanitizer_threads(pid)
    wait_for(lambda: thread_count(pid) == idle, 5,
             f"{idle} threads when idle (now {thread_count(pid)})")
    for _ in range(200):
        echo_line(server)
    wait_for(lambda: thread_count(pid) == idle, 5,
             f"the thread count to return to {idle} (now {thread_count(pid)})")


def test_sigterm_with_clients_connected_ends_every_connection(start_server):
    server = start_server(CHAPTER)
    clients = [connect(server) for _ in range(5)]
    for sock in clients:
        sock.sendall(b"hi\n")
        assert recv_exactly(sock, 3) == b"hi\n"  # each one has a live handler thread
    assert server.stop() == 0
    for sock in clients:
        assert recv_until_eof(sock) == b"", "the client sees its connection end"
        sock.close()


def test_the_notes_welcome_hello_exit_protocol(start_server, run_client):
    server = start_server(CHAPTER, "--handler", "welcome")
    result = run_client(CHAPTER, server, "--welcome", "hi", "there")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "welcome\nhello\nhello\n"
    server.wait_log(r"said exit$")


def test_exit_ends_the_conversation_from_the_server_side(start_server):
    server = start_server(CHAPTER, "--handler", "welcome")
    with connect(server) as sock:
        assert recv_exactly(sock, 8) == b"welcome\n"
        sock.sendall(b"exit\n")
        assert recv_until_eof(sock) == b"", "after exit the server closes"
        sock.shutdown(socket.SHUT_WR)
