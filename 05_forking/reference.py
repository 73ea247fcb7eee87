#!/usr/bin/env python3
"""05_forking/reference.py -- ForkingTCPServer, as the notes name it.

Run:  python3 reference.py server [--max-children N]
      python3 reference.py client one two
The same contract as ./server and ./client, so tests/ runs against both.
Fixed from the notes: a stopping server sends SIGTERM to its children before
it waits for them (ForkingMixIn.server_close would otherwise wait for every
client to leave), so no child outlives it.
"""
import _signal  # the C module under `signal`: built in, imported in no time

# First thing: Ctrl-C keeps its default action (end quietly) until
# contract.run() takes over, not a KeyboardInterrupt traceback from an import.
_signal.signal(_signal.SIGINT, _signal.SIG_DFL)

import os
import signal
import socketserver
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import contract  # noqa: E402


class ForkingServer(socketserver.ForkingTCPServer):
    # ForkingMixIn reaps in collect_children(), called from service_actions()
    # (serve_forever runs it every poll_interval, 0.5 s) and handle_timeout().
    # It waits for each pid it forked with WNOHANG, and blocks in
    # waitpid(-1) only while max_children are running.

    def finish_request(self, request, client_address):  # runs in the child
        contract.log(f"process {os.getpid()} serves {contract.format_address(client_address)}")
        super().finish_request(request, client_address)

    def server_close(self):
        for pid in list(self.active_children or ()):
            try:
                os.kill(pid, signal.SIGTERM)  # the child's Stop ends its handler
            except ProcessLookupError:
                pass
        super().server_close()  # then waitpid() every child (block_on_close)


def server(argv):
    p = contract.parser("server", "Forking line echo server: one process per connection.")
    contract.add_stream_options(p)
    p.add_argument("--max-children", metavar="N", type=contract.number(int, 1, 10000), default=40,
                   help="most children at once (default 40)")
    args = p.parse_args(argv)
    with contract.make_server(ForkingServer, args, contract.line_handler(args),
                              max_children=args.max_children) as server:
        contract.announce(server.socket)
        server.serve_forever()


if __name__ == "__main__":
    contract.main({"server": server, "client": contract.line_client})
