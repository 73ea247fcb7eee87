#!/usr/bin/env bash
# tests/check_labs.sh — `make export`, proven for every chapter (CI runs it).
#
# Each chapter is exported to an empty folder outside the repository (no
# ../shared, no tests/ around it), built there with plain `make`, and graded
# there by its own `make test`, which must pass. Then the grader is shown to
# catch a wrong solution: chapter 04 with its server serving each connection
# inline (no thread) must fail its lab tests.
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
