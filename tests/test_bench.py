"""tests/test_bench.py -- the statistics and the guard of tests/bench.py.

`make bench` prints figures that no test may time (a noisy 2-core machine),
but what it computes from them is checked here: the confidence interval of
its targets table, and its refusal to measure a sanitizer build.
"""
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
