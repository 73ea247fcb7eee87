#!/usr/bin/env python3
"""06_thread_pool/reference.py -- the notes' pre-started pool, made to work.

Run:  python3 reference.py server [--workers N]
      python3 reference.py client one two
The same contract as ./server and ./client, so tests/ runs against both.
Fixed from the notes: the handler is a class (the notes wrote `def`), the
server variable is one name (the notes bind `sevrer` and use `server`), the
echo answers each message (the notes' loop only reads), and the pool can stop:
serve_forever() cannot be shut down from several threads at once (the first
to stop resets the flag the others wait on), so each worker loops on
handle_request() with a short timeout until told to stop.
"""
import _signal  # the C module under `signal`: built in, imported in no time

# First thing: Ctrl-C keeps its default action (end quietly) until
# contract.run() takes over, not a KeyboardInterrupt traceback from an import.
_signal.signal(_signal.SIGINT, _signal.SIG_DFL)

import os
import socketserver
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import contract  # noqa: E402


class PoolServer(contract.TrackConnections, socketserver.TCPServer):
    request_queue_size = 128  # the flood waits in the backlog
    timeout = 0.2             # how often an idle worker looks at `stopping`

    def server_activate(self):
        super().server_activate()
        # Several workers wait on one listener: the losers of each accept()
        # must give up after a while (socket.timeout), not sleep inside
        # accept() for ever. (Not setblocking(False): handle_request() takes
        # the socket's timeout, 0.0, as its own and would spin.)
        self.socket.settimeout(self.timeout)


def worker(server, stopping):
    while not stopping.is_set():
        server.handle_request()


def server(argv):
    p = contract.parser("server", "Line echo server run by a fixed pool of worker threads.")
    contract.add_stream_options(p)
    p.add_argument("--workers", metavar="N", type=contract.number(int, 1, 1024), default=16,
                   help="threads in the pool (default 16)")
    args = p.parse_args(argv)
    stopping = threading.Event()
    # An idle worker's handle_request() timing out is routine, not news.
    with contract.make_server(PoolServer, args, contract.line_handler(args),
                              handle_timeout=lambda self: None) as server:
        pool = [threading.Thread(target=worker, args=(server, stopping)) for _ in range(args.workers)]
        try:
            for thread in pool:
                thread.start()
            contract.announce(server.socket)  # ready: the whole pool is waiting
            while True:
                threading.Event().wait(3600)  # the main thread only waits for a signal
        finally:
            stopping.set()
            server.shutdown_connections()
            for thread in pool:
                if thread.is_alive():
                    thread.join()


if __name__ == "__main__":
    contract.main({"server": server, "client": contract.line_client})
