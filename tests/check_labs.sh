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

# Every chapter's lab, in two phases: export and build them, two at a time
# (the builds keep the two cores busy); then grade them, four at a time (a
# lab's tests mostly wait on sockets and timers, so they overlap well, and
# no compiler competes with their time limits).
build_lab() {
  make -s export CHAPTER="$1" DEST="$work/$1" >/dev/null
  if ! (cd "$work/$1" && make -s >"$work/$1.log" 2>&1); then
    tail -n 30 "$work/$1.log"
    echo "error: the lab of $1 does not build" >&2
    return 1
  fi
}
grade_lab() {
  if ! (cd "$work/$1" && make -s test >>"$work/$1.log" 2>&1); then
    tail -n 30 "$work/$1.log"
    echo "error: the lab of $1 does not pass its own tests" >&2
    return 1
  fi
  echo "  lab $1: $(tail -n 1 "$work/$1.log")"
}
export -f build_lab grade_lab
export work
printf '%s\n' [0-9][0-9]_* | xargs -P 2 -I{} bash -c 'build_lab "$1"' _ {}
echo "  every chapter's lab exported and built in ${SECONDS} s"
printf '%s\n' [0-9][0-9]_* | xargs -P 4 -I{} bash -c 'grade_lab "$1"' _ {}
echo "  every chapter's lab exported, built and graded in ${SECONDS} s"

wrong="$work/wrong_04"
make -s export CHAPTER=04 DEST="$wrong" >/dev/null
sed -i 's|^using ThreadingTCPServer = net::ThreadingMixIn<net::BaseServer>;|using ThreadingTCPServer = net::BaseServer;  // wrong: no thread|' \
  "$wrong/04_threading/server.cpp"
grep -q "wrong: no thread" "$wrong/04_threading/server.cpp"
(cd "$wrong" && make -s >/dev/null 2>&1)
if (cd "$wrong" && make -s test IMPL=cpp PYTEST_ARGS=-x >"$work/wrong.log" 2>&1); then
  echo "error: the 04 lab's tests passed a server that serves connections inline" >&2
  exit 1
fi
echo "  lab 04 with no thread (a wrong solution): fails, as it must: $(grep -E "[0-9]+ (passed|failed)" "$work/wrong.log" | tail -n 1)"

# Each starter (two at a time): it builds, and its tests fail naming the parts.
check_starter() {
  local starter="$work/starter_$1"
  make -s export CHAPTER="$1" DEST="$starter" STARTER=1 >/dev/null
  if ! (cd "$starter" && make -s >"$starter.log" 2>&1); then
    tail -n 30 "$starter.log"
    echo "error: the starter lab of $1 does not build" >&2
    return 1
  fi
  if (cd "$starter" && make -s test PYTEST_ARGS=-x >"$starter.log" 2>&1); then
    echo "error: the starter lab of $1 passes its tests with the lesson taken out" >&2
    return 1
  fi
  if ! grep -q "still to write: " "$starter.log"; then
    echo "error: the starter lab of $1 fails without naming what is still to write" >&2
    return 1
  fi
  echo "  starter $1: builds, and fails; $(grep -c 'still to write: ' "$starter.log") part(s) to write:" \
    "$(grep 'still to write: ' "$starter.log" | sed 's/.*still to write: //' | paste -sd ';' -)"
}
export -f check_starter
printf '%s\n' [0-9][0-9]_* | xargs -P 2 -I{} bash -c 'check_starter "$1"' _ {}
echo "  with the wrong solution and the starters: ${SECONDS} s in all"
