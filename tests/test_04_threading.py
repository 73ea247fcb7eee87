"""tests/test_04_threading.py -- a thread per connection: no head-of-line blocking, no leaks."""
import os
import select
import socket
import subprocess
import threading
import time

from conftest import (STOP_SECONDS, assert_waits, connect, echo_line, how_it_ends, program,
                      recv_exactly, recv_until_eof, run_clients, sanitizer_threads, thread_count,
                      wait_for)

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
    # The backlog is socketserver's 5, so most of the 50 connects overflow
    # it: the kernel drops their SYN (or their handshake's last ACK) and
    # TCP sends it again 1, 3, 7, then 15 s after the first. That is most
    # of this test's 1.2 s, and on a loaded machine (three TSan suites at
    # once) 10 s was once too short for two clients of the Python twin. The
    # bounds allow for the fourth retry; the lesson here is the echo, not
    # the backlog (that is chapter 01's exercise).
    ready = threading.Barrier(50, timeout=30)

    def client(n):
        with connect(server, timeout=30) as sock:
            ready.wait()  # all 50 connected before anyone talks
            lines = b"".join(b"client %d line %d\n" % (n, i) for i in range(20))
            sock.sendall(lines)
            assert recv_exactly(sock, len(lines)) == lines

    assert run_clients(client, 50) == []


def test_threads_are_joined_and_never_leak(start_server):
    server = start_server(CHAPTER)
    pid = server.proc.pid
    # Idle: the main thread, plus the stop thread (the C++ sigwait() thread
    # of common/stop.hpp, the Python stop watcher of common/contract.py),
    # plus a sanitizer's own thread if it runs under one.
    idle = 2 + sanitizer_threads(pid)
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


# The chat room (--handler chat): state shared by handler threads, and the
# notes' two-thread chat client made to exit (README, "The chat").

def join_chat(server, count):
    """`count` raw members, each announced by the server's "joined" line."""
    members = []
    for _ in range(count):
        members.append(connect(server))
        name = "%s:%d" % members[-1].getsockname()[:2]
        server.wait_log(rf"^{name} joined the chat$")
    return members


def test_chat_a_line_reaches_every_other_member_and_not_its_sender(start_server):
    server = start_server(CHAPTER, "--handler", "chat")
    a, b, c = join_chat(server, 3)
    with a, b, c:
        a.sendall(b"hi all\n")
        said = b"%s:%d: hi all\n" % (a.getsockname()[0].encode(), a.getsockname()[1])
        assert recv_exactly(b, len(said)) == said
        assert recv_exactly(c, len(said)) == said
        assert_waits(a, 100, seconds=0.3)


def test_chat_lines_sent_at_once_by_many_members_arrive_whole(start_server):
    # Four members send 4 lines of 256 KiB each, all at once, to a fifth
    # whose receive buffer is small: a send to it blocks half done, again
    # and again. Only the per-member lock keeps another handler thread from
    # writing its line into the middle (without it, lines arrive spliced).
    server = start_server(CHAPTER, "--handler", "chat", "--max-line", "300000")
    senders = join_chat(server, 4)
    reader = socket.socket()
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect
    reader.settimeout(10)
    reader.connect(server.address)
    server.wait_log(r"^%s:%d joined the chat$" % reader.getsockname()[:2])
    name = {s: b"%s:%d: " % (s.getsockname()[0].encode(), s.getsockname()[1]) for s in senders}
    lines = {s: [name[s] + b"%d:" % i + b"x" * 262144 + b"\n" for i in range(4)] for s in senders}

    def send(sock):
        sock.sendall(b"".join(line[len(name[sock]):] for line in lines[sock]))
        sock.shutdown(socket.SHUT_WR)

    def drain(sock):  # what the other senders say to this one
        recv_until_eof(sock)

    threads = [threading.Thread(target=f, args=(s,)) for s in senders for f in (send, drain)]
    for thread in threads:
        thread.start()
    expected = [line for s in senders for line in lines[s]]
    received = recv_exactly(reader, sum(map(len, expected)))
    for thread in threads:
        thread.join(timeout=10)
    whole = set(expected)
    spliced = [line[:30] for line in received.splitlines(keepends=True) if line not in whole]
    assert spliced == [], "lines arrived spliced"
    for sock in senders + [reader]:
        sock.close()


def read_exactly(pipe, size, timeout=5):
    """`size` bytes from a child's stdout pipe, every wait bounded."""
    data = b""
    deadline = time.monotonic() + timeout
    while len(data) < size:
        ready, _, _ = select.select([pipe], [], [], max(0, deadline - time.monotonic()))
        assert ready, f"timed out after {timeout} s with {data!r}"
        chunk = os.read(pipe.fileno(), size - len(data))
        assert chunk, f"EOF after {data!r}"
        data += chunk
    return data


def start_chat_client(impl, server):
    """The chapter's own client in --chat mode, our pipe as its keyboard;
    returns (process, the name the server knows it by)."""
    before = len(server.stderr_lines)
    client = subprocess.Popen(program(CHAPTER, impl, "client") +
                              ["--chat", "--host", server.host, "--port", str(server.port)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    server.wait_until(lambda: any(line.endswith(" joined the chat")
                                  for line in server.stderr_lines[before:]),
                      5, "the chat client to join")
    joined = [line for line in server.stderr_lines[before:] if line.endswith(" joined the chat")]
    return client, joined[0].split()[0]


def test_chat_client_ends_from_its_side_at_end_of_input(start_server, impl):
    server = start_server(CHAPTER, "--handler", "chat")
    (other,) = join_chat(server, 1)
    client, name = start_chat_client(impl, server)
    try:
        client.stdin.write(b"hello from the client\n")
        client.stdin.flush()
        said = f"{name}: hello from the client\n".encode()
        assert recv_exactly(other, len(said)) == said
        other.sendall(b"hello back\n")
        # The broadcast reaches the client before its input ends: with the
        # end first, the server may see the client leave before it relays
        # the line (a race CI once lost).
        back = ("%s:%d: hello back\n" % other.getsockname()[:2]).encode()
        assert read_exactly(client.stdout, len(back)) == back
        # communicate() closes the client's stdin (Ctrl-D): its sender
        # half-closes, the server sees EOF and closes, the receiver sees EOF.
        out, err = client.communicate(timeout=STOP_SECONDS)
        assert (client.returncode, err, out) == (0, b"", b""), "ended cleanly, nothing more"
        server.wait_log(rf"^{name} left the chat$")
    finally:
        client.kill()
        client.wait()
        other.close()


def test_chat_client_ends_when_the_server_goes_while_its_input_is_open(start_server, impl):
    server = start_server(CHAPTER, "--handler", "chat")
    client, _ = start_chat_client(impl, server)
    try:
        assert server.stop() == 0
        # Nobody closes the client's standard input: its sender thread, waiting
        # for the keyboard, must be woken by the receiver that saw EOF.
        # (communicate() would close it, so wait() first.)
        assert client.wait(timeout=STOP_SECONDS) == 0
        assert (client.stdout.read(), client.stderr.read()) == (b"", b"")
    finally:
        client.kill()
        client.wait()


def test_chat_refuses_messages_on_the_command_line(run_client):
    result = run_client(CHAPTER, None, "--chat", "hello")
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == "error: --chat reads standard input only"


def test_threading_unix_stream_server(start_server, run_client, tmp_path):
    path = str(tmp_path / "threading.sock")
    server = start_server(CHAPTER, "--unix", path)
    assert server.stdout_lines[0] == f"listening on unix:{path}"
    with connect(server) as slow:
        slow.sendall(b"half a li")  # as over TCP: a held client delays nobody
        server.wait_log("connection from")
        result = run_client(CHAPTER, None, "--unix", path, "over a Unix socket")
        assert (result.returncode, result.stdout) == (0, "over a Unix socket\n"), result.stderr
    assert server.stop() == 0
    assert not (tmp_path / "threading.sock").exists(), "server_close removes the socket file"


def test_chat_a_line_longer_than_max_line_ends_that_membership_only(start_server):
    server = start_server(CHAPTER, "--handler", "chat", "--max-line", "10")
    long_talker, other = join_chat(server, 2)
    with long_talker, other:
        long_talker.sendall(b"x" * 11 + b"\n")
        assert how_it_ends(long_talker)[0] in ("eof", "reset")
        server.wait_log(r"^127\.0\.0\.1:%d left the chat$" % long_talker.getsockname()[1])
        (newcomer,) = join_chat(server, 1)  # the room goes on without it
        with newcomer:
            other.sendall(b"still here\n")
            said = b"127.0.0.1:%d: still here\n" % other.getsockname()[1]
            assert recv_exactly(newcomer, len(said)) == said
