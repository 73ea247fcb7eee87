#!/usr/bin/env python3
"""08_udp/reference.py -- UDPServer, ThreadingUDPServer, UnixDatagramServer.

Run:  python3 reference.py server [--threading | --unix PATH]
      python3 reference.py client [--timeout S] [--retries N] [--unix PATH] hello
The same contract as ./server and ./client, so tests/ runs against both.
Changed from plain socketserver: a datagram larger than max_packet_size is
dropped and logged (UDPServer would echo the first 8192 bytes as if they
were all); so is one from an unbound Unix socket (no address to answer); a
reply the client's queue cannot take now is dropped, not waited for; and the
client retries, because datagrams get lost.
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
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import contract  # noqa: E402


class EchoHandler(socketserver.DatagramRequestHandler):
    def handle(self):
        self.wfile.write(self.rfile.read())

    def finish(self):
        # DatagramRequestHandler.finish() is a blocking sendto(). A Unix
        # datagram sendto() waits while the receiver's queue is full (UDP
        # never waits), so a client that never reads would hold the server:
        # MSG_DONTWAIT, and a reply that cannot go now is dropped.
        try:
            self.socket.sendto(self.wfile.getvalue(), socket.MSG_DONTWAIT, self.client_address)
        except (BlockingIOError, InterruptedError):
            self.server.reply_dropped(self.client_address)


class CheckedSize:
    """get_request() with recvmsg, whose flags tell a truncated datagram;
    a datagram with no address to answer is dropped; dropped replies are
    logged once a second at most."""

    _dropped = (0, None)  # (not yet logged, when last logged)
    _dropped_lock = threading.Lock()

    def get_request(self):
        data, _, flags, client_address = self.socket.recvmsg(self.max_packet_size)
        if not client_address:  # None (or "") from a Unix socket that never bound a path
            contract.log("error: datagram from an unbound socket: no address to answer; dropped")
            raise OSError("no address")  # _handle_request_noblock skips it
        where = contract.format_address(client_address)
        if flags & socket.MSG_TRUNC:
            contract.log(f"error: datagram from {where} has more than max_packet_size "
                         f"{self.max_packet_size} bytes; dropped")
            raise OSError("datagram too large")  # _handle_request_noblock skips it
        if self.verbose:
            contract.log(f"datagram from {where}: {len(data)} bytes")
        return (data, self.socket), client_address

    def reply_dropped(self, client_address):
        with self._dropped_lock:
            count, logged = self._dropped
            count, now = count + 1, time.monotonic()
            if logged is None or now - logged >= 1:
                contract.log(f"error: reply to {contract.format_address(client_address)} dropped: "
                             f"its receive queue is full ({count} dropped in the last second)")
                count, logged = 0, now
            self._dropped = (count, logged)


def server(argv):
    p = contract.parser("server", "UDP echo server: each datagram comes back to its sender.")
    p.add_argument("--threading", action="store_true", help="a thread per datagram")
    p.add_argument("--unix", metavar="PATH", help="a Unix datagram socket instead of UDP")
    p.add_argument("--verbose", action="store_true",
                   help="log every datagram (one more system call each)")
    args = p.parse_args(argv)
    if args.unix:
        base = (socketserver.ThreadingUnixDatagramServer if args.threading
                else socketserver.UnixDatagramServer)
        server = contract.make_server(type("S", (CheckedSize, base), {}),
                                      args, EchoHandler, family=socket.AF_UNIX, address=args.unix,
                                      verbose=args.verbose)
    else:
        base = socketserver.ThreadingUDPServer if args.threading else socketserver.UDPServer
        family, address = contract.resolve(args.host, args.port, socket.SOCK_DGRAM)
        server = contract.make_server(type("S", (CheckedSize, base), {}), args, EchoHandler,
                                      family=family, address=address, verbose=args.verbose)
    with server:
        contract.announce(server.socket)
        server.serve_forever()


def ask(sock, message, name, timeout, retries):
    for _ in range(retries + 1):
        sock.send(message)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                reply = sock.recv(65536)
            except socket.timeout:
                break
            except ConnectionRefusedError:
                raise contract.Failure(f"recv {name}: Connection refused") from None
            if reply == message:
                return reply
    raise contract.Failure(f"recv {name}: timed out ({retries + 1} tries, "
                           f"{int(timeout * 1000)} ms each)")


def client(argv):
    p = contract.parser("client", "Send each MESSAGE as one datagram; print the answer.")
    p.add_argument("--timeout", metavar="S", type=contract.number(float, 0.001, 3600), default=1.0, help="seconds per try")
    p.add_argument("--retries", metavar="N", type=contract.number(int, 0, 100), default=3,
                   help="send again N times before giving up")
    p.add_argument("--unix", metavar="PATH", help="a Unix datagram server instead of UDP")
    p.add_argument("message", nargs="*")
    args = p.parse_args(argv)
    own_name = f"/tmp/udp-client-{os.getpid()}.sock"
    if args.unix:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(own_name)  # or the server cannot answer
        with contract.failing("connect", args.unix):
            sock.connect(args.unix)
    else:
        sock = contract.connect(args.host, args.port, socket.SOCK_DGRAM)
    try:
        name = contract.format_address(sock.getpeername())
        for message in contract.messages(args.message):
            reply = ask(sock, message.encode("utf-8", "surrogateescape"), name, args.timeout,
                        args.retries)
            sys.stdout.buffer.write(reply + b"\n")
            sys.stdout.flush()
    finally:
        sock.close()
        if args.unix:
            os.unlink(own_name)


if __name__ == "__main__":
    contract.main({"server": server, "client": client})
