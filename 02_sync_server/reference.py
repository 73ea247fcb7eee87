#!/usr/bin/env python3
"""02_sync_server/reference.py -- socketserver itself, as the notes use it.

Run:  python3 reference.py server [--handler upper] [--once [--timeout 1]] [--unix PATH]
      python3 reference.py client [--unix PATH] hello world
The same contract as ./server and ./client, so tests/ runs against both.
Fixed from the notes: the upper handler reads up to a newline or EOF instead
of trusting one recv() to hold one message; errors are one log line.
"""
import _signal  # the C module under `signal`: built in, imported in no time

# First thing: until contract.run() takes over, Ctrl-C ends us by its default
# action, not with a traceback; a handler, not SIG_DFL, so that a SIGINT still
# pending from CPython's own start-up runs it instead of being dropped.
_signal.signal(_signal.SIGINT, lambda n, _: (_signal.signal(n, _signal.SIG_DFL), _signal.raise_signal(n)))

import os
import socket
import socketserver
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import contract  # noqa: E402


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        contract.log(f"connection from {contract.format_address(self.client_address)}")
        while True:
            data = self.request.recv(8192)
            if not data:
                return
            self.request.sendall(data)


class UpperHandler(socketserver.BaseRequestHandler):
    def handle(self):
        contract.log(f"connection from {contract.format_address(self.client_address)}")
        message = b""
        while b"\n" not in message and len(message) < 1024:
            data = self.request.recv(1024 - len(message))
            if not data:
                break
            message += data
        message = message.split(b"\n")[0].strip().upper()
        contract.log(f"{contract.format_address(self.client_address)} wrote {len(message)} bytes")
        self.request.sendall(message)


def server(argv):
    p = contract.parser("server", "socketserver: a synchronous server and a request handler.")
    p.add_argument("--handler", metavar="NAME", choices=["echo", "upper"], default="echo")
    p.add_argument("--once", action="store_true", help="serve one request, then exit")
    p.add_argument("--timeout", metavar="S", type=contract.SECONDS, help="with --once: give up after S seconds")
    p.add_argument("--unix", metavar="PATH", help="listen on a Unix stream socket")
    args = p.parse_args(argv)
    if args.timeout and not args.once:
        p.error("--timeout goes with --once")
    handler = EchoHandler if args.handler == "echo" else UpperHandler
    if args.unix:
        server = contract.make_server(socketserver.UnixStreamServer, args, handler,
                                      family=socket.AF_UNIX, address=args.unix)
    else:
        server = contract.make_server(socketserver.TCPServer, args, handler)
    with server:
        contract.announce(server.socket)
        if args.once:
            server.timeout = args.timeout
            server.handle_request()
        else:
            server.serve_forever()


def client(argv):
    p = contract.parser("client", "Send each MESSAGE on its own connection; print the reply.")
    p.add_argument("--unix", metavar="PATH", help="connect to a Unix stream socket")
    p.add_argument("message", nargs="*")
    args = p.parse_args(argv)
    for message in contract.messages(args.message):
        with contract.connect_to(args) as sock:
            sock.sendall(message.encode("utf-8", "surrogateescape"))
            sock.shutdown(socket.SHUT_WR)  # "that was all": the server sees EOF
            reply = b"".join(iter(lambda: sock.recv(8192), b""))
        sys.stdout.buffer.write(reply + b"\n")
        sys.stdout.flush()


if __name__ == "__main__":
    contract.main({"server": server, "client": client})
