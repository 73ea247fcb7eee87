#!/usr/bin/env python3
"""04_threading/reference.py -- ThreadingTCPServer, as the notes use it.

Run:  python3 reference.py server [--handler welcome]
      python3 reference.py client [--welcome] one two
The same contract as ./server and ./client, so tests/ runs against both.
Fixed from the notes: the welcome protocol is framed by lines (the notes
compare a raw recv() with 'exit', which fails when TCP splits or joins
messages), and a stopping server shuts its connections down before joining
the threads (block_on_close would otherwise wait for every client to leave).
"""
import os
import socketserver
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import contract  # noqa: E402


class WelcomeHandler(contract.LineEchoHandler):
    def handle(self):
        peer = contract.format_address(self.client_address)
        self.wfile.write(b"welcome\n")
        for line in self.rfile:
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            if text == "exit":
                contract.log(f"{peer} said exit")
                return
            contract.log(f"{peer} says {text}")
            self.wfile.write(b"hello\n")


class ThreadingServer(contract.TrackConnections, socketserver.ThreadingTCPServer):
    daemon_threads = False  # the default: server_close() joins every thread

    def server_close(self):
        self.shutdown_connections()  # wake handlers blocked in recv()
        super().server_close()       # then join them (block_on_close)


def server(argv):
    p = contract.parser("server", "Threaded line echo server: one thread per connection.")
    contract.add_stream_options(p)
    p.add_argument("--handler", choices=["echo", "welcome"], default="echo")
    args = p.parse_args(argv)
    base = WelcomeHandler if args.handler == "welcome" else contract.LineEchoHandler
    with contract.make_server(ThreadingServer, args, contract.line_handler(args, base)) as server:
        contract.announce(server.socket)
        server.serve_forever()


def client(argv):
    p = contract.parser("client", "Send each MESSAGE as a line; print the line that comes back.")
    p.add_argument("--welcome", action="store_true", help="speak the welcome/hello/exit protocol")
    p.add_argument("message", nargs="*")
    args = p.parse_args(argv)
    with contract.connect(args.host, args.port) as sock:
        lines = contract.LineClient(sock)
        if args.welcome:
            sys.stdout.buffer.write(lines.read_line())
        for message in contract.messages(args.message):
            sys.stdout.buffer.write(lines.ask(message))
            sys.stdout.flush()
        if args.welcome:
            lines.send_line("exit")


if __name__ == "__main__":
    contract.main({"server": server, "client": client})
