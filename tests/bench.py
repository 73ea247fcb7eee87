#!/usr/bin/env python3
"""tests/bench.py -- `make bench`: the server designs of this tutorial, measured.

Runs every chapter's C++ server and its reference.py under the same loads
from tests/loadgen (C++, epoll), on loopback:

    rr        request/response, 64-byte lines, at concurrency 1 (every design)
              and 16 and 64 (the concurrent designs): requests/s, p50/p99
    connect   a new connection per request, concurrency 1: connections/s
    bulk      one connection streaming 1 KiB lines through the echo: MB/s
    udp       64-byte datagrams at concurrency 1 and 16 (chapter 08)

beside two yardsticks that are not chapters (tests/reference/): a blocking
thread-per-connection echo with nothing else in it (the floor of the
blocking designs) and an epoll echo with one thread per core (the limit of
this machine); every C++ row is also given as a ratio to each. iperf3 on
loopback is printed as information. Writes the raw results to
tests/bench/results.csv, a chart to tests/bench/chart.png (gnuplot), and the
machine it ran on to tests/bench/machine.txt.

The method, because on a shared 2-core machine it moves the figures more
than the code does:
  * Rounds (BENCH_ROUNDS, default 3): every server, C++, Python and the
    yardsticks, is run once per round, in turn, and the table gives the
    median of the rounds with the C++ figure's spread (half the range, as a
    percentage of the median). A slow minute hits every design alike.
  * Concurrency 1 is run twice, pinned with sched_setaffinity (what
    `taskset` does): server and client on one CPU ("1cpu"), and on two
    ("2cpu"). With one request in flight, the time goes to waking the other
    side, and a wake-up on the same CPU is a switch, on another CPU an
    inter-processor interrupt: left to the scheduler, runs jump between the
    two. Bulk is run on two CPUs; the other loads are left to the scheduler.
  * CPU time is read from /proc for the server and every process it has
    started that is still alive (forked children serving connections), plus
    those it has reaped: CPU microseconds per request, user + system.
  * When `perf` can count (Debian's linux-perf, as root or with
    perf_event_paranoid <= 0), `perf stat -p PID` counts system calls and
    context switches per request, threads and children included, over a
    shorter run of its own before the timed one (perf's counting costs CPU,
    more for some designs than others: COUNT_SECONDS). perf starts
    disabled and is enabled over its control FIFO before the load starts,
    and acknowledges it: no sleep to wait for it to attach.
  * It measures the release build only, and refuses a tree whose load
    generator or yardsticks are left from a sanitizer build (check_build).
  * Servers write their stderr to a file (tests/bench/*.log), not to a pipe;
    the load generator ends every connection gracefully (it half-closes and
    reads the last echoes), so no server logs a reset it did not earn.

BENCH_ONLY=split splits each target row's CPU per request into the kernel's
part and the server's own code's, from perf's samples of the CPU clock
(run_split): a count, where the timed CPU per request moves by 10-20%
from one run to the next. BENCH_ONLY=pairs serves each target row and the
blocking yardstick at the same time, each with a load generator of its
own (run_pairs): whatever state the host is in, both are measured in it.
BENCH_ONLY=targets-c1 and BENCH_ONLY=pairs-c1 do the targets run and the
pairs at one client, for every TCP chapter (C1_TARGETS, PAIRS_C1_TARGETS).
BENCH_ONLY=switches counts the context switches per request that change
the address space, and those that flush the whole TLB (run_switches).
BENCH_ONLY=aftermath times a server just after a run under perf stat -p,
and just after a run without (run_aftermath). BENCH_PLACEMENT=1cpu, with
BENCH_ONLY=targets, pins every server and its load generator to one CPU
(TARGET_CPUS), and keeps those rounds apart, in targets-1cpu.csv.

`python3 tests/bench.py --intervals [FILE ...]` runs nothing: it reads the
rounds a BENCH_ONLY=targets run kept (tests/bench/targets.csv; several
runs' files are pooled) and prints
each target's median and interval to 3 decimals, each target decided on its
own, where the run's table rounds to 2 and decides a row's two at once.
`python3 tests/bench.py --design-targets [FILE ...]` reads the rounds of a
design table run (tests/bench/designs.csv) and gives the pool issue's
targets the same way, each round's ratio of two designs (DESIGN_TARGETS).

Standard library only; gnuplot and iperf3 are Debian packages that `make
bench` installs when it can (the table is printed without them).
"""
import csv
import json
import math
import os
import platform
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import CHAPTERS, ROOT, HarnessError, Server, program

OUT = ROOT / "tests" / "bench"
LOADGEN = ROOT / "tests" / "loadgen"
DURATION = float(os.environ.get("BENCH_SECONDS", "2"))
# The counted run: a run of its own, after every timed run of the server.
# Not just before one, as it was until the targets run of 2026-12-07: a
# pool made before the load (06's), whose threads perf stat -p attached
# to, still paid for perf in the run just after it had gone; threads made
# for the load (04's) did not (BENCH_ONLY=aftermath, the README's
# targets section). Not the same run: perf's counting
# has a cost of its own on every context switch, and a larger one for the
# threads that already existed when it attached (each has its own events)
# than for those started after (their events are clones, which the kernel
# swaps on a switch instead of switching out and in: context_equiv() in
# kernel/events/core.c; our reading of the source, not traced). 06's pool
# exists before the load, 04's handler threads start with it. Measured:
# 06 at 16 clients used 1.13 of the yardstick's CPU per request with perf
# attached to the timed run (tests/bench/targets-perf-timed-run.txt, the
# median of 10 rounds), 1.01 without (tests/bench/targets-3e91909-run.txt, 60;
# 1.03 in the run of 60 before, targets-d115516-run.txt; 1.01 in one of 20).
COUNT_SECONDS = max(DURATION / 2, 0.5)
# BENCH_PERF_TIMED=1: the old way, one run counted and timed at once, to
# see perf's own cost (BENCH_ONLY=targets BENCH_PERF_TIMED=1 make bench).
PERF_TIMED = os.environ.get("BENCH_PERF_TIMED") == "1"
# BENCH_PLACEMENT=1cpu (with BENCH_ONLY=targets): every server and its load
# generator pinned to one CPU, as the "1cpu" loads are. Left to the
# scheduler, the runs of every design at 16 and 64 clients fall into two
# kinds, one costing about a third more CPU per request than the other
# (06's README, the design table: the host's, not the design's). On one
# CPU one run of the yardstick lands 0.033-0.039 from the one before it,
# against 0.120-0.187 left to the scheduler (tests/bench/targets-1cpu-run.txt,
# 20 rounds; the README's targets). Its rounds go to targets-1cpu.csv.
PLACEMENT = os.environ.get("BENCH_PLACEMENT", "")
TARGET_CPUS = 1 if PLACEMENT == "1cpu" else None
TARGETS_CSV = ("targets-perf-timed.csv" if PERF_TIMED else
               "targets-1cpu.csv" if TARGET_CPUS else
               "targets-c1.csv" if os.environ.get("BENCH_ONLY") == "targets-c1" else "targets.csv")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
TWO_CPUS = len(os.sched_getaffinity(0)) >= 2

# A load: (mode, concurrency, cpus): cpus 1 or 2 pins server and client to one
# CPU or to two different ones; None leaves them to the scheduler.
C1 = [("rr", 1, 1)] + ([("rr", 1, 2)] if TWO_CPUS else [])
BULK = ("bulk", 1, 2 if TWO_CPUS else None)
# rr at 16 for an iterative design: it serves the first connection only,
# and the bench reports the others as not served (the collapse, measured).
ITERATIVE = C1 + [("rr", 16, None), ("connect", 1, None), BULK]
CONCURRENT = C1 + [("rr", 16, None), ("rr", 64, None), ("connect", 1, None), BULK]
UDP = [("udp", 1, 1)] + ([("udp", 1, 2)] if TWO_CPUS else []) + [("udp", 16, None)]
DESIGNS = [  # (chapter, server arguments, design, loads)
    ("01_raw_socket_echo", [], "iterative, raw calls", ITERATIVE),
    ("02_sync_server", [], "iterative, socketserver", ITERATIVE),
    ("03_stream_handler", [], "iterative, lines", ITERATIVE),
    ("04_threading", [], "thread per connection", CONCURRENT),
    ("05_forking", [], "process per connection", CONCURRENT),
    ("06_thread_pool", [], "pool of 16 threads", CONCURRENT),
    ("07_socket_options", ["--nodelay"], "iterative, TCP_NODELAY", ITERATIVE),
    ("08_udp", [], "UDP", UDP),
    ("08_udp", ["--threading"], "UDP, thread per datagram", UDP),
]
# The classic server-design table (Stevens, UNP vol. 1, the server-design
# chapter), today: every design at concurrency 16, a new connection per
# request (what a connection costs) and long connections (what a request
# costs). Pools of 16, as 06's default. (design, chapter, server arguments)
# connect c=1 adds the context switches per connection with the pool idle:
# where a thundering herd shows (15 idle workers woken for one connection).
DESIGN_LOADS = [("connect", 16, None), ("rr", 16, None), ("connect", 1, None)]
DESIGN_TABLE = [
    ("iterative", "02_sync_server", []),
    ("fork per connection", "05_forking", []),
    ("pre-forked, block", "05_forking", ["--prefork", "16", "--accept", "block"]),
    ("pre-forked, lock", "05_forking", ["--prefork", "16", "--accept", "lock"]),
    ("pre-forked, pass", "05_forking", ["--prefork", "16", "--accept", "pass"]),
    ("thread per connection", "04_threading", []),
    ("pre-threaded, poll", "06_thread_pool", ["--accept", "poll"]),
    ("pre-threaded, block", "06_thread_pool", ["--accept", "block"]),
    ("pre-threaded, lock", "06_thread_pool", ["--accept", "lock"]),
    ("pre-threaded, main", "06_thread_pool", ["--accept", "main"]),
]
# BENCH_ONLY=designs runs the design table alone (about 4 minutes a round).
# BENCH_ONLY=targets runs the concurrent chapters' C++ servers at rr c=16
# and c=64, each between two runs of the blocking yardstick, and checks the
# targets of their ratios (run_targets; about 74 s a round: BENCH_ROUNDS=30).
# BENCH_ONLY=split profiles the same servers and loads (run_split; about 26 s
# a round: BENCH_ROUNDS=12).
# BENCH_ONLY=pairs runs each of them at the same time as the yardstick
# (run_pairs; about 25 s a round: BENCH_ROUNDS=30).
# BENCH_ONLY=aftermath: see AFTERMATH.
# BENCH_ONLY=targets-c1, =pairs-c1 and =switches: see C1_TARGETS,
# PAIRS_C1_CSV and SWITCHES_CSV.
ONLY = os.environ.get("BENCH_ONLY", "")
RR16, RR64 = ("rr", 16, None), ("rr", 64, None)
TARGET_LOADS = [RR16, RR64]
# (chapter, its arguments, its loads, least requests/s, most CPU per
# request: both as ratios to the blocking yardstick; 05's processes switch
# address spaces, so 10% there). 05 serves at most 40 connections at once by
# default (max_children) and 06 16 (the pool), so at 64 clients they run
# with room for 64: a client left waiting in the backlog would measure that
# limit, not the design.
TARGETS = [("04_threading", [], [RR16, RR64], 0.95, 1.05),
           ("05_forking", [], [RR16], 0.95, 1.10),
           ("05_forking", ["--max-children", "64"], [RR64], 0.95, 1.10),
           ("06_thread_pool", [], [RR16], 0.95, 1.05),
           ("06_thread_pool", ["--workers", "64"], [RR64], 0.95, 1.05)]
# BENCH_ONLY=targets-c1: the CPU per request target at concurrency 1, where
# every TCP chapter has it, in both placements of the C1 loads: each
# chapter between two runs of the yardstick, as run_targets does at 16 and
# 64 clients (about 123 s a round: 1846 s for BENCH_ROUNDS=15). There is no requests/s target at one
# client (least: None): with one request in flight, requests/s is the
# wake-up's latency, the same for every design. The C1 loads are pinned
# already, so BENCH_PLACEMENT does not apply. Its rounds go to
# targets-c1.csv.
C1_TARGETS = [(chapter, args, C1, None, 1.10 if chapter == "05_forking" else 1.05)
              for chapter, args, _, loads in DESIGNS if loads in (ITERATIVE, CONCURRENT)]
# Yardsticks, C++ only: (name under tests/reference, design, loads).
REFERENCES = [
    ("blocking_echo", "yardstick: blocking threads", CONCURRENT),
    ("epoll_echo", "yardstick: epoll, 1 thread/core", CONCURRENT),
]
EXTRA = ["cpu_user_us", "cpu_sys_us", "syscalls_per_req", "ctx_per_req", "note"]
FIELDS = ["mode", "concurrency", "size", "seconds", "requests", "per_second", "p50_us",
          "p99_us", "max_us", "mb_per_second", "errors"]


def label(load):
    mode, concurrency, cpus = load
    return f"{mode} c={concurrency}" + (f" {cpus}cpu" if cpus else "")


def placed(load):
    """A target load as BENCH_PLACEMENT places it: pinned to one CPU with
    BENCH_PLACEMENT=1cpu, as it is (left to the scheduler) without; a load
    pinned already (the C1 loads) stays as it is."""
    mode, concurrency, cpus = load
    return (mode, concurrency, cpus or TARGET_CPUS)


def process_tree(pid):
    """pid and every live process below it (forked children, theirs...)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents.setdefault(int(f.read().rsplit(")", 1)[1].split()[1]), []).append(
                        int(entry))
            except OSError:
                pass  # gone meanwhile
    tree, todo = [], [pid]
    while todo:
        tree.append(todo.pop())
        todo.extend(parents.get(tree[-1], []))
    return tree


def cpu_seconds(pid):
    """User and system CPU of pid, of its live descendants, and of the
    children they have reaped (cutime/cstime), from /proc/PID/stat."""
    total = {"user": 0.0, "sys": 0.0}
    for member in process_tree(pid):
        try:
            with open(f"/proc/{member}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited and reaped: its time is now its parent's cutime
        total["user"] += (int(fields[11]) + int(fields[13])) / CLOCK_TICKS
        total["sys"] += (int(fields[12]) + int(fields[14])) / CLOCK_TICKS
    return total


def pin(pid, cpus):
    """Every thread of pid's process tree onto cpus; threads and children
    started later inherit it."""
    for member in process_tree(pid):
        try:
            for tid in os.listdir(f"/proc/{member}/task"):
                os.sched_setaffinity(int(tid), cpus)
        except OSError:
            pass  # a thread or process that ended meanwhile


def perf_works():
    if shutil.which("perf") is None:
        return False
    probe = subprocess.run(["perf", "stat", "-x,", "-e", "context-switches", "true"],
                           capture_output=True, text=True)
    return probe.returncode == 0 and "not supported" not in probe.stderr


PERF = perf_works()


def tracepoint_works(event):
    """Whether perf may count the tracepoint `event` on every CPU here."""
    probe = subprocess.run(["perf", "stat", "-x,", "-a", "-e", event, "true"],
                           capture_output=True, text=True)
    return probe.returncode == 0 and "not supported" not in probe.stderr


class PerfControl:
    """The two FIFOs of a perf that starts disabled (-D -1) and is enabled
    and disabled over them: `args` go on perf's command line; toggle()
    waits for perf's "ack", which says every thread is counted (or no
    longer), so a load can start at once: no sleep to wait for perf."""

    def __init__(self):
        folder = tempfile.mkdtemp(prefix="bench-perf-")
        ctl, ack = os.path.join(folder, "ctl"), os.path.join(folder, "ack")
        os.mkfifo(ctl)
        os.mkfifo(ack)
        # O_RDWR: opening a FIFO so never blocks, even if perf failed to start.
        self.ctl, self.ack = os.open(ctl, os.O_RDWR), os.open(ack, os.O_RDWR)
        self.args = ["-D", "-1", "--control", f"fifo:{ctl},{ack}"]
        self.folder = folder

    def toggle(self, command):
        """command: "enable" or "disable"."""
        os.write(self.ctl, command.encode() + b"\n")
        ready, _, _ = select.select([self.ack], [], [], 10)
        if not ready or not os.read(self.ack, 16).startswith(b"ack"):
            raise HarnessError(f"perf did not acknowledge '{command}' within 10 s")
        shutil.rmtree(self.folder, ignore_errors=True)  # the open FIFOs stay usable

    def close(self):
        os.close(self.ctl)
        os.close(self.ack)


class Counting:
    """perf stat on pid, its live children, and everything they start from
    now on, enabled over a PerfControl before the load starts."""

    def __init__(self, pid):
        self.perf = None
        if not PERF:
            return
        self.control = PerfControl()
        self.perf = subprocess.Popen(
            ["perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter,context-switches"] +
            self.control.args +
            # Every process of the tree: a pre-forked pool's children exist
            # already (those forked later are counted through inheritance).
            ["-p", ",".join(str(member) for member in process_tree(pid))],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.control.toggle("enable")

    def stop(self):
        """{'raw_syscalls:sys_enter': n, 'context-switches': n} from perf's CSV."""
        if self.perf is None:
            return {}
        self.perf.send_signal(signal.SIGINT)
        _, err = self.perf.communicate(timeout=30)
        self.control.close()
        counts = {}
        for line in err.splitlines():
            fields = line.split(",")
            if len(fields) > 2 and fields[0].isdigit():
                counts[fields[2]] = int(fields[0])
        return counts


def loadgen_argv(server, mode, concurrency, seconds):
    return [str(LOADGEN), "--host", server.host, "--port", str(server.port), "--mode", mode,
            "--concurrency", str(concurrency), "--duration", str(seconds)]


def run_load(server, mode, concurrency, seconds, client_cpus=None):
    """tests/loadgen against server for `seconds`, pinned to client_cpus if
    given: the finished process (its stdout is one CSV line of FIELDS)."""
    return subprocess.run(
        loadgen_argv(server, mode, concurrency, seconds),
        capture_output=True, text=True, timeout=seconds + 60,
        preexec_fn=(lambda: os.sched_setaffinity(0, client_cpus)) if client_cpus else None)


def pinned_load(server, load):
    """A function running `load` against server for some seconds; for a
    load pinned to CPUs, the server is pinned while it runs."""
    mode, concurrency, cpus = load
    client_cpus = None if not cpus else {0} if cpus == 1 else {1}

    def load_for(seconds):
        everywhere = os.sched_getaffinity(0)
        if cpus:
            pin(server.proc.pid, {0})
        try:
            return run_load(server, mode, concurrency, seconds, client_cpus)
        finally:
            if cpus:
                pin(server.proc.pid, everywhere)
    return load_for


def measure(server, load, warm_up=True):
    """Loadgen runs against a ready server: a dict of figures, or a note if
    the design cannot serve this concurrency. A first, shorter run warms
    the server up (unless warm_up is false), the second is timed. With
    BENCH_PERF_TIMED=1, perf counts the timed run; otherwise count() counts
    a run of its own, after every timed run of the server (see
    COUNT_SECONDS)."""
    load_for = pinned_load(server, load)
    result = load_for(COUNT_SECONDS) if warm_up else subprocess.CompletedProcess([], 0)
    counts = {}
    if result.returncode == 0:  # not if it could not be served
        perf = Counting(server.proc.pid) if PERF and PERF_TIMED and load[0] != "bulk" else None
        before = cpu_seconds(server.proc.pid)
        result = load_for(DURATION)
        after = cpu_seconds(server.proc.pid)
        if perf is not None:
            counts = perf.stop()
    if result.returncode != 0:
        return {"note": result.stderr.strip().removeprefix("error: ")}
    row = dict(zip(FIELDS, result.stdout.strip().split(",")))
    served = max(int(row["requests"]), 1)
    row["cpu_user_us"] = round((after["user"] - before["user"]) * 1e6 / served, 1)
    row["cpu_sys_us"] = round((after["sys"] - before["sys"]) * 1e6 / served, 1)
    add_counts(row, counts, served)
    return row


def count(server, load, row):
    """System calls and context switches per request, from perf stat over a
    run of COUNT_SECONDS, added to a row measure() timed."""
    if not PERF or PERF_TIMED or load[0] == "bulk" or "note" in row:
        return
    perf = Counting(server.proc.pid)
    result = pinned_load(server, load)(COUNT_SECONDS)
    counts = perf.stop()
    if result.returncode == 0:
        add_counts(row, counts, int(result.stdout.split(",")[FIELDS.index("requests")]))


def add_counts(row, counts, requests):
    if "raw_syscalls:sys_enter" in counts:
        requests = max(requests, 1)
        row["syscalls_per_req"] = round(counts["raw_syscalls:sys_enter"] / requests, 2)
        row["ctx_per_req"] = round(counts.get("context-switches", 0) / requests, 2)


def server_argv(chapter, args, impl):
    """The command line of a server on a port of its choosing: a yardstick
    (impl "ref", tests/reference/) or a chapter's C++ or Python server."""
    argv = ([str(ROOT / "tests" / "reference" / chapter)] if impl == "ref"
            else program(chapter, impl, "server"))
    return argv + args + ["--port", "0"]


def server_log(chapter, args, impl):
    """The file a server's stderr goes to (tests/bench/*.log), not a pipe."""
    return open(OUT / f"{chapter}{''.join(args)}-{impl}.log", "a")


def write_rounds(name, raw):
    """Every round's row of a run, to tests/bench/NAME (nothing if none)."""
    if raw:
        with open(OUT / name, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(raw[0]))
            writer.writeheader()
            writer.writerows(raw)


def run_design(chapter, args, impl, loads):
    log = server_log(chapter, args, impl)
    server = Server(server_argv(chapter, args, impl), cwd="/tmp", stderr=log)
    try:
        server.wait_ready()
        rows = {load: measure(server, load) for load in loads}
        # Counted after every timed run: a pool's threads that perf stat -p
        # attached to pay for it in the run just after (COUNT_SECONDS).
        for load in loads:
            count(server, load, rows[load])
        return rows
    finally:
        if server.proc.poll() is None:
            server.stop(timeout=10)
        log.close()


def median_row(rows):
    """The median of each numeric figure over the rounds; a note if no round
    could run the load."""
    ran = [r for r in rows if r and "note" not in r]
    if not ran:
        notes = [r["note"] for r in rows if r and "note" in r]
        return {"note": notes[0]} if notes else {}
    merged = {}
    for key in FIELDS + EXTRA:
        values = [r[key] for r in ran if r.get(key) not in (None, "")]
        if not values:
            continue
        try:
            merged[key] = statistics.median(float(v) for v in values)
        except ValueError:
            merged[key] = values[0]  # mode: a word
    merged["rounds"] = len(ran)
    return merged


def iperf3_mb_per_second():
    if shutil.which("iperf3") is None:
        return None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(["iperf3", "-s", "-1", "-B", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):  # iperf3 -s prints nothing useful to wait on: retry the client
            client = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(port),
                                     "-t", str(max(1, round(DURATION))), "-J"],
                                    capture_output=True, text=True, timeout=DURATION + 30)
            if client.returncode == 0:
                return json.loads(client.stdout)["end"]["sum_received"]["bits_per_second"] / 8e6
            time.sleep(0.1)
        return None
    finally:
        server.kill()
        server.wait()


def figure(row, mode):
    if not row or "note" in row:
        return None
    return float(row["mb_per_second"] if mode == "bulk" else row["per_second"])


def fmt(value, mode):
    if value is None:
        return "n/a"
    return f"{value:,.0f} MB/s" if mode == "bulk" else f"{value:,.0f}/s"


def spread(rows, mode):
    """Half the range of a figure over the rounds, in % of the median."""
    values = [figure(r, mode) for r in rows]
    values = [v for v in values if v]
    if len(values) < 2:
        return ""
    return f"±{(max(values) - min(values)) / 2 / statistics.median(values) * 100:.0f}%"


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (f"{os.cpu_count()} cores ({model}), Linux {platform.release()}, "
            f"g++ {subprocess.run(['g++', '-dumpfullversion'], capture_output=True, text=True).stdout.strip()}, "
            f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}")


def short(chapter):
    """'04_threading' -> '04', '08_udp --threading' -> '08t'."""
    name = chapter.removeprefix("reference/")
    if name != chapter:
        return name.split("_")[0]
    return chapter[:2] + ("t" if "--threading" in chapter else "")


def chart(rows, iperf):
    if shutil.which("gnuplot") is None:
        print("(no gnuplot: chart skipped; sudo apt-get install gnuplot-nox)")
        return
    data = OUT / "chart.dat"
    with open(data, "w") as f:
        for r in rows:
            if r["mode"] in ("rr", "udp"):
                f.write(f'"{short(r["chapter"])} {r["load"]}" {r["cpp"] or 0} {r["py"] or 0}\n')
    bulk = OUT / "bulk.dat"
    with open(bulk, "w") as f:
        for r in rows:
            if r["mode"] == "bulk":
                f.write(f'"{short(r["chapter"])}" {r["cpp"] or 0} {r["py"] or 0}\n')
        if iperf:
            f.write(f'"iperf3" {iperf} 0\n')
    script = f"""
set terminal pngcairo size 1600,900 font ',9' noenhanced
set output '{OUT / "chart.png"}'
set multiplot layout 2,1 title 'Echo servers of this tutorial, C++ and Python, medians of {ROUNDS} rounds (make bench; {machine()})'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set grid ytics
set key left top
set xtics rotate by -40
set ylabel 'requests per second'
set title 'Request/response, 64-byte messages, by chapter, load and CPUs (blocking, epoll: yardsticks; 08t: --threading; no bar: n/a)'
plot '{data}' using 2:xtic(1) title 'C++' lc rgb '#1f77b4', '' using 3 title 'Python' lc rgb '#ff7f0e'
set ylabel 'MB/s echoed'
set title 'Bulk echo (1 KiB lines) by chapter, and iperf3 one-way on loopback'
plot '{bulk}' using 2:xtic(1) title 'C++ (and iperf3)' lc rgb '#1f77b4', '' using 3 title 'Python' lc rgb '#ff7f0e'
unset multiplot
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    data.unlink()
    bulk.unlink()


def design_table(results, plan, first):
    """The classic design table: one row per design and language."""
    table("\nThe server designs at concurrency 16 (medians of the rounds; per connection: "
          "connect, one request per connection; per request: rr, long connections;\n"
          "ctx/conn c=1: one client at a time, the pool idle)\n",
          f"{'design':<22} {'chapter':<30} {'lang':<6} {'conn/s':>8} {'CPU us/conn':>11} "
          f"{'ctx/conn':>8} {'calls/conn':>10} {'req/s':>8} {'CPU us/req':>10} "
          f"{'calls/req':>9} {'ctx/conn c=1':>12}")
    for index in range(first, len(plan)):
        chapter, args, design, loads, impl = plan[index]
        connect, rr, idle = (median_row(results[(index, load)]) for load in DESIGN_LOADS)

        def get(row, key, form):
            return form.format(row[key]) if row.get(key) not in (None, "") else "n/a"

        def cpu(row):
            if row.get("cpu_user_us") is None:
                return "n/a"
            return f"{row['cpu_user_us'] + row['cpu_sys_us']:.1f}"
        print(f"{design:<22} {' '.join([chapter[:2]] + args):<30} "
              f"{'C++' if impl == 'cpp' else 'Python':<6} "
              f"{get(connect, 'per_second', '{:,.0f}'):>8} {cpu(connect):>11} "
              f"{get(connect, 'ctx_per_req', '{:.2f}'):>8} "
              f"{get(connect, 'syscalls_per_req', '{:.2f}'):>10} "
              f"{get(rr, 'per_second', '{:,.0f}'):>8} {cpu(rr):>10} "
              f"{get(rr, 'syscalls_per_req', '{:.2f}'):>9} "
              f"{get(idle, 'ctx_per_req', '{:.2f}'):>12}")


OUTPUT = []  # every line printed, written to tests/bench/last-run.txt at the end
_print = print


def check_build():
    """Exits unless the load generator, the yardsticks and the servers are
    all the release build. A sanitizer build costs several times the CPU,
    and a tree can hold one half-relinked (`make SANITIZE=thread test`, then
    `make` rebuilds the chapters but not tests/): measured so, a yardstick
    looks slow and every chapter fast. `make bench` builds them first."""
    stamp = ROOT / ".build" / "variant"  # common/build.mk: the variant last linked
    variant = stamp.read_text().strip() if stamp.exists() else "none"
    binaries = [LOADGEN] + [ROOT / "tests" / "reference" / name for name, _, _ in REFERENCES] + \
        [ROOT / chapter / "server" for chapter in CHAPTERS]
    stale = [str(b.relative_to(ROOT)) for b in binaries
             if not b.exists() or (stamp.exists() and b.stat().st_mtime < stamp.stat().st_mtime)]
    if not variant.startswith("release"):
        sys.exit(f"error: make bench measures the release build, and this tree was last "
                 f"built as {variant}; run: make bench")
    if stale:
        sys.exit(f"error: {', '.join(stale[:3])}{' ...' if len(stale) > 3 else ''} not rebuilt "
                 f"since the last build changed its variant; run: make bench")


def print(*args, **kwargs):  # noqa: A001 -- the table goes to the screen and to the file
    _print(*args, **kwargs)
    if kwargs.get("file") is None:
        OUTPUT.extend(" ".join(str(a) for a in args).split("\n"))


def main():
    if sys.argv[1:2] == ["--intervals"]:
        intervals_table([Path(name) for name in sys.argv[2:]] or [OUT / "targets.csv"])
        return
    if sys.argv[1:2] == ["--design-targets"]:
        design_targets_table([Path(name) for name in sys.argv[2:]] or [OUT / "designs.csv"])
        return
    if PLACEMENT not in ("", "1cpu"):
        sys.exit(f"error: BENCH_PLACEMENT={PLACEMENT}: the only placement is 1cpu")
    if PLACEMENT and ONLY != "targets":
        sys.exit("error: BENCH_PLACEMENT=1cpu places the targets run at 16 and 64 clients "
                 "only: add BENCH_ONLY=targets")
    if sys.argv[1:]:
        sys.exit("usage: python3 tests/bench.py [--intervals [FILE ...] | --design-targets "
                 "[FILE ...]]  (make bench runs it)")
    if not sys.platform.startswith("linux"):
        sys.exit("make bench: its load generator and yardsticks use epoll, which only Linux "
                 "has; skipped here (make test runs everything else)")
    check_build()
    if ONLY == "pairs-c1" and not TWO_CPUS:
        sys.exit("error: BENCH_ONLY=pairs-c1 puts the two servers of a pair on two CPUs; "
                 "this machine gives us one")
    if ONLY == "switches" and not (PERF and tracepoint_works("tlb:tlb_flush")):
        sys.exit("error: BENCH_ONLY=switches needs perf allowed to count the tracepoints "
                 "sched:sched_switch and tlb:tlb_flush (x86 only): run as root on x86-64")
    if ONLY in ("split", "aftermath") and not PERF:
        sys.exit(f"error: BENCH_ONLY={ONLY} needs perf (Debian's linux-perf) allowed to "
                 f"{'sample' if ONLY == 'split' else 'count'}: run as root, or with "
                 "kernel.perf_event_paranoid <= 0")
    OUT.mkdir(exist_ok=True)
    for old in OUT.glob("*.log"):
        old.unlink()
    started = time.monotonic()
    print(f"make bench: {DURATION:g} s per run, {ROUNDS} rounds, loopback, on {machine()}"
          f"{'; perf attached to the timed runs (BENCH_PERF_TIMED=1)' if PERF_TIMED else ''}"
          f"{'; every target run on one CPU (BENCH_PLACEMENT=1cpu)' if TARGET_CPUS else ''}\n",
          flush=True)
    if ONLY == "split":
        run_split()
        print(f"\nresults: tests/bench/{SPLIT_CSV} ({time.monotonic() - started:.0f} s)")
        (OUT / "split-run.txt").write_text("\n".join(OUTPUT) + "\n")
        return
    if ONLY == "switches":
        run_switches()
        print(f"\nresults: tests/bench/{SWITCHES_CSV} ({time.monotonic() - started:.0f} s)")
        (OUT / "switches-run.txt").write_text("\n".join(OUTPUT) + "\n")
        return
    if ONLY == "aftermath":
        run_aftermath()
        print(f"\nresults: tests/bench/aftermath.csv ({time.monotonic() - started:.0f} s)")
        (OUT / "aftermath-run.txt").write_text("\n".join(OUTPUT) + "\n")
        return
    if ONLY in ("pairs", "pairs-c1"):
        csv_name = PAIRS_C1_CSV if ONLY == "pairs-c1" else PAIRS_CSV
        if ONLY == "pairs-c1":
            run_pairs(PAIRS_C1_TARGETS, [ONE_CLIENT_ONE_CPU], csv_name)
        else:
            run_pairs()
        print(f"\nresults: tests/bench/{csv_name} ({time.monotonic() - started:.0f} s)")
        (OUT / csv_name.replace(".csv", "-run.txt")).write_text("\n".join(OUTPUT) + "\n")
        return
    if ONLY in ("targets", "targets-c1"):
        run_targets(C1_TARGETS if ONLY == "targets-c1" else TARGETS)
        print(f"\nresults: tests/bench/{TARGETS_CSV} ({time.monotonic() - started:.0f} s)")
        (OUT / TARGETS_CSV.replace(".csv", "-run.txt")).write_text("\n".join(OUTPUT) + "\n")
        return
    plan = [] if ONLY == "designs" else (
        [(name, [], design, loads, "ref") for name, design, loads in REFERENCES] +
        [(chapter, args, design, loads, impl) for chapter, args, design, loads in DESIGNS
         for impl in ("cpp", "py")])
    design_plan = [(chapter, args, design, DESIGN_LOADS, impl)
                   for design, chapter, args in DESIGN_TABLE for impl in ("cpp", "py")]
    plan_size = len(plan)
    plan += design_plan
    results = {}  # (plan index, load) -> [row of each round]
    raw = []
    for round_ in range(1, ROUNDS + 1):
        print(f"  round {round_} of {ROUNDS}: {len(plan)} servers ...", flush=True)
        # Each round starts one server later in the plan, so that no server
        # always runs first, last, or just after the same neighbour: a
        # server's place in the round (a CPU still busy with the previous
        # one's teardown, say) must not become its figure.
        start = (round_ - 1) % len(plan)
        for index in list(range(start, len(plan))) + list(range(start)):
            chapter, args, design, loads, impl = plan[index]
            try:
                rows = run_design(chapter, args, impl, loads)
            except (HarnessError, subprocess.TimeoutExpired) as e:
                print(f"    {chapter} {' '.join(args)} [{impl}] failed: {e}")
                rows = {}
            for load in loads:
                row = rows.get(load) or {}
                results.setdefault((index, load), []).append(row)
                raw.append({"round": round_, "chapter": " ".join([chapter] + args),
                            "design": design, "impl": impl, "cpus": load[2] or "",
                            **{k: row.get(k, "") for k in FIELDS + EXTRA},
                            "mode": load[0], "concurrency": load[1]})
    iperf = iperf3_mb_per_second() if ONLY != "designs" else None

    # A BENCH_ONLY=designs run keeps the whole run's files as they are.
    prefix = "designs" if ONLY == "designs" else "results"
    with open(OUT / f"{prefix}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["round", "chapter", "design", "impl", "cpus"] +
                                FIELDS + EXTRA)
        writer.writeheader()
        writer.writerows(raw)
        if ONLY != "designs":
            writer.writerow({"chapter": "iperf3", "design": "iperf3 -c 127.0.0.1 (one way)",
                             "impl": "iperf3", "mode": "bulk", "mb_per_second":
                             f"{iperf:.1f}" if iperf else "", "note": "" if iperf else "not installed"})
    if ONLY != "designs":
        (OUT / "machine.txt").write_text(machine() + "\n")

    # One table row per chapter and load: the C++ (or yardstick) median and
    # the Python median side by side.
    rows = []
    for index, (chapter, args, design, loads, impl) in enumerate(plan[:plan_size]):
        if impl == "py":
            continue
        for load in loads:
            name = f"reference/{chapter}" if impl == "ref" else " ".join([chapter] + args)
            cpp_rounds = results[(index, load)]
            py_rounds = results.get((index + 1, load), []) if impl == "cpp" else []
            cpp, py = median_row(cpp_rounds), median_row(py_rounds)
            rows.append({"chapter": name, "design": design, "mode": load[0],
                         "concurrency": load[1], "load": label(load),
                         "cpp": figure(cpp, load[0]), "py": figure(py, load[0]),
                         "cpp_row": cpp, "py_row": py, "spread": spread(cpp_rounds, load[0])})

    if ONLY != "designs":
        main_table(rows, iperf)
    design_table(results, plan, plan_size)
    # The pool issue's targets, each round's ratio, from the rounds just kept.
    design_targets_table([OUT / f"{prefix}.csv"])
    print(f"\nresults: tests/bench/{prefix}.csv"
          f"{'' if ONLY == 'designs' else ', chart: tests/bench/chart.png'} "
          f"({time.monotonic() - started:.0f} s)")
    if OUTPUT:
        (OUT / ("designs-run.txt" if ONLY == "designs" else "last-run.txt")).write_text(
            "\n".join(OUTPUT) + "\n")


def table(title, header):
    """A table's title (after an empty line), its header and its rule."""
    print(title)
    print(header)
    print("-" * len(header))


def run_targets(targets=TARGETS):
    """BENCH_ONLY=targets: each target row against the blocking yardstick
    (BENCH_ONLY=targets-c1: each of C1_TARGETS).
    One run of a server moves by 10-20% from the next on this machine.
    Whatever part of that is a slow drift of the machine (a neighbour's
    load, the clock) the yardstick just before and just after shares, so
    each chapter's run is put between two runs of the yardstick (Y A Y B Y
    ...: every yardstick run is the after of one chapter and the before of
    the next) and divided by their mean; the part that is noise from one
    run to the next only more rounds narrow. Each round starts one chapter
    later, so that none is always first or last. The table gives the median
    of those ratios over the rounds, and a 95% confidence interval for it;
    every round's ratios and the figures behind them go to
    tests/bench/targets.csv (TARGETS_CSV), so that a table can be checked, or two runs
    pooled, without running again. The yardstick runs every load that
    one of the targets does."""
    order = list(range(len(targets)))
    ratios = {}  # (target index, load) -> [(req/s ratio, CPU ratio, chapter row)]
    raw = []  # one row of targets.csv per round, chapter and load
    yardstick_loads = list(dict.fromkeys(placed(load) for _, _, loads, _, _ in targets
                                         for load in loads))

    def yardstick():
        try:
            return run_design("blocking_echo", [], "ref", yardstick_loads)
        except (HarnessError, subprocess.TimeoutExpired) as e:
            print(f"    blocking_echo failed: {e}")
            return {}

    for round_ in range(1, ROUNDS + 1):
        print(f"  round {round_} of {ROUNDS}: {len(targets)} servers, each between two "
              "runs of the yardstick ...", flush=True)
        before = yardstick()
        shift = (round_ - 1) % len(order)
        for index in order[shift:] + order[:shift]:
            chapter, args, loads, _, _ = targets[index]
            try:
                rows = run_design(chapter, args, "cpp", [placed(load) for load in loads])
            except (HarnessError, subprocess.TimeoutExpired) as e:
                print(f"    {chapter} {' '.join(args)} failed: {e}")
                rows = {}
            after = yardstick()
            for load in loads:
                c, b, a = (runs.get(placed(load), {}) for runs in (rows, before, after))
                if not all(r.get("per_second") for r in (c, b, a)):
                    ratios.setdefault((index, load), []).append((None, None, c))
                    continue
                speed = float(c["per_second"]) / ((float(b["per_second"]) +
                                                   float(a["per_second"])) / 2)
                cost = cpu_per_request(c) / ((cpu_per_request(b) + cpu_per_request(a)) / 2)
                ratios.setdefault((index, load), []).append((speed, cost, c))
                raw.append({"round": round_, "chapter": " ".join([chapter] + args),
                            "load": label(placed(load)), "req_s_ratio": f"{speed:.4f}",
                            "cpu_ratio": f"{cost:.4f}", "req_s": c["per_second"],
                            "req_s_before": b["per_second"], "req_s_after": a["per_second"],
                            "cpu_us": f"{cpu_per_request(c):.3f}",
                            "cpu_us_before": f"{cpu_per_request(b):.3f}",
                            "cpu_us_after": f"{cpu_per_request(a):.3f}"})
            before = after
    write_rounds(TARGETS_CSV, raw)
    targets_table(ratios, targets)


# BENCH_ONLY=split: where each target row's CPU goes, in the kernel or in
# the server's own code (run_split). perf samples the CPU clock this often
# on each CPU: some 9,000 samples of a server in a run of 2 s.
SPLIT_CSV = "split.csv"
SAMPLE_HZ = 4999


def samples_by_space(report):
    """(samples in user space, all samples) from the text of `perf report
    --stdio --sort dso -F sample,dso`: a line a DSO, its count first. The
    kernel's DSOs are [kernel.kallsyms] and its modules ([kernel.*]); every
    other one (the program, libc, libstdc++, [vdso]) is user space."""
    user = total = 0
    for line in report.splitlines():
        fields = line.split(None, 1)
        if line.startswith("#") or len(fields) != 2 or not fields[0].isdigit():
            continue
        total += int(fields[0])
        if not fields[1].strip().startswith("[kernel"):
            user += int(fields[0])
    return user, total


def user_share(chapter, args, impl, load):
    """(user samples, all samples) of one run under load: perf record starts
    the server, so every thread and child it ever has inherits the same
    events, a pool made before the load as much as a thread made for a
    connection (perf attached later treats them differently: COUNT_SECONDS),
    and records only while the load runs (enabled over its PerfControl)."""
    mode, concurrency, _ = load
    control = PerfControl()
    data = Path(control.folder + ".data")
    log = server_log(chapter, args, impl)
    server = Server(["perf", "record", "-q", "-e", "cpu-clock", "-F", str(SAMPLE_HZ),
                     "-o", str(data)] + control.args + ["--"] + server_argv(chapter, args, impl),
                    cwd="/tmp", stderr=log)
    try:
        server.wait_ready()
        control.toggle("enable")
        result = run_load(server, mode, concurrency, DURATION)
        control.toggle("disable")
    finally:
        if server.proc.poll() is None:
            server.stop(timeout=30)  # perf ends the server, then writes its file
        control.close()
        log.close()
    try:
        if result.returncode != 0:
            raise HarnessError(result.stderr.strip())
        report = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "-g", "none",
                                 "--sort", "dso", "-F", "sample,dso"],
                                capture_output=True, text=True, timeout=120)
    finally:
        data.unlink(missing_ok=True)
    return samples_by_space(report.stdout)


def split_ratio(yardstick_share, chapter_share):
    """The chapter's CPU per request over the yardstick's, if the kernel's
    work per request is the same for both (the same system calls on the same
    bytes, as many context switches): K / (1 - u) each, so the ratio is
    (1 - u_yardstick) / (1 - u_chapter)."""
    return (1 - yardstick_share) / (1 - chapter_share)


def run_split():
    """BENCH_ONLY=split: each target row's CPU per request, split into the
    kernel's part and its own code's (user space). Timed, CPU per request
    moves by 10-20% from one run to the next on this machine, the
    yardstick's as much as a chapter's, and 60 rounds (BENCH_ONLY=targets)
    leave intervals several points wide. The share of it spent in user
    space is a count of samples, some 9,000 a run, and moves by a quarter
    to three quarters of a point (its standard deviation over 12 rounds).
    If the kernel's part is the same for a chapter and the yardstick, as it
    should be where they make the same calls (the calls/req and ctx/req of
    the targets table), their ratio of CPU per request follows from the two
    shares (split_ratio); the README says where the timed ratios disagree.
    Each round profiles the yardstick at each load, then every target row,
    starting one row later each round; tests/bench/split.csv keeps every
    profile."""
    shares = {}  # (target index or None for the yardstick, load) -> [share of each round]
    ratios = {}  # (target index, load) -> [split_ratio of each round]
    raw = []

    def profile(round_, index, chapter, args, impl, load):
        try:
            user, total = user_share(chapter, args, impl, load)
        except (HarnessError, subprocess.TimeoutExpired) as e:
            print(f"    {chapter} {' '.join(args)} {label(load)} failed: {e}")
            return None
        if not total:
            print(f"    {chapter} {' '.join(args)} {label(load)}: perf took no samples")
            return None
        raw.append({"round": round_, "chapter": " ".join([chapter] + args), "load": label(load),
                    "user_samples": user, "samples": total, "user_share": f"{user / total:.4f}"})
        shares.setdefault((index, load), []).append(user / total)
        return user / total

    order = list(range(len(TARGETS)))
    for round_ in range(1, ROUNDS + 1):
        print(f"  round {round_} of {ROUNDS}: the yardstick and {len(TARGETS)} servers "
              "under perf record ...", flush=True)
        yardstick = {load: profile(round_, None, "blocking_echo", [], "ref", load)
                     for load in TARGET_LOADS}
        shift = (round_ - 1) % len(order)
        for index in order[shift:] + order[:shift]:
            chapter, args, loads, _, _ = TARGETS[index]
            for load in loads:
                share = profile(round_, index, chapter, args, "cpp", load)
                if share is not None and yardstick[load] is not None:
                    ratios.setdefault((index, load), []).append(
                        split_ratio(yardstick[load], share))
    write_rounds(SPLIT_CSV, raw)
    split_table(shares, ratios)


def split_table(shares, ratios):
    table("\nCPU per request, split: the share of perf's CPU-clock samples in user space "
          "(the server's own code\nand its libraries), median over the rounds; the CPU/req "
          "ratio to the yardstick that the two shares give\nif the kernel's part is the "
          "same for both, (1 - share of the yardstick) / (1 - share), [95% interval]\n",
          f"{'chapter':<35} {'load':<7} {'rounds':>6} {'user share':>10}  "
          f"{'CPU/req ratio':>21} {'target':>6}  met")
    for load in TARGET_LOADS:
        runs = shares.get((None, load), [])
        share = f"{statistics.median(runs):.2%}" if runs else "n/a"
        print(f"{'reference/blocking_echo':<35} {label(load):<7} {len(runs):>6} {share:>10}")
    for index, (chapter, args, loads, _, most) in enumerate(TARGETS):
        name = " ".join([chapter] + args)
        for load in loads:
            runs, split = shares.get((index, load), []), ratios.get((index, load), [])
            if not split:
                print(f"{name:<35} {label(load):<7} n/a: no profile")
                continue
            cost = median_interval(split)
            print(f"{name:<35} {label(load):<7} {len(split):>6} {statistics.median(runs):>10.2%}  "
                  f"{cost[0]:.3f} [{cost[1]:.3f}-{cost[2]:.3f}] {'<=' + format(most, '.2f'):>6}  "
                  f"{verdict(cost, most=most):>3}")


# BENCH_ONLY=pairs: CPU per request with the host's noise cancelled
# (run_pairs). Each pair is a chapter and the yardstick, served at the same
# time, each by a load generator of its own.
PAIRS_CSV = "pairs.csv"
# BENCH_ONLY=pairs-c1: the same at one client, for the CPU per request
# target there (C1_TARGETS). Run one after the other on one CPU, the
# yardstick lands 0.152 from its run before (--intervals tests/bench/targets-c1.csv), too much
# for a 5% target in 15 rounds. A pair at one client puts each server with
# its load generator on a CPU of its own, and the two swap CPUs every
# round. Measured, it does not cancel the host's noise as the pairs at 16
# and 64 clients do: the yardstick against itself moves 0.104 a round
# (pairs-c1-run.txt), against 0.033 at 16 clients. The
# placement across two CPUs needs two for each server of a pair: four,
# which a 2-core machine has not, so it is not paired. About 30 s a round.
PAIRS_C1_CSV = "pairs-c1.csv"
ONE_CLIENT_ONE_CPU = ("rr", 1, 1)
PAIRS_C1_TARGETS = [(chapter, args, [ONE_CLIENT_ONE_CPU], least, most)
                    for chapter, args, _, least, most in C1_TARGETS]


def serve_pair(servers, load, cpus=None):
    """Two servers ([chapter, args, impl] each), started together and loaded
    together, each by its own tests/loadgen: a 1 s warm-up, then a timed run
    of DURATION. cpus, if given, is a set of CPUs for each server: it and
    its load generator are pinned there. {"per_second", "cpu_us"} of each,
    in the order given."""
    mode, concurrency, _ = load
    logs = [server_log(*server) for server in servers]
    running = []
    try:
        for server, log in zip(servers, logs):
            running.append(Server(server_argv(*server), cwd="/tmp", stderr=log))
        for server in running:
            server.wait_ready()
        for server, where in zip(running, cpus or []):
            pin(server.proc.pid, where)  # its threads and children to come inherit it

        def both(seconds):
            loads = [subprocess.Popen(
                loadgen_argv(server, mode, concurrency, seconds),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                preexec_fn=(lambda where=where: os.sched_setaffinity(0, where)) if where else None)
                for server, where in zip(running, cpus or [None] * len(running))]
            outputs = [load_.communicate(timeout=seconds + 60) for load_ in loads]
            for load_, (_, err) in zip(loads, outputs):
                if load_.returncode != 0:
                    raise HarnessError(err.strip().removeprefix("error: "))
            return [dict(zip(FIELDS, out.strip().split(","))) for out, _ in outputs]

        both(1)  # every thread and cache in its steady state, in both servers
        before = [cpu_seconds(server.proc.pid) for server in running]
        rows = both(DURATION)
        after = [cpu_seconds(server.proc.pid) for server in running]
    finally:
        for server in running:
            if server.proc.poll() is None:
                server.stop(timeout=10)
        for log in logs:
            log.close()
    figures = []
    for row, b, a in zip(rows, before, after):
        served = max(int(row["requests"]), 1)
        figures.append({"per_second": float(row["per_second"]),
                        "cpu_us": (a["user"] - b["user"] + a["sys"] - b["sys"]) * 1e6 / served})
    return figures


def host_speed():
    """The CPU time (us) of one fixed loop of Python code on each CPU, run by
    this thread pinned to it in turn, and the machine's steal time so far
    (ticks, /proc/stat): what the host gives a virtual CPU, with nothing
    else of ours running."""
    everywhere = os.sched_getaffinity(0)
    times = []
    try:
        for cpu in sorted(everywhere):
            os.sched_setaffinity(0, {cpu})
            start, x = time.thread_time_ns(), 0
            for i in range(20000):
                x += i * i
            times.append((time.thread_time_ns() - start) / 1000)
    finally:
        os.sched_setaffinity(0, everywhere)
    with open("/proc/stat") as f:
        steal = int(f.readline().split()[8])
    return times, steal


def run_pairs(targets=TARGETS, controls=TARGET_LOADS, csv_name=PAIRS_CSV):
    """BENCH_ONLY=pairs: each target row's CPU per request against the
    yardstick's, both served at the same time. Run one after the other, a
    run's CPU per request moves by 10-20% from the next on this machine:
    the host runs a virtual CPU at full speed or slower, and a fixed loop
    of user code takes up to twice as long at times, with little steal
    time to show for it (host_speed, the README's pairs section).
    Two servers loaded at once share that state, so their ratio does not
    move with it. A pair of the yardstick with itself shows what is left of
    the noise. Each round runs those controls, then every target row,
    starting one row later each round, and which of the two is started
    first alternates; tests/bench/pairs.csv keeps every pair.
    BENCH_ONLY=pairs-c1 runs PAIRS_C1_TARGETS so, at one client: a load
    pinned to one CPU puts the server given first, with its load
    generator, on CPU 0 and the other on CPU 1 (pairs-c1.csv)."""
    yardstick = ["blocking_echo", [], "ref"]
    ratios = {}  # (target index or None for the control, load) -> [CPU ratio of each round]
    raw = []
    order = list(range(len(targets)))
    loops, (_, steal_before) = [], host_speed()
    for round_ in range(1, ROUNDS + 1):
        print(f"  round {round_} of {ROUNDS}: the yardstick with itself, then {len(targets)} "
              "servers, each with the yardstick ...", flush=True)
        shift = (round_ - 1) % len(order)
        plan = [(None, yardstick, load) for load in controls] + [
            (index, [targets[index][0], targets[index][1], "cpp"], load)
            for index in order[shift:] + order[:shift] for load in targets[index][2]]
        for index, server, load in plan:
            name = " ".join([server[0]] + server[1])
            first = round_ % 2 == 1  # the chapter's server started first in odd rounds
            cpus = [{0}, {1}] if load[2] == 1 else None  # and on CPU 0, if pinned
            try:
                pair = serve_pair([server, yardstick] if first else [yardstick, server], load,
                                  cpus)
            except (HarnessError, subprocess.TimeoutExpired) as e:
                print(f"    {name} {label(load)} failed: {e}")
                continue
            chapter, reference = pair if first else pair[::-1]
            ratio = chapter["cpu_us"] / reference["cpu_us"]
            loop, _ = host_speed()  # just after the pair, while the host is as it was
            loops.extend(loop)
            ratios.setdefault((index, load), []).append(ratio)
            raw.append({"round": round_, "chapter": name, "load": label(load),
                        "cpu_ratio": f"{ratio:.4f}",
                        "cpu_us": f"{chapter['cpu_us']:.3f}",
                        "cpu_us_yardstick": f"{reference['cpu_us']:.3f}",
                        "req_s": f"{chapter['per_second']:.0f}",
                        "req_s_yardstick": f"{reference['per_second']:.0f}",
                        "loop_us": " ".join(f"{us:.0f}" for us in loop)})
    write_rounds(csv_name, raw)
    pairs_table(ratios, targets, controls)
    _, steal_after = host_speed()
    host_table(loops, steal_after - steal_before)


def pairs_table(ratios, targets=TARGETS, controls=TARGET_LOADS):
    table("\nCPU per request, head to head: each server and the yardstick loaded at the "
          "same time; the ratio of\ntheir CPU per request (user + system), median over the "
          "rounds [95% interval], and its standard\ndeviation over the rounds\n",
          f"{'chapter':<35} {'load':<7} {'rounds':>6}  {'CPU/req ratio':>21} {'sd':>5} "
          f"{'target':>6}  met")
    rows = [("reference/blocking_echo (itself)", None, controls, None)] + [
        (" ".join([chapter] + args), index, loads, most)
        for index, (chapter, args, loads, _, most) in enumerate(targets)]
    for name, index, loads, most in rows:
        for load in loads:
            runs = ratios.get((index, load), [])
            if not runs:
                print(f"{name:<35} {label(load):<7} n/a: no pair ran")
                continue
            cost = median_interval(runs)
            sd = f"{statistics.stdev(runs):.3f}" if len(runs) > 1 else "n/a"
            target, met = ("", "") if most is None else (f"<={most:.2f}", verdict(cost, most=most))
            print(f"{name:<35} {label(load):<7} {len(runs):>6}  "
                  f"{cost[0]:.3f} [{cost[1]:.3f}-{cost[2]:.3f}] {sd:>5} {target:>6}  {met:>3}"
                  .rstrip())


def host_table(loops, steal):
    """How fast the host ran the same loop of user code, timed after every
    pair on every CPU (host_speed), and the steal time it owned up to."""
    if not loops:
        return
    fastest = min(loops)
    slow = sum(us >= 1.3 * fastest for us in loops)
    print(f"\nThe host: one fixed loop of Python code, timed {len(loops)} times (after every "
          f"pair, on each CPU):\nfastest {fastest:.0f} us, median {statistics.median(loops):.0f} "
          f"us, slowest {max(loops):.0f} us ({max(loops) / fastest:.2f}x the fastest); "
          f"{slow} of {len(loops)} at 1.3x or more;\nsteal time over the run: {steal} ticks "
          f"of 1/{CLOCK_TICKS} s")


# BENCH_ONLY=switches: which context switches change the address space,
# and which of those flush the whole TLB (run_switches). On one CPU with
# its clients, 05 misses both targets at 16 clients where 04 and 06 meet
# the requests/s one (the README's targets); its system calls and context
# switches per request are theirs. The kernel's tlb:tlb_flush tracepoint
# (x86) fires on every switch to another address space, reason 0 ("flush
# on task switch"), with pages 0 when the CPU still holds that address
# space's TLB entries under a PCID of its own, and pages -1 (all) when it
# does not: the kernel keeps the last 6 address spaces of each CPU
# (TLB_NR_DYN_ASIDS, arch/x86/include/asm/tlbflush.h), and 05's 16
# processes and the load generator are 17.
SWITCHES_CSV = "switches.csv"
SWITCH_SERVERS = [("blocking_echo", [], "ref"), ("04_threading", [], "cpp"),
                  ("05_forking", [], "cpp"), ("06_thread_pool", [], "cpp")]
SWITCH_LOADS = [ONE_CLIENT_ONE_CPU, ("rr", 16, 1), RR16]
SWITCH_EVENTS = [("switches", "sched:sched_switch", None),
                 ("address_space", "tlb:tlb_flush", "reason == 0"),
                 ("tlb_flushed", "tlb:tlb_flush", "reason == 0 && pages != 0")]


def switch_counter(load):
    """perf stat's command line, to go before the load generator's: the
    events of SWITCH_EVENTS on every CPU the load runs on, CPU 0 for a
    load pinned to one, all of them for a load left to the scheduler."""
    events = []
    for _, event, condition in SWITCH_EVENTS:
        events += ["-e", event] + (["--filter", condition] if condition else [])
    return ["perf", "stat", "-x,"] + (["-C", "0"] if load[2] == 1 else ["-a"]) + events + ["--"]


def switch_counts(stderr):
    """perf stat -x, output: the counts of SWITCH_EVENTS, in their order
    (two events of one name are told apart by it), by their SWITCH_EVENTS
    name."""
    counts = [int(line.split(",")[0]) for line in stderr.splitlines()
              if len(line.split(",")) > 2 and line.split(",")[0].isdigit()]
    if len(counts) != len(SWITCH_EVENTS):
        said = stderr.strip().splitlines()[-1] if stderr.strip() else "no output"
        raise HarnessError(f"perf stat counted {len(counts)} events, not {len(SWITCH_EVENTS)}: "
                           f"{said}")
    return dict(zip([name for name, _, _ in SWITCH_EVENTS], counts))


def count_switches(server, load):
    """One warm-up run of the load, then one under switch_counter: the
    counts per request, {name: per request}. A load pinned to one CPU
    pins the server and the load generator to CPU 0 while it runs, as
    pinned_load does, and lets the server go after: the next load may be
    one left to the scheduler."""
    mode, concurrency, cpus = load
    pinned_load(server, load)(1)
    everywhere = os.sched_getaffinity(0)
    if cpus:
        pin(server.proc.pid, {0})
    try:
        result = subprocess.run(
            switch_counter(load) + loadgen_argv(server, mode, concurrency, DURATION),
            capture_output=True, text=True, timeout=DURATION + 60,
            preexec_fn=(lambda: os.sched_setaffinity(0, {0})) if cpus else None)
    finally:
        if cpus:
            pin(server.proc.pid, everywhere)
    if result.returncode != 0:
        raise HarnessError(result.stderr.strip().splitlines()[-1] if result.stderr.strip()
                           else f"perf stat exited with {result.returncode}")
    requests = max(int(result.stdout.split(",")[FIELDS.index("requests")]), 1)
    return {name: n / requests for name, n in switch_counts(result.stderr).items()}


def run_switches():
    """BENCH_ONLY=switches: SWITCH_SERVERS under SWITCH_LOADS, each counted
    by count_switches in every round; counts, not timings, so a few
    rounds do (BENCH_ROUNDS=3)."""
    per_request = {}  # (server index, load) -> [{name: per request} of each round]
    raw = []
    for round_ in range(1, ROUNDS + 1):
        print(f"  round {round_} of {ROUNDS}: {len(SWITCH_SERVERS)} servers ...", flush=True)
        for index, (chapter, args, impl) in enumerate(SWITCH_SERVERS):
            log = server_log(chapter, args, impl)
            server = Server(server_argv(chapter, args, impl), cwd="/tmp", stderr=log)
            try:
                server.wait_ready()
                for load in SWITCH_LOADS:
                    try:
                        counts = count_switches(server, load)
                    except (HarnessError, subprocess.TimeoutExpired) as e:
                        print(f"    {chapter} {label(load)} failed: {e}")
                        continue
                    per_request.setdefault((index, load), []).append(counts)
                    raw.append({"round": round_, "chapter": " ".join([chapter] + args),
                                "load": label(load),
                                **{name: f"{n:.4f}" for name, n in counts.items()}})
            finally:
                if server.proc.poll() is None:
                    server.stop(timeout=10)
                log.close()
    write_rounds(SWITCHES_CSV, raw)
    switches_table(per_request)


def switches_table(per_request):
    table("\nContext switches per request on the CPUs of the load (one CPU: CPU 0; left to "
          "the scheduler: both),\nthose that change the address space, and those of them "
          "that flush the whole TLB; median over the rounds\n",
          f"{'server':<30} {'load':<12} {'rounds':>6} {'switches':>9} {'new space':>10} "
          f"{'TLB flush':>10}")
    for index, (chapter, args, impl) in enumerate(SWITCH_SERVERS):
        name = ("reference/" if impl == "ref" else "") + " ".join([chapter] + args)
        for load in SWITCH_LOADS:
            rounds = per_request.get((index, load), [])
            if not rounds:
                print(f"{name:<30} {label(load):<12} n/a: not counted")
                continue
            medians = [statistics.median(r[key] for r in rounds) for key, _, _ in SWITCH_EVENTS]
            print(f"{name:<30} {label(load):<12} {len(rounds):>6} " +
                  " ".join(f"{m:>{w}.3f}" for m, w in zip(medians, (9, 10, 10))))


# BENCH_ONLY=aftermath: is a server timed slower just after perf stat -p
# has counted it? (run_aftermath; about 28 s a round: BENCH_ROUNDS=20).
AFTERMATH = [("04_threading", [], RR64), ("06_thread_pool", ["--workers", "64"], RR64)]


def timed_after(chapter, args, load, counted):
    """A fresh server, warmed up and timed once; then a run of COUNT_SECONDS
    under perf stat -p (counted) or not; then timed again at once, as the
    method before counted and timed. The second timed run's CPU per
    request over the first's."""
    log = server_log(chapter, args, "cpp")
    server = Server(server_argv(chapter, args, "cpp"), cwd="/tmp", stderr=log)
    try:
        server.wait_ready()
        first = measure(server, load)
        perf = Counting(server.proc.pid) if counted else None
        pinned_load(server, load)(COUNT_SECONDS)
        if perf is not None:
            perf.stop()
        second = measure(server, load, warm_up=False)
    finally:
        if server.proc.poll() is None:
            server.stop(timeout=10)
        log.close()
    if "note" in first or "note" in second:
        raise HarnessError(first.get("note") or second.get("note"))
    return cpu_per_request(second) / cpu_per_request(first)


def run_aftermath():
    """BENCH_ONLY=aftermath: for 04's threads made for the load and 06's
    pool made before it, the ratio of two timed runs of one server, with a
    run under perf stat -p between them or a run without; the rounds
    alternate which of the two comes first."""
    ratios = {}  # (row index, counted) -> [second / first of each round]
    raw = []
    for round_ in range(1, ROUNDS + 1):
        print(f"  round {round_} of {ROUNDS}: {len(AFTERMATH)} servers, each timed twice, "
              "with and without perf between", flush=True)
        for index, (chapter, args, load) in enumerate(AFTERMATH):
            for counted in (True, False) if round_ % 2 else (False, True):
                try:
                    ratio = timed_after(chapter, args, load, counted)
                except (HarnessError, subprocess.TimeoutExpired) as e:
                    print(f"    {chapter} {' '.join(args)} failed: {e}")
                    continue
                ratios.setdefault((index, counted), []).append(ratio)
                raw.append({"round": round_, "chapter": " ".join([chapter] + args),
                            "load": label(load), "perf_between": int(counted),
                            "cpu_ratio": f"{ratio:.4f}"})
    write_rounds("aftermath.csv", raw)
    table("\nCPU per request of a server's second timed run over its first, with a run "
          "just before the second\nunder perf stat -p or without; median over the rounds "
          "[95% interval]\n",
          f"{'chapter':<30} {'load':<7} {'between':<14} {'rounds':>6}  {'CPU/req ratio':>21}")
    for index, (chapter, args, load) in enumerate(AFTERMATH):
        for counted in (True, False):
            runs = ratios.get((index, counted), [])
            between = "perf stat -p" if counted else "no perf"
            name = " ".join([chapter] + args)
            if not runs:
                print(f"{name:<30} {label(load):<7} {between:<14} n/a: no run")
                continue
            cost = median_interval(runs)
            print(f"{name:<30} {label(load):<7} {between:<14} {len(runs):>6}  "
                  f"{cost[0]:.3f} [{cost[1]:.3f}-{cost[2]:.3f}]")


def cpu_per_request(row):
    return row["cpu_user_us"] + row["cpu_sys_us"]


def median_interval(values):
    """(median, low, high): a distribution-free 95% confidence interval for
    the median of values, between two of their order statistics (the
    binomial rule: with n values, the k-th from each end, k the largest for
    which P(Binomial(n, 1/2) < k) <= 2.5%)."""
    values, n = sorted(values), len(values)
    below, k = 0.0, 0
    while True:
        below += math.comb(n, k) / 2 ** n  # P(Binomial(n, 1/2) <= k)
        if below > 0.025:
            break
        k += 1
    if k == 0:  # too few values for 95%: the whole range
        return statistics.median(values), values[0], values[-1]
    return statistics.median(values), values[k - 1], values[n - k]


def verdict(interval, least=None, most=None):
    """Whether a (median, low, high) interval meets a target of at least
    `least` or at most `most`: "yes" when the whole interval does, "no" when
    none of it does, "?" when the target lies inside it (more rounds, or a
    quieter machine, could tell)."""
    _, low, high = interval
    if least is not None:
        return "yes" if low >= least else "no" if high < least else "?"
    if most is None:  # no target: nothing to meet
        return "-"
    return "yes" if high <= most else "no" if low > most else "?"


def kept_rounds(*paths):
    """{(chapter and its options, load): ((median, low, high) of the req/s
    ratio, the same of the CPU ratio, rounds)} from the rounds a
    BENCH_ONLY=targets run kept (tests/bench/targets.csv), or several runs
    pooled, every round of each; exits with one error line if a path is not
    such a file."""
    ratios = {}
    for path in paths:
        try:
            with open(path, newline="") as f:
                rows = list(csv.DictReader(f))
            for r in rows:
                ratios.setdefault((r["chapter"], r["load"]), []).append(
                    (float(r["req_s_ratio"]), float(r["cpu_ratio"])))
        except OSError as e:
            sys.exit(f"error: {path}: {e.strerror}")
        except KeyError as e:
            sys.exit(f"error: {path}: not the rounds of a BENCH_ONLY=targets run (no column {e})")
        except ValueError as e:
            sys.exit(f"error: {path}: not the rounds of a BENCH_ONLY=targets run ({e})")
    return {key: (median_interval([s for s, _ in pairs]), median_interval([c for _, c in pairs]),
                  len(pairs)) for key, pairs in ratios.items()}


def yardstick_noise(*paths):
    """{load label: (standard deviation of the CPU per request ratio, of the
    req/s ratio, count)} of each run of the yardstick over the run just
    before it, from the rounds of BENCH_ONLY=targets runs (each row keeps
    the runs before and after its chapter): how much two runs of one server,
    one after the other, differ on this machine."""
    ratios = {}
    for path in paths:
        with open(path, newline="") as f:
            for r in csv.DictReader(f):
                if r.get("cpu_us_before") and r.get("req_s_before"):
                    ratios.setdefault(r["load"], []).append(
                        (float(r["cpu_us_after"]) / float(r["cpu_us_before"]),
                         float(r["req_s_after"]) / float(r["req_s_before"])))
    return {load: (statistics.stdev(c for c, _ in pairs), statistics.stdev(s for _, s in pairs),
                   len(pairs)) for load, pairs in ratios.items() if len(pairs) > 1}


def intervals_table(paths):
    """`python3 tests/bench.py --intervals [FILE ...]`: the targets from the
    rounds a BENCH_ONLY=targets run kept (tests/bench/targets.csv unless
    FILEs; several runs' files are pooled), to 3 decimals, each target
    decided on its own. Reads the files only: no server is run, so it takes
    no time and needs no build."""
    kept = kept_rounds(*paths)
    # Each target load in either placement the files hold (left to the
    # scheduler, or BENCH_PLACEMENT=1cpu), never the two pooled: their
    # labels differ.
    # The rows of each kind of targets run (TARGETS at 16 and 64 clients,
    # C1_TARGETS at one) that the files hold any rounds of, TARGETS' if
    # none: a target with no rounds in a kind the files hold says so.
    groups = []
    for targets in (TARGETS, C1_TARGETS):
        group, any_found = [], False
        for chapter, args, loads, least, most in targets:
            name = " ".join([chapter] + args)
            for load in loads:
                found = [placement for placement in
                         dict.fromkeys((label(load), label((load[0], load[1], load[2] or 1))))
                         if (name, placement) in kept]
                any_found = any_found or bool(found)
                group += [(name, placement, least, most) for placement in found or [label(load)]]
        groups.append((group, any_found))
    rows = [row for group, any_found in groups if any_found for row in group] or groups[0][0]
    width = max(len(placement) for _, placement, _, _ in rows)
    table(f"{' + '.join(path.name for path in paths)}: median [95% interval] of the rounds; "
          "met: yes, no, or ? (the target inside the interval)",
          f"{'chapter':<30} {'load':<{width}} {'rounds':>6}  {'req/s ratio':>19} {'target':>6} "
          f"{'met':>3}  {'CPU/req ratio':>19} {'target':>6} {'met':>3}")
    for name, placement, least, most in rows:
        if (name, placement) not in kept:
            print(f"{name:<30} {placement:<{width}} no rounds")
            continue
        speed, cost, rounds = kept[name, placement]
        print(f"{name:<30} {placement:<{width}} {rounds:>6}  "
              f"{speed[0]:.3f} [{speed[1]:.3f}-{speed[2]:.3f}] {at_least(least):>6} "
              f"{verdict(speed, least=least):>3}  "
              f"{cost[0]:.3f} [{cost[1]:.3f}-{cost[2]:.3f}] {'<=' + format(most, '.2f'):>6} "
              f"{verdict(cost, most=most):>3}")
    noise = yardstick_noise(*paths)
    if noise:
        print("The yardstick, each run over the one just before it, standard deviation: " +
              "; ".join(f"{load} CPU/req {cpu:.3f}, req/s {speed:.3f} ({n} pairs)"
                        for load, (cpu, speed, n) in sorted(noise.items())))


# The pool issue's targets, each a ratio of two designs of the design table
# in one round (so that whatever drifts between rounds cancels), then the
# median of the rounds with its interval, as --intervals does for the
# yardstick's: (pool, what, divided by, key, at most). ctx/conn and CPU
# per connection are those of the connect load at 16 clients.
DESIGN_TARGETS = (
    [(pool, "ctx/conn", "thread per connection", "ctx_per_req", 1.5)
     for pool in ("pre-forked, block", "pre-forked, lock", "pre-threaded, block",
                  "pre-threaded, lock")] +
    [(design, "CPU/conn", "fork per connection", "cpu", 0.20)
     for design, _, _ in DESIGN_TABLE if design.startswith("pre-")])


def design_rounds(*paths):
    """{(design, language, round): the connect c=16 row} from the rounds a
    design table run kept (tests/bench/designs.csv; several runs' files are
    pooled, their rounds told apart by file); exits with one error line if
    a path is not such a file."""
    rows = {}
    for number, path in enumerate(paths):
        try:
            with open(path, newline="") as f:
                for r in csv.DictReader(f):
                    if (r["mode"], r["concurrency"]) == ("connect", "16"):
                        rows[(r["design"], r["impl"], (number, r["round"]))] = r
        except OSError as e:
            sys.exit(f"error: {path}: {e.strerror}")
        except KeyError as e:
            sys.exit(f"error: {path}: not the rounds of a design table run (no column {e})")
    return rows


def design_figure(row, key):
    """One figure of a design table row, None where the round has none (a
    run that failed): CPU per connection (user + system), or a column."""
    try:
        if key == "cpu":
            return float(row["cpu_user_us"]) + float(row["cpu_sys_us"])
        return float(row[key])
    except (KeyError, TypeError, ValueError):
        return None


def design_targets(*paths):
    """{(design, language, figure): ((median, low, high) of the rounds'
    ratios, rounds), or None where no round gives one} for each of
    DESIGN_TARGETS in each language, from design_rounds(*paths)."""
    rows = design_rounds(*paths)
    rounds = sorted({key[2] for key in rows})
    found = {}
    for impl in ("cpp", "py"):
        for design, what, base, key, _ in DESIGN_TARGETS:
            ratios = []
            for round_ in rounds:
                over = design_figure(rows.get((design, impl, round_)), key)
                under = design_figure(rows.get((base, impl, round_)), key)
                if over is not None and under:
                    ratios.append(over / under)
            found[(design, impl, what)] = (median_interval(ratios), len(ratios)) if ratios else None
    return found


def design_targets_table(paths):
    """`python3 tests/bench.py --design-targets [FILE ...]`: the pool
    issue's targets from the rounds of a design table run (`BENCH_ONLY=
    designs`, tests/bench/designs.csv unless FILEs), each round's ratio of
    the two designs, then the median and its 95% interval and whether the
    target is met (yes, no, or ?: inside the interval). Reads the files
    only."""
    found = design_targets(*paths)
    table(f"{' + '.join(path.name for path in paths)}: the pools' targets at 16 clients, "
          "each round's ratio; median [95% interval] of the rounds; met: yes, no, or ?",
          f"{'design':<22} {'lang':<6} {'figure':<8} {'divided by':<22} {'rounds':>6}  "
          f"{'ratio':>19} {'target':>6} {'met':>3}")
    for impl in ("cpp", "py"):
        for design, what, base, _, most in DESIGN_TARGETS:
            lang = "C++" if impl == "cpp" else "Python"
            if found[(design, impl, what)] is None:
                print(f"{design:<22} {lang:<6} {what:<8} {base:<22} no rounds")
                continue
            ratio, rounds = found[(design, impl, what)]
            print(f"{design:<22} {lang:<6} {what:<8} {base:<22} {rounds:>6}  "
                  f"{ratio[0]:.3f} [{ratio[1]:.3f}-{ratio[2]:.3f}] "
                  f"{'<=' + format(most, '.2f'):>6} {verdict(ratio, most=most):>3}")


def at_least(least):
    """A requests/s target as the tables print it: ">=0.95", or "-" for a
    row that has none (C1_TARGETS)."""
    return "-" if least is None else ">=" + format(least, ".2f")


def targets_table(ratios, targets=TARGETS):
    width = max(len(label(placed(load))) for _, _, loads, _, _ in targets for load in loads)
    table("\nRatios to the blocking yardstick (the mean of the runs just before and just "
          "after); median over the rounds, [95% confidence interval]\n"
          "req/s: higher is better; CPU/req: user + system, lower is better\n",
          f"{'chapter':<35} {'load':<{width}} {'req/s ratio':>20} {'target':>7} "
          f"{'CPU/req ratio':>20} {'target':>7}  {'calls/req':>9} {'ctx/req':>7}  met")
    for index, (chapter, args, loads, least, most) in enumerate(targets):
        name = " ".join([chapter] + args)
        for load in loads:
            runs = ratios.get((index, load), [])
            pairs = [(speed, cost) for speed, cost, _ in runs if speed is not None]
            if not pairs:
                notes = [row["note"] for _, _, row in runs if "note" in row]
                print(f"{name:<35} {label(placed(load)):<{width}} n/a: "
                      f"{notes[0] if notes else 'no run'}")
                continue
            speed = median_interval([s for s, _ in pairs])
            cost = median_interval([c for _, c in pairs])
            row = median_row([row for s, _, row in runs if s is not None])
            verdicts = {verdict(speed, least=least), verdict(cost, most=most)}
            met = "no" if "no" in verdicts else "?" if "?" in verdicts else "yes"
            calls, switches = (f"{row[k]:.2f}" if row.get(k) is not None else "n/a"
                               for k in ("syscalls_per_req", "ctx_per_req"))
            print(f"{name:<35} {label(placed(load)):<{width}} "
                  f"{speed[0]:>7.2f} [{speed[1]:.2f}-{speed[2]:.2f}] {at_least(least):>7} "
                  f"{cost[0]:>7.2f} [{cost[1]:.2f}-{cost[2]:.2f}] "
                  f"{'<=' + format(most, '.2f'):>7}  {calls:>9} {switches:>7}  {met:>3}")


def main_table(rows, iperf):
    yardstick = {name: {r["load"]: r["cpp"] for r in rows if r["chapter"] == f"reference/{name}"}
                 for name, _, _ in REFERENCES}
    table("", f"{'chapter':<28} {'load':<13} {'C++':>11} {'spread':>6} {'Python':>11} "
              f"{'C++/Py':>6} {'/block':>6} {'/epoll':>6}  {'syscalls/req':>12} {'ctx/req':>7}  "
              f"{'p50/p99 us':>10}  {'CPU us/req C++':>14} {'Python':>12}")
    for r in rows:
        ratio = f"{r['cpp'] / r['py']:.1f}x" if r["cpp"] and r["py"] else "-"
        to = {}
        for name, _, _ in REFERENCES:
            ref = yardstick[name].get(r["load"])
            to[name] = f"{r['cpp'] / ref:.2f}" if r["cpp"] and ref else "-"
        c, p = r["cpp_row"], r["py_row"]
        calls = f"{c['syscalls_per_req']:.2f}" if c.get("syscalls_per_req") is not None else ""
        switches = f"{c['ctx_per_req']:.2f}" if c.get("ctx_per_req") is not None else ""
        latency = (f"{c['p50_us']:.0f}/{c['p99_us']:.0f}" if c.get("p50_us")
                   and r["mode"] != "bulk" else "")
        cpu = (f"{c['cpu_user_us']:.1f}+{c['cpu_sys_us']:.1f}" if c.get("cpu_user_us")
               is not None and r["mode"] != "bulk" else "")
        pycpu = (f"{p['cpu_user_us']:.1f}+{p['cpu_sys_us']:.1f}" if p.get("cpu_user_us")
                 is not None and r["mode"] != "bulk" else "")
        print(f"{r['chapter'][:28]:<28} {r['load']:<13} {fmt(r['cpp'], r['mode']):>11} "
              f"{r['spread']:>6} {fmt(r['py'], r['mode']):>11} {ratio:>6} "
              f"{to['blocking_echo']:>6} {to['epoll_echo']:>6}  {calls:>12} {switches:>7}  "
              f"{latency:>10}  {cpu:>14} {pycpu:>12}")
    if not PERF:
        print("(no perf: system calls and context switches not counted; "
              "apt-get install linux-perf, run as root or with kernel.perf_event_paranoid=-1)")
    print(f"{'iperf3, one way, no echo':<28} {'bulk':<13} {fmt(iperf, 'bulk'):>11}")
    if not TWO_CPUS:
        print("(one CPU: the 2cpu loads are left out)")
    notes = {(r["chapter"], impl): r[impl + "_row"]["note"] for r in rows for impl in ("cpp", "py")
             if "note" in r[impl + "_row"]}
    for (chapter, impl), note in sorted(notes.items()):
        print(f"  n/a {chapter} [{impl}]: {note}")
    chart(rows, iperf)


if __name__ == "__main__":
    main()
