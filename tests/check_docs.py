#!/usr/bin/env python3
"""tests/check_docs.py -- run every shell transcript in the READMEs, compare the output.

    python3 tests/check_docs.py                       every README.md (make check-docs)
    python3 tests/check_docs.py 03_stream_handler/README.md

A transcript is a fenced block with lines that start with "$ ". Each "$ "
line is a command (it goes on over the next lines until bash says the
command is complete, so a multi-line `python3 -c "..."` reads as you would
type it); the lines under it, up to the next "$ ", are the output it must
print, standard output and standard error together, as a terminal shows
them. All the transcripts of one README run in order in one bash, started
in the README's folder, so `cd`, `$?` and background jobs carry over from
one block to the next, exactly as in a learner's terminal.

A command ending in "&" starts a server in the background: the runner waits
(at most 10 s) for the lines shown under it, normally `listening on ...`,
and goes on. It never sleeps to synchronise. When the README is done, its
background jobs get SIGTERM.

Before comparing, both sides are normalised: ports after 127.0.0.1, [::1]
and localhost become PORT (ephemeral ports differ every run), the numbers in
"pid N" and "process N" become PID, and the figures of `time` become TIME.
Nothing else is forgiven.

A block that cannot run unattended is marked in the README itself: the
nearest non-blank line above it starts with "Illustration", and says why
(two terminals, a `ps` of a live process). It is counted and skipped.

Why not cram (Debian's python3-cram), which runs shell transcripts too: it
needs every line indented by two spaces and marked "(re)" or "(glob)" where
it varies, so the README would no longer show what the learner types and
sees; and a server started with "&" would need a shell helper to wait for
its `listening on` line. This runner keeps the README's text as is.

Figures from `make bench` are not run (they take minutes) but checked: a
fenced block under a line saying "From the run of `make bench`" or naming
`tests/bench/last-run.txt` (or `tests/bench/designs-run.txt`, written by a
`BENCH_ONLY=designs` run, `tests/bench/targets-run.txt`, written by a
`BENCH_ONLY=targets` run (`targets-1cpu-run.txt` with BENCH_PLACEMENT=1cpu),
`tests/bench/split-run.txt` and
`tests/bench/pairs-run.txt` and `tests/bench/aftermath-run.txt`,
written by `BENCH_ONLY=split`, `=pairs` and `=aftermath` runs, or
`tests/tsan/last-run.txt`, written by `make
tsan-lost-signal`) may hold only lines of those files, the committed output
of the last runs, so a README cannot quote a figure a run did not print.

Standard library only. Exit status 1 if any transcript differs.
"""
import difflib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMAND_SECONDS = 30  # the longest any one command may take
READY_SECONDS = 10  # the longest a background command may take to print its lines
MARK = "\x1eEND-OF-COMMAND"
# What the long runs wrote: make bench, its BENCH_ONLY=designs, =targets,
# =targets-c1, =split, =pairs, =pairs-c1, =switches and =aftermath runs,
# make tsan-lost-signal.
RUN_FILES = ["tests/bench/last-run.txt", "tests/bench/designs-run.txt",
             "tests/bench/targets-run.txt", "tests/bench/targets-perf-timed-run.txt",
             "tests/bench/targets-1cpu-run.txt", "tests/bench/targets-1cpu-xeon-run.txt",
             "tests/bench/targets-c1-run.txt", "tests/bench/targets-c1-epyc-run.txt",
             "tests/bench/pairs-c1-run.txt", "tests/bench/pairs-c1-epyc-run.txt",
             "tests/bench/switches-run.txt", "tests/bench/switches-epyc-run.txt",
             "tests/bench/split-run.txt", "tests/bench/pairs-run.txt",
             "tests/bench/aftermath-run.txt",
             "tests/tsan/last-run.txt"]

NORMALISE = [
    (re.compile(r"(127\.0\.0\.1|\[::1\]|localhost):\d+"), r"\1:PORT"),
    (re.compile(r"\b(pid|process) \d+"), r"\1 PID"),
    (re.compile(r"^(real|user|sys)\s+\d+m\d+\.\d+s$"), r"\1 TIME"),
]


def normalise(line):
    for pattern, replacement in NORMALISE:
        line = pattern.sub(replacement, line)
    return line.rstrip()


def is_complete(command):
    """True if bash would run `command` as it is (no open quote, no open block)."""
    check = subprocess.run(["bash", "-n", "-c", command], capture_output=True, text=True)
    return "unexpected end of file" not in check.stderr and "unexpected EOF" not in check.stderr


def transcripts(readme):
    """Yields (line number, [(command, [expected lines])]) for each transcript
    block, and (line number, None) for each block marked as an illustration."""
    lines = readme.read_text().splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].startswith("```"):
            i += 1
            continue
        start = i
        i += 1
        block = []
        while i < len(lines) and not lines[i].startswith("```"):
            block.append(lines[i])
            i += 1
        i += 1
        if not any(line.startswith("$ ") for line in block):
            continue
        above = next((line for line in reversed(lines[:start]) if line.strip()), "")
        if above.startswith("Illustration"):
            yield start + 1, None
            continue
        steps, j = [], 0
        while j < len(block):
            if not block[j].startswith("$ "):
                raise SystemExit(f"{readme}:{start + 2 + j}: output before any command")
            command = block[j][2:]
            j += 1
            while not is_complete(command) and j < len(block):
                command += "\n" + block[j]
                j += 1
            expected = []
            while j < len(block) and not block[j].startswith("$ "):
                expected.append(block[j])
                j += 1
            steps.append((command, expected))
        yield start + 1, steps


def shell_environment():
    """The learner's environment: no make variables inherited from a `make
    check-docs` above us (they would make `make` print "Entering directory"
    or build a sanitizer variant), a plain locale."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES", "SANITIZE")}
    return {**env, "LC_ALL": "C.UTF-8", "TERM": "dumb"}


class Shell:
    """One bash, fed commands on stdin; its output is read by a thread."""

    def __init__(self, cwd):
        self.proc = subprocess.Popen(["bash", "--noprofile", "--norc"], cwd=cwd,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1,
                                     start_new_session=True,
                                     env=shell_environment())
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def run(self, command, background_lines):
        """Runs one command; returns its output lines. For a background
        command, also waits for `background_lines` more lines."""
        self.proc.stdin.write(f"{command}\n__rc=$?; printf '%s\\n' '{MARK}'; (exit $__rc)\n")
        self.proc.stdin.flush()
        output = self._collect(lambda line: line == MARK, COMMAND_SECONDS, command)
        if background_lines:
            more = []
            deadline = time.monotonic() + READY_SECONDS
            try:
                while len(output) + len(more) < background_lines:
                    more += self._collect(None, deadline - time.monotonic(), command, limit=1)
            except TimeoutError as e:
                # Silence has two causes: a server that is slow to start, and
                # one that has already exited (a port in use, with its error
                # sent to /dev/null). bash's job table tells them apart.
                raise TimeoutError(f"{e}; the job: {self.job_state()}") from None
            output += more
        return output

    def job_state(self):
        """bash's line for the newest background job: 'Running', or
        'Exit N' / 'Done' when it has ended."""
        self.proc.stdin.write(f"jobs -l %%; printf '%s\\n' '{MARK}'\n")
        self.proc.stdin.flush()
        try:
            return " ".join(" ".join(self._collect(lambda line: line == MARK, COMMAND_SECONDS,
                                                   "jobs -l")).split()) or "none"
        except (TimeoutError, RuntimeError) as e:
            return f"unknown ({e})"

    def _collect(self, is_end, seconds, command, limit=None):
        got = []
        deadline = time.monotonic() + seconds
        while limit is None or len(got) < limit:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"no end after {seconds:.0f} s: {command!r}; so far: {got}")
            if line is None:
                raise RuntimeError(f"bash ended during {command!r}")
            if is_end is not None and is_end(line):
                break
            got.append(line)
        return got

    def close(self):
        try:
            self.proc.stdin.write("kill $(jobs -p) 2>/dev/null; wait\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass
        finally:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # anything left behind
            except ProcessLookupError:
                pass
            self.proc.wait()


def shown(readme):
    """The README's path as printed: relative to the repository if inside it."""
    return readme.relative_to(ROOT) if readme.is_relative_to(ROOT) else readme


def check(readme):
    """Runs one README's transcripts; returns (commands run, illustrations, failures)."""
    folder = readme.parent
    before = set(folder.iterdir())
    shell = Shell(folder)
    ran, illustrations, failures = 0, 0, []
    try:
        for line_number, steps in transcripts(readme):
            if steps is None:
                illustrations += 1
                continue
            for command, expected in steps:
                background = len(expected) if command.rstrip().endswith("&") else 0
                try:
                    actual = shell.run(command, background)
                except (TimeoutError, RuntimeError) as e:
                    failures.append(f"{shown(readme)}:{line_number}: {e}")
                    return ran, illustrations, failures
                ran += 1
                want = [normalise(line) for line in expected]
                got = [normalise(line) for line in actual]
                if want != got:
                    diff = "\n".join(difflib.unified_diff(want, got, "README", "actual", lineterm=""))
                    failures.append(f"{shown(readme)}:{line_number}: $ {command}\n{diff}")
    finally:
        shell.close()
        for created in set(folder.iterdir()) - before:  # server.log and the like
            if created.is_file() or created.is_socket():
                created.unlink()
    return ran, illustrations, failures


def bench_quotes(readme):
    """Failures for bench figures a README quotes that the last run did not print."""
    last_run = set()
    for name in RUN_FILES:
        run_file = ROOT / name
        if run_file.exists():
            last_run |= set(run_file.read_text().splitlines())
    lines = readme.read_text().splitlines()
    failures = []
    for i, line in enumerate(lines):
        if "From the run of `make bench`" not in line and \
                not any(f"`{name}`" in line for name in RUN_FILES):
            continue
        start = next((j for j in range(i + 1, min(i + 4, len(lines)))
                      if lines[j].startswith("```")), None)
        if start is None:
            continue
        for j in range(start + 1, len(lines)):
            if lines[j].startswith("```"):
                break
            if lines[j] not in last_run:
                failures.append(f"{shown(readme)}:{j + 1}: not in {' or '.join(RUN_FILES)}: "
                                f"{lines[j][:70]}")
    return failures


def main(argv):
    readmes = [Path(p).resolve() for p in argv] or \
        [ROOT / "README.md"] + sorted(ROOT.glob("[0-9][0-9]_*/README.md"))
    all_failures = []
    for readme in readmes:
        ran, illustrations, failures = check(readme)
        failures += bench_quotes(readme)
        status = "FAIL" if failures else "ok"
        print(f"{status:4} {shown(readme)}: {ran} commands run, "
              f"{illustrations} illustration(s) not run", flush=True)
        all_failures += failures
    for failure in all_failures:
        print("\n" + failure)
    return 1 if all_failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
