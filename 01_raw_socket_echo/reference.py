#!/usr/bin/env python3
"""01_raw_socket_echo/reference.py -- the notes' raw echo server and client, corrected.

Run:  python3 reference.py server [--port 0]
      python3 reference.py client [--port PORT] hello world
The same contract as ./server and ./client, so tests/ runs against both.
Fixed from the notes: every send() is looped until all is out (send may
write less), the client reads the whole echo (one recv may return part of
it), and EOF is b'', not ''.
"""
import _signal  # the C module under `signal`: built in, imported in no time

# First thing: until contract.run() takes over, Ctrl-C ends us by its default
# action, not with a traceback; a handler, not SIG_DFL, so that a SIGINT still
# pending from CPython's own start-up runs it instead of being dropped.
_signal.signal(_signal.SIGINT, lambda n, _: (_signal.signal(n, _signal.SIG_DFL), _signal.raise_signal(n)))

import os
import select
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import contract  # noqa: E402

PIECE = 64 * 1024  # send a piece, read its echo: never both buffers full


def send_everything(conn, data):
    """sendall(), written out, so that short sends can be counted; it also
    works on a non-blocking socket, where sendall() would raise."""
    short_sends = 0
    view = memoryview(data)
    while view:
        try:
            sent = conn.send(view)
        except BlockingIOError:  # non-blocking and no room: wait for some
            select.select([], [conn], [])
            continue
        if sent < len(view):
            short_sends += 1
        view = view[sent:]
    return short_sends


def echo(conn, peer, size):
    """Echoes until EOF; returns how many send() calls came back short."""
    short_sends = 0
    while True:
        try:
            data = conn.recv(size)
        except BlockingIOError:  # non-blocking and nothing there yet
            select.select([conn], [], [])
            continue
        except ConnectionResetError as e:
            contract.log(f"error: recv {peer}: {e.strerror}")
            return short_sends
        if not data:  # b'' means EOF
            return short_sends
        try:
            short_sends += send_everything(conn, data)
        except (ConnectionResetError, BrokenPipeError) as e:  # the client reset mid-echo
            contract.log(f"error: send {peer}: {e.strerror}")
            return short_sends


def server(argv):
    p = contract.parser("server", "Iterative echo server.")
    p.add_argument("--nonblocking", action="store_true", help="conn.setblocking(False)")
    p.add_argument("--buffer", metavar="N", type=contract.number(int, 1, 1 << 24), default=8192, help="bytes per recv()")
    p.add_argument("--sndbuf", metavar="N", type=contract.number(int, 1, 1 << 30), help="SO_SNDBUF per connection")
    args = p.parse_args(argv)
    family, address = contract.resolve(args.host, args.port)
    with socket.socket(family, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart in TIME_WAIT
        with contract.failing("bind", address):
            listener.bind(address)
        listener.listen(5)
        contract.announce(listener)
        while True:
            contract.wait_readable(listener)  # or Stop: an accept() could miss it
            try:
                conn, client = listener.accept()
            except ConnectionAbortedError:
                continue  # the client left before we took it (the BSDs say so)
            peer = contract.format_address(client)
            contract.log(f"connection from {peer}")
            short_sends = 0
            with conn:
                conn.setblocking(not args.nonblocking)
                if args.sndbuf:
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, args.sndbuf)
                try:
                    with contract.ShutDownOnStop(conn):  # a stop ends a recv() or send() on it
                        short_sends = echo(conn, peer, args.buffer)
                except BrokenPipeError:
                    contract.log(f"error: send {peer}: Broken pipe")
            contract.log(f"closed {peer} ({short_sends} short sends)")


def client(argv):
    p = contract.parser("client", "Send each MESSAGE and print the echo.")
    p.add_argument("message", nargs="*")
    args = p.parse_args(argv)
    with contract.connect(args.host, args.port) as sock:
        server_name = contract.format_address(sock.getpeername())
        for message in contract.messages(args.message):
            data = message.encode("utf-8", "surrogateescape")
            reply = bytearray()
            for offset in range(0, len(data), PIECE):
                piece = data[offset:offset + PIECE]
                sock.sendall(piece)
                got = 0
                while got < len(piece):
                    chunk = sock.recv(min(8192, len(piece) - got))
                    if not chunk:
                        raise contract.Failure(f"recv {server_name}: the server closed the connection")
                    reply += chunk
                    got += len(chunk)
            sys.stdout.buffer.write(bytes(reply) + b"\n")
            sys.stdout.flush()


if __name__ == "__main__":
    contract.main({"server": server, "client": client})
