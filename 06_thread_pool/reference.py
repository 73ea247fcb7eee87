#!/usr/bin/env python3
"""06_thread_pool/reference.py -- the notes' pre-started pool, made to work.

Run:  python3 reference.py server [--workers N] [--accept poll|block|lock|main]
      python3 reference.py client one two
The same contract as ./server and ./client, so tests/ runs against both.
Fixed from the notes: the handler is a class (the notes wrote `def`), the
server variable is one name (the notes bind `sevrer` and use `server`), the
echo answers each message (the notes' loop only reads), and the pool can stop:
serve_forever() cannot be shut down from several threads at once (the first
to stop resets the flag the others wait on), so each worker loops on its own
until told to stop. --accept picks how the workers share the listener, as
in the C++ (accept_strategies.hpp).
"""
import _signal  # the C module under `signal`: built in, imported in no time

# First thing: until contract.run() takes over, Ctrl-C ends us by its default
# action, not with a traceback; a handler, not SIG_DFL, so that a SIGINT still
# pending from CPython's own start-up runs it instead of being dropped.
_signal.signal(_signal.SIGINT, lambda n, _: (_signal.signal(n, _signal.SIG_DFL), _signal.raise_signal(n)))

import contextlib
import os
import queue
import socket
import socketserver
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import contract  # noqa: E402


class PoolServer(socketserver.TCPServer):
    request_queue_size = 128  # the flood waits in the backlog
    timeout = 0.2             # poll: how often an idle worker looks at `stopping`

    def serve_accepted(self, request, client_address):
        """The second half of _handle_request_noblock(), for a strategy that
        accepts in one place and serves in another."""
        if not self.verify_request(request, client_address):
            self.shutdown_request(request)
            return
        try:
            self.process_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
            self.shutdown_request(request)

    # Held for the connections below: workers blocked in accept() each hold
    # the descriptor number their connection will get, and may hold all.
    spare = None

    def reserve_descriptor(self):
        """Made before any worker blocks in accept() (common/socket.hpp)."""
        self.spare = open(os.devnull, "rb")

    def wake_blocked_accepts(self, waiters):
        """Ends every accept() blocked on the listener (a stop): shutdown()
        on Linux; where that fails (macOS, the BSDs), one connection each,
        the first on the spare descriptor's number."""
        try:
            self.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            if self.spare is not None:
                self.spare.close()
            for _ in range(waiters):
                with contextlib.suppress(OSError):
                    socket.create_connection(self.server_address[:2], timeout=0.1).close()


# The four ways the workers share one listener (the C++: accept_strategies.hpp).
# Each returns (what a worker runs, what the main thread runs, what releases
# the workers once `stopping` is set).

def accept_poll(server, stopping, workers):
    """Every worker polls the listener (handle_request, 0.2 s at a time),
    then accepts: a connection wakes them all."""
    # The losers of each accept() must give up after a while, not sleep
    # inside accept() for ever. (Not setblocking(False): handle_request()
    # takes the socket's timeout, 0.0, as its own and would spin.)
    server.socket.settimeout(server.timeout)

    def work():
        while not stopping.is_set():
            server.handle_request()
    return work, wait_for_a_signal, lambda: None


def accept_block(server, stopping, workers):
    """Every worker blocks in accept(); the kernel wakes one."""
    def work():
        while not stopping.is_set():
            server._handle_request_noblock()  # its accept() blocks: the socket does
    return work, wait_for_a_signal, lambda: None


def accept_lock(server, stopping, workers):
    """One worker at a time in accept(), the others wait for the lock."""
    accept_lock = threading.Lock()

    def work():
        while not stopping.is_set():
            with accept_lock:
                try:
                    request, client_address = server.get_request()
                except OSError:
                    continue  # the listener was shut down (a stop), or the client left
            server.serve_accepted(request, client_address)
    return work, wait_for_a_signal, lambda: None


def accept_main(server, stopping, workers):
    """The main thread accepts (serve_forever) and queues each connection;
    at most `workers` wait in the queue, then the main thread waits too."""
    waiting = queue.Queue(maxsize=workers)
    def hand_over(request, client_address):
        with contract.stop_deferred():  # a Queue's put() is threading's code
            waiting.put((request, client_address))
    server.process_request = hand_over

    def work():
        while True:
            item = waiting.get()
            if item is None:
                return
            request, client_address = item
            try:
                server.finish_request(request, client_address)
            except Exception:
                server.handle_error(request, client_address)
            finally:
                server.shutdown_request(request)

    def release():
        # Called however the stop came, even before serve_forever() began.
        while not waiting.empty():  # queued, never served: closed
            server.shutdown_request(waiting.get_nowait()[0])
        for _ in range(workers):
            waiting.put(None)
    return work, server.serve_forever, release


def wait_for_a_signal():
    contract.wait_readable()  # until a stop raises Stop (a lock's wait could miss it)


STRATEGIES = {"poll": accept_poll, "block": accept_block, "lock": accept_lock, "main": accept_main}


def server(argv):
    p = contract.parser("server", "Line echo server run by a fixed pool of worker threads.")
    contract.add_stream_options(p)
    p.add_argument("--workers", metavar="N", type=contract.number(int, 1, 1024), default=16,
                   help="threads in the pool (default 16)")
    p.add_argument("--accept", metavar="STRATEGY", choices=list(STRATEGIES), default="block",
                   help="how the workers share the listener: poll, block (default), lock or main")
    args = p.parse_args(argv)
    stopping = threading.Event()
    # An idle worker's handle_request() timing out is routine, not news.
    with contract.make_server(PoolServer, args, contract.line_handler(args),
                              handle_timeout=lambda self: None) as server:
        work, main_thread, release = STRATEGIES[args.accept](server, stopping, args.workers)
        server.reserve_descriptor()
        pool = [threading.Thread(target=work) for _ in range(args.workers)]
        try:
            with contract.stop_deferred():  # Thread.start() is threading's code
                for thread in pool:
                    thread.start()
            contract.announce(server.socket)  # ready: the whole pool is waiting
            main_thread()
        finally:
            stopping.set()
            server.wake_blocked_accepts(args.workers)
            contract.shut_down_connections()
            release()
            for thread in pool:
                if thread.is_alive():
                    thread.join()
            server.spare.close()


if __name__ == "__main__":
    contract.main({"server": server, "client": contract.line_client})
