"""tests/test_05_forking.py -- a process per connection: reaped, bounded, never orphaned."""
import os
import random
import shlex
import signal
import socket
import subprocess
import time

import pytest

from conftest import (STOP_STATES, assert_stopped_without_errors, assert_two_at_once_and_the_third_waits,
                      assert_waits, children, connect, echo_line, flood_while_sampling, how_it_ends,
                      open_fds, recv_exactly, recv_until_eof, sanitizer_threads, stop_in_state,
                      thread_count, wait_for)
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
    # Each child logs its line before it serves, but the harness reads the
    # log in a thread of its own: wait for the second line, do not expect it.
    server.wait_until(
        lambda: len({line for line in server.stderr_lines if line.startswith("process ")}) == 2,
        5, "a 'process PID serves' line from each of the two children")
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


def test_a_stop_that_races_a_fork_still_ends_the_new_child(start_server):
    # SIGTERM a moment after a client connects: the parent is forking the
    # child that will serve it, or the child is still setting itself up. The
    # Python twin used to lose that stop in the child: CPython drops a signal
    # that reaches a new child before its interpreter is set up again, and
    # runs one that lands in its own at-fork hooks there, where Stop is
    # "ignored". The child served on, its parent waiting for it for ever
    # (this test failed 4 runs of 4 so). Both twins now keep the signals
    # blocked across fork(), until the child is ready to take them.
    for _ in range(60):
        server = start_server(CHAPTER)
        with connect(server):
            time.sleep(random.uniform(0, 0.003))  # the race is the case, not a sync
            assert server.stop() == 0, server.stderr_text()


@pytest.mark.parametrize("mode", [[], ["--prefork", "2"]], ids=["per-connection", "prefork"])
def test_the_forking_parent_has_one_thread(start_server, impl, mode):
    # fork() copies only the calling thread: a process that forks keeps one,
    # and takes SIGINT/SIGTERM in a handler, not in a stop thread (README,
    # "Stopping"). Counted while a child serves, and in the child too, where
    # ThreadSanitizer starts its background thread after a one-thread fork
    # (and only then: after a multi-threaded one it stops checking). A child
    # forks nothing: the Python twin's has its stop watcher (contract.py,
    # "The stop": CPython cannot interrupt a recv() begun after the signal).
    server = start_server(CHAPTER, *mode)
    with connect(server) as sock:
        sock.sendall(b"x\n")
        assert recv_exactly(sock, 2) == b"x\n"
        assert thread_count(server.proc.pid) == 1
        watcher = 1 if impl == "py" else 0
        serving = [child for child in live_children(server.proc.pid)
                   if thread_count(child) > 1 + sanitizer_threads(child)]
        for child in live_children(server.proc.pid):
            assert thread_count(child) <= 1 + sanitizer_threads(child) + watcher
        assert len(serving) == watcher  # the one child serving us; idle ones have none


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
                try:
                    client.sendall(b"hi\n")
                    client.shutdown(socket.SHUT_WR)
                    ending, data = how_it_ends(client)  # a reset: the child failed
                except OSError:  # ENOTCONN, EPIPE: the failed child's reset came first
                    ending, data = "reset", b""
                served = (ending, data) == ("eof", b"hi\n")
            if not served:
                server.wait_log(r"^error: process \d+: pipe2?: Too many open files$")
            wait_for(lambda: not children(server.proc.pid), 2,
                     f"the child is gone: {children(server.proc.pid)}")
    finally:
        assert server.stop() == 0, server.stderr_text()


# The pre-forked pool: --prefork N, each --accept strategy.

STRATEGIES = ["block", "lock", "pass"]


def sockets(pid):
    """The sockets the process holds, as /proc names them ("socket:[INODE]")."""
    found = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue  # closed while we looked
        if target.startswith("socket:"):
            found.add(target)
    return found


def start_pool(start_server, size, strategy):
    server = start_server(CHAPTER, "--prefork", str(size), "--accept", strategy)
    pid = server.proc.pid
    wait_for(lambda: len(live_children(pid)) == size, 5, f"{size} children before any client")
    # `listening on` comes once every child is forked, not set up: a child
    # fresh from fork() still holds the parent's ends of the pass channels
    # (once seen under TSan: two children at 14 and 15 descriptors, not 11,
    # so a descriptor count taken then was no baseline). Set up, a child
    # shares one socket with the parent: the listener.
    wait_for(lambda: all(len(sockets(child) & sockets(pid)) == 1 for child in live_children(pid)),
             5, "every child set up: of the parent's sockets it holds the listener only")
    return server


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_pool_of_two_serves_two_at_once_and_the_third_waits_its_turn(start_server, strategy):
    server = start_pool(start_server, 2, strategy)
    pool = live_children(server.proc.pid)
    assert_two_at_once_and_the_third_waits(server)
    assert live_children(server.proc.pid) == pool, "no fork per connection"
    serving = {int(line.split()[1]) for line in server.stderr_lines if line.startswith("process ")}
    assert serving <= pool, "every connection was served by a child of the pool"


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_child_that_dies_is_logged_and_replaced(start_server, strategy):
    server = start_pool(start_server, 2, strategy)
    pool = live_children(server.proc.pid)
    victim = min(pool)
    os.kill(victim, signal.SIGKILL)
    server.wait_log(rf"^error: process {victim} was killed by signal 9; starting another$")
    wait_for(lambda: len(live_children(server.proc.pid)) == 2, 5, "the pool back to 2")
    assert victim not in children(server.proc.pid), "the dead child was reaped"
    # Both children serve again, at once.
    held = [connect(server) for _ in range(2)]
    for sock in held:
        sock.sendall(b"again\n")
        assert recv_exactly(sock, 6) == b"again\n"
        sock.close()


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_pool_size_stays_fixed_and_nothing_leaks_under_a_flood(start_server, strategy):
    server = start_pool(start_server, 4, strategy)
    pid = server.proc.pid
    pool = live_children(pid)
    fds = {p: open_fds(p) for p in [pid] + sorted(pool)}
    # 20 clients at once, 10 connections each: 16 always wait.
    errors, samples = flood_while_sampling(server, lambda: frozenset(children(pid)))
    assert not errors
    assert samples and set(samples) == {frozenset(pool)}, "the same N children throughout"
    wait_for(lambda: {p: open_fds(p) for p in fds} == fds, 2,
             f"the descriptors of the parent and each child back to {fds}")


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("state", STOP_STATES)
def test_every_pool_stops_within_the_limit_in_every_state(start_server, strategy, state):
    server = start_pool(start_server, 1, strategy)
    pool = live_children(server.proc.pid)
    stop_in_state(server, state)
    assert not any(os.path.exists(f"/proc/{p}") for p in pool), "no child outlives the server"
    assert_stopped_without_errors(server)


@pytest.mark.parametrize("args, error", [
    (["--accept", "lock"], "error: --accept goes with --prefork"),
    (["--prefork", "2", "--max-children", "3"],
     "error: --max-children does not go with --prefork (the pool is the bound)"),
    (["--prefork", "2", "--accept", "poll"], "error: --accept must be block, lock or pass, not 'poll'"),
])
def test_a_combination_that_makes_no_sense_is_one_line_and_exit_2(impl, args, error):
    result = subprocess.run(program(CHAPTER, impl, "server") + args, capture_output=True,
                            text=True, timeout=20)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == error
    assert "Traceback" not in result.stderr
