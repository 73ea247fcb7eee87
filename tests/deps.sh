#!/usr/bin/env bash
# tests/deps.sh — make sure GoogleTest and pytest are there; install them if we can.
#
#   tests/deps.sh            check (and install as root with apt-get) what `make test` needs
#   tests/deps.sh --python   print the Python interpreter that has pytest
#   tests/deps.sh --bench    install gnuplot and iperf3 for make bench, if we can
#   tests/deps.sh --fuzz     clang++ and its libFuzzer runtime, for make fuzz
#   tests/deps.sh --libcxx   clang++ and libc++ (macOS's standard library), for
#                            make CXX="clang++ -stdlib=libc++" test
#
# python3 on PATH may be a pyenv or venv build while Debian's python3-pytest
# installs into /usr/bin/python3, so we look for pytest in both.
set -euo pipefail

pytest_python() {
  for py in python3 /usr/bin/python3; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import pytest' >/dev/null 2>&1; then
      command -v "$py"
      return 0
    fi
  done
  return 1
}

# install_or_say REQUIRED PACKAGE...: apt-get install them as root; else say
# the command to run (and fail, if they are required).
install_or_say() {
  local required=$1
  shift
  [ $# -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing $* with apt-get" >&2
    # An optional package that fails to install must not stop make bench,
    # which prints its table without gnuplot and iperf3.
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; }; then
      [ "$required" = required ] && { echo "error: apt-get install $* failed" >&2; exit 1; }
      echo "note: apt-get install $* failed; the bench goes on without them" >&2
    fi
  elif [ "$required" = required ]; then
    echo "error: missing $*; run: sudo apt-get install $*" >&2
    exit 1
  else
    echo "note: without $* the bench skips them; sudo apt-get install $*" >&2
  fi
}

case "${1:-}" in
  --python)
    pytest_python || { echo "error: no python3 with pytest; run: tests/deps.sh" >&2; exit 1; }
    ;;
  --bench)  # optional: without them the bench prints its table anyway
    missing=()
    command -v gnuplot >/dev/null 2>&1 || missing+=(gnuplot-nox)
    command -v iperf3 >/dev/null 2>&1 || missing+=(iperf3)
    command -v perf >/dev/null 2>&1 || missing+=(linux-perf)
    install_or_say optional "${missing[@]}"
    ;;
  --libcxx)
    missing=()
    command -v clang++ >/dev/null 2>&1 || missing+=(clang)
    echo '#include <version>' | clang++ -stdlib=libc++ -x c++ -fsyntax-only - >/dev/null 2>&1 ||
      missing+=(libc++-dev libc++abi-dev)
    install_or_say required "${missing[@]}"
    ;;
  --fuzz)
    command -v clang++ >/dev/null 2>&1 || install_or_say required clang
    # Asked for a runtime it lacks, clang prints the bare name back.
    [ -f "$(clang++ -print-file-name="libclang_rt.fuzzer-$(uname -m).a")" ] ||
      install_or_say required "libclang-rt-$(clang++ -dumpversion | cut -d. -f1)-dev"
    ;;
  *)
    missing=()
    [ -f /usr/include/gtest/gtest.h ] || missing+=(libgtest-dev)
    pytest_python >/dev/null || missing+=(python3-pytest)
    install_or_say required "${missing[@]}"
    ;;
esac
