#!/usr/bin/env python3
"""05_forking/reference.py -- ForkingTCPServer, as the notes name it.

Run:  python3 reference.py server [--max-children N]
      python3 reference.py server --prefork N [--accept block|lock|pass]
      python3 reference.py client one two
The same contract as ./server and ./client, so tests/ runs against both.
Fixed from the notes: a stopping server sends SIGTERM to its children before
it waits for them (ForkingMixIn.server_close would otherwise wait for every
client to leave), so no child outlives it.
"""
import _signal  # the C module under `signal`: built in, imported in no time

# First thing: until contract.run() takes over, Ctrl-C ends us by its default
# action, not with a traceback; a handler, not SIG_DFL, so that a SIGINT still
# pending from CPython's own start-up runs it instead of being dropped.
_signal.signal(_signal.SIGINT, lambda n, _: (_signal.signal(n, _signal.SIG_DFL), _signal.raise_signal(n)))

import contextlib
import errno
import fcntl
import os
import select
import signal
import socket
import socketserver
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import contract  # noqa: E402


class ForkingServer(socketserver.ForkingTCPServer):
    # ForkingMixIn reaps in collect_children(), called from service_actions()
    # (serve_forever runs it every poll_interval, 0.5 s) and handle_timeout().
    # It waits for each pid it forked with WNOHANG, and blocks in
    # waitpid(-1) only while max_children are running.

    # SIGINT/SIGTERM stay blocked across fork(), as in Pool.start_child and
    # the C++ parent. CPython clears its signal flags in a new child until
    # its interpreter is set up again, so a SIGTERM that reached the child
    # then (server_close() sends one) was dropped, and the child served on
    # while its parent waited for it (seen once in CI, under load). Blocked,
    # the signal waits, pending, until the child lets it in below.
    _mask = None

    def process_request(self, request, client_address):
        self._mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            super().process_request(request, client_address)  # fork(); the parent returns
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, self._mask)

    def finish_request(self, request, client_address):  # runs in the child
        signal.pthread_sigmask(signal.SIG_SETMASK, self._mask)
        contract.log(f"process {os.getpid()} serves {contract.format_address(client_address)}")
        super().finish_request(request, client_address)

    def server_close(self):
        for pid in list(self.active_children or ()):
            try:
                os.kill(pid, signal.SIGTERM)  # the child's Stop ends its handler
            except ProcessLookupError:
                pass
        super().server_close()  # then waitpid() every child (block_on_close)


# The pre-forked pool (--prefork N), as prefork.hpp: N children made up
# front, each serving one connection at a time, for ever.

class PoolServer(socketserver.TCPServer):
    def serve_accepted(self, request, client_address):
        """The second half of _handle_request_noblock(), in a child."""
        contract.log(f"process {os.getpid()} serves {contract.format_address(client_address)}")
        if not self.verify_request(request, client_address):
            self.shutdown_request(request)
            return
        try:
            self.process_request(request, client_address)  # finish_request, then close
        except Exception:
            self.handle_error(request, client_address)
            self.shutdown_request(request)


def describe(status):
    if os.WIFSIGNALED(status):
        return f"was killed by signal {os.WTERMSIG(status)}"
    return f"exited with status {os.waitstatus_to_exitcode(status)}"


class Pool:
    """The parent's side: fork the children, replace one that dies, pass
    connections (pass), and stop and reap them all."""

    def __init__(self, server, size, strategy):
        self.server, self.strategy = server, strategy
        # block, lock: the children sleep in accept(). pass: the parent polls.
        server.socket.setblocking(strategy != "pass")
        self.lock_file = tempfile.TemporaryFile() if strategy == "lock" else None
        self.exited_r, self.exited_w = os.pipe()  # SIGCHLD -> a byte here
        os.set_blocking(self.exited_w, False)
        signal.signal(signal.SIGCHLD, lambda signum, frame: os.write(self.exited_w, b"c"))
        self.slots = [{"pid": None, "channel": None, "idle": True} for _ in range(size)]

    def start(self):
        for slot in self.slots:
            self.start_child(slot)

    def start_child(self, slot):
        child_end = None
        if self.strategy == "pass":
            slot["channel"], child_end = socket.socketpair()
        # SIGINT/SIGTERM wait until the pid is recorded (a stop then reaches
        # this child too), and the child takes them only inside its try.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            pid = os.fork()
            if pid == 0:
                self.serve_in_child(child_end, mask)  # never returns
            slot["pid"], slot["idle"] = pid, True
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            if child_end is not None:
                child_end.close()

    def serve_in_child(self, channel, mask):
        status = 0
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            for slot in self.slots:  # the parent's ends, copied
                if slot["channel"] is not None:
                    slot["channel"].close()
            while True:
                if self.strategy == "pass":
                    message, fds, _, _ = socket.recv_fds(channel, 16, 1)
                    if not fds:
                        break  # the parent is gone
                    request = socket.socket(fileno=fds[0])
                    self.server.serve_accepted(request, request.getpeername())
                    channel.send(b"i")  # idle again
                    continue
                if self.lock_file:
                    fcntl.lockf(self.lock_file, fcntl.LOCK_EX)
                try:
                    request, client_address = self.server.get_request()
                except OSError as e:
                    if e.errno == errno.EINVAL:
                        break  # the listener was shut down: a stop
                    continue
                finally:
                    if self.lock_file:
                        fcntl.lockf(self.lock_file, fcntl.LOCK_UN)
                self.server.serve_accepted(request, client_address)
        except contract.Stop:
            pass
        except Exception as e:
            contract.log(f"error: process {os.getpid()}: {e}")
            status = 1
        finally:
            os._exit(status)

    def serve(self):
        """Until Stop: replace dead children and, with pass, hand over
        each connection to an idle child."""
        while True:
            wanted = [self.exited_r]
            if self.strategy == "pass":
                wanted += [s["channel"] for s in self.slots if s["channel"] is not None]
                if any(s["idle"] and s["channel"] is not None for s in self.slots):
                    wanted.append(self.server.socket)
            # or Stop: a select() could miss the signal (contract.py, "The stop")
            readable = contract.wait_readable(*wanted, forking=True)
            for slot in self.slots:
                if slot["channel"] is not None and slot["channel"] in readable:
                    if slot["channel"].recv(16):
                        slot["idle"] = True
                    else:  # the child died; the reaping below replaces it
                        slot["channel"].close()
                        slot["channel"], slot["idle"] = None, False
            if self.exited_r in readable:
                self.replace_dead()
            if self.server.socket in readable:
                self.pass_one()

    def replace_dead(self):
        os.read(self.exited_r, 512)
        for slot in self.slots:
            pid, status = os.waitpid(slot["pid"], os.WNOHANG)  # ours only, never -1
            if pid:
                contract.log(f"error: process {pid} {describe(status)}; starting another")
                if slot["channel"] is not None:
                    slot["channel"].close()
                self.start_child(slot)

    def pass_one(self):
        try:
            request, client_address = self.server.get_request()
        except OSError:
            return  # the client left, or out of descriptors (backed off)
        with request:
            for slot in self.slots:
                if slot["idle"] and slot["channel"] is not None:
                    slot["idle"] = False
                    with contextlib.suppress(OSError):
                        socket.send_fds(slot["channel"], [b"c"], [request.fileno()])
                        return
            contract.log(f"error: no child took the connection from "
                         f"{contract.format_address(client_address)}")

    def stop(self):
        """SIGTERM every child, wake those in accept() or recvmsg(), reap
        them all; one still there after 1.5 s is logged and killed."""
        pids = {slot["pid"] for slot in self.slots if slot["pid"] is not None}
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        if self.strategy == "pass":
            for slot in self.slots:
                if slot["channel"] is not None:
                    slot["channel"].close()
        else:
            try:
                self.server.socket.shutdown(socket.SHUT_RDWR)  # Linux: every accept() fails
            except OSError:  # macOS, the BSDs: one connection per child instead
                for _ in pids:
                    with contextlib.suppress(OSError):
                        socket.create_connection(self.server.server_address[:2], 0.1).close()
        deadline = time.monotonic() + 1.5
        while pids and time.monotonic() < deadline:
            pids = {pid for pid in pids if os.waitpid(pid, os.WNOHANG)[0] == 0}
            time.sleep(0.01)
        for pid in pids:
            contract.log(f"error: process {pid} ignored SIGTERM; killed")
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def server(argv):
    p = contract.parser("server", "Forking line echo server: one process per connection.")
    contract.add_stream_options(p)
    p.add_argument("--max-children", metavar="N", type=contract.number(int, 1, 10000),
                   help="most children at once (default 40)")
    p.add_argument("--prefork", metavar="N", type=contract.number(int, 1, 1024),
                   help="a pool of N processes made up front instead")
    p.add_argument("--accept", metavar="STRATEGY", choices=["block", "lock", "pass"],
                   help="with --prefork: how the pool shares the listener: "
                        "block (default), lock or pass")
    args = p.parse_args(argv)
    if args.accept and not args.prefork:
        p.error("--accept goes with --prefork")
    if args.max_children and args.prefork:
        p.error("--max-children does not go with --prefork (the pool is the bound)")
    if args.prefork:
        with contract.make_server(PoolServer, args, contract.line_handler(args)) as server:
            pool = Pool(server, args.prefork, args.accept or "block")
            try:
                pool.start()
                contract.announce(server.socket)  # ready: the whole pool is waiting
                pool.serve()
            finally:
                pool.stop()
        return
    with contract.make_server(ForkingServer, args, contract.line_handler(args),
                              max_children=args.max_children or 40) as server:
        contract.announce(server.socket)
        server.serve_forever()


if __name__ == "__main__":
    contract.main({"server": server, "client": contract.line_client}, forking={"server"})
