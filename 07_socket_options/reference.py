#!/usr/bin/env python3
"""07_socket_options/reference.py -- bind_and_activate=False, setsockopt, then bind.

Run:  python3 reference.py server [--no-reuse-address] [--nodelay] [--keepalive]
                                  [--rcvbuf N] [--sndbuf N] [--timeout S]
      python3 reference.py client one two
The same contract as ./server and ./client, so tests/ runs against both.
Fixed from the notes: their snippet creates `server` and sets the option on
`serv.socket`, a name that does not exist (NameError).
"""
import _signal  # the C module under `signal`: built in, imported in no time

# First thing: until contract.run() takes over, Ctrl-C ends us by its default
# action, not with a traceback; a handler, not SIG_DFL, so that a SIGINT still
# pending from CPython's own start-up runs it instead of being dropped.
_signal.signal(_signal.SIGINT, lambda n, _: (_signal.signal(n, _signal.SIG_DFL), _signal.raise_signal(n)))

import os
import socket
import socketserver
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import contract  # noqa: E402


def timeout_ms(sock):
    seconds, micros = struct.unpack("ll", sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, 16))
    return seconds * 1000 + micros // 1000


def effective_options(sock):
    get = sock.getsockopt
    return [f"SO_REUSEADDR = {get(socket.SOL_SOCKET, socket.SO_REUSEADDR)}",
            f"SO_RCVBUF = {get(socket.SOL_SOCKET, socket.SO_RCVBUF)}",
            f"SO_SNDBUF = {get(socket.SOL_SOCKET, socket.SO_SNDBUF)}",
            f"SO_KEEPALIVE = {get(socket.SOL_SOCKET, socket.SO_KEEPALIVE)}",
            f"TCP_NODELAY = {get(socket.IPPROTO_TCP, socket.TCP_NODELAY)}",
            f"SO_RCVTIMEO = {timeout_ms(sock)} ms"]


class OptionsEchoHandler(socketserver.BaseRequestHandler):
    def setup(self):
        contract.log(f"connection from {contract.format_address(self.client_address)}: "
                     + ", ".join(effective_options(self.request)))

    def handle(self):
        while True:
            try:
                data = self.request.recv(8192)  # blocking: SO_RCVTIMEO times it
            except BlockingIOError:  # EAGAIN: the receive timeout expired
                contract.log(f"timed out: {contract.format_address(self.client_address)} "
                             "sent nothing within SO_RCVTIMEO, closing")
                return
            if not data:
                return
            self.request.sendall(data)


def server(argv):
    p = contract.parser("server", "Echo server whose socket options are set before bind.")
    p.add_argument("--no-reuse-address", action="store_true", help="do not set SO_REUSEADDR")
    p.add_argument("--nodelay", action="store_true", help="set TCP_NODELAY")
    p.add_argument("--keepalive", action="store_true", help="set SO_KEEPALIVE")
    p.add_argument("--rcvbuf", metavar="N", type=contract.number(int, 1, 1 << 30), help="ask for an N-byte receive buffer")
    p.add_argument("--sndbuf", metavar="N", type=contract.number(int, 1, 1 << 30), help="ask for an N-byte send buffer")
    p.add_argument("--timeout", metavar="S", type=contract.SECONDS, help="receive timeout (SO_RCVTIMEO)")
    args = p.parse_args(argv)
    # Unbound, so that the options below are set before bind(); and no
    # allow_reuse_address, which would set SO_REUSEADDR in server_bind().
    server = contract.make_server(socketserver.TCPServer, args, OptionsEchoHandler,
                                  bind_and_activate=False, allow_reuse_address=False)
    with server:
        sock = server.socket
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0 if args.no_reuse_address else 1)
        if args.nodelay:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if args.keepalive:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        if args.rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
        if args.sndbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, args.sndbuf)
        if args.timeout:
            micros = int(args.timeout * 1e6)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                            struct.pack("ll", micros // 1000000, micros % 1000000))
        with contract.failing("bind", server.server_address):
            server.server_bind()
            server.server_activate()
        contract.announce(sock)
        print("\n".join(effective_options(sock)), flush=True)
        server.serve_forever()


if __name__ == "__main__":
    contract.main({"server": server, "client": contract.line_client})
