"""tests/test_errata.py -- every bug of the notes that a README claims, reproduced.

Each test runs a minimal Python program in the notes' pattern (written
here, not copied) and shows the bug; where the chapter's program is the
fix, the same test shows that it behaves. If a claim stops being true
(a newer CPython, a different kernel), its test fails and the README must
change.
"""
import errno
import signal
import socket
import socketserver
import sys
import threading

import pytest

from conftest import ROOT, connect, free_port, recv_exactly, recv_until_eof
from harness import Server

PYTHON_LISTENING = "print('listening on 127.0.0.1:%d' % srv.getsockname()[1], flush=True)\n"


def start_python(tmp_path, body):
    """Runs a small server script (its listener is `srv`) and waits for it."""
    script = tmp_path / "notes_pattern.py"
    script.write_text("import socket, sys\n"
                      "srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(5)\n"
                      + PYTHON_LISTENING + body)
    return Server([sys.executable, str(script)], cwd=tmp_path).wait_ready()


def start_chapter(chapter, *args):
    return Server([str(ROOT / chapter / "server"), "--port", "0", *args], cwd=ROOT).wait_ready()


def serve_once_in_thread(handler):
    """A socketserver.TCPServer in this process that handles one request;
    returns (server, thread, errors): handle_error stores what it saw."""
    errors = []

    class Server_(socketserver.TCPServer):
        def handle_error(self, request, client_address):
            errors.append(sys.exc_info()[1])

    server = Server_(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.handle_request)
    thread.start()
    return server, thread, errors


# 01 ------------------------------------------------------------------------

def test_notes_recv_compared_with_str_never_sees_eof(tmp_path):
    buggy = start_python(tmp_path, """
conn, _ = srv.accept()
empty_reads = 0
while True:
    data = conn.recv(1024)
    if data == '':             # the notes' test: bytes are never equal to str
        break
    if not data:               # what the loop should have tested
        empty_reads += 1
        if empty_reads == 1000:
            print('1000 empty reads, still looping', file=sys.stderr, flush=True)
            break
""")
    try:
        with connect(buggy) as sock:
            sock.sendall(b"bye")
        buggy.wait_log("1000 empty reads, still looping")
    finally:
        buggy.stop()
    fixed = start_chapter("01_raw_socket_echo")
    try:
        with connect(fixed) as sock:
            sock.sendall(b"bye")
            sock.shutdown(socket.SHUT_WR)
            assert recv_until_eof(sock) == b"bye"
        fixed.wait_log(r"^closed ")
    finally:
        assert fixed.stop() == 0


def test_notes_single_send_loses_bytes(tmp_path):
    # The first EchoHandler answers with one send() and ignores its count.
    # Here the answer is large (4 MiB) and a signal with a handler arrives
    # while send() waits for room, as one will in any real program (a timer,
    # a child exiting, a resize). send() then returns what it has copied so
    # far, and the rest of the answer is never sent.
    buggy = start_python(tmp_path, """
import signal
signal.signal(signal.SIGUSR1, lambda *args: None)
conn, _ = srv.accept()
msg = conn.recv(4) * (1 << 20)
print('sending', len(msg), file=sys.stderr, flush=True)
sent = conn.send(msg)          # the notes: the count it returns is ignored
print('send returned', sent, 'of', len(msg), file=sys.stderr, flush=True)
conn.close()
""")
    try:
        with connect(buggy, timeout=10) as sock:
            sock.sendall(b"ping")
            buggy.wait_log("^sending")
            # Until send() returns: each signal either finds it not yet
            # blocked (it goes on) or blocked with bytes copied (it returns).
            for _ in range(500):
                buggy.proc.send_signal(signal.SIGUSR1)
                try:
                    buggy.wait_log("^send returned", timeout=0.01)
                    break
                except AssertionError:
                    continue
            line = buggy.wait_log("^send returned")
            received = len(recv_until_eof(sock))
        sent, total = map(int, line.split()[2::2])
        assert 0 < sent < total, line
        assert received == sent, "the client got what send() took, and no more"
    finally:
        buggy.stop()
    # The fix is the loop in 01's server: test_01_raw_socket_echo.py,
    # test_short_sends_on_a_nonblocking_socket_are_sent_again.


def test_connect_ex_returns_errno_111_on_linux():
    port = free_port()
    with socket.socket() as sock:
        code = sock.connect_ex(("127.0.0.1", port))
    assert code == errno.ECONNREFUSED == 111, "10061 is Windows' WSAECONNREFUSED"
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.connect(("127.0.0.1", port))  # connect raises; it returns nothing


# 02 ------------------------------------------------------------------------

def test_notes_handler_declared_with_def():
    def EchoHandler(BaseRequestHandler):  # noqa: N802 -- the notes' typo: def, not class
        pass

    server, thread, errors = serve_once_in_thread(EchoHandler)
    with server, socket.create_connection(server.server_address, timeout=5):
        thread.join(timeout=5)
    assert len(errors) == 1 and isinstance(errors[0], TypeError), errors


def test_notes_one_recv_is_not_one_message():
    class MyTCPHandler(socketserver.BaseRequestHandler):  # the notes' pattern
        def handle(self):
            self.data = self.request.recv(1024).strip()
            self.request.sendall(self.data.upper())

    server, thread, _ = serve_once_in_thread(MyTCPHandler)
    with server, socket.create_connection(server.server_address, timeout=5) as sock:
        sock.sendall(b"hel")  # TCP may deliver a message in pieces: here, for sure
        reply = recv_until_eof(sock)
        thread.join(timeout=5)
    assert reply == b"HEL", "the handler answered the first piece and dropped the rest"
    fixed = start_chapter("02_sync_server", "--handler", "upper")
    try:
        with connect(fixed) as sock:
            sock.sendall(b"hel")
            fixed.wait_log("connection from")
            sock.sendall(b"lo\n")
            assert recv_until_eof(sock) == b"HELLO"
    finally:
        assert fixed.stop() == 0


def test_notes_finish_runs_after_a_failing_handle():
    finished = []

    class Failing(socketserver.BaseRequestHandler):
        def handle(self):
            raise RuntimeError("handle failed")

        def finish(self):
            finished.append(True)

    server, thread, errors = serve_once_in_thread(Failing)
    with server, socket.create_connection(server.server_address, timeout=5):
        thread.join(timeout=5)
    assert [type(e) for e in errors] == [RuntimeError]
    assert finished == [True], "finish() runs even though handle() raised"


# 03 ------------------------------------------------------------------------

def test_notes_double_readline_loses_every_other_line():
    class MyTCPHandle(socketserver.StreamRequestHandler):  # the notes' loop
        def handle(self):
            while self.rfile.readline().strip():
                self.data = self.rfile.readline().strip()
                self.wfile.write(self.data)

    server, thread, _ = serve_once_in_thread(MyTCPHandle)
    with server, socket.create_connection(server.server_address, timeout=5) as sock:
        sock.sendall(b"one\ntwo\nthree\nfour\n")
        sock.shutdown(socket.SHUT_WR)
        reply = recv_until_eof(sock)
        thread.join(timeout=5)
    assert reply == b"twofour", "lines 1 and 3 were read only to be tested, newlines stripped"
    fixed = start_chapter("03_stream_handler")
    try:
        with connect(fixed) as sock:
            sock.sendall(b"one\ntwo\nthree\nfour\n")
            assert recv_exactly(sock, 19) == b"one\ntwo\nthree\nfour\n"
    finally:
        assert fixed.stop() == 0


# 04 ------------------------------------------------------------------------

def test_notes_welcome_server_never_sees_eof():
    # MyServer of note 001: at EOF recv() returns b'', decoded '', which is
    # not 'exit'; the loop goes on sending 'hello' to a closed peer until
    # the send fails. It never leaves the loop the way it should.
    rounds = []

    class MyServer(socketserver.BaseRequestHandler):
        def handle(self):
            conn = self.request
            conn.sendall(b"welcome")
            while True:
                data = conn.recv(1024).decode()
                if data == "exit":
                    break
                rounds.append(data)
                conn.sendall(b"hello")

    server, thread, errors = serve_once_in_thread(MyServer)
    with server:
        with socket.create_connection(server.server_address, timeout=5) as sock:
            assert recv_exactly(sock, 7) == b"welcome"
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert rounds and all(r == "" for r in rounds), rounds
    assert len(errors) == 1 and isinstance(errors[0], (BrokenPipeError, ConnectionResetError))
    fixed = start_chapter("04_threading", "--handler", "welcome")
    try:
        with connect(fixed) as sock:
            assert recv_exactly(sock, 8) == b"welcome\n"
        fixed.wait_log(r"^connection from")
    finally:
        assert fixed.stop() == 0
        assert "error" not in fixed.stderr_text()

