"""tests/test_cpython_counterparts.py -- CPython's own socketserver tests, and ours.

CPython tests socketserver in Lib/test/test_socketserver.py. Each of its
test cases that applies to a chapter has a black-box counterpart here, run
against both the C++ server and its reference.py twin; the map below names
it, and the test checks that every name still exists, so the map cannot
drift. Cases that test a Python internal, or a class no chapter builds,
say why instead.
"""
import ast

import pytest

from conftest import ROOT

COUNTERPARTS = {
    # SocketServerTest: one server class each, an echo through it.
    "test_TCPServer": ["test_02_sync_server.py::test_upper_handler_through_the_client"],
    "test_ThreadingTCPServer": ["test_04_threading.py::test_50_concurrent_clients_all_get_their_own_echo"],
    "test_ForkingTCPServer": ["test_05_forking.py::test_each_connection_is_served_by_its_own_process"],
    "test_UnixStreamServer": ["test_02_sync_server.py::test_unix_stream_server"],
    "test_ThreadingUnixStreamServer": ["test_04_threading.py::test_threading_unix_stream_server"],
    "test_UDPServer": ["test_08_udp.py::test_each_datagram_comes_back_to_its_sender"],
    "test_ThreadingUDPServer": ["test_08_udp.py::test_threading_serves_many_clients_at_once"],
    "test_UnixDatagramServer": ["test_08_udp.py::test_unix_datagram_server"],
    "test_ThreadingUnixDatagramServer": ["test_08_udp.py::test_unix_datagram_server"],
    # shutdown() with several serve_forever() threads, and stop with clients.
    "test_shutdown": ["test_errata.py::test_notes_pool_shutdown_stops_only_one_of_several_serve_forever",
                      "test_contract.py::test_signal_with_a_client_connected_exits_0_within_2s",
                      "test_04_threading.py::test_sigterm_with_clients_connected_ends_every_connection"],
    "test_close_immediately": ["test_contract.py::test_a_signal_during_start_up_prints_no_traceback"],
    "test_context_manager": ["test_contract.py::test_a_failed_unix_bind_deletes_nothing",
                             "test_08_udp.py::test_unix_datagram_server"],
    # ErrorHandlerTest: an exception in a handler, sync, threading, forking.
    "test_sync_handled": ["test_02_sync_server.py::test_a_failing_handler_is_logged_and_the_next_client_served",
                          "test_contract.py::test_a_line_over_max_line_closes_that_connection_only"],
    "test_threading_handled": ["test_contract.py::test_a_line_over_max_line_closes_that_connection_only"],
    "test_forking_handled": ["test_contract.py::test_a_line_over_max_line_closes_that_connection_only",
                             "test_05_forking.py::test_a_child_that_fails_before_serving_exits_and_never_serves_as_a_second_server"],
    # handle_request() with a timeout, threads and children reaped.
    "handle_request with timeout": ["test_02_sync_server.py::test_once_with_timeout_and_nobody_exits_0_through_handle_timeout"],
    "test_threads_reaped": ["test_04_threading.py::test_threads_are_joined_and_never_leak"],
    "children reaped (reap_children)": ["test_05_forking.py::test_children_are_reaped_no_zombies",
                                        "test_05_forking.py::test_sigterm_leaves_no_child_behind"],
    "foreign children left alone": ["test_05_forking.py::test_a_child_the_server_did_not_fork_is_neither_waited_for_nor_reaped"],
}

NOT_APPLICABLE = {
    "test_ForkingUnixStreamServer": "no chapter forks over a Unix socket: 05's exercise 4",
    "test_ForkingUDPServer": "no chapter forks per datagram: 05's exercise 4",
    "test_ForkingUnixDatagramServer": "no chapter forks per datagram: 05's exercise 4",
    "test_tcpserver_bind_leak": "a failed bind ends our process (exit 1), which frees every descriptor",
    "test_sync_not_handled / test_threading_not_handled / test_forking_not_handled":
        "BaseException escaping handle_error: our handlers have no handle_error to escape",
    "test_shutdown_request_called_if_verify_request_false": "no chapter overrides verify_request",
    "SocketWriterTest": "Python's internal _SocketWriter; send_all is unit-tested (tests/test_io.cpp)",
    "MiscTestCase.test_all": "socketserver's __all__",
}


def defined_tests(filename):
    tree = ast.parse((ROOT / "tests" / filename).read_text())
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


@pytest.mark.parametrize("case", sorted(COUNTERPARTS))
def test_each_cpython_case_has_a_counterpart_that_exists(case):
    for name in COUNTERPARTS[case]:
        filename, test = name.split("::")
        assert test in defined_tests(filename), f"{case}: {name} is gone"


def test_every_cpython_case_is_mapped_or_explained():
    # The cases of CPython 3.13's Lib/test/test_socketserver.py.
    cases = {"test_TCPServer", "test_ThreadingTCPServer", "test_ForkingTCPServer",
             "test_UnixStreamServer", "test_ThreadingUnixStreamServer",
             "test_ForkingUnixStreamServer", "test_UDPServer", "test_ThreadingUDPServer",
             "test_ForkingUDPServer", "test_UnixDatagramServer",
             "test_ThreadingUnixDatagramServer", "test_ForkingUnixDatagramServer",
             "test_shutdown", "test_close_immediately", "test_tcpserver_bind_leak",
             "test_context_manager", "test_sync_handled", "test_threading_handled",
             "test_forking_handled", "test_threads_reaped"}
    explained = " ".join(NOT_APPLICABLE)
    assert [c for c in sorted(cases) if c not in COUNTERPARTS and c not in explained] == []
