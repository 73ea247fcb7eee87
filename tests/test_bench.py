"""tests/test_bench.py -- the statistics and the guard of tests/bench.py.

`make bench` prints figures that no test may time (a noisy 2-core machine),
but what it computes from them is checked here: the confidence interval of
its targets table and when a target counts as met, its refusal to measure a
sanitizer build, and the figures the READMEs quote from the rounds it kept.
"""
import csv
import math
import os
import re
import subprocess
import sys

import pytest

import bench
from harness import ROOT


def below(n, k):
    """P(Binomial(n, 1/2) < k)."""
    return sum(math.comb(n, i) for i in range(k)) / 2 ** n


@pytest.mark.parametrize("n, rank", [(9, 2), (10, 2), (20, 6), (30, 10)])
def test_the_interval_is_between_the_order_statistics_of_the_binomial_rule(n, rank):
    # The textbook ranks: with 20 values, the 6th from each end (95.9%).
    median, low, high = bench.median_interval(list(range(n, 0, -1)))  # any order
    assert (low, high) == (rank, n + 1 - rank)
    assert median == (n + 1) / 2


def test_the_interval_covers_95_percent_and_is_the_narrowest_that_does():
    for n in range(6, 41):
        _, low, high = bench.median_interval(list(range(1, n + 1)))
        assert high == n + 1 - low, n  # symmetric
        assert 1 - 2 * below(n, low) >= 0.95, n
        assert 1 - 2 * below(n, low + 1) < 0.95, n  # one rank further in would not


def test_too_few_values_for_95_percent_give_the_whole_range():
    assert bench.median_interval([3.0, 1.0, 2.0]) == (2.0, 1.0, 3.0)


def fake_tree(tmp_path, variant, stale):
    """A tree with every binary check_build() looks at, and the variant
    stamp written after (stale) or before them."""
    stamp = tmp_path / ".build" / "variant"
    stamp.parent.mkdir()
    binaries = [tmp_path / "tests" / "loadgen"] + \
        [tmp_path / "tests" / "reference" / name for name, _, _ in bench.REFERENCES] + \
        [tmp_path / chapter / "server" for chapter in bench.CHAPTERS]
    for binary in binaries:
        binary.parent.mkdir(parents=True, exist_ok=True)
        binary.write_text("")
    stamp.write_text(variant + "\n")
    old, new = (1_000, 2_000) if stale else (2_000, 1_000)
    for binary in binaries:
        os.utime(binary, (old, old))
    os.utime(stamp, (new, new))


@pytest.mark.parametrize("variant, stale, error", [
    ("thread", False, "error: make bench measures the release build, and this tree was "
                      "last built as thread; run: make bench"),
    ("release", True, "error: tests/loadgen, tests/reference/blocking_echo, "
                      "tests/reference/epoll_echo ... not rebuilt since the last build "
                      "changed its variant; run: make bench"),
    ("release", False, None),
])
def test_it_measures_only_a_release_build_linked_after_its_variant(
        tmp_path, monkeypatch, variant, stale, error):
    fake_tree(tmp_path, variant, stale)
    monkeypatch.setattr(bench, "ROOT", tmp_path)
    monkeypatch.setattr(bench, "LOADGEN", tmp_path / "tests" / "loadgen")
    if error is None:
        bench.check_build()
        return
    with pytest.raises(SystemExit) as exit_:
        bench.check_build()
    assert str(exit_.value) == error


def test_each_chapter_is_divided_by_the_yardstick_runs_on_either_side(tmp_path, monkeypatch):
    # A fake run_design: the yardstick's req/s rises by 100 a run (a drift),
    # every chapter serves 1.5 times the mean of its neighbours' and costs
    # 0.5 times their CPU. The ratios must come out exact, round by round,
    # in targets.csv, whichever chapter a round starts with.
    runs = []

    def fake_run_design(chapter, args, impl, loads):
        runs.append(chapter)
        if impl == "ref":
            n = runs.count("blocking_echo")
            return {load: {"per_second": 1000 + 100 * n, "cpu_user_us": 4.0, "cpu_sys_us": 6.0}
                    for load in loads}
        n = runs.count("blocking_echo")  # the yardstick runs so far: the one before is n
        mean = 1000 + 100 * n + 50
        return {load: {"per_second": 1.5 * mean, "cpu_user_us": 2.0, "cpu_sys_us": 3.0}
                for load in loads}

    monkeypatch.setattr(bench, "run_design", fake_run_design)
    monkeypatch.setattr(bench, "ROUNDS", 2)
    monkeypatch.setattr(bench, "OUT", tmp_path)
    bench.run_targets()
    with open(tmp_path / "targets.csv") as f:
        rows = list(csv.DictReader(f))
    expected = sum(len(loads) for _, _, loads, _, _ in bench.TARGETS) * 2
    assert len(rows) == expected
    assert {(r["req_s_ratio"], r["cpu_ratio"]) for r in rows} == {("1.5000", "0.5000")}
    # Y A Y B ...: one yardstick run before the first chapter and one after each.
    assert runs.count("blocking_echo") == 2 * (1 + len(bench.TARGETS))
    first = [runs[1], runs[1 + 2 * len(bench.TARGETS) + 1]]
    assert first[0] != first[1]  # the second round starts one chapter later


def test_a_design_table_run_prints_the_pools_targets_from_the_rounds_it_kept(tmp_path,
                                                                             monkeypatch, capsys):
    # BENCH_ONLY=designs: after the table, each round's ratios, read back
    # from the designs.csv the run just wrote (--design-targets). A fake
    # run_design: every design at 4.0 context switches and 40 us of CPU a
    # connection, but a thread per connection at 2.0 and a fork at 400.
    def fake_run_design(chapter, args, impl, loads):
        ctx, cpu = (2.0, 40.0) if chapter == "04_threading" else (4.0, 40.0)
        if chapter == "05_forking" and not args:
            cpu = 400.0
        return {load: {"per_second": 1000, "cpu_user_us": cpu / 2, "cpu_sys_us": cpu / 2,
                       "ctx_per_req": ctx} for load in loads}

    monkeypatch.setattr(bench, "run_design", fake_run_design)
    monkeypatch.setattr(bench, "check_build", lambda: None)
    monkeypatch.setattr(bench, "machine", lambda: "a test")
    monkeypatch.setattr(bench, "ONLY", "designs")
    monkeypatch.setattr(bench, "ROUNDS", 3)
    monkeypatch.setattr(bench, "OUT", tmp_path)
    monkeypatch.setattr(bench, "OUTPUT", [])
    monkeypatch.setattr(sys, "argv", ["bench.py"])
    bench.main()
    lines = capsys.readouterr().out.splitlines()
    title = next(i for i, line in enumerate(lines) if line.startswith("designs.csv: the pools'"))
    assert title > next(i for i, line in enumerate(lines) if line.startswith("design "))
    assert design_row(lines, "pre-forked, lock", "C++", "ctx/conn").split()[-5:] == [
        "3", "2.000", "[2.000-2.000]", "<=1.50", "no"]
    assert design_row(lines, "pre-forked, pass", "Python", "CPU/conn").split()[-5:] == [
        "3", "0.100", "[0.100-0.100]", "<=0.20", "yes"]
    assert (tmp_path / "designs-run.txt").read_text().count("designs.csv: the pools'") == 1


def test_bench_placement_1cpu_pins_every_target_run_and_keeps_its_rounds_apart(tmp_path,
                                                                              monkeypatch):
    # BENCH_PLACEMENT=1cpu: every run of the targets, the yardstick's and
    # each chapter's, is asked for with its load pinned to one CPU; the
    # rounds go to targets-1cpu.csv, labelled so, never into targets.csv.
    asked = []

    def fake_run_design(chapter, args, impl, loads):
        asked.extend(loads)
        return {load: {"per_second": 1000, "cpu_user_us": 4.0, "cpu_sys_us": 6.0}
                for load in loads}

    monkeypatch.setattr(bench, "run_design", fake_run_design)
    monkeypatch.setattr(bench, "ROUNDS", 1)
    monkeypatch.setattr(bench, "OUT", tmp_path)
    monkeypatch.setattr(bench, "TARGET_CPUS", 1)
    monkeypatch.setattr(bench, "TARGETS_CSV", "targets-1cpu.csv")
    bench.run_targets()
    assert asked and {cpus for _, _, cpus in asked} == {1}
    assert not (tmp_path / "targets.csv").exists()
    with open(tmp_path / "targets-1cpu.csv") as f:
        labels = {r["load"] for r in csv.DictReader(f)}
    assert labels == {"rr c=16 1cpu", "rr c=64 1cpu"}


def test_targets_c1_puts_every_tcp_chapter_at_one_client_between_two_yardstick_runs(
        tmp_path, monkeypatch, capsys):
    # BENCH_ONLY=targets-c1: 01-07 (not 08, whose target is per datagram),
    # each at rr c=1 in every pinned placement C1 has, and the yardstick at
    # each of those loads before the first and after each chapter. Every
    # chapter costs 1.08 of the yardstick's CPU: 05 meets its 1.10, the
    # others miss 1.05; there is no requests/s target to meet ("-").
    asked = []

    def fake_run_design(chapter, args, impl, loads):
        asked.append((chapter, tuple(args), tuple(loads)))
        cpu = 10.0 if impl == "ref" else 10.8
        return {load: {"per_second": 1000, "cpu_user_us": 0.0, "cpu_sys_us": cpu}
                for load in loads}

    monkeypatch.setattr(bench, "run_design", fake_run_design)
    monkeypatch.setattr(bench, "ROUNDS", 1)
    monkeypatch.setattr(bench, "OUT", tmp_path)
    monkeypatch.setattr(bench, "TARGETS_CSV", "targets-c1.csv")
    bench.run_targets(bench.C1_TARGETS)
    chapters = [(chapter, args) for chapter, args, _ in asked if chapter != "blocking_echo"]
    assert sorted(chapters) == [(c, ("--nodelay",) if c.startswith("07") else ()) for c in
                                ("01_raw_socket_echo", "02_sync_server", "03_stream_handler",
                                 "04_threading", "05_forking", "06_thread_pool",
                                 "07_socket_options")]
    assert [chapter for chapter, _, _ in asked] == ["blocking_echo", chapters[0][0]] + [
        name for chapter, _ in chapters[1:] for name in ("blocking_echo", chapter)] + [
        "blocking_echo"]
    assert {loads for _, _, loads in asked} == {tuple(bench.C1)}
    assert all(cpus in (1, 2) for _, _, cpus in bench.C1)
    with open(tmp_path / "targets-c1.csv") as f:
        labels = {r["load"] for r in csv.DictReader(f)}
    assert labels == {bench.label(load) for load in bench.C1} and "rr c=1 1cpu" in labels
    lines = [line for line in capsys.readouterr().out.splitlines() if "rr c=1" in line]
    assert len(lines) == 7 * len(bench.C1)
    # (chapter, the req/s target, the CPU target, met) of each line
    printed = {(line.split()[0],) + re.search(r"\] +(\S+) .*\] +(\S+) .* (\S+)$", line).groups()
               for line in lines}
    assert printed == {(c, "-", "<=1.10", "yes") if c == "05_forking" else (c, "-", "<=1.05", "no")
                       for c, _ in chapters}


@pytest.mark.parametrize("env, error", [
    ({"BENCH_PLACEMENT": "2cpu", "BENCH_ONLY": "targets"},
     "error: BENCH_PLACEMENT=2cpu: the only placement is 1cpu"),
    ({"BENCH_PLACEMENT": "1cpu"},
     "error: BENCH_PLACEMENT=1cpu places the targets run at 16 and 64 clients only: "
     "add BENCH_ONLY=targets"),
    ({"BENCH_PLACEMENT": "1cpu", "BENCH_ONLY": "targets-c1"},
     "error: BENCH_PLACEMENT=1cpu places the targets run at 16 and 64 clients only: "
     "add BENCH_ONLY=targets"),
])
def test_a_placement_the_bench_does_not_know_is_refused_before_anything_runs(env, error):
    result = subprocess.run([sys.executable, str(ROOT / "tests" / "bench.py")],
                            env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr, result.stdout) == (1, error + "\n", "")


def test_intervals_gives_a_one_cpu_run_its_own_rows(tmp_path, capsys):
    # A targets-1cpu.csv read with targets.csv: 04 at 16 clients in both
    # placements, each its own row with its own rounds, not pooled.
    write_rounds(tmp_path / "targets.csv", [("04_threading", "rr c=16", 1.0, 1.0)] * 3)
    write_rounds(tmp_path / "targets-1cpu.csv", [("04_threading", "rr c=16 1cpu", 0.9, 1.1)] * 5)
    bench.intervals_table([tmp_path / "targets.csv", tmp_path / "targets-1cpu.csv"])
    rows = [line.split() for line in capsys.readouterr().out.splitlines()
            if line.startswith("04_threading ") and "c=16" in line]
    assert [row[1:5] for row in rows] == [["rr", "c=16", "3", "1.000"],
                                          ["rr", "c=16", "1cpu", "5"]]


def test_intervals_prints_the_rows_at_one_client_only_from_a_file_that_has_them(tmp_path,
                                                                                capsys):
    # A targets-c1.csv alone: its rows, 02 with no rounds at 2cpu among
    # them, and none of the rows at 16 and 64 clients; targets.csv alone:
    # those rows, as before, and none at one client; both: both kinds.
    write_rounds(tmp_path / "targets.csv", [("04_threading", "rr c=16", 1.0, 1.0)] * 3)
    write_rounds(tmp_path / "targets-c1.csv", [("02_sync_server", "rr c=1 1cpu", 1.0, 1.02)] * 9)

    def printed(*names):
        bench.intervals_table([tmp_path / name for name in names])
        return [line.split() for line in capsys.readouterr().out.splitlines()
                if line[:2].isdigit()]

    at_one = [["02_sync_server", "rr", "c=1", "1cpu", "9"]] + (
        [["02_sync_server", "rr", "c=1", "2cpu", "no"]] if bench.TWO_CPUS else [])
    c1_alone = printed("targets-c1.csv")
    assert [row[:5] for row in c1_alone if row[0] == "02_sync_server"] == at_one
    assert not [row for row in c1_alone if row[2] in ("c=16", "c=64")]
    assert [row[-2:] for row in c1_alone if row[0] == "01_raw_socket_echo"] == (
        [["no", "rounds"]] * len(bench.C1))
    assert len(c1_alone) == len(bench.C1_TARGETS) * len(bench.C1)
    targets_alone = printed("targets.csv")
    assert not [row for row in targets_alone if row[2] == "c=1"]
    assert len(targets_alone) == sum(len(loads) for _, _, loads, _, _ in bench.TARGETS)
    assert len(printed("targets.csv", "targets-c1.csv")) == len(c1_alone) + len(targets_alone)


@pytest.mark.parametrize("interval, target, verdict", [
    ((1.00, 0.96, 1.04), {"least": 0.95}, "yes"),
    ((1.00, 0.95, 1.04), {"least": 0.95}, "yes"),  # the edge meets it
    ((0.97, 0.94, 1.04), {"least": 0.95}, "?"),
    ((0.93, 0.91, 0.949), {"least": 0.95}, "no"),
    ((1.00, 0.96, 1.04), {"most": 1.05}, "yes"),
    ((1.00, 0.96, 1.05), {"most": 1.05}, "yes"),
    ((1.04, 1.00, 1.07), {"most": 1.05}, "?"),
    ((1.08, 1.051, 1.10), {"most": 1.05}, "no"),
])
def test_a_target_is_met_only_by_its_whole_interval(interval, target, verdict):
    assert bench.verdict(interval, **target) == verdict


# The text `perf report --stdio --sort dso -F sample,dso` printed for a
# run of 04's server (perf 6.1), cut to its kinds of line.
PERF_REPORT = """\
# To display the perf.data header info, please use --header/--header-only options.
#
# Total Lost Samples: 0
#
# Samples: 9K of event 'cpu-clock:ppp'
# Event count (approx.): 1832616000
#
#       Samples  Shared Object
# ............  ....................
#
          8713  [kernel.kallsyms]
           452  libc.so.6
            88  server
             3  [vdso]
             2  [kernel.vmlinux]


#
# (Tip: For a higher level overview, try: perf report --sort comm,dso)
#
"""


def test_a_sample_is_the_kernels_only_in_a_kernel_dso():
    assert bench.samples_by_space(PERF_REPORT) == (452 + 88 + 3, 8713 + 452 + 88 + 3 + 2)
    assert bench.samples_by_space("") == (0, 0)


def test_the_split_ratio_is_the_kernels_part_over_each_share():
    # The same kernel work K per request: K / (1 - u) each.
    assert bench.split_ratio(0.04, 0.04) == 1.0
    assert bench.split_ratio(0.04, 0.06) == pytest.approx(0.96 / 0.94)
    assert bench.split_ratio(0.0, 0.5) == 2.0  # half the CPU in our own code: twice the cost


def test_each_chapter_is_split_against_the_yardstick_of_its_round(tmp_path, monkeypatch):
    # A fake user_share: the yardstick spends 4% in user space in round 1
    # and 2% in round 2, every chapter 6% then 3%. Each ratio must use its
    # own round's yardstick: 0.96/0.94 then 0.98/0.97, never across rounds.
    calls = []

    def fake_user_share(chapter, args, impl, load):
        calls.append((chapter, impl, load))
        round_ = sum(1 for _, i, l in calls if i == "ref" and l == load)  # this round's
        percent = {"ref": 4, "cpp": 6}[impl] // round_
        return percent, 100

    monkeypatch.setattr(bench, "user_share", fake_user_share)
    monkeypatch.setattr(bench, "ROUNDS", 2)
    monkeypatch.setattr(bench, "OUT", tmp_path)
    ratios = {}
    monkeypatch.setattr(bench, "split_table", lambda shares, split: ratios.update(split))
    bench.run_split()
    rows_a_round = sum(len(loads) for _, _, loads, _, _ in bench.TARGETS)
    assert len(ratios) == rows_a_round
    for split in ratios.values():
        assert split == [pytest.approx(0.96 / 0.94), pytest.approx(0.98 / 0.97)]
    with open(tmp_path / "split.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * (len(bench.TARGET_LOADS) + rows_a_round)
    assert [r["user_share"] for r in rows if r["chapter"] == "blocking_echo"] == \
        ["0.0400", "0.0400", "0.0200", "0.0200"]
    # Each round profiles the yardstick first, then starts one row later.
    chapters = [c for c, i, _ in calls if i == "cpp"]
    assert calls[0][1] == "ref" and chapters[0] != chapters[rows_a_round]


@pytest.mark.parametrize("only", ["split", "aftermath", "switches"])
def test_a_run_that_needs_perf_without_it_is_one_error_line_before_anything_runs(
        only, monkeypatch, tmp_path):
    monkeypatch.setattr(bench, "ONLY", only)
    monkeypatch.setattr(bench, "PERF", False)
    monkeypatch.setattr(bench, "check_build", lambda: None)
    monkeypatch.setattr(bench, "OUT", tmp_path / "out")
    monkeypatch.setattr(bench, f"run_{only}", lambda: pytest.fail(f"the {only} ran without perf"))
    monkeypatch.setattr(sys, "argv", ["bench.py"])
    with pytest.raises(SystemExit) as exit_:
        bench.main()
    assert str(exit_.value).startswith(f"error: BENCH_ONLY={only} needs perf")
    assert not (tmp_path / "out").exists()  # nothing written, no log removed


def test_the_split_table_gives_each_row_its_median_interval_and_verdict(capsys):
    load = bench.TARGET_LOADS[0]
    shares = {(None, load): [0.04] * 9, (0, load): [0.05 + i / 1000 for i in range(9)]}
    ratios = {(0, load): [1.00, 1.01, 1.02, 1.03, 1.04, 1.05, 1.06, 1.07, 1.08]}
    bench.split_table(shares, ratios)
    lines = capsys.readouterr().out.splitlines()
    yardstick = next(line for line in lines if line.startswith("reference/blocking_echo"))
    assert yardstick.split()[1:] == bench.label(load).split() + ["9", "4.00%"]
    row = next(line for line in lines if line.startswith("04_threading") and bench.label(load) in line)
    assert row.split()[3:] == ["9", "5.40%", "1.040", "[1.010-1.070]", "<=1.05", "?"]
    assert sum("n/a: no profile" in line for line in lines) == \
        sum(len(loads) for _, _, loads, _, _ in bench.TARGETS) - 1


def test_each_pair_is_a_chapter_and_the_yardstick_loaded_at_the_same_time(tmp_path, monkeypatch):
    # A fake serve_pair: the yardstick costs 10 us a request, every chapter
    # 11, in whichever order the two are given; the host runs round 2 at
    # two thirds of round 1's speed, and both servers of a pair share it.
    # So every chapter's ratio is 1.1 in both rounds, the yardstick's with
    # itself 1.0: the host's speed cancels within a pair.
    calls = []
    plan_size = len(bench.TARGET_LOADS) + sum(len(loads) for _, _, loads, _, _ in bench.TARGETS)

    def fake_serve_pair(servers, load, cpus=None):
        assert cpus is None  # the loads at 16 and 64 clients are left to the scheduler
        calls.append(([server[0] for server in servers], load))
        slowness = 1.0 if len(calls) <= plan_size else 1.5
        return [{"per_second": 1000.0, "cpu_us": slowness * (10.0 if impl == "ref" else 11.0)}
                for _, _, impl in servers]

    monkeypatch.setattr(bench, "serve_pair", fake_serve_pair)
    monkeypatch.setattr(bench, "host_speed", lambda: ([700.0, 700.0], 0))
    monkeypatch.setattr(bench, "ROUNDS", 2)
    monkeypatch.setattr(bench, "OUT", tmp_path)
    ratios = {}
    monkeypatch.setattr(bench, "pairs_table", lambda pairs, *_: ratios.update(pairs))
    bench.run_pairs()
    assert len(calls) == 2 * plan_size
    for load in bench.TARGET_LOADS:
        assert ratios.pop((None, load)) == [1.0, 1.0]  # the yardstick with itself
    assert len(ratios) == plan_size - len(bench.TARGET_LOADS)
    for pair in ratios.values():
        assert pair == [pytest.approx(1.1), pytest.approx(1.1)]
    # Each round runs the controls first, then starts one row later; the
    # chapter's server is given first in round 1 and second in round 2.
    rounds = [calls[:plan_size], calls[plan_size:]]
    for round_ in rounds:
        assert all(names == ["blocking_echo"] * 2 for names, _ in round_[:len(bench.TARGET_LOADS)])
    chapters = [[names for names, _ in round_[len(bench.TARGET_LOADS):]] for round_ in rounds]
    assert all(names[1] == "blocking_echo" for names in chapters[0])
    assert all(names[0] == "blocking_echo" for names in chapters[1])
    assert chapters[0][0][0] != chapters[1][0][1]
    with open(tmp_path / "pairs.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * plan_size
    assert {r["cpu_ratio"] for r in rows if r["chapter"] != "blocking_echo"} == {"1.1000"}
    assert [r["cpu_us_yardstick"] for r in rows][::plan_size] == ["10.000", "15.000"]


def test_pairs_c1_gives_each_server_of_a_pair_a_cpu_of_its_own_and_swaps_them(
        tmp_path, monkeypatch, capsys):
    # BENCH_ONLY=pairs-c1: 01-07 (07 with --nodelay) at rr c=1 on one CPU,
    # each beside the yardstick on the other; the server given first is on
    # CPU 0, and the chapter is given first in odd rounds, so it changes
    # CPU every round. Every chapter costs 1.08 of the yardstick: 05 meets
    # its 1.10, the rest miss 1.05.
    calls = []

    def fake_serve_pair(servers, load, cpus=None):
        calls.append(([server[0] for server in servers], load, cpus))
        return [{"per_second": 1000.0, "cpu_us": 10.0 if impl == "ref" else 10.8}
                for _, _, impl in servers]

    monkeypatch.setattr(bench, "serve_pair", fake_serve_pair)
    monkeypatch.setattr(bench, "host_speed", lambda: ([700.0, 700.0], 0))
    monkeypatch.setattr(bench, "ROUNDS", 2)
    monkeypatch.setattr(bench, "OUT", tmp_path)
    bench.run_pairs(bench.PAIRS_C1_TARGETS, [bench.ONE_CLIENT_ONE_CPU], bench.PAIRS_C1_CSV)
    assert len(calls) == 2 * 8  # the control and 7 chapters, twice
    assert {bench.label(load) for _, load, _ in calls} == {"rr c=1 1cpu"}
    assert all(cpus == [{0}, {1}] for _, _, cpus in calls)
    cpu_of = {}  # chapter -> the CPU it had in each round
    for names, _, _ in calls:
        chapter = next((n for n in names if n != "blocking_echo"), None)
        if chapter:
            cpu_of.setdefault(chapter, []).append(names.index(chapter))
    assert sorted(cpu_of) == ["01_raw_socket_echo", "02_sync_server", "03_stream_handler",
                              "04_threading", "05_forking", "06_thread_pool",
                              "07_socket_options"]
    assert all(cpus == [0, 1] for cpus in cpu_of.values())
    assert (tmp_path / "pairs-c1.csv").exists() and not (tmp_path / "pairs.csv").exists()
    lines = capsys.readouterr().out.splitlines()
    verdicts = {line.split()[0]: line.split()[-2:] for line in lines
                if "rr c=1 1cpu" in line and not line.startswith("reference")}
    assert verdicts["07_socket_options"] == ["<=1.05", "no"]  # (its --nodelay is in the name)
    assert verdicts == {c: ["<=1.10", "yes"] if c == "05_forking" else ["<=1.05", "no"]
                        for c in cpu_of}


def test_pairs_c1_on_one_cpu_is_one_error_line_before_anything_runs(monkeypatch, tmp_path):
    monkeypatch.setattr(bench, "ONLY", "pairs-c1")
    monkeypatch.setattr(bench, "TWO_CPUS", False)
    monkeypatch.setattr(bench, "check_build", lambda: None)
    monkeypatch.setattr(bench, "OUT", tmp_path / "out")
    monkeypatch.setattr(bench, "run_pairs", lambda *a: pytest.fail("the pairs ran on one CPU"))
    monkeypatch.setattr(sys, "argv", ["bench.py"])
    with pytest.raises(SystemExit) as exit_:
        bench.main()
    assert str(exit_.value) == ("error: BENCH_ONLY=pairs-c1 puts the two servers of a pair on "
                                "two CPUs; this machine gives us one")
    assert not (tmp_path / "out").exists()


def test_the_switch_counter_counts_on_the_cpus_the_load_runs_on():
    # Pinned to one CPU: CPU 0 only (the server and its load generator are
    # there); left to the scheduler: every CPU. Each event as the kernel
    # names it, the two tlb:tlb_flush counts told apart by their filters.
    pinned, left = (bench.switch_counter(load) for load in (("rr", 16, 1), ("rr", 16, None)))
    assert pinned[:5] == ["perf", "stat", "-x,", "-C", "0"] and left[:4] == ["perf", "stat", "-x,", "-a"]
    assert pinned[-1] == left[-1] == "--"
    assert pinned[5:-1] == left[4:-1] == [
        "-e", "sched:sched_switch",
        "-e", "tlb:tlb_flush", "--filter", "reason == 0",
        "-e", "tlb:tlb_flush", "--filter", "reason == 0 && pages != 0"]


def test_switch_counts_reads_perf_stat_in_the_order_of_its_events():
    err = ("1000,,sched:sched_switch,224804202,100.00,,\n"
           "700,,tlb:tlb_flush,224804402,100.00,,\n"
           "300,,tlb:tlb_flush,224804359,100.00,,\n")
    assert bench.switch_counts(err) == {"switches": 1000, "address_space": 700, "tlb_flushed": 300}
    with pytest.raises(bench.HarnessError, match="counted 2 events, not 3"):
        bench.switch_counts(err.rsplit("300", 1)[0])
    with pytest.raises(bench.HarnessError, match="^perf stat counted 0 events, not 3: no output$"):
        bench.switch_counts("")


def test_a_load_pinned_to_one_cpu_lets_the_server_go_after_it_is_counted(monkeypatch):
    # The loads run one after the other against one server: the one left
    # to the scheduler must not find it still pinned to CPU 0 by the last.
    everywhere = os.sched_getaffinity(0)
    if len(everywhere) < 2:
        pytest.skip("needs two CPUs to tell pinned from free")
    server = type("FakeServer", (), {})()
    server.proc = subprocess.Popen(["sleep", "30"])
    server.host, server.port = "127.0.0.1", 9
    during = []

    def fake_run(argv, **_):
        during.append(os.sched_getaffinity(server.proc.pid))
        return subprocess.CompletedProcess(
            argv, 0, stdout="rr,16,64,2,1000,500,1,2,3,0,0\n",
            stderr="4,,sched:sched_switch,1,100.00,,\n2,,tlb:tlb_flush,1,100.00,,\n"
                   "1,,tlb:tlb_flush,1,100.00,,\n")

    monkeypatch.setattr(bench, "pinned_load", lambda server, load: lambda seconds: None)
    monkeypatch.setattr(bench.subprocess, "run", fake_run)
    try:
        for load in bench.SWITCH_LOADS:
            counts = bench.count_switches(server, load)
            assert counts == {"switches": 0.004, "address_space": 0.002, "tlb_flushed": 0.001}
            assert os.sched_getaffinity(server.proc.pid) == everywhere, bench.label(load)
    finally:
        server.proc.kill()
        server.proc.wait()
    assert during == [{0} if cpus == 1 else everywhere for _, _, cpus in bench.SWITCH_LOADS]


def test_switches_counts_every_server_at_every_load_and_prints_the_medians(
        tmp_path, monkeypatch, capsys):
    # A fake count_switches: 05 flushes the TLB once a request in round 1
    # and twice in round 2, so its median is 1.5; every other server never.
    rounds_seen = []

    class FakeServer:
        def __init__(self, argv, **_):
            self.proc = subprocess.Popen(["sleep", "30"])
            self.name = argv[0]

        def wait_ready(self):
            pass

        def stop(self, timeout):
            self.proc.kill()
            self.proc.wait()

    def fake_count(server, load):
        rounds_seen.append((server.name, load))
        round_ = rounds_seen.count((server.name, load))
        flushed = float(round_) if "05_forking" in server.name else 0.0
        return {"switches": 2.0, "address_space": 1.5, "tlb_flushed": flushed}

    monkeypatch.setattr(bench, "Server", FakeServer)
    monkeypatch.setattr(bench, "count_switches", fake_count)
    monkeypatch.setattr(bench, "ROUNDS", 2)
    monkeypatch.setattr(bench, "OUT", tmp_path)
    bench.run_switches()
    assert len(rounds_seen) == 2 * len(bench.SWITCH_SERVERS) * len(bench.SWITCH_LOADS)
    lines = capsys.readouterr().out.splitlines()
    rows = {(line.split()[0], bench.label(load)): line for line in lines
            for load in bench.SWITCH_LOADS if f" {bench.label(load)} " in f"{line} "
            and len(line.split()) == len(bench.label(load).split()) + 5}
    assert len(rows) == len(bench.SWITCH_SERVERS) * len(bench.SWITCH_LOADS)
    for (name, _), line in rows.items():
        assert line.split()[-4:] == ["2", "2.000", "1.500", "1.500" if name == "05_forking" else "0.000"]
    with open(tmp_path / "switches.csv") as f:
        assert len(list(csv.DictReader(f))) == len(rounds_seen)


def test_the_switch_loads_are_one_and_sixteen_clients_on_one_cpu_and_sixteen_left_alone():
    assert bench.SWITCH_LOADS == [("rr", 1, 1), ("rr", 16, 1), ("rr", 16, None)]
    assert [name for name, _, _ in bench.SWITCH_SERVERS] == [
        "blocking_echo", "04_threading", "05_forking", "06_thread_pool"]


def test_the_pairs_table_gives_each_row_its_median_interval_and_spread(capsys):
    load = bench.TARGET_LOADS[0]
    ratios = {(None, load): [1.0] * 9, (0, load): [1.00, 1.01, 1.02, 1.03, 1.04, 1.05, 1.06, 1.07, 1.08]}
    bench.pairs_table(ratios)
    lines = capsys.readouterr().out.splitlines()
    control = next(line for line in lines if line.startswith("reference/blocking_echo (itself)")
                   and bench.label(load) in line)
    assert control.split()[2:] == bench.label(load).split() + ["9", "1.000", "[1.000-1.000]", "0.000"]
    row = next(line for line in lines if line.startswith("04_threading") and bench.label(load) in line)
    # stdev of 1.00..1.08 by 0.01: 0.01 * sqrt(60 / 8) = 0.027
    assert row.split()[3:] == ["9", "1.040", "[1.010-1.070]", "0.027", "<=1.05", "?"]
    assert sum("n/a: no pair ran" in line for line in lines) == \
        len(bench.TARGET_LOADS) - 1 + sum(len(loads) for _, _, loads, _, _ in bench.TARGETS) - 1


def test_the_host_line_gives_the_loops_spread_and_the_steal_time(capsys):
    bench.host_table([700.0, 710.0, 1000.0, 720.0], 3)
    out = " ".join(capsys.readouterr().out.split())
    assert "timed 4 times" in out
    assert "fastest 700 us, median 715 us, slowest 1000 us (1.43x the fastest); 1 of 4 at 1.3x" in out
    assert f"steal time over the run: 3 ticks of 1/{bench.CLOCK_TICKS} s" in out
    bench.host_table([], 0)
    assert capsys.readouterr().out == ""


def test_the_aftermath_sets_a_run_after_perf_beside_a_run_after_none(tmp_path, monkeypatch, capsys):
    # A fake timed_after: 06's pool is 10% slower after perf, nothing else
    # moves. Each server runs both ways a round, perf first in odd rounds.
    calls = []

    def fake_timed_after(chapter, args, load, counted):
        calls.append((chapter, counted))
        return 1.10 if counted and chapter == "06_thread_pool" else 1.00

    monkeypatch.setattr(bench, "timed_after", fake_timed_after)
    monkeypatch.setattr(bench, "ROUNDS", 2)
    monkeypatch.setattr(bench, "OUT", tmp_path)
    bench.run_aftermath()
    assert calls[:2] == [("04_threading", True), ("04_threading", False)]
    assert calls[4:6] == [("04_threading", False), ("04_threading", True)]
    lines = capsys.readouterr().out.splitlines()
    rows = {(line.split()[0], "perf stat" in line): line.split()[-3:]
            for line in lines if line.startswith(("04_", "06_"))}
    assert rows == {("04_threading", True): ["2", "1.000", "[1.000-1.000]"],
                    ("04_threading", False): ["2", "1.000", "[1.000-1.000]"],
                    ("06_thread_pool", True): ["2", "1.100", "[1.100-1.100]"],
                    ("06_thread_pool", False): ["2", "1.000", "[1.000-1.000]"]}
    with open(tmp_path / "aftermath.csv") as f:
        assert len(list(csv.DictReader(f))) == 8


def write_rounds(path, rows):
    """A targets.csv of (chapter, load, req/s ratio, CPU ratio) rows."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["round", "chapter", "load", "req_s_ratio", "cpu_ratio"])
        for round_, (chapter, load, speed, cost) in enumerate(rows, 1):
            writer.writerow([round_, chapter, load, f"{speed:.4f}", f"{cost:.4f}"])


def test_intervals_reads_the_kept_rounds_and_decides_each_target_alone(tmp_path, capsys):
    # 9 rounds of 04 at 16 clients: the interval is the 2nd value from each
    # end (test_the_interval_is_between_the_order_statistics...). Its req/s
    # interval is above 0.95, its CPU interval holds 1.05: yes and ?, where
    # the run's table, asking both at once, says ?.
    speeds = [0.96, 0.97, 0.98, 0.99, 1.00, 1.01, 1.02, 1.03, 1.04]
    costs = [1.00, 1.01, 1.02, 1.03, 1.04, 1.05, 1.06, 1.07, 1.08]
    write_rounds(tmp_path / "targets.csv",
                 [("04_threading", "rr c=16", s, c) for s, c in zip(speeds, costs)])
    bench.intervals_table([tmp_path / "targets.csv"])
    lines = capsys.readouterr().out.splitlines()
    row = next(line for line in lines if line.startswith("04_threading") and "c=16" in line)
    assert row.split()[3:] == ["9", "1.000", "[0.970-1.030]", ">=0.95", "yes",
                               "1.040", "[1.010-1.070]", "<=1.05", "?"]
    others = [line for line in lines[3:] if line is not row]
    assert len(others) == sum(len(loads) for _, _, loads, _, _ in bench.TARGETS) - 1
    assert all(line.endswith("no rounds") for line in others)


def test_intervals_pools_the_rounds_of_several_runs(tmp_path, capsys):
    # Two runs of 9 and 10 rounds read together are the 19 rounds of one.
    rows = [("06_thread_pool", "rr c=16", 0.90 + i / 100, 1.10 - i / 100) for i in range(19)]
    write_rounds(tmp_path / "a.csv", rows[:9])
    write_rounds(tmp_path / "b.csv", rows[9:])
    write_rounds(tmp_path / "all.csv", rows)
    bench.intervals_table([tmp_path / "a.csv", tmp_path / "b.csv"])
    pooled = capsys.readouterr().out.splitlines()
    bench.intervals_table([tmp_path / "all.csv"])
    whole = capsys.readouterr().out.splitlines()
    assert pooled[0] == "a.csv + b.csv" + whole[0].removeprefix("all.csv")
    assert pooled[1:] == whole[1:]
    assert any(line.startswith("06_thread_pool ") and " 19 " in line for line in pooled)


def test_intervals_gives_how_much_the_yardstick_moves_from_one_run_to_the_next(tmp_path, capsys):
    # Each row keeps the yardstick's runs just before and just after its
    # chapter: after/before CPU per request 1.1, 0.9, 1.0 (sd 0.1) and
    # req/s 0.8, 1.2, 1.0 (sd 0.2), at 16 clients only.
    with open(tmp_path / "targets.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["round", "chapter", "load", "req_s_ratio", "cpu_ratio", "req_s_before",
                         "req_s_after", "cpu_us_before", "cpu_us_after"])
        for round_, (cpu, speed) in enumerate([(1.1, 0.8), (0.9, 1.2), (1.0, 1.0)], 1):
            writer.writerow([round_, "04_threading", "rr c=16", "1.0", "1.0", "1000",
                             f"{1000 * speed:.0f}", "10.000", f"{10 * cpu:.3f}"])
    (load, (cpu, speed, runs)), = bench.yardstick_noise(tmp_path / "targets.csv").items()
    assert (load, runs) == ("rr c=16", 3)
    assert (cpu, speed) == (pytest.approx(0.1), pytest.approx(0.2))
    bench.intervals_table([tmp_path / "targets.csv"])
    assert capsys.readouterr().out.splitlines()[-1] == (
        "The yardstick, each run over the one just before it, standard deviation: "
        "rr c=16 CPU/req 0.100, req/s 0.200 (3 pairs)")


@pytest.mark.parametrize("option, content, error", [
    ("--intervals", None, "No such file or directory"),
    ("--intervals", "round,chapter,load\n1,04_threading,rr c=16\n",
     "not the rounds of a BENCH_ONLY=targets run"),
    ("--design-targets", None, "No such file or directory"),
    ("--design-targets", "round,chapter,load\n1,04_threading,rr c=16\n",
     "not the rounds of a design table run"),
])
def test_reading_a_missing_or_foreign_file_is_one_error_line(tmp_path, option, content, error):
    path = tmp_path / "rounds.csv"
    if content is not None:
        path.write_text(content)
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "bench.py"), option, str(path)],
                          capture_output=True, text=True, timeout=30)
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr.startswith(f"error: {path}: ") and error in proc.stderr
    assert proc.stderr.count("\n") == 1


def write_design_rounds(path, rows):
    """A designs.csv of (round, design, impl, mode, concurrency, CPU user us,
    CPU system us, context switches per connection) rows."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["round", "chapter", "design", "impl", "mode", "concurrency",
                         "cpu_user_us", "cpu_sys_us", "ctx_per_req"])
        for round_, design, impl, mode, concurrency, user, system, ctx in rows:
            writer.writerow([round_, "xx", design, impl, mode, concurrency, user, system, ctx])


def design_row(lines, design, lang, figure):
    return next(line for line in lines
                if line.startswith(f"{design} ") and f" {lang} " in line and f" {figure} " in line)


def test_design_targets_divides_the_two_designs_of_each_round_then_takes_the_median(
        tmp_path, capsys):
    # 9 rounds: a thread per connection at 2.00 context switches per
    # connection, 4.00 in round 9 (a slow round), and the lock pool at
    # 3.00, 6.00 in round 9: each round's own ratio is 1.5, so the
    # interval is [1.500-1.500]. Fork costs 300 + 100 us a connection, pass
    # 60 + 20 in rounds 1-8 (0.20) and 100 + 20 in round 9 (0.30), which
    # the interval (the 2nd value from each end of 9) leaves out.
    rows = []
    for r in range(1, 10):
        slow = 2 if r == 9 else 1
        rows += [(r, "thread per connection", "cpp", "connect", 16, 50, 50, 2.0 * slow),
                 (r, "pre-forked, lock", "cpp", "connect", 16, 30, 30, 3.0 * slow),
                 (r, "fork per connection", "cpp", "connect", 16, 300, 100, 5.0),
                 (r, "pre-forked, pass", "cpp", "connect", 16, 100 if r == 9 else 60, 20, 4.0),
                 (r, "pre-forked, pass", "cpp", "rr", 16, 1, 1, 1.0)]  # not the connect load
    write_design_rounds(tmp_path / "designs.csv", rows)
    bench.design_targets_table([tmp_path / "designs.csv"])
    lines = capsys.readouterr().out.splitlines()
    assert design_row(lines, "pre-forked, lock", "C++", "ctx/conn").split()[-5:] == [
        "9", "1.500", "[1.500-1.500]", "<=1.50", "yes"]
    assert design_row(lines, "pre-forked, pass", "C++", "CPU/conn").split()[-5:] == [
        "9", "0.200", "[0.200-0.200]", "<=0.20", "yes"]
    assert design_row(lines, "pre-forked, lock", "C++", "CPU/conn").split()[-4:] == [
        "0.150", "[0.150-0.150]", "<=0.20", "yes"]
    # a design the file has no rounds of says so, in both languages
    assert design_row(lines, "pre-threaded, main", "C++", "CPU/conn").endswith("no rounds")
    assert design_row(lines, "pre-forked, lock", "Python", "ctx/conn").endswith("no rounds")
    assert len(lines) == 3 + 2 * len(bench.DESIGN_TARGETS)


def test_design_targets_skips_a_round_that_lacks_either_figure(tmp_path, capsys):
    # A round whose run failed keeps empty figures (run_design's rows);
    # that round gives no ratio, and the others still do.
    rows = [(r, "thread per connection", "py", "connect", 16, 1, 1, 2.0) for r in (1, 2, 3)]
    rows += [(1, "pre-threaded, block", "py", "connect", 16, 1, 1, 2.2),
             (2, "pre-threaded, block", "py", "connect", 16, 1, 1, ""),
             (3, "pre-threaded, block", "py", "connect", 16, 1, 1, 4.0)]
    write_design_rounds(tmp_path / "designs.csv", rows)
    bench.design_targets_table([tmp_path / "designs.csv"])
    row = design_row(capsys.readouterr().out.splitlines(), "pre-threaded, block", "Python",
                     "ctx/conn")
    assert row.split()[-5:] == ["2", "1.550", "[1.100-2.000]", "<=1.50", "?"]


def test_design_targets_pools_several_runs_keeping_their_rounds_apart(tmp_path, capsys):
    # Round 1 of one file is not round 1 of the other: each is divided
    # within its own run (0.5 and 2.0 would be wrong; 1.0 twice is right).
    write_design_rounds(tmp_path / "a.csv", [
        (1, "thread per connection", "cpp", "connect", 16, 1, 1, 2.0),
        (1, "pre-threaded, lock", "cpp", "connect", 16, 1, 1, 2.0)])
    write_design_rounds(tmp_path / "b.csv", [
        (1, "thread per connection", "cpp", "connect", 16, 1, 1, 4.0),
        (1, "pre-threaded, lock", "cpp", "connect", 16, 1, 1, 4.0)])
    bench.design_targets_table([tmp_path / "a.csv", tmp_path / "b.csv"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("a.csv + b.csv: ")
    assert design_row(lines, "pre-threaded, lock", "C++", "ctx/conn").split()[-5:] == [
        "2", "1.000", "[1.000-1.000]", "<=1.50", "yes"]


# The targets runs kept in tests/bench/: those that count each server with
# perf after its timed runs (the last is targets.csv), and the two before,
# which counted it just before.
PERF_LAST = [bench.OUT / name for name in
             ("targets-2631436.csv", "targets-5071cd0.csv", "targets.csv", "targets-2348ac6.csv")]
PERF_BEFORE = [bench.OUT / "targets-3e91909.csv", bench.OUT / "targets-d115516.csv"]
ONE_CPU = [bench.OUT / "targets-1cpu.csv"]  # BENCH_PLACEMENT=1cpu
ONE_CPU_XEON = [bench.OUT / "targets-1cpu-xeon.csv"]  # the same, on the Intel host
AT_ONE_CLIENT = [bench.OUT / "targets-c1.csv"]  # BENCH_ONLY=targets-c1
AT_ONE_CLIENT_EPYC = [bench.OUT / "targets-c1-epyc.csv"]  # the same, on the AMD host


def quotable_figures():
    """Every figure to 3 decimals that the kept runs give: the medians and
    interval ends --intervals prints from each targets run, from the runs
    of each method pooled, the one-CPU run's, the one at one client, the
    yardstick's run-to-run spread it prints, what --design-targets gives
    from the design table's rounds, and what the split, the pairs (at 16
    and 64 clients and at one), the aftermath and the switches printed."""
    figures = set()
    for rounds in ([[run] for run in PERF_LAST + PERF_BEFORE] +
                   [PERF_LAST, PERF_LAST[:3], PERF_BEFORE, ONE_CPU, ONE_CPU_XEON, AT_ONE_CLIENT,
                    AT_ONE_CLIENT_EPYC, AT_ONE_CLIENT + AT_ONE_CLIENT_EPYC]):
        figures |= {f"{x:.3f}" for speed, cost, _ in bench.kept_rounds(*rounds).values()
                    for x in speed + cost}
        figures |= {f"{x:.3f}" for cpu, speed, _ in bench.yardstick_noise(*rounds).values()
                    for x in (cpu, speed)}
    figures |= {f"{x:.3f}" for found in bench.design_targets(bench.OUT / "designs.csv").values()
                if found for x in found[0]}
    for run in ("split-run.txt", "pairs-run.txt", "aftermath-run.txt", "pairs-c1-run.txt",
                "pairs-c1-epyc-run.txt",
                "switches-run.txt", "switches-epyc-run.txt"):
        figures |= set(re.findall(r"\d\.\d{3}", (bench.OUT / run).read_text()))
    return figures


def prose(text):
    """text without its fenced blocks."""
    return re.sub(r"^```.*?^```$", "", text, flags=re.S | re.M)


def test_the_top_readme_quotes_only_target_figures_the_kept_rounds_give():
    # Its "Targets" section quotes medians and interval ends to 3 decimals
    # in its prose: each must be one that --intervals prints from
    # tests/bench/targets.csv, from the run before it (targets-d115516.csv)
    # or from the two pooled (all read with bench.kept_rounds; the
    # transcripts above them are run by check_docs), or a split ratio
    # (split-run.txt); and its count of rounds must be the last run's.
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Targets"):]
    section = prose(section[:section.index("\n#", 1)])
    kept = bench.kept_rounds(bench.OUT / "targets.csv")
    figures = quotable_figures()
    quoted = re.findall(r"(?<![\d.])\d\.\d{3}(?!\d)", section)
    assert quoted, "the section quotes no figure: this test is looking in the wrong place"
    assert [q for q in quoted if q not in figures] == []
    # (Its other counts are of earlier runs: "With 20 rounds ...".)
    counts = re.findall(r"(?:the median of|Its third run,) (\d+) rounds", section)
    assert len(counts) == 2 and {int(n) for n in counts} == {n for _, _, n in kept.values()}


def run_section(heading, run_name):
    """(the prose of the top README's section under `heading`, the text of
    tests/bench/run_name), once the section's 3-decimal figures are found
    quotable and its "Its last run, N rounds" is the run's count."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index(heading):]
    section = prose(section[:section.index("\n#", 1)])
    run = (bench.OUT / run_name).read_text()
    quoted = re.findall(r"(?<![\d.])\d\.\d{3}(?!\d)", section)
    assert quoted, "the section quotes no figure: this test is looking in the wrong place"
    assert [q for q in quoted if q not in quotable_figures()] == []
    rounds = re.search(r"^make bench: .*, (\d+) rounds,", run, re.M).group(1)
    assert re.findall(r"Its last run, (\d+) rounds", section) == [rounds]
    return section, run


def test_the_split_section_quotes_only_figures_its_run_printed():
    # "Where the CPU goes" quotes the split's ratios (3 decimals) and the
    # figures it compares them with: each must be one that
    # tests/bench/split-run.txt printed, or the pairs, or that --intervals
    # prints from the targets runs. Its count of rounds is the split run's.
    section, run = run_section("### Where the CPU goes", "split-run.txt")
    # Its percentages of the yardstick's CPU are split ratios less 1 (1.014:
    # 1.4%), as the run printed them.
    ratios = {f"{(float(r) - 1) * 100:.1f}%" for r in
              re.findall(r"^\S.* (\d\.\d{3}) \[", run, re.M)}
    quoted = re.findall(r"(?<![\d.])\d\.\d%", section.replace("–", "% "))
    assert quoted and [q for q in quoted if q not in ratios] == []


def test_the_pairs_section_quotes_only_figures_its_run_printed():
    # "CPU per request, head to head" quotes the pairs' ratios and spreads
    # (3 decimals) and the yardstick's run-to-run spread that --intervals
    # prints; its count of rounds is the pairs run's; and the host's
    # figures in its prose are the ones the run's host line gives.
    section, run = run_section("### CPU per request, head to head", "pairs-run.txt")
    host = " ".join(run[run.index("The host:"):].split())
    for figure in re.findall(r"\d+ us|\d+\.\d\dx|\d+ of \d+|\d+ ticks", " ".join(section.split())):
        assert figure in host, figure


@pytest.mark.parametrize("chapter, rows", [
    ("05_forking", [("05_forking --max-children 64", "rr c=64")]),
    ("06_thread_pool", [("06_thread_pool --workers 64", "rr c=64"), ("06_thread_pool", "rr c=16")]),
])
def test_a_chapter_readme_quotes_the_medians_the_kept_rounds_give(chapter, rows):
    # The sentence that cites BENCH_ONLY=targets gives, in order, each row's
    # req/s and CPU medians over the rounds of the runs that count with perf
    # last, pooled, to 2 decimals, and the number of rounds.
    text = " ".join(prose((ROOT / chapter / "README.md").read_text()).split())
    sentence = next(s for s in re.split(r"(?<=\.) (?=[A-Z])", text) if "BENCH_ONLY=targets" in s)
    kept = bench.kept_rounds(*PERF_LAST)
    expected = [f"{kept[row][i][0]:.2f}" for row in rows for i in (0, 1)]
    assert re.findall(r"(?<![\d.])\d\.\d\d(?![\d.])", sentence) == expected, sentence
    assert re.findall(r"(\d+) rounds", sentence) == [str(kept[rows[0]][2])], sentence


@pytest.mark.parametrize("chapter", ["04_threading", "05_forking", "06_thread_pool"])
def test_a_chapter_readme_quotes_only_3_decimal_figures_a_kept_run_gives(chapter):
    # Their prose quotes the pairs' and the switches' counts to 3 decimals
    # (1.108, 1.091): each one --intervals or a kept run printed.
    text = prose((ROOT / chapter / "README.md").read_text())
    quoted = re.findall(r"(?<![\d.])\d\.\d{3}(?!\d)", text)
    assert [q for q in quoted if q not in quotable_figures()] == []


# A figure as a run's table prints it: a count with thousands separators
# (91,192) or a ratio or count to 2 decimals (0.94, 2.00); not a part of a
# longer one (1.108, 0.5+9.7 is two).
PRINTED = re.compile(r"(?<![\d.,])(?:\d{1,3}(?:,\d{3})+|\d+\.\d\d)(?![\d,]|\.\d)")


# What PRINTED finds in that prose and is not a figure of a run.
NOT_FIGURES = {"30.13"}  # a section of Stevens' book, in 06's design table


def bench_prose():
    """(where, prose) of every passage that reads figures off `make bench`:
    the top README's "What the figures say", and in each chapter README the
    paragraphs under its block "From the run of `make bench`"."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### What the figures say"):]
    yield "README.md", prose(section[:section.index("\n#", 1)])
    for path in sorted(ROOT.glob("[0-9][0-9]_*/README.md")):
        text = path.read_text()
        if "From the run of `make bench`" in text:
            after = text[text.index("From the run of `make bench`"):]
            yield path.parent.name, prose(after[:after.index("\n#", 1)])
    design = DESIGN_README.read_text()
    design = design[design.index("## The design table"):]
    yield "06_thread_pool, the design table", prose(design[:design.index("\n## ", 1)])


DESIGN_README = ROOT / "06_thread_pool" / "README.md"


def rr_groups():
    """The C++ rounds of the design table's rr load (tests/bench/designs.csv),
    split in two at the widest gap between their requests/s: for the slow
    group and the fast, (least, most requests/s, least, most CPU us/req)."""
    with open(bench.OUT / "designs.csv", newline="") as f:
        rounds = sorted((int(r["per_second"]), float(r["cpu_user_us"]) + float(r["cpu_sys_us"]))
                        for r in csv.DictReader(f)
                        if r["impl"] == "cpp" and r["mode"] == "rr" and r["per_second"])
    gap = max(range(1, len(rounds)), key=lambda i: rounds[i][0] - rounds[i - 1][0])
    return [(group[0][0], group[-1][0], min(c for _, c in group), max(c for _, c in group))
            for group in (rounds[:gap], rounds[gap:])]


def rr_designs_in_each_group():
    """The designs with a round in the slow group, and those with one in the fast."""
    slow_most = rr_groups()[0][1]
    with open(bench.OUT / "designs.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f)
                if r["impl"] == "cpp" and r["mode"] == "rr" and r["per_second"]]
    return ({r["design"] for r in rows if int(r["per_second"]) <= slow_most},
            {r["design"] for r in rows if int(r["per_second"]) > slow_most})


def test_the_design_table_prose_gives_the_two_kinds_of_round_the_kept_run_had():
    # 06's README says the design table's rr rounds fall into two groups,
    # the slow one costing more CPU per request: its figures are those
    # designs.csv gives, and the groups do not overlap in CPU per request.
    slow, fast = rr_groups()
    assert slow[2] > fast[3], (slow, fast)  # every slow round costs more CPU
    in_slow, in_fast = rr_designs_in_each_group()  # "the rounds of every design"
    assert in_slow == in_fast and len(in_slow) == 9, (in_slow, in_fast)
    text = " ".join(prose(DESIGN_README.read_text()).split())
    assert (f"{slow[0]:,}–{slow[1]:,} requests/s at {slow[2]:.1f}–{slow[3]:.1f} µs of CPU per "
            f"request, and {fast[0]:,}–{fast[1]:,} at {fast[2]:.1f}–{fast[3]:.1f} µs") in text


def test_the_benchmark_prose_quotes_only_figures_a_kept_run_printed():
    # Each count and 2-decimal figure in those passages must be printed in
    # one of the runs kept in tests/bench/ (last-run.txt for the most): a
    # figure from a run that is gone, or mistyped, fails here.
    printed = set()
    for run in bench.OUT.glob("*.txt"):
        printed |= set(PRINTED.findall(run.read_text()))
    # and the rr groups of the design table, which the test above holds
    printed |= {f"{n:,}" for group in rr_groups() for n in group[:2]}
    passages = list(bench_prose())
    assert len(passages) == 5, [where for where, _ in passages]
    for where, text in passages:
        quoted = [q for q in PRINTED.findall(text) if q not in NOT_FIGURES]
        assert quoted, f"{where}: no figure found: this test is looking in the wrong place"
        assert [q for q in quoted if q not in printed] == [], where
