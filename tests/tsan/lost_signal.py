#!/usr/bin/env python3
"""tests/tsan/lost_signal.py -- how often TSan loses a SIGTERM (make tsan-lost-signal).

    python3 tests/tsan/lost_signal.py                 the three builds, for each
        compiler of TSAN_COMPILERS (default "g++ clang++"; the Makefile
        builds lost_signal_BUILD.COMPILER)
    python3 tests/tsan/lost_signal.py PROGRAM [ARG...]   one server instead,
        for example 05_forking/server --port 0 after make SANITIZE=thread

Starts each build of lost_signal.cpp RUNS times (TSAN_RUNS, default 3000),
waits for its "listening on" line, sleeps a random 0-1 ms (the window is
just after that line, while the program enters its first wait), sends
SIGTERM, and counts the runs in which it had not exited 5 s later. Those
are killed. Prints one line per build and compiler, and writes the table to
tests/tsan/last-run.txt too (the README quotes that file; make check-docs
holds it to it).
"""
import os
import random
import signal
import subprocess
import sys
import time

BUILDS = [
    ("poll", "SIGTERM open all the time, first wait poll()"),
    ("warm", "the same, one poll() with no wait first"),
    ("ppoll", "SIGTERM blocked, let in only by ppoll()"),
]


def lost_in(argv, runs):
    lost = 0
    for _ in range(runs):
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            proc.stdout.readline()
            time.sleep(random.uniform(0, 0.001))
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            lost += 1
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
    return lost


def compiler_version(compiler):
    """12.2.0 for g++ 12 (whose -dumpversion says 12), 14.0.6 for clang++ 14
    (which has no -dumpfullversion; its -dumpversion says 14.0.6)."""
    for flag in ("-dumpfullversion", "-dumpversion"):
        run = subprocess.run([compiler, flag], capture_output=True, text=True)
        if run.returncode == 0 and run.stdout.strip():
            return run.stdout.strip()
    raise SystemExit(f"error: {compiler} tells no version")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    runs = int(os.environ.get("TSAN_RUNS", "3000"))
    if len(sys.argv) > 1:  # one server of the caller's
        print(f"{' '.join(sys.argv[1:])}: {lost_in(sys.argv[1:], runs)} of {runs} lost")
        return 0
    compilers = os.environ.get("TSAN_COMPILERS", "g++ clang++").split()
    lines = [f"{'compiler':14}  {'build':6}  {'what':46}  {'runs':>5}  {'lost':>4}"]
    print(lines[0], flush=True)
    for compiler in compilers:
        version = compiler_version(compiler)
        for name, what in BUILDS:
            lost = lost_in([os.path.join(here, f"lost_signal_{name}.{compiler}")], runs)
            lines.append(f"{compiler + ' ' + version:14}  {name:6}  {what:46}  {runs:5}  {lost:4}")
            print(lines[-1], flush=True)
    with open(os.path.join(here, "last-run.txt"), "w") as out:
        out.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
