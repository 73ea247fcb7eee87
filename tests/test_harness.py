"""tests/test_harness.py -- what a failed stop tells you.

A server that does not stop within the limit fails its test with more than
"did not exit": the harness reads, before it kills the process, each
thread's state and wait channel and the signal masks from /proc, and a
Python twin's stack of every thread (faulthandler). A rare hang in CI is
then evidence, not a mystery. The servers here are stand-ins that ignore
SIGTERM on purpose.
"""
import re
import signal
import sys

import pytest

from harness import HarnessError, ROOT, Server

IGNORES_SIGTERM = """
import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("listening on 127.0.0.1:9", flush=True)
def waiting_here():
    time.sleep(60)
waiting_here()
"""


def sigterm_ignored(message):
    """The SigIgn mask of the message has SIGTERM's bit (signal n is bit n - 1)."""
    mask = re.search(r"SigIgn:\t([0-9a-f]+)", message)
    return mask is not None and int(mask[1], 16) & (1 << (signal.SIGTERM - 1)) != 0


def test_a_python_server_that_misses_its_stop_fails_with_its_stack():
    server = Server([sys.executable, "-c", IGNORES_SIGTERM], cwd=ROOT).wait_ready()
    with pytest.raises(HarnessError) as failure:
        server.stop(timeout=0.5)
    message = str(failure.value)
    assert "did not exit within 0.5 s of <Signals.SIGTERM: 15>" in message
    assert sigterm_ignored(message)
    assert "thread " in message and ", wchan " in message
    assert "in waiting_here" in message  # faulthandler's stack, from stderr
    assert server.proc.returncode is not None  # killed, not left running


def test_any_server_that_misses_its_stop_fails_with_its_threads_and_masks():
    server = Server(["sh", "-c", "trap '' TERM; echo 'listening on 127.0.0.1:9'; exec sleep 60"],
                    cwd=ROOT).wait_ready()
    with pytest.raises(HarnessError) as failure:
        server.stop(timeout=0.5)
    message = str(failure.value)
    assert sigterm_ignored(message)
    assert "State:\tS (sleeping)" in message
    assert server.proc.returncode is not None
