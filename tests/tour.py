#!/usr/bin/env python3
"""tests/tour.py -- `make tour`: every chapter, in order, running for real.

For each chapter: its title and lesson in two lines, its server started on a
free loopback port, its client run (for the concurrency chapters a slow and a
fast client at once), what happened, and the server stopped. A chapter whose
demonstration does not come out as the lesson says is marked FAILED, and the
summary line counts them. Every server is stopped, even on Ctrl-C.

Standard library only. Run it with `make tour` (it builds first).
"""
import os
import socket
import subprocess
import sys
import time

from harness import CHAPTERS, ROOT, HarnessError, Server, program

TIMEOUT = 15  # seconds any one client may take


class Tour:
    def __init__(self):
        self.servers = []

    def server(self, chapter, *args):
        argv = program(chapter, "cpp", "server") + list(args)
        if "--port" not in args and "--unix" not in args:
            argv += ["--port", "0"]
        server = Server(argv, cwd=ROOT / chapter)
        self.servers.append(server)
        server.wait_ready()
        print(f"   $ ./server {' '.join(args)}".rstrip() + f"\n     {server.stdout_lines[0]}")
        return server

    def client(self, chapter, server, *args, stdin=None, show=True):
        argv = program(chapter, "cpp", "client") + ["--port", str(server.port)] + list(args)
        result = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=TIMEOUT)
        if show:
            piped = f"printf {stdin!r} | " if stdin else ""
            print(f"   $ {piped}./client {' '.join(repr(a) if ' ' in a or not a else a for a in args)}")
            for line in (result.stdout + result.stderr).splitlines():
                print(f"     {line}")
        return result

    def stop_all(self):
        statuses = []
        for server in self.servers:
            if server.proc.poll() is None:
                statuses.append(server.stop())
            else:
                statuses.append(server.proc.returncode)
        self.servers = []
        return statuses


def expect(condition, what):
    if not condition:
        raise HarnessError(what)


def chapter_01(tour, ch):
    server = tour.server(ch)
    result = tour.client(ch, server, "hello", "raw sockets")
    expect(result.stdout == "hello\nraw sockets\n", "the echo did not come back")
    # Iterative: hold one connection, start a second client, release the first.
    held = socket.create_connection(server.address, timeout=5)
    late = subprocess.Popen(program(ch, "cpp", "client") + ["--port", str(server.port), "second"],
                            stdout=subprocess.PIPE, text=True)
    started = time.monotonic()
    try:
        late.wait(timeout=1.0)
        expect(False, "the second client was served while the first was connected")
    except subprocess.TimeoutExpired:
        pass
    held.close()
    out, _ = late.communicate(timeout=TIMEOUT)
    print(f"   a second client, started while another was connected, got {out.strip()!r}"
          f" only after the first left ({time.monotonic() - started:.1f} s later)")


def chapter_02(tour, ch):
    server = tour.server(ch, "--handler", "upper")
    result = tour.client(ch, server, "hello socketserver")
    expect(result.stdout == "HELLO SOCKETSERVER\n", "upper handler did not answer")
    started = time.monotonic()
    once = tour.server(ch, "--once", "--timeout", "1")
    once.proc.wait(timeout=TIMEOUT)
    print(f"     (nobody came: {once.stderr_lines[-1]!r}, exit {once.proc.returncode}"
          f" after {time.monotonic() - started:.1f} s)")
    expect(once.proc.returncode == 0, "--once --timeout did not exit 0")


def chapter_03(tour, ch):
    server = tour.server(ch, "--max-line", "20")
    result = tour.client(ch, server, stdin="one\ntwo\nthree\n")
    expect(result.stdout == "one\ntwo\nthree\n", "lines did not come back")
    result = tour.client(ch, server, "a line much longer than twenty bytes")
    expect(result.returncode == 1, "an over-long line was accepted")
    print(f"     server log: {server.wait_log('longer than')}")


def slow_and_fast(tour, ch, server):
    """A slow client holds half a line; a fast one must still be answered at once."""
    with socket.create_connection(server.address, timeout=5) as slow:
        slow.sendall(b"half a li")
        server.wait_log("connection from")
        started = time.monotonic()
        result = tour.client(ch, server, "fast", show=False)
        elapsed = time.monotonic() - started
        print(f"   a slow client holds half a line; meanwhile $ ./client fast -> "
              f"{result.stdout.strip()!r} in {elapsed * 1000:.0f} ms")
        expect(result.stdout == "fast\n", "the fast client was not answered")
        slow.sendall(b"ne\n")
        expect(slow.recv(64) == b"half a line\n", "the slow client lost its line")
        print("   the slow client then finishes its line and gets 'half a line' back")


def chapter_04(tour, ch):
    slow_and_fast(tour, ch, tour.server(ch))
    server = tour.server(ch, "--handler", "welcome")
    result = tour.client(ch, server, "--welcome", "hi", "there")
    expect(result.stdout == "welcome\nhello\nhello\n", "the welcome protocol went wrong")


def chapter_05(tour, ch):
    server = tour.server(ch)
    slow_and_fast(tour, ch, server)
    pids = sorted({line.split()[1] for line in server.stderr_lines if line.startswith("process ")})
    print(f"   each connection had its own process: pids {', '.join(pids)}")
    expect(len(pids) == 2, "expected two child processes")


def chapter_06(tour, ch):
    server = tour.server(ch, "--workers", "2")
    task_dir = f"/proc/{server.proc.pid}/task"
    held = [socket.create_connection(server.address, timeout=5) for _ in range(2)]
    for sock in held:
        sock.sendall(b"busy\n")
        expect(sock.recv(64) == b"busy\n", "a held client was not served")
    late = subprocess.Popen(program(ch, "cpp", "client") + ["--port", str(server.port), "third"],
                            stdout=subprocess.PIPE, text=True)
    try:
        late.wait(timeout=1.0)
        expect(False, "a third client was served while both workers were busy")
    except subprocess.TimeoutExpired:
        pass
    print(f"   two held clients occupy both workers; a third waits ({len(os.listdir(task_dir))}"
          " threads: main + 2 workers)")
    held[0].close()
    out, _ = late.communicate(timeout=TIMEOUT)
    print(f"   one held client leaves: the third gets {out.strip()!r};"
          f" still {len(os.listdir(task_dir))} threads")
    held[1].close()
    expect(out == "third\n", "the third client was never served")


def chapter_07(tour, ch):
    server = tour.server(ch, "--nodelay", "--rcvbuf", "65536", "--timeout", "0.3")
    server.wait_until(lambda: len(server.stdout_lines) >= 7, 5, "the option lines")
    for line in server.stdout_lines[1:7]:
        print(f"     {line}")
    expect("SO_RCVBUF = 131072" in server.stdout_lines, "SO_RCVBUF was not doubled")
    # TIME_WAIT: the server closes a silent connection first, then stops.
    with socket.create_connection(server.address, timeout=5) as sock:
        expect(sock.recv(10) == b"", "the receive timeout did not close the connection")
    port = str(server.port)
    expect(server.stop() == 0, "server did not stop cleanly")
    refused = subprocess.run(program(ch, "cpp", "server") + ["--port", port, "--no-reuse-address"],
                             capture_output=True, text=True, timeout=TIMEOUT)
    print(f"   after a server-side close, restart with --no-reuse-address:\n"
          f"     {refused.stderr.strip()}")
    expect(refused.returncode == 1, "bind succeeded despite TIME_WAIT")
    again = tour.server(ch, "--port", port)
    expect(again.port == int(port), "the restart did not get the same port")
    print("   with SO_REUSEADDR (the default) the same port binds at once")


def chapter_08(tour, ch):
    server = tour.server(ch)
    tour.client(ch, server, "one datagram", "")
    result = tour.client(ch, server, "x" * 9000, "--timeout", "0.2", "--retries", "1", show=False)
    print(f"   $ ./client --timeout 0.2 --retries 1 <9000 bytes>\n     {result.stderr.strip()}")
    print(f"     server log: {server.wait_log('max_packet_size')}")
    expect(result.returncode == 1, "an oversized datagram was answered")


LESSONS = {
    "01_raw_socket_echo": ("The bare calls",
                           "socket, bind, listen, accept, recv, send, close, in plain sight;"
                           " one client at a time.", chapter_01),
    "02_sync_server": ("socketserver's shape",
                       "a server class and a request handler class; serve_forever,"
                       " handle_request, handle_timeout.", chapter_02),
    "03_stream_handler": ("Files over a socket",
                          "StreamRequestHandler reads lines (rfile) and writes them (wfile),"
                          " with a length limit.", chapter_03),
    "04_threading": ("A thread per connection",
                     "ThreadingMixIn: each request in its own thread, so a slow client"
                     " delays nobody; threads joined.", chapter_04),
    "05_forking": ("A process per connection",
                   "ForkingMixIn: fork per request, children reaped on SIGCHLD,"
                   " at most --max-children.", chapter_05),
    "06_thread_pool": ("A bounded pool",
                       "N threads share one listener: at most N clients at once,"
                       " the rest wait their turn.", chapter_06),
    "07_socket_options": ("Socket options",
                          "set between socket() and bind(), read back with getsockopt;"
                          " SO_REUSEADDR and TIME_WAIT.", chapter_07),
    "08_udp": ("Datagrams",
               "no connection, no accept: recvfrom/sendto, whole datagrams or none,"
               " a client that retries.", chapter_08),
}


def main():
    tour = Tour()
    results = []
    try:
        for number, ch in enumerate(CHAPTERS, 1):
            title, lesson, demo = LESSONS.get(ch, (ch, "(no tour stop yet)", None))
            print(f"\n== {ch}: {title} ==\n   {lesson}")
            ok = True
            try:
                if demo is not None:
                    demo(tour, ch)
            except (HarnessError, subprocess.TimeoutExpired, OSError) as e:
                print(f"   FAILED: {e}")
                ok = False
            statuses = tour.stop_all()
            if statuses:
                print(f"   servers stopped with SIGTERM: exit {', '.join(map(str, statuses))}")
            ok = ok and all(s == 0 for s in statuses)
            results.append((ch, ok))
    except KeyboardInterrupt:
        print("\n   interrupted")
    finally:
        tour.stop_all()
    passed = sum(ok for _, ok in results)
    failed = [ch for ch, ok in results if not ok]
    print(f"\ntour: {passed} of {len(CHAPTERS)} chapters ran as their lesson says"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 0 if passed == len(CHAPTERS) else 1


if __name__ == "__main__":
    sys.exit(main())
