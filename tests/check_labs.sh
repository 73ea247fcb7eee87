#!/usr/bin/env bash
# tests/check_labs.sh — `make export`, proven for every chapter (CI runs it).
#
# Each chapter is exported to an empty folder outside the repository (no
# ../shared, no tests/ around it), built there with plain `make`, and graded
# there by its own `make test`, which must pass. Then the grader is shown to
# catch a wrong solution: chapter 04 with its server serving each connection
# inline (no thread) must fail its lab tests. Last, each chapter's starter
# lab (STARTER=1: the lesson's regions replaced by stubs) must build, and
# its `make test` must name what is still to write and fail.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/labs.XXXXXX)
trap 'rm -rf "$work"' EXIT

for chapter in [0-9][0-9]_*; do
  make -s export CHAPTER="$chapter" DEST="$work/$chapter" >/dev/null
  if ! (cd "$work/$chapter" && make -s >"$work/$chapter.log" 2>&1 && make -s test >>"$work/$chapter.log" 2>&1); then
    tail -n 30 "$work/$chapter.log"
    echo "error: the lab of $chapter does not build or pass its own tests" >&2
    exit 1
  fi
  echo "  lab $chapter: $(tail -n 1 "$work/$chapter.log")"
done

wrong="$work/wrong_04"
make -s export CHAPTER=04 DEST="$wrong" >/dev/null
sed -i 's|^using ThreadingTCPServer = net::ThreadingMixIn<net::BaseServer>;|using ThreadingTCPServer = net::BaseServer;  // wrong: no thread|' \
  "$wrong/04_threading/server.cpp"
grep -q "wrong: no thread" "$wrong/04_threading/server.cpp"
(cd "$wrong" && make -s >/dev/null 2>&1)
if (cd "$wrong" && make -s test IMPL=cpp >"$work/wrong.log" 2>&1); then
  echo "error: the 04 lab's tests passed a server that serves connections inline" >&2
  exit 1
fi
echo "  lab 04 with no thread (a wrong solution): fails, as it must: $(grep -E "[0-9]+ (passed|failed)" "$work/wrong.log" | tail -n 1)"

for chapter in [0-9][0-9]_*; do
  starter="$work/starter_$chapter"
  make -s export CHAPTER="$chapter" DEST="$starter" STARTER=1 >/dev/null
  if ! (cd "$starter" && make -s >"$starter.log" 2>&1); then
    tail -n 30 "$starter.log"
    echo "error: the starter lab of $chapter does not build" >&2
    exit 1
  fi
  if (cd "$starter" && make -s test PYTEST_ARGS=-x >"$starter.log" 2>&1); then
    echo "error: the starter lab of $chapter passes its tests with the lesson taken out" >&2
    exit 1
  fi
  grep -q "still to write: " "$starter.log"
  echo "  starter $chapter: builds, and fails; $(grep -c 'still to write: ' "$starter.log") part(s) to write:" \
    "$(grep 'still to write: ' "$starter.log" | sed 's/.*still to write: //' | paste -sd ';' -)"
done
echo "  every lab exported, built and graded in ${SECONDS} s"
