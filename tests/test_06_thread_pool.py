"""tests/test_06_thread_pool.py -- a bounded pool: N at once, the rest queue, threads fixed.

Every test runs for each way the workers share the listener (--accept:
poll, block, lock, main), against the C++ and the Python twin.
"""
import contextlib
import os
import resource
import subprocess
import sys

import pytest

from conftest import (STOP_SECONDS, STOP_STATES, assert_stopped_without_errors,
                      assert_two_at_once_and_the_third_waits, echo_line,
                      flood_while_sampling, open_fds, sanitizer_threads, stop_in_state,
                      thread_count, wait_for)
from harness import ROOT, Server, program

CHAPTER = "06_thread_pool"
STRATEGIES = ["poll", "block", "lock", "main"]


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_two_workers_serve_two_clients_and_the_third_waits_its_turn(start_server, strategy):
    server = start_server(CHAPTER, "--workers", "2", "--accept", strategy)
    assert_two_at_once_and_the_third_waits(server)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_thread_count_stays_fixed_under_a_flood_of_300(start_server, impl, strategy):
    server = start_server(CHAPTER, "--workers", "4", "--accept", strategy)
    pid = server.proc.pid
    # 4 workers and main, plus the stop thread (C++: sigwait(); Python: the
    # stop watcher) and a sanitizer's own (started lazily): reached once,
    # then no sample may differ from it.
    baseline = 4 + 1 + 1 + sanitizer_threads(pid)
    wait_for(lambda: thread_count(pid) == baseline, 5,
             f"{baseline} threads when idle (now {thread_count(pid)})")
    fds = open_fds(pid)
    # 20 clients at once, 15 connections each: 16 always queue.
    errors, samples = flood_while_sampling(server, lambda: thread_count(pid), each=15)
    assert not errors  # all 300 served
    assert samples and set(samples) == {baseline}, f"baseline {baseline}, saw {sorted(set(samples))}"
    # Every connection closed again: no descriptor leaks.
    wait_for(lambda: open_fds(pid) == fds, 2, f"{fds} open descriptors (now {open_fds(pid)})")


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("state", STOP_STATES)
def test_every_strategy_stops_within_the_limit_in_every_state(start_server, strategy, state):
    server = start_server(CHAPTER, "--workers", "1", "--accept", strategy)
    stop_in_state(server, state)
    assert_stopped_without_errors(server)


def test_an_unknown_strategy_is_one_line_and_exit_2(impl):
    result = subprocess.run(program(CHAPTER, impl, "server") + ["--accept", "pass"],
                            capture_output=True, text=True, timeout=20)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == \
        "error: --accept must be poll, block, lock or main, not 'pass'"


def test_the_stop_wakes_every_worker_blocked_in_accept(impl, tmp_path):
    # --accept block with many workers, all asleep in accept(): the stop must
    # wake each one (shutdown of the listener; macOS and the BSDs connect
    # once per worker instead) within the limit.
    argv = program(CHAPTER, impl, "server") + ["--port", "0", "--workers", "32"]
    server = Server(argv, cwd=tmp_path)
    try:
        server.wait_ready()
        echo_line(server)
    finally:
        assert server.stop(timeout=STOP_SECONDS) == 0, server.stderr_text()


# The Python twin's wake_blocked_accepts() the way macOS and the BSDs run
# it: shutdown() of the listener fails there (ENOTCONN), so the stop wakes
# each blocked accept() with a connection of its own.
LIKE_MACOS = """
import errno, os, runpy, socket, sys
real_shutdown = socket.socket.shutdown

def shutdown(self, how):
    if self.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
        raise OSError(errno.ENOTCONN, os.strerror(errno.ENOTCONN))
    return real_shutdown(self, how)

socket.socket.shutdown = shutdown
sys.argv = [sys.argv[1], "server"] + sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def in_accept(pid):
    """The threads of pid asleep in accept() (Linux: wchan inet_csk_accept)."""
    names = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):
            names.append(open(f"/proc/{pid}/task/{tid}/wchan").read())
    return names.count("inet_csk_accept")


@pytest.mark.skipif(not os.path.exists("/proc/self/wchan"), reason="needs Linux's /proc")
def test_python_wakes_accepts_that_hold_every_free_descriptor_by_connecting(tmp_path):
    # Linux's accept() takes its descriptor number before it sleeps. With
    # the limit lowered to what is open plus the sleepers' numbers, no number
    # is free: the first wake-up connection can only be made because the
    # pool closes its spare descriptor first (reserve_descriptor), and each
    # one's number is free again for the next once it is closed.
    workers = 4
    argv = [sys.executable, "-c", LIKE_MACOS, str(ROOT / CHAPTER / "reference.py"),
            "--port", "0", "--workers", str(workers), "--accept", "block"]
    server = Server(argv, cwd=tmp_path)
    try:
        server.wait_ready()
        pid = server.proc.pid
        wait_for(lambda: in_accept(pid) == workers, 5, f"{workers} workers asleep in accept()")
        limit = open_fds(pid) + workers
        resource.prlimit(pid, resource.RLIMIT_NOFILE,
                         (limit, resource.prlimit(pid, resource.RLIMIT_NOFILE)[1]))
    finally:
        status = server.stop(timeout=STOP_SECONDS)
    assert status == 0, server.stderr_text()
    assert_stopped_without_errors(server)
    # One wake-up connection per worker, each taken by a worker's accept().
    assert sum("connection from" in line for line in server.stderr_lines) == workers
