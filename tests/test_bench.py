"""tests/test_bench.py -- the statistics and the guard of tests/bench.py.

`make bench` prints figures that no test may time (a noisy 2-core machine),
but what it computes from them is checked here: the confidence interval of
its targets table, and its refusal to measure a sanitizer build.
"""
import csv
import math
import os

import pytest

import bench


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
