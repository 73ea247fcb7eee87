#!/usr/bin/env python3
"""03_stream_handler/reference.py -- StreamRequestHandler, as the notes use it.

Run:  python3 reference.py server [--timeout S] [--max-line N] [--nodelay]
      python3 reference.py client one two three
The same contract as ./server and ./client, so tests/ runs against both.
Fixed from the notes: one readline() per line (the notes call it twice per
loop and drop every other line) and a limit on the line length.
"""
import os
import socket
import socketserver
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import contract  # noqa: E402


class LineEchoHandler(socketserver.StreamRequestHandler):
    max_line = 65536

    def setup(self):
        super().setup()  # applies timeout and disable_nagle_algorithm
        line = f"connection from {contract.format_address(self.client_address)}"
        if self.disable_nagle_algorithm and self.request.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY):
            line += " (TCP_NODELAY on)"
        contract.log(line)

    def handle(self):
        try:
            while True:
                line = self.rfile.readline(self.max_line + 1)
                if not line:
                    return
                if len(line.rstrip(b"\n")) > self.max_line:
                    raise ValueError(f"line longer than {self.max_line} bytes, closing the connection")
                self.wfile.write(line)
        except TimeoutError:
            contract.log(f"timed out: {contract.format_address(self.client_address)} "
                         f"sent nothing for {int(self.timeout * 1000)} ms, closing")


class Server(socketserver.TCPServer):
    def handle_error(self, request, client_address):
        error = sys.exc_info()[1]
        contract.log(f"error: request from {contract.format_address(client_address)}: {error}")


def server(argv):
    p = contract.parser("server", "Line echo server: StreamRequestHandler, rfile and wfile.")
    p.add_argument("--timeout", type=contract.positive, help="close a connection idle for S seconds")
    p.add_argument("--max-line", type=int, default=65536, help="longest line accepted, in bytes")
    p.add_argument("--nodelay", action="store_true", help="set TCP_NODELAY on each connection")
    args = p.parse_args(argv)
    if args.max_line < 1:
        p.error("--max-line must be at least 1")
    family, address = contract.resolve(args.host, args.port)
    handler = type("Handler", (LineEchoHandler,), {
        "timeout": args.timeout, "max_line": args.max_line,
        "disable_nagle_algorithm": args.nodelay})
    server_class = type("Server", (Server,), {"address_family": family})
    with contract.failing("bind", address):
        server = server_class(address, handler)
    with server:
        contract.announce(server.socket)
        server.serve_forever()


def client(argv):
    p = contract.parser("client", "Send each MESSAGE as a line; print the line that comes back.")
    p.add_argument("message", nargs="*")
    args = p.parse_args(argv)
    with contract.connect(args.host, args.port) as sock:
        name = contract.format_address(sock.getpeername())
        replies = sock.makefile("rb")
        for message in contract.messages(args.message):
            sock.sendall(message.encode("utf-8", "surrogateescape") + b"\n")
            reply = replies.readline()
            if not reply.endswith(b"\n"):
                raise contract.Failure(f"recv {name}: the server closed the connection")
            sys.stdout.buffer.write(reply)
            sys.stdout.flush()


if __name__ == "__main__":
    contract.main({"server": server, "client": client})
