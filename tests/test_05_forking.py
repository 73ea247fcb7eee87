"""tests/test_05_forking.py -- a process per connection: reaped, bounded, never orphaned."""
import os
import shlex
import socket

from conftest import (assert_waits, children, connect, echo_line, how_it_ends, recv_exactly,
                      recv_until_eof, wait_for)
from harness import Server, program

CHAPTER = "05_forking"


def live_children(pid):
    return {child for child, state in children(pid).items() if state != "Z"}


def test_each_connection_is_served_by_its_own_process(start_server):
    server = start_server(CHAPTER)
    a, b = connect(server), connect(server)
    for sock in (a, b):
        sock.sendall(b"who\n")
        assert recv_exactly(sock, 4) == b"who\n"
    assert len(live_children(server.proc.pid)) == 2
    assert len({line for line in server.stderr_lines if line.startswith("process ")}) == 2
    a.close()
    b.close()


def test_a_slow_client_never_delays_a_fast_one(start_server):
    server = start_server(CHAPTER)
    with connect(server) as slow:
        slow.sendall(b"half")
        server.wait_log("connection from")
        echo_line(server, b"fast\n")  # bounded by the socket timeout
        slow.sendall(b"\n")
        assert recv_exactly(slow, 5) == b"half\n"


def test_children_are_reaped_no_zombies(start_server):
    server = start_server(CHAPTER)
    pid = server.proc.pid
    for i in range(50):
        echo_line(server, b"line %d\n" % i)
    wait_for(lambda: not children(pid), 2, f"no children, zombie or not: {children(pid)}")


def test_max_children_bounds_the_processes(start_server):
    server = start_server(CHAPTER, "--max-children", "2")
    held = [connect(server) for _ in range(2)]
    for sock in held:
        sock.sendall(b"held\n")
        assert recv_exactly(sock, 5) == b"held\n"
    with connect(server) as third:
        third.sendall(b"third\n")
        assert_waits(third, 6)  # two children already: the parent waits
        assert len(live_children(server.proc.pid)) == 2
        held[0].close()
        assert recv_exactly(third, 6) == b"third\n"
    held[1].close()


def test_sigterm_leaves_no_child_behind(start_server):
    server = start_server(CHAPTER)
    clients = [connect(server) for _ in range(3)]
    for sock in clients:
        sock.sendall(b"x\n")
        assert recv_exactly(sock, 2) == b"x\n"
    pids = live_children(server.proc.pid)
    assert len(pids) == 3
    assert server.stop() == 0
    wait_for(lambda: not any(os.path.exists(f"/proc/{p}") for p in pids), 2,
             "every child to be gone")
    for sock in clients:
        assert recv_until_eof(sock) == b""
        sock.close()


def test_a_child_the_server_did_not_fork_is_neither_waited_for_nor_reaped(impl, tmp_path):
    # A wrapper starts a child, then becomes the server (exec): the server
    # process now has a child it did not fork. waitpid(-1) would block on it
    # at stop (the server then outlives SIGTERM) and would reap it, losing
    # its exit status. The server must wait only for its own children.
    server_argv = " ".join(shlex.quote(a) for a in program(CHAPTER, impl, "server"))
    wrapper = f"sleep 30 >/dev/null 2>&1 & exec {server_argv} --port 0"
    server = Server(["sh", "-c", wrapper], cwd=tmp_path)
    foreign = set()
    try:
        server.wait_ready()
        foreign = set(children(server.proc.pid))
        assert len(foreign) == 1, "the wrapper's sleep is the server's child"
        echo_line(server)  # a child of its own comes and goes
        wait_for(lambda: set(children(server.proc.pid)) == foreign, 5,
                 "the server's own child to be reaped, the foreign one left alone")
        assert server.stop() == 0, server.stderr_text()
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()
        for pid in foreign:  # the sleep, which nobody else will end
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass


def test_a_child_that_fails_before_serving_exits_and_never_serves_as_a_second_server(impl,
                                                                                     tmp_path):
    # Under `ulimit -n 12` the C++ child cannot make its stop pipe (two more
    # descriptors): its first step throws. That exception once unwound out
    # of the child into the parent's serve loop: the child became a second
    # server on the listener, with SIGTERM blocked, and stop needed SIGKILL.
    # Every way out of a child must end in _exit, with the error logged.
    # (The Python child needs no new descriptor here and serves the client.)
    argv = program(CHAPTER, impl, "server") + ["--port", "0"]
    server = Server(["sh", "-c", 'ulimit -n 12 && exec "$0" "$@"'] + argv, cwd=tmp_path)
    try:
        server.wait_ready()
        for _ in range(3):
            with connect(server) as client:
                client.sendall(b"hi\n")
                client.shutdown(socket.SHUT_WR)
                ending, data = how_it_ends(client)  # a reset: the child failed
                served = (ending, data) == ("eof", b"hi\n")
            if not served:
                server.wait_log(r"^error: process \d+: pipe2?: Too many open files$")
            wait_for(lambda: not children(server.proc.pid), 2,
                     f"the child is gone: {children(server.proc.pid)}")
    finally:
        assert server.stop() == 0, server.stderr_text()
