"""common/contract.py -- the command-line contract, for the reference.py files.

Every chapter's reference.py is a short Python program that does what the
notes' program does, corrected, behind the same command line as the C++
binaries, so one black-box test suite runs against both. This module holds
the parts of that contract every reference.py needs (the C++ twin is
cli.hpp, stop.hpp and socket.hpp):

    --host/--port/--help, "error: ..." plus usage and exit 2   -> parser()
    "listening on 127.0.0.1:PORT", flushed                     -> announce()
    one flushed line per event on stderr                       -> log()
    SIGINT/SIGTERM: unwind and exit 0                          -> run()
    "error: bind 127.0.0.1:20000: Address already in use", 1   -> failing(), run()
    MESSAGE arguments, or stdin lines                          -> messages()

and the pieces several chapters share, as common/ does for the C++:
OneLineErrors (handle_error as one log line), LineEchoHandler and its
options (chapter 03 on), make_server(), line_client().

Python standard library only.
"""

import argparse
import contextlib
import errno
import os
import re
import select
import signal
import socket
import socketserver
import stat
import struct
import sys
import threading
import time


class Stop(BaseException):
    """Raised by the SIGINT/SIGTERM handler. A BaseException, like
    KeyboardInterrupt, so socketserver's handle_error() does not swallow it."""


class Failure(Exception):
    """A run-time failure, already worded "CALL ADDRESS: REASON"."""


class _Parser(argparse.ArgumentParser):
    """argparse, answering a bad command line in the C++ twin's words
    (common/cli.cpp), so that both say the same line and exit 2."""

    def error(self, message):
        sys.stderr.write(f"error: {self._as_cli_says(message)}\n{self.format_usage()}")
        sys.exit(2)

    def _as_cli_says(self, message):
        match = re.fullmatch(r"unrecognized arguments: (\S+).*", message)
        if match:
            word = match[1].split("=")[0]
            return f"unknown option '{word}'" if word.startswith("-") else \
                f"unexpected argument '{word}'"
        match = re.fullmatch(r"argument ([^:]+): (.*)", message)
        if not match:
            return message
        option, problem = match[1].split("/")[-1], match[2]
        action = next((a for a in self._actions if option in a.option_strings), None)
        if problem == "expected one argument":
            metavar = action.metavar if action and action.metavar else option.lstrip("-").upper()
            return f"{option} needs a value ({metavar})"
        if problem.startswith("ignored explicit argument"):
            return f"{option} takes no value"
        choice = re.fullmatch(r"invalid choice: '(.*)' \(choose from (.*)\)", problem)
        if choice:
            names = [name.strip("'") for name in choice[2].split(", ")]
            return (f"{option} must be {', '.join(names[:-1])} or {names[-1]}, "
                    f"not '{choice[1]}'")
        if option == "--port":
            return problem  # "invalid port 'x' (expected 0-65535)", as cli.cpp says it
        return f"invalid value for {option}: {problem}"


def _port(text):
    if not re.fullmatch(r"\d+", text) or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"invalid port '{text}' (expected 0-65535)")
    return int(text)


def parser(prog, description):
    """An ArgumentParser with --host and --port, that exits 2 on a bad option."""
    p = _Parser(prog=prog, description=description)
    p.add_argument("--host", metavar="HOST", default="127.0.0.1",
                   help="address or name (default 127.0.0.1)")
    p.add_argument("--port", metavar="PORT", type=_port, default=20000,
                   help="port (default 20000; 0: any free)")
    return p


def _format(value):
    """1024 and 0.001, as C++'s operator<< prints an int and a double."""
    return f"{value:g}" if isinstance(value, float) else str(value)


_NUMBER = {int: re.compile(r"[-+]?\d+"),
           float: re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|[-+]?(inf|infinity|nan)",
                             re.IGNORECASE)}


def number(kind, minimum, maximum):
    """An argparse type: an int or a float within [minimum, maximum], read
    and refused as cli.cpp does (no spaces, no "1_000"; nan and inf are out
    of range): "'x' is not a number", "'0' (allowed 1 to 1024)"."""
    def parse(text):
        if not _NUMBER[kind].fullmatch(text):
            raise argparse.ArgumentTypeError(f"'{text}' is not a number")
        value = kind(text)
        if not minimum <= value <= maximum:  # false for nan too
            raise argparse.ArgumentTypeError(f"'{text}' (allowed {_format(minimum)} to "
                                             f"{_format(maximum)})")
        return value
    return parse


SECONDS = number(float, 0.001, 86400)  # --timeout S, as common/stream_handler.cpp


def format_address(address):
    """('127.0.0.1', 5) -> 127.0.0.1:5, ('::1', 5, 0, 0) -> [::1]:5, path -> unix:path;
    an unnamed Unix socket (None, or "") -> unix: (as net::to_string)."""
    if address is None:
        return "unix:"
    if isinstance(address, (str, bytes)):
        return "unix:" + (address.decode() if isinstance(address, bytes) else address)
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def resolve(host, port, socktype=socket.SOCK_STREAM, passive=True):
    """(family, sockaddr) of the first address host:port resolves to."""
    try:
        infos = socket.getaddrinfo(host, port, type=socktype,
                                   flags=socket.AI_PASSIVE if passive else 0)
    except socket.gaierror as e:
        raise Failure(f"getaddrinfo {host}: {e.strerror}") from None
    family, _, _, _, sockaddr = infos[0]
    return family, sockaddr


@contextlib.contextmanager
def failing(call, address):
    """Turns an OSError inside the block into Failure("CALL ADDRESS: REASON")."""
    try:
        yield
    except OSError as e:
        raise Failure(f"{call} {format_address(address)}: {e.strerror or e}") from None


def connect(host, port, socktype=socket.SOCK_STREAM):
    """A socket connected to the first address of host:port that answers."""
    try:
        infos = socket.getaddrinfo(host, port, type=socktype)
    except socket.gaierror as e:
        raise Failure(f"getaddrinfo {host}: {e.strerror}") from None
    for i, (family, kind, proto, _, sockaddr) in enumerate(infos):
        sock = socket.socket(family, kind, proto)
        try:
            sock.connect(sockaddr)
            return sock
        except OSError as e:
            sock.close()
            if i == len(infos) - 1:
                raise Failure(f"connect {format_address(sockaddr)}: {e.strerror}") from None


def announce(sock):
    """The readiness line: 'listening on ADDRESS', with the real port."""
    print("listening on", format_address(sock.getsockname()), flush=True)


def log(line):
    """One line on stderr, written and flushed at once."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def messages(words):
    """The MESSAGE arguments, or else each line of standard input."""
    if words:
        yield from words
    else:
        for line in sys.stdin:
            yield line.rstrip("\n")


# -- The stop ---------------------------------------------------------------
# CPython runs a Python signal handler in the main thread, between two
# bytecodes. A signal that lands while the main thread is on its way into a
# blocking call (after the interpreter's last look at its signal flags,
# before recv() or accept() has started) interrupts nothing: the call
# blocks, and the handler runs only when it returns. 03's twin, stopped
# with a client connected, once sat in recv() 5 s after SIGINT, the signal
# consumed and its handler not run (3,000 stops under load: 1 such). The C
# part of the handler does do one thing at once, wherever the thread is: it
# writes the signal's number into the wakeup socket (signal.set_wakeup_fd).
# That is the self-pipe of stop.cpp, and the stop is built on it as there:
#   * ShutDownOnStop(sock): while a connection is served, a stop shuts it
#     down, from the stop watcher, a thread that waits on the wakeup socket.
#     A recv() or send() on it then returns at once, however late it began.
#     (The C++ twin: ShutDownOnStop and the sigwait thread of stop.hpp.)
#   * wait_readable(...): a main thread that waits for a listener (or for
#     nothing but the stop) selects on the stop too, and raises Stop.
# A process that forks keeps no thread of ours (the child of a threaded
# process may deadlock): its waits watch the wakeup socket themselves
# (forking=True), and each child gets a wakeup socket and watcher of its own.
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _StopWatch:
    """This process's wakeup socket, the sockets ShutDownOnStop holds, and
    the watcher thread, started on first use."""

    def __init__(self):
        self.wakeup, wakeup_w = socket.socketpair()
        wakeup_w.setblocking(False)  # set_wakeup_fd's rule: a full socket never blocks a handler
        self.wakeup_w = wakeup_w
        signal.set_wakeup_fd(wakeup_w.fileno(), warn_on_full_buffer=False)
        self.stopped, self.stopped_w = socket.socketpair()  # readable once the watcher saw a stop
        self.lock = threading.Lock()
        self.held = set()
        self.stopping = False
        self.watcher = None

    def close(self):
        for sock in (self.wakeup, self.wakeup_w, self.stopped, self.stopped_w):
            sock.close()

    def watch(self):
        """Starts the watcher thread if it is not running yet. It never
        takes a signal itself (the main thread must, to be interrupted)."""
        with self.lock:
            if self.watcher is not None:
                return
            self.watcher = threading.Thread(target=self._watch, name="stop watcher", daemon=True)
            with stop_deferred():
                self.watcher.start()  # inherits the blocked mask

    def _watch(self):
        while True:  # the numbers of the signals caught; any handled signal writes one
            numbers = self.wakeup.recv(64)
            if not numbers or any(n in _STOP_SIGNALS for n in numbers):
                break
        self.shut_down_all()
        self.stopped_w.send(b"!")

    def shut_down_all(self):
        """Every socket held is shut down, and any held from now on."""
        with self.lock:
            self.stopping = True
            for sock in self.held:
                _shut_down(sock)

    def hold(self, sock):
        with self.lock:
            self.held.add(sock)
            if self.stopping:  # it came in after the stop
                _shut_down(sock)

    def release(self, sock):
        with self.lock:  # before its close(): never a shutdown() of a closed socket
            self.held.discard(sock)


_watch = None  # this process's _StopWatch, made by run()
_stop_taken = False


def _shut_down(sock):
    with contextlib.suppress(OSError):  # the peer may have gone already
        sock.shutdown(socket.SHUT_RDWR)


def _after_fork_in_child():
    # The parent's wakeup socket is shared with it, and its watcher thread
    # did not come along: the child makes its own.
    global _watch
    if _watch is not None:
        inherited, _watch = _watch, _StopWatch()
        inherited.close()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _take_stop():
    """The stop, once: ignore the signals from now on, and raise Stop."""
    # Ignored: otherwise a second SIGTERM raises Stop again in the middle of
    # the first one's cleanup, or arrives after Python has put the default
    # action back at exit and kills the process with -15 instead of exit 0.
    global _stop_taken
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _stop_taken = True
    raise Stop()


def _on_stop(signum, frame):
    if not _stop_taken:  # wait_readable() may have taken it already
        _take_stop()


# A Python handler runs between two bytecodes of whatever the main thread
# is running, and some of that is code whose exceptions CPython does not
# let out: a weakref callback, a __del__, an at-fork hook. A Stop raised
# there goes to sys.unraisablehook, which prints "Exception ignored in ..."
# and a traceback, and the main thread goes on; our handler has already set
# SIG_IGN, so no second signal can help. Seen once in a TSan suite: 04's
# twin, SIGINT just after it started, the Stop raised in importlib's
# _get_module_lock.<locals>.cb, then serving on. Our hook keeps such a Stop
# quiet and remembers it (_stop_lost); serve_forever() raises it again
# (LostStopRaised.service_actions, at most poll_interval later). A wait in
# wait_readable() needs no such help: it selects on the stop itself, which
# the watcher has seen (or, forking, the wakeup socket still holds).
_stop_lost = False


def _unraisable(unraisable):
    global _stop_lost
    if isinstance(unraisable.exc_value, Stop):
        _stop_lost = True
    else:
        sys.__unraisablehook__(unraisable)


def raise_a_lost_stop():
    """Raises Stop if a stop was taken where it could not get out."""
    if _stop_lost:
        raise Stop()


@contextlib.contextmanager
def stop_deferred():
    """SIGINT/SIGTERM blocked in this thread for the block; a stop sent
    meanwhile stays pending, and its handler runs as the block ends. The
    main thread holds them off while it runs threading's own code
    (Thread.start(), a Queue's put()). Once in CI 04's twin served on after
    SIGINT, having logged RuntimeError("release unlocked lock"), which
    socketserver's handle_error() swallows. Our reading, not reproduced on
    demand: the Stop was raised inside Thread.start()'s Condition.wait()
    before it took its lock back, so the lock was released twice."""
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


class StartsThreadsWithStopDeferred:
    """Mixed into every threading server by make_server(): the main thread
    starts each handler's thread with the stop deferred (stop_deferred)."""

    def process_request(self, request, client_address):
        with stop_deferred():
            super().process_request(request, client_address)


@contextlib.contextmanager
def ShutDownOnStop(sock):  # noqa: N802 -- named as the C++ class it mirrors
    """While the block runs, a stop shuts sock down (stop.hpp's ShutDownOnStop)."""
    if _watch is None:  # not under run(): nothing to stop
        yield sock
        return
    _watch.watch()
    _watch.hold(sock)
    try:
        yield sock
    finally:
        _watch.release(sock)


def shut_down_connections():
    """What a stop does to the connections, done now: every socket that
    ShutDownOnStop holds is shut down, and any it holds later. A concurrent
    server calls it before it joins its handlers, however it is ending (a
    stop has done it already, from the watcher; an error has not)."""
    if _watch is not None:
        _watch.shut_down_all()


def wait_readable(*socks, forking=False, timeout=None):
    """select() until one of socks is readable, or raises Stop at a stop,
    whichever comes first; with no socks, waits for the stop. After timeout
    seconds (None: no limit) with neither, returns []. forking=True in a
    process that forks: no watcher thread, the wakeup socket itself."""
    if _watch is None:
        return select.select(socks, [], [], timeout)[0]
    stop = _watch.wakeup if forking else _watch.stopped
    if not forking:
        _watch.watch()
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        readable, _, _ = select.select([*socks, stop], [], [], left)
        if not readable:
            return []  # the timeout
        if stop not in readable:
            return readable
        if not forking or any(n in _STOP_SIGNALS for n in stop.recv(64)):
            _take_stop()
        readable.remove(stop)  # another signal (SIGCHLD): its handler runs next
        if readable:
            return readable


def run(main, forking=False):
    """Runs main() with the contract's stop and exit codes: SIGINT/SIGTERM
    end it with 0, a Failure prints one error line and exits 1. The stop
    watcher starts first thing, as the C++ twin's stop thread does, unless
    the program forks (then in each child that needs one, on first use)."""
    global _watch
    try:
        # Inside the try: a signal between these lines raises Stop too.
        _watch = _StopWatch()
        sys.unraisablehook = _unraisable
        signal.signal(signal.SIGINT, _on_stop)
        signal.signal(signal.SIGTERM, _on_stop)
        if not forking:
            _watch.watch()
        sys.exit(main() or 0)
    except Stop:
        sys.exit(0)
    except Failure as e:
        sys.stderr.write(f"error: {e}\n")
        sys.exit(1)
    except OSError as e:
        sys.stderr.write(f"error: {e.strerror or e}\n")
        sys.exit(1)


class LostStopRaised:
    """Mixed into every server by make_server(): serve_forever() calls
    service_actions() after each request and each poll_interval (0.5 s),
    and there a Stop that was lost (_stop_lost) is raised again. The wait
    of handle_request() has no such hook: it is done in wait_readable()
    first, which sees the stop, lost or not."""

    def service_actions(self):
        super().service_actions()
        raise_a_lost_stop()

    def handle_request(self):
        forking = isinstance(self, socketserver.ForkingMixIn)  # then no watcher thread
        if wait_readable(self.socket, forking=forking, timeout=self.timeout):
            super().handle_request()  # the listener is readable: no wait
        else:
            self.handle_timeout()


class StopReachesTheHandler:
    """Mixed into every stream server by make_server(): the connection a
    handler serves is shut down by a stop (ShutDownOnStop), in whichever
    thread or child serves it."""

    def finish_request(self, request, client_address):
        with ShutDownOnStop(request):
            super().finish_request(request, client_address)


class OneLineErrors:
    """Mixed into a server class: handle_error logs one line instead of a
    traceback, handle_timeout logs, accept() out of descriptors backs off,
    and a Unix socket file is removed."""

    accept_backoff = 0.1  # seconds, as BaseServer::accept_backoff
    _accept_errors = (0, 0.0)  # (not yet logged, when last logged)
    _accept_errors_lock = threading.Lock()

    def get_request(self):
        # socketserver's _handle_request_noblock() swallows an OSError from
        # accept() and returns; the listener is still readable, so the loop
        # spins at a full core. Out of descriptors (or memory), back off and
        # log at most once a second, as common/base_server.cpp does.
        try:
            return super().get_request()
        except OSError as e:
            if e.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                with self._accept_errors_lock:
                    count, logged = self._accept_errors
                    count, now = count + 1, time.monotonic()
                    if now - logged >= 1:
                        log(f"error: accept: {e.strerror} ({count} in the last second; "
                            f"retrying every {int(self.accept_backoff * 1000)} ms)")
                        count, logged = 0, now
                    self._accept_errors = (count, logged)
                time.sleep(self.accept_backoff)
            raise

    def handle_error(self, request, client_address):
        error = sys.exc_info()[1]
        log(f"error: request from {format_address(client_address)}: {error}")

    def handle_timeout(self):
        log("timed out: no client within the timeout (handle_timeout)")

    def server_bind(self):
        super().server_bind()
        if isinstance(self.server_address, str):
            self._bound_path = self.server_address  # the socket file is ours

    def server_close(self):
        # socketserver calls server_close() after a failed bind too: remove
        # the file only if this server made it, never what was there before.
        super().server_close()
        path = getattr(self, "_bound_path", None)
        if path is not None and stat.S_ISSOCK(os.lstat(path).st_mode):
            os.unlink(path)


def connect_to(args):
    """A stream socket connected to --unix PATH if given, else to --host/--port."""
    if not args.unix:
        return connect(args.host, args.port)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with failing("connect", args.unix):
        sock.connect(args.unix)
    return sock


SUN_PATH_SIZE = 104 if sys.platform == "darwin" or "bsd" in sys.platform else 108


def make_server(base, args, handler, family=None, address=None, bind_and_activate=True,
                **attributes):
    """base(address, handler) for --host/--port (or the given Unix address),
    with OneLineErrors, the stop's mixins and the right address_family; a
    bind failure becomes Failure("bind ADDRESS: REASON"). With
    bind_and_activate=False the server is made unbound, for options to be
    set first (07): every twin gets its class here, so none misses a mixin
    (07's made its own once, without LostStopRaised, and a SIGINT lost at
    start-up left it serving on, deaf to SIGTERM: CI, TSan step, bf0feff). A stream server gets
    allow_reuse_address = True (socketserver's default is False), so that it
    restarts at once on a port in TIME_WAIT, as the C++ servers do. Not a
    datagram server: there SO_REUSEADDR would let two servers share a port."""
    if address is None:
        family, address = resolve(args.host, args.port)
    elif isinstance(address, str) and len(os.fsencode(address)) >= SUN_PATH_SIZE:
        raise Failure(f"unix socket path {address}: {os.strerror(errno.ENAMETOOLONG)}")  # address.cpp
    stream = base.socket_type == socket.SOCK_STREAM
    attributes.setdefault("allow_reuse_address", stream)
    bases = (OneLineErrors, LostStopRaised) + ((StopReachesTheHandler,) if stream else ()) + \
        ((StartsThreadsWithStopDeferred,) if issubclass(base, socketserver.ThreadingMixIn) else ()) + \
        (base,)
    server_class = type("Server", bases, {"address_family": family, **attributes})
    with failing("bind", address):
        return server_class(address, handler, bind_and_activate)


class LineEchoHandler(socketserver.StreamRequestHandler):
    """Chapter 03's line echo: one readline() per line, a length limit."""
    max_line = 65536

    def setup(self):
        super().setup()  # applies timeout and disable_nagle_algorithm
        line = f"connection from {format_address(self.client_address)}"
        if self.disable_nagle_algorithm and self.request.getsockopt(socket.IPPROTO_TCP,
                                                                    socket.TCP_NODELAY):
            line += " (TCP_NODELAY on)"
        log(line)

    def handle(self):
        try:
            while True:
                line = self.rfile.readline(self.max_line + 1)
                if not line:
                    return
                if len(line.rstrip(b"\n")) > self.max_line:
                    # Abort: close() will send a reset, every time (stream_handler.cpp).
                    # Closed here, because socketserver's shutdown_request()
                    # would first send a FIN with shutdown(SHUT_WR).
                    self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                            struct.pack("ii", 1, 0))
                    self.request.close()
                    raise ValueError(f"line longer than {self.max_line} bytes, closing the connection")
                try:
                    self.wfile.write(line)
                except (BrokenPipeError, ConnectionResetError):
                    # The client left mid-reply, or a stop shut the
                    # connection down (a partial line then reads as a last
                    # line): nothing to report, as in stream_handler.cpp.
                    return
        except TimeoutError:
            log(f"timed out: {format_address(self.client_address)} "
                f"sent nothing for {int(self.timeout * 1000)} ms, closing")


def add_stream_options(p):
    """--timeout S, --max-line N, --nodelay: the options of a line server."""
    p.add_argument("--timeout", metavar="S", type=SECONDS,
                   help="close a connection idle for S seconds")
    p.add_argument("--max-line", metavar="N", type=number(int, 1, 1 << 24), default=65536,
                   help="longest line accepted, in bytes")
    p.add_argument("--nodelay", action="store_true", help="set TCP_NODELAY on each connection")


def line_handler(args, base=LineEchoHandler):
    """The handler class `base` with the stream options of `args` applied."""
    return type("Handler", (base,), {"timeout": args.timeout, "max_line": args.max_line,
                                      "disable_nagle_algorithm": args.nodelay})


class LineClient:
    """Sends lines and reads the line that answers each (see line_client.hpp)."""

    def __init__(self, sock):
        self.sock = sock
        self.name = format_address(sock.getpeername())
        self.replies = sock.makefile("rb")

    def send_line(self, message, split=False):
        data = message.encode("utf-8", "surrogateescape")
        try:
            if split:  # two writes: the text, then the newline (03's README, Nagle)
                self.sock.sendall(data)
                self.sock.sendall(b"\n")
            else:
                self.sock.sendall(data + b"\n")
        except (BrokenPipeError, ConnectionResetError):
            raise Failure(f"send {self.name}: Connection reset by peer") from None

    def read_line(self):
        try:
            reply = self.replies.readline()
        except ConnectionResetError:
            raise Failure(f"recv {self.name}: Connection reset by peer") from None
        if not reply.endswith(b"\n"):
            raise Failure(f"recv {self.name}: the server closed the connection")
        return reply

    def ask(self, message, split=False):
        self.send_line(message, split)
        return self.read_line()


def line_client(argv, description="Send each MESSAGE as a line; print the line that comes back."):
    """The client of every line-echo chapter."""
    p = parser("client", description)
    p.add_argument("--split", action="store_true", help="send each line in two writes")
    p.add_argument("--nodelay", action="store_true", help="set TCP_NODELAY (no Nagle)")
    p.add_argument("message", nargs="*")
    args = p.parse_args(argv)
    with connect(args.host, args.port) as sock:
        if args.nodelay:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client = LineClient(sock)
        for message in messages(args.message):
            sys.stdout.buffer.write(client.ask(message, args.split))
            sys.stdout.flush()


def main(programs, forking=()):
    """`reference.py server ...` or `reference.py client ...`: runs the
    named program's function with the remaining arguments. `forking`
    names the programs that fork: they start no stop watcher (run())."""
    if len(sys.argv) < 2 or sys.argv[1] not in programs:
        sys.stderr.write(f"error: expected one of: {', '.join(programs)}\n"
                         f"usage: reference.py {{{','.join(programs)}}} [options]\n")
        sys.exit(2)
    run(lambda: programs[sys.argv[1]](sys.argv[2:]), forking=sys.argv[1] in forking)
