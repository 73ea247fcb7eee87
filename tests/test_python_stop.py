"""tests/test_python_stop.py -- the Python twins' stop, where CPython cannot help.

CPython runs a signal handler in the main thread, between bytecodes. If the
main thread is already in a blocking call, or on its way into one, when the
signal lands somewhere it does not interrupt (a signal taken by another
thread, or one that lands just before recv() starts), the call blocks on,
and the handler waits for it. These tests make that happen on purpose: a
helper thread sends SIGTERM to itself, so the signal's C handler runs there
and the main thread's recv() or select() is never interrupted. The stop
must still end the program, with exit 0, by contract.py's stop watcher.
"""
import subprocess
import sys

import pytest

from harness import ROOT, STOP_SECONDS

PROGRAM = """
import signal, socket, sys, threading
sys.path.insert(0, {common!r})
import contract

def signal_elsewhere(main_thread):
    # Once the main thread sleeps in the kernel (not on a futex: the GIL),
    # a thread-directed SIGTERM: this thread takes it, the main thread's
    # call is not interrupted.
    task = f"/proc/self/task/{{main_thread}}/"
    while not (open(task + "stat").read().rsplit(")", 1)[1].split()[0] == "S"
               and "futex" not in open(task + "wchan").read()):
        pass
    signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

def main():
    mine, peer = socket.socketpair()
    print("listening on 127.0.0.1:9", flush=True)
    threading.Thread(target=signal_elsewhere, args=(threading.get_native_id(),)).start()
    {wait}
    print("the wait returned", flush=True)

contract.run(main, forking={forking})
"""
WAITS = {
    "recv, held": ("with contract.ShutDownOnStop(mine):\n        mine.recv(1)", False),
    "recv, not held": ("mine.recv(1)", False),
    "wait_readable": ("contract.wait_readable(mine)", False),
    "wait_readable, forking": ("contract.wait_readable(mine, forking=True)", True),
}


def start(wait):
    code, forking = WAITS[wait]
    return subprocess.Popen([sys.executable, "-c", PROGRAM.format(
        common=str(ROOT / "common"), wait=code, forking=forking)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("wait", ["recv, held", "wait_readable", "wait_readable, forking"])
def test_a_stop_the_main_thread_never_saw_still_ends_its_wait(wait):
    proc = start(wait)
    try:
        out, err = proc.communicate(timeout=STOP_SECONDS)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0, err
    assert err == ""
    # recv() returned (shut down), and the handler's Stop came after it;
    # wait_readable() raises Stop itself.
    assert out.startswith("listening on")


def test_without_the_watcher_a_blocked_recv_misses_the_stop():
    # Why ShutDownOnStop exists: CPython's own machinery leaves recv()
    # blocked, the handler not run, though the signal was taken.
    proc = start("recv, not held")
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            proc.communicate(timeout=1)
        status = open(f"/proc/{proc.pid}/status").read()
        assert "SigPnd:\t0000000000000000" in status  # taken, not pending
    finally:
        proc.kill()
        proc.wait()


def run_to_its_end(program):
    """Runs a program (its {common} filled in) that must end on its own
    within STOP_SECONDS; (exit status, stdout, stderr)."""
    proc = subprocess.Popen([sys.executable, "-c", program.format(common=str(ROOT / "common"))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=STOP_SECONDS)
    finally:
        proc.kill()
        proc.wait()
    return proc.returncode, out, err


DEFERRED = """
import signal, sys, threading
sys.path.insert(0, {common!r})
import contract

def main():
    print("listening on 127.0.0.1:9", flush=True)
    with contract.stop_deferred():
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)  # to this thread
        # Let in, its handler would raise Stop before the next line.
        print("pending in the block:", signal.SIGTERM in signal.sigpending(), flush=True)
    print("after the block", flush=True)

contract.run(main)
"""


def test_a_stop_sent_inside_stop_deferred_is_taken_as_the_block_ends():
    # The main thread's Thread.start() and Queue.put() run in such a block:
    # the stop must wait for the block, and then end the program, exit 0.
    returncode, out, err = run_to_its_end(DEFERRED)
    assert (returncode, err) == (0, "")
    assert out.splitlines() == ["listening on 127.0.0.1:9", "pending in the block: True"]


LOST = """
import argparse, atexit, signal, socketserver, sys, weakref
sys.path.insert(0, {common!r})
import contract

# At the exit: was a stop watcher thread started (a forking program has none)?
atexit.register(lambda: print("watcher started:", contract._watch.watcher is not None, flush=True))

def main():
    def callback(_):
        # raise_signal() runs the handler before it returns: here, inside a
        # weakref callback, whose exceptions CPython prints and drops.
        signal.raise_signal(signal.SIGTERM)

    class Thing:
        pass

    thing = Thing()
    ref = weakref.ref(thing, callback)  # noqa: F841 -- kept alive to call back
    del thing  # the callback runs now
    print("the Stop did not get out of the callback", flush=True)
    args = argparse.Namespace(host="127.0.0.1", port=0)
    with contract.make_server(socketserver.{server}, args, socketserver.BaseRequestHandler) as server:
        contract.announce(server.socket)
        {wait}

contract.run(main, forking={forking})
"""


@pytest.mark.parametrize("wait, server, forking", [
    ("server.serve_forever()", "TCPServer", False),
    ("server.handle_request()", "TCPServer", False),
    ("server.handle_request()", "ForkingTCPServer", True),
    ("contract.wait_readable(server.socket)", "TCPServer", False),
])
def test_a_stop_raised_where_cpython_drops_exceptions_is_raised_again(wait, server, forking):
    # Seen once in a TSan suite: 04's twin took SIGINT inside importlib's
    # weakref callback, printed "Exception ignored in ...", and served on,
    # deaf to SIGTERM. The lost Stop must be kept quiet and raised at the
    # next wait, whichever the program uses (serve_forever: the servers;
    # handle_request: 02's --once; wait_readable: 01's listener, 05's
    # parent, 06's main thread): it ends, exit 0, nothing on stderr. A
    # forking server's handle_request() waits on the wakeup socket, with
    # no watcher thread to be copied into its children.
    program = LOST.replace("{wait}", wait).replace("{server}", server)
    returncode, out, err = run_to_its_end(program.replace("{forking}", str(forking)))
    assert (returncode, err) == (0, "")
    assert out.splitlines()[0] == "the Stop did not get out of the callback"
    assert out.splitlines()[1].startswith("listening on 127.0.0.1:")
    assert out.splitlines()[2:] == [f"watcher started: {not forking}"]
