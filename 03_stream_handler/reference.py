#!/usr/bin/env python3
"""03_stream_handler/reference.py -- StreamRequestHandler, as the notes use it.

Run:  python3 reference.py server [--timeout S] [--max-line N] [--nodelay]
      python3 reference.py client one two three
The same contract as ./server and ./client, so tests/ runs against both.
Fixed from the notes: one readline() per line (the notes call it twice per
loop and drop every other line) and a limit on the line length. The handler,
LineEchoHandler, is in ../common/contract.py: chapters 04-07 serve it too.
"""
import _signal  # the C module under `signal`: built in, imported in no time

# First thing: until contract.run() takes over, Ctrl-C ends us by its default
# action, not with a traceback; a handler, not SIG_DFL, so that a SIGINT still
# pending from CPython's own start-up runs it instead of being dropped.
_signal.signal(_signal.SIGINT, lambda n, _: (_signal.signal(n, _signal.SIG_DFL), _signal.raise_signal(n)))

import os
import socketserver
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import contract  # noqa: E402


def server(argv):
    p = contract.parser("server", "Line echo server: StreamRequestHandler, rfile and wfile.")
    contract.add_stream_options(p)
    args = p.parse_args(argv)
    with contract.make_server(socketserver.TCPServer, args, contract.line_handler(args)) as server:
        contract.announce(server.socket)
        server.serve_forever()


if __name__ == "__main__":
    contract.main({"server": server, "client": contract.line_client})
