#!/usr/bin/env python3
"""tests/bench.py -- `make bench`: the server designs of this tutorial, measured.

Runs every chapter's C++ server and its reference.py under the same loads
from tests/loadgen (C++, epoll), on loopback, one after another:

    rr        request/response, 64-byte lines, at concurrency 1 (every design)
              and 16 and 64 (the concurrent designs): requests/s, p50/p99
    connect   a new connection per request, concurrency 1: connections/s
    bulk      one connection streaming 1 KiB lines through the echo: MB/s
    udp       64-byte datagrams at concurrency 1 and 16 (chapter 08)

beside two yardsticks that are not chapters (tests/reference/): a blocking
thread-per-connection echo with nothing else in it (the floor of the
blocking designs: each C++ row is also given as a ratio to it) and an
epoll echo with one thread per core (the limit of this machine), and
iperf3 on loopback as information. Prints one table (each
figure for C++ and Python, and their ratio from this run), writes the raw
results to tests/bench/results.csv and a chart to tests/bench/chart.png
(gnuplot), and the machine it ran on to tests/bench/machine.txt.

Each server's CPU time (user and system, its children included) is read
from /proc before and after each run: CPU microseconds per request is the
profile that says where the time goes. When `perf` can count (Debian's
linux-perf, as root or with perf_event_paranoid <= 0), each run is also
counted with `perf stat -p PID` (threads and children started during the
run included): system calls and context switches per request. Those two
are deterministic where requests/s are not: they are the design's cost.
Servers write their stderr to a file (tests/bench/*.log), not to a pipe.

Standard library only; gnuplot and iperf3 are Debian packages that `make
bench` installs when it can (the table is printed without them).
"""
import csv
import json
import os
import platform
import signal
import shutil
import socket
import subprocess
import sys
import time

from harness import ROOT, HarnessError, Server, program

OUT = ROOT / "tests" / "bench"
LOADGEN = ROOT / "tests" / "loadgen"
DURATION = float(os.environ.get("BENCH_SECONDS", "2"))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# rr at 16 for an iterative design: it serves the first connection only,
# and the bench reports the others as not served (the collapse, measured).
ITERATIVE = [("rr", 1), ("rr", 16), ("connect", 1), ("bulk", 1)]
CONCURRENT = [("rr", 1), ("rr", 16), ("rr", 64), ("connect", 1), ("bulk", 1)]
DESIGNS = [  # (chapter, server arguments, design, runs)
    ("01_raw_socket_echo", [], "iterative, raw calls", ITERATIVE),
    ("02_sync_server", [], "iterative, socketserver", ITERATIVE),
    ("03_stream_handler", [], "iterative, lines", ITERATIVE),
    ("04_threading", [], "thread per connection", CONCURRENT),
    ("05_forking", [], "process per connection", CONCURRENT),
    ("06_thread_pool", [], "pool of 16 threads", CONCURRENT),
    ("07_socket_options", ["--nodelay"], "iterative, TCP_NODELAY", ITERATIVE),
    ("08_udp", [], "UDP", [("udp", 1), ("udp", 16)]),
    ("08_udp", ["--threading"], "UDP, thread per datagram", [("udp", 1), ("udp", 16)]),
]
# Yardsticks, C++ only: (name under tests/reference, design, runs).
REFERENCES = [
    ("blocking_echo", "yardstick: blocking threads", CONCURRENT),
    ("epoll_echo", "yardstick: epoll, 1 thread/core", CONCURRENT),
]
EXTRA = ["cpu_user_us", "cpu_sys_us", "syscalls_per_req", "ctx_per_req", "note"]
FIELDS = ["mode", "concurrency", "size", "seconds", "requests", "per_second", "p50_us",
          "p99_us", "max_us", "mb_per_second", "errors"]


def cpu_seconds(pid):
    """utime + stime + the reaped children's, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return {"user": (int(fields[11]) + int(fields[13])) / CLOCK_TICKS,
            "sys": (int(fields[12]) + int(fields[14])) / CLOCK_TICKS}


def perf_works():
    if shutil.which("perf") is None:
        return False
    probe = subprocess.run(["perf", "stat", "-x,", "-e", "context-switches", "true"],
                           capture_output=True, text=True)
    return probe.returncode == 0 and "not supported" not in probe.stderr


PERF = perf_works()


def start_counting(pid):
    """perf stat on pid and everything it starts from now on, or None."""
    if not PERF:
        return None
    return subprocess.Popen(["perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter,context-switches",
                             "-p", str(pid)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def stop_counting(perf):
    """{'raw_syscalls:sys_enter': n, 'context-switches': n} from perf's CSV."""
    if perf is None:
        return {}
    perf.send_signal(signal.SIGINT)
    _, err = perf.communicate(timeout=30)
    counts = {}
    for line in err.splitlines():
        fields = line.split(",")
        if len(fields) > 2 and fields[0].isdigit():
            counts[fields[2]] = int(fields[0])
    return counts


def measure(server, mode, concurrency):
    """One loadgen run against a ready server; a dict of figures, or None if
    the design cannot serve this concurrency."""
    before = cpu_seconds(server.proc.pid)
    perf = start_counting(server.proc.pid)
    time.sleep(0.2 if perf else 0)  # perf attaches to every thread before the load starts
    result = subprocess.run([str(LOADGEN), "--host", server.host, "--port", str(server.port),
                             "--mode", mode, "--concurrency", str(concurrency),
                             "--duration", str(DURATION)],
                            capture_output=True, text=True, timeout=DURATION + 60)
    after = cpu_seconds(server.proc.pid)
    counts = stop_counting(perf)
    if result.returncode != 0:
        return {"note": result.stderr.strip().removeprefix("error: ")}
    row = dict(zip(FIELDS, result.stdout.strip().split(",")))
    served = max(int(row["requests"]), 1)
    row["cpu_user_us"] = round((after["user"] - before["user"]) * 1e6 / served, 1)
    row["cpu_sys_us"] = round((after["sys"] - before["sys"]) * 1e6 / served, 1)
    if "raw_syscalls:sys_enter" in counts and mode != "bulk":
        row["syscalls_per_req"] = round(counts["raw_syscalls:sys_enter"] / served, 2)
        row["ctx_per_req"] = round(counts.get("context-switches", 0) / served, 2)
    return row


def run_design(chapter, args, impl, runs):
    argv = ([str(ROOT / "tests" / "reference" / chapter)] if impl == "ref"
            else program(chapter, impl, "server"))
    log = open(OUT / f"{chapter}{''.join(args)}-{impl}.log", "w")
    server = Server(argv + args + ["--port", "0"], cwd="/tmp", stderr=log)
    try:
        server.wait_ready()
        results = {}
        for mode, concurrency in runs:
            results[(mode, concurrency)] = measure(server, mode, concurrency)
        return results
    finally:
        if server.proc.poll() is None:
            server.stop(timeout=10)
        log.close()


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
                                     "-t", str(int(DURATION)), "-J"],
                                    capture_output=True, text=True, timeout=DURATION + 30)
            if client.returncode == 0:
                return json.loads(client.stdout)["end"]["sum_received"]["bits_per_second"] / 8e6
            time.sleep(0.1)
        return None
    finally:
        server.kill()
        server.wait()


def figure(row, mode):
    if row is None:
        return None
    if "note" in row:
        return None
    return float(row["mb_per_second"] if mode == "bulk" else row["per_second"])


def fmt(value, mode):
    if value is None:
        return "n/a"
    return f"{value:,.0f} MB/s" if mode == "bulk" else f"{value:,.0f}/s"


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
    return chapter[:2] + ("t" if "--threading" in chapter else "")


def chart(rows, iperf):
    if shutil.which("gnuplot") is None:
        print("(no gnuplot: chart skipped; sudo apt-get install gnuplot-nox)")
        return
    data = OUT / "chart.dat"
    with open(data, "w") as f:
        for r in rows:
            if r["mode"] in ("rr", "udp"):
                label = f"{short(r['chapter'])} {r['mode']} c{r['concurrency']}"
                f.write(f'"{label}" {r["cpp"] or 0} {r["py"] or 0}\n')
    bulk = OUT / "bulk.dat"
    with open(bulk, "w") as f:
        for r in rows:
            if r["mode"] == "bulk":
                f.write(f'"{short(r["chapter"])}" {r["cpp"] or 0} {r["py"] or 0}\n')
        if iperf:
            f.write(f'"iperf3" {iperf} 0\n')
    script = f"""
set terminal pngcairo size 1400,900 font ',10' noenhanced
set output '{OUT / "chart.png"}'
set multiplot layout 2,1 title 'Echo servers of this tutorial, C++ and Python (make bench; {machine()})'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set grid ytics
set key left top
set xtics rotate by -30
set ylabel 'requests per second'
set title 'Request/response, 64-byte messages, by chapter, mode and concurrency (08t: --threading; no bar: n/a)'
plot '{data}' using 2:xtic(1) title 'C++' lc rgb '#1f77b4', '' using 3 title 'Python' lc rgb '#ff7f0e'
set ylabel 'MB/s echoed'
set title 'Bulk echo (1 KiB lines) by chapter, and iperf3 one-way on loopback'
plot '{bulk}' using 2:xtic(1) title 'C++ (and iperf3)' lc rgb '#1f77b4', '' using 3 title 'Python' lc rgb '#ff7f0e'
unset multiplot
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    data.unlink()
    bulk.unlink()


def main():
    if not LOADGEN.exists():
        sys.exit("error: tests/loadgen is not built; run: make bench")
    OUT.mkdir(exist_ok=True)
    started = time.monotonic()
    print(f"make bench: {DURATION:g} s per run, loopback, on {machine()}\n", flush=True)
    raw, rows = [], []
    plan = ([(name, [], design, runs, ("ref",)) for name, design, runs in REFERENCES] +
            [(chapter, args, design, runs, ("cpp", "py")) for chapter, args, design, runs in DESIGNS])
    for chapter, args, design, runs, impls in plan:
        results = {"cpp": {}, "py": {}}
        for impl in impls:
            print(f"  {chapter} {' '.join(args)} [{impl}] ...", flush=True)
            try:
                results["cpp" if impl == "ref" else impl] = run_design(chapter, args, impl, runs)
            except (HarnessError, subprocess.TimeoutExpired) as e:
                print(f"    failed: {e}")
        for mode, concurrency in runs:
            name = f"reference/{chapter}" if impls == ("ref",) else chapter
            entry = {"chapter": name + (" " + " ".join(args) if args else ""),
                     "design": design, "mode": mode, "concurrency": concurrency}
            for impl in ("cpp", "py"):
                row = results[impl].get((mode, concurrency))
                entry[impl] = figure(row, mode)
                entry[impl + "_row"] = row or {}
                if impl in impls or impls == ("ref",) and impl == "cpp":
                    raw.append({"chapter": entry["chapter"], "design": design,
                                "impl": "ref" if impls == ("ref",) else impl,
                                **{k: (row or {}).get(k, "") for k in FIELDS + EXTRA},
                                "mode": mode, "concurrency": concurrency})
            rows.append(entry)
    iperf = iperf3_mb_per_second()

    with open(OUT / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["chapter", "design", "impl"] + FIELDS + EXTRA)
        writer.writeheader()
        writer.writerows(raw)
        writer.writerow({"chapter": "iperf3", "design": "iperf3 -c 127.0.0.1 (one way)",
                         "impl": "iperf3", "mode": "bulk", "mb_per_second":
                         f"{iperf:.1f}" if iperf else "", "note": "" if iperf else "not installed"})
    (OUT / "machine.txt").write_text(machine() + "\n")

    print()
    floor = {(r["mode"], r["concurrency"]): r["cpp"] for r in rows
             if r["chapter"] == "reference/blocking_echo"}
    header = (f"{'chapter':<24} {'design':<30} {'load':<12} {'C++':>12} {'Python':>12} "
              f"{'C++/Py':>6} {'C++/ref':>7}  {'syscalls/req':>12} {'ctx/req':>8}  "
              f"{'C++ p50/p99 us':>14}  {'CPU us/req C++ (usr+sys)':>24}  {'Py':>12}")
    print(header)
    print("-" * len(header))
    for r in rows:
        ratio = f"{r['cpp'] / r['py']:.1f}x" if r["cpp"] and r["py"] else "-"
        ref = floor.get((r["mode"], r["concurrency"]))
        to_ref = f"{r['cpp'] / ref:.2f}" if r["cpp"] and ref else "-"
        c, p = r["cpp_row"], r["py_row"]
        calls = f"{c['syscalls_per_req']:.2f}" if c.get("syscalls_per_req") is not None else ""
        switches = f"{c['ctx_per_req']:.2f}" if c.get("ctx_per_req") is not None else ""
        latency = f"{c['p50_us']}/{c['p99_us']}" if c.get("p50_us") and r["mode"] != "bulk" else ""
        cpu = (f"{c['cpu_user_us']}+{c['cpu_sys_us']}" if c.get("cpu_user_us") is not None
               and r["mode"] != "bulk" else "")
        pycpu = (f"{p['cpu_user_us']}+{p['cpu_sys_us']}" if p.get("cpu_user_us") is not None
                 and r["mode"] != "bulk" else "")
        load = f"{r['mode']} c={r['concurrency']}"
        print(f"{r['chapter']:<24} {r['design']:<30} {load:<12} {fmt(r['cpp'], r['mode']):>12} "
              f"{fmt(r['py'], r['mode']):>12} {ratio:>6} {to_ref:>7}  {calls:>12} {switches:>8}  "
              f"{latency:>14}  {cpu:>24}  {pycpu:>12}")
    if not PERF:
        print("(no perf: system calls and context switches not counted; "
              "apt-get install linux-perf, run as root or with kernel.perf_event_paranoid=-1)")
    print(f"{'iperf3':<26} {'one way, no echo':<26} {'bulk':<12} {fmt(iperf, 'bulk'):>12}")
    notes = {(r["chapter"], impl): r[impl + "_row"]["note"] for r in rows for impl in ("cpp", "py")
             if "note" in r[impl + "_row"]}
    for (chapter, impl), note in sorted(notes.items()):
        print(f"  n/a {chapter} [{impl}]: {note}")
    chart(rows, iperf)
    print(f"\nresults: tests/bench/results.csv, chart: tests/bench/chart.png "
          f"({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
