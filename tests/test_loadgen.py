"""tests/test_loadgen.py -- the benchmark's load generator measures what it claims.

Short runs (0.3 s) against the chapter 04 server, C++ and Python: the
figures are read from its CSV line; and its errors follow the contract.
"""
import subprocess
import sys

import pytest

from conftest import ROOT, free_port

# The load generator uses epoll: built on Linux only (tests/Makefile).
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="tests/loadgen uses epoll, which only Linux has")

LOADGEN = str(ROOT / "tests" / "loadgen")
FIELDS = ["mode", "concurrency", "size", "seconds", "requests", "per_second", "p50_us",
          "p99_us", "max_us", "mb_per_second", "errors"]


def loadgen(*args):
    return subprocess.run([LOADGEN, *args], capture_output=True, text=True, timeout=30)


def figures(result):
    assert result.returncode == 0, result.stderr
    return dict(zip(FIELDS, result.stdout.strip().split(",")))


def test_request_response_counts_answered_requests(start_server):
    server = start_server("04_threading")
    row = figures(loadgen("--port", str(server.port), "--concurrency", "4", "--duration", "0.3"))
    assert row["mode"] == "rr" and row["concurrency"] == "4"
    assert int(row["requests"]) > 100
    assert int(row["errors"]) == 0
    assert 0 < int(row["p50_us"]) <= int(row["p99_us"]) <= int(row["max_us"])


def test_connect_and_bulk_modes(start_server):
    server = start_server("04_threading")
    connect = figures(loadgen("--port", str(server.port), "--mode", "connect", "--duration", "0.3"))
    assert int(connect["requests"]) > 10
    bulk = figures(loadgen("--port", str(server.port), "--mode", "bulk", "--duration", "0.3"))
    assert float(bulk["mb_per_second"]) > 1


def test_udp_mode(start_server):
    server = start_server("08_udp")
    row = figures(loadgen("--port", str(server.port), "--mode", "udp", "--concurrency", "4",
                          "--duration", "0.3"))
    assert int(row["requests"]) > 100


def test_a_design_that_cannot_serve_the_concurrency_is_reported(start_server):
    server = start_server("03_stream_handler")  # iterative: one connection at a time
    result = loadgen("--port", str(server.port), "--concurrency", "2", "--duration", "0.3")
    assert result.returncode == 1
    assert "connection 2 to 127.0.0.1:" in result.stderr and "not served" in result.stderr


def test_no_server_is_a_clear_error():
    port = free_port()
    result = loadgen("--port", str(port), "--duration", "0.3")
    assert result.returncode == 1
    assert result.stderr == f"error: connect 127.0.0.1:{port}: Connection refused\n"


def test_loopback_only():
    result = loadgen("--host", "192.0.2.1", "--port", "9", "--duration", "0.3")
    assert result.returncode == 2
    assert result.stderr.startswith("error: loopback addresses only")


def test_a_run_ends_without_resetting_the_server(start_server):
    # The loadgen half-closes and reads the last echoes before it closes, so
    # a server measured by the bench ends every connection as in normal use
    # (a close with echoes unread would reach it as "Connection reset").
    for chapter in ("01_raw_socket_echo", "04_threading"):
        server = start_server(chapter)
        for mode in ("rr", "bulk"):
            figures(loadgen("--port", str(server.port), "--mode", mode, "--duration", "0.3"))
        assert server.stop() == 0
        assert "error" not in server.stderr_text(), server.stderr_text()
