"""tests/test_07_socket_options.py -- options set before bind, read back, inherited; TIME_WAIT."""
import subprocess

from conftest import connect, program, recv_exactly, recv_until_eof

CHAPTER = "07_socket_options"


def printed_options(server, count=6):
    server.wait_until(lambda: len(server.stdout_lines) > count, 5, "the option lines")
    return dict(line.split(" = ") for line in server.stdout_lines[1:count + 1])


def test_defaults_are_read_back_after_the_ready_line(start_server):
    server = start_server(CHAPTER)
    options = printed_options(server)
    assert list(options) == ["SO_REUSEADDR", "SO_RCVBUF", "SO_SNDBUF", "SO_KEEPALIVE",
                             "TCP_NODELAY", "SO_RCVTIMEO"]
    assert options["SO_REUSEADDR"] == "1", "on by default"
    assert options["SO_KEEPALIVE"] == "0"
    assert options["TCP_NODELAY"] == "0"
    assert options["SO_RCVTIMEO"] == "0 ms"


def test_every_flag_is_set_and_read_back(start_server):
    server = start_server(CHAPTER, "--no-reuse-address", "--nodelay", "--keepalive",
                          "--rcvbuf", "65536", "--sndbuf", "65536", "--timeout", "1.5")
    options = printed_options(server)
    assert options["SO_REUSEADDR"] == "0"
    assert options["TCP_NODELAY"] == "1"
    assert options["SO_KEEPALIVE"] == "1"
    assert options["SO_RCVTIMEO"] == "1500 ms"
    # Linux doubles what was asked, to leave room for its own bookkeeping.
    assert options["SO_RCVBUF"] == str(2 * 65536)
    assert options["SO_SNDBUF"] == str(2 * 65536)


def test_accepted_connections_inherit_the_listener_options(start_server):
    server = start_server(CHAPTER, "--nodelay", "--keepalive", "--timeout", "30")
    with connect(server) as sock:
        sock.sendall(b"hello\n")
        assert recv_exactly(sock, 6) == b"hello\n"
    line = server.wait_log("^connection from")
    assert "TCP_NODELAY = 1" in line and "SO_KEEPALIVE = 1" in line
    assert "SO_RCVTIMEO = 30000 ms" in line


def test_receive_timeout_closes_a_silent_connection(start_server):
    server = start_server(CHAPTER, "--timeout", "0.3")
    with connect(server) as sock:
        assert recv_until_eof(sock) == b""
    server.wait_log(r"timed out: 127\.0\.0\.1:\d+ sent nothing within SO_RCVTIMEO")


def close_from_the_server_side(server):
    """A connection the server closes first leaves it in TIME_WAIT."""
    with connect(server) as sock:
        assert recv_until_eof(sock) == b""  # the server's receive timeout closes it
    server.wait_log("timed out")


def test_time_wait_restart_works_with_reuse_address(start_server):
    first = start_server(CHAPTER, "--timeout", "0.2")
    port = str(first.port)
    close_from_the_server_side(first)
    assert first.stop() == 0
    second = start_server(CHAPTER, "--port", port)  # SO_REUSEADDR: bind succeeds
    assert second.port == int(port)


def test_time_wait_restart_fails_without_reuse_address(start_server, impl):
    first = start_server(CHAPTER, "--timeout", "0.2")
    port = first.port
    close_from_the_server_side(first)
    assert first.stop() == 0
    result = subprocess.run(program(CHAPTER, impl, "server") +
                            ["--port", str(port), "--no-reuse-address"],
                            capture_output=True, text=True, timeout=20)
    assert result.returncode == 1
    assert result.stderr == f"error: bind 127.0.0.1:{port}: Address already in use\n"
