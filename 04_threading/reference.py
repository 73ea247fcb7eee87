#!/usr/bin/env python3
"""04_threading/reference.py -- ThreadingTCPServer, as the notes use it.

Run:  python3 reference.py server [--handler welcome|chat] [--unix PATH]
      python3 reference.py client [--welcome] [--unix PATH] one two
      python3 reference.py client --chat
The same contract as ./server and ./client, so tests/ runs against both.
Fixed from the notes: the welcome protocol is framed by lines (the notes
compare a raw recv() with 'exit', which fails when TCP splits or joins
messages), and a stopping server shuts its connections down before joining
the threads (block_on_close would otherwise wait for every client to leave).
"""
import _signal  # the C module under `signal`: built in, imported in no time

# First thing: until contract.run() takes over, Ctrl-C ends us by its default
# action, not with a traceback; a handler, not SIG_DFL, so that a SIGINT still
# pending from CPython's own start-up runs it instead of being dropped.
_signal.signal(_signal.SIGINT, lambda n, _: (_signal.signal(n, _signal.SIG_DFL), _signal.raise_signal(n)))

import os
import select
import socket
import socketserver
import sys
import threading

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


class Member:
    def __init__(self, sock):
        self.sock = sock
        self.sending = threading.Lock()  # one line at a time to this member
        self.left = False


class ChatRoom:
    """Every line a member sends goes to every other member. The member list
    is shared by every handler thread, so a lock guards it (server.cpp)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.members = []

    def join(self, sock):
        member = Member(sock)
        with self.lock:
            self.members.append(member)
        return member

    def leave(self, member):
        with self.lock:
            self.members.remove(member)
        with member.sending:  # waits for a send in progress
            member.left = True

    def broadcast(self, sender, line):
        with self.lock:  # copy under the lock, send outside it
            others = [m for m in self.members if m is not sender]
        for member in others:
            with member.sending:
                if not member.left:
                    try:
                        member.sock.sendall(line)
                    except OSError:
                        pass  # its own handler sees the failure when it reads


room = ChatRoom()


class ChatHandler(contract.LineEchoHandler):
    def handle(self):
        peer = contract.format_address(self.client_address)
        me = room.join(self.request)
        contract.log(f"{peer} joined the chat")
        try:
            while True:
                line = self.rfile.readline(self.max_line + 1)
                if not line or len(line.rstrip(b"\n")) > self.max_line:
                    return  # EOF, or a line too long: leave, as server.cpp does
                if line.endswith(b"\n"):  # not a cut last line
                    room.broadcast(me, peer.encode() + b": " + line)
        finally:
            room.leave(me)
            contract.log(f"{peer} left the chat")


class ShutDownOnClose:
    daemon_threads = False  # the default: server_close() joins every thread

    def server_close(self):
        contract.shut_down_connections()  # wake handlers blocked in recv() or send()
        super().server_close()            # then join them (block_on_close)


class ThreadingServer(ShutDownOnClose, socketserver.ThreadingTCPServer):
    pass


class ThreadingUnixServer(ShutDownOnClose, socketserver.ThreadingUnixStreamServer):
    pass


def server(argv):
    p = contract.parser("server", "Threaded line echo server: one thread per connection.")
    contract.add_stream_options(p)
    p.add_argument("--handler", metavar="NAME", choices=["echo", "welcome", "chat"], default="echo")
    p.add_argument("--unix", metavar="PATH", help="listen on a Unix stream socket")
    args = p.parse_args(argv)
    base = {"echo": contract.LineEchoHandler, "welcome": WelcomeHandler,
            "chat": ChatHandler}[args.handler]
    handler = contract.line_handler(args, base)
    if args.unix:
        server = contract.make_server(ThreadingUnixServer, args, handler,
                                      family=socket.AF_UNIX, address=args.unix)
    else:
        server = contract.make_server(ThreadingServer, args, handler)
    with server:
        contract.announce(server.socket)
        server.serve_forever()


def chat(sock):
    """The notes' two-thread chat, made to exit from either side (client.cpp)."""
    name = contract.format_address(sock.getpeername())
    peer_gone_read, peer_gone_write = os.pipe()
    failed = []

    def receive():
        try:
            while data := sock.recv(4096):
                sys.stdout.buffer.write(data)
                sys.stdout.flush()
        except ConnectionResetError:
            failed.append(f"recv {name}: Connection reset by peer")
        finally:
            os.write(peer_gone_write, b"x")

    def send():
        try:
            while True:
                ready, _, _ = select.select([sys.stdin.fileno(), peer_gone_read], [], [])
                if peer_gone_read in ready:
                    return  # the server closed: nobody to talk to
                data = os.read(sys.stdin.fileno(), 4096)
                if not data:
                    sock.shutdown(socket.SHUT_WR)  # "I am done sending"; we still read
                    return
                sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            failed.append(f"send {name}: Connection reset by peer")

    threads = [threading.Thread(target=receive), threading.Thread(target=send)]
    with contract.stop_deferred():  # Thread.start() is threading's code
        for thread in threads:
            thread.start()
    for thread in threads:
        thread.join()
    os.close(peer_gone_read)
    os.close(peer_gone_write)
    if failed:
        raise contract.Failure(failed[0])


def client(argv):
    p = contract.parser("client", "Send each MESSAGE as a line; print the line that comes back.")
    p.add_argument("--welcome", action="store_true", help="speak the welcome/hello/exit protocol")
    p.add_argument("--chat", action="store_true",
                   help="two threads: standard input to the server, the server to stdout")
    p.add_argument("--unix", metavar="PATH", help="connect to a Unix stream socket")
    p.add_argument("message", nargs="*")
    args = p.parse_args(argv)
    if args.chat and (args.welcome or args.message):
        p.error("--chat reads standard input only")
    with contract.connect_to(args) as sock:
        if args.chat:
            return chat(sock)
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
