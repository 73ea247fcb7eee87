#!/usr/bin/env python3
"""01_raw_socket_echo/reference.py -- the notes' raw echo server and client, corrected.

Run:  python3 reference.py server [--port 0]
      python3 reference.py client [--port PORT] hello world
The same contract as ./server and ./client, so tests/ runs against both.
Fixed from the notes: the client uses sendall (send may write less), reads
the whole echo (one recv may return part of it) and compares with b'', not ''.
"""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import contract  # noqa: E402

PIECE = 64 * 1024  # send a piece, read its echo: never both buffers full


def echo(conn, peer):
    while True:
        try:
            data = conn.recv(8192)
        except ConnectionResetError as e:
            contract.log(f"error: recv {peer}: {e.strerror}")
            return
        if not data:  # b'' means EOF
            return
        conn.sendall(data)


def server(argv):
    args = contract.parser("server", "Iterative echo server.").parse_args(argv)
    family, address = contract.resolve(args.host, args.port)
    with socket.socket(family, socket.SOCK_STREAM) as listener:
        with contract.failing("bind", address):
            listener.bind(address)
        listener.listen(5)
        contract.announce(listener)
        while True:
            conn, client = listener.accept()
            peer = contract.format_address(client)
            contract.log(f"connection from {peer}")
            with conn:
                try:
                    echo(conn, peer)
                except BrokenPipeError:
                    contract.log(f"error: send {peer}: Broken pipe")
            contract.log(f"closed {peer}")


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
