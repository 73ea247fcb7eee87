#!/usr/bin/env bash
# tests/deps.sh — make sure GoogleTest and pytest are there; install them if we can.
#
#   tests/deps.sh            check (and install as root with apt-get) what `make test` needs
#   tests/deps.sh --python   print the Python interpreter that has pytest
#   tests/deps.sh --bench    install gnuplot and iperf3 for make bench, if we can
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

if [ "${1:-}" = "--bench" ]; then
  # Optional for the benchmark: without them it prints the table anyway.
  missing=()
  command -v gnuplot >/dev/null 2>&1 || missing+=(gnuplot-nox)
  command -v iperf3 >/dev/null 2>&1 || missing+=(iperf3)
  [ ${#missing[@]} -eq 0 ] && exit 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${missing[*]} with apt-get" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "note: without ${missing[*]} the bench skips them; sudo apt-get install ${missing[*]}" >&2
  fi
  exit 0
fi

if [ "${1:-}" = "--python" ]; then
  pytest_python || { echo "error: no python3 with pytest; run: tests/deps.sh" >&2; exit 1; }
  exit 0
fi

missing=()
[ -f /usr/include/gtest/gtest.h ] || missing+=(libgtest-dev)
pytest_python >/dev/null || missing+=(python3-pytest)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} with apt-get" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "error: missing ${missing[*]}; run: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
