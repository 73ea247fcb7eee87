"""tests/test_06_thread_pool.py -- a bounded pool: N at once, the rest queue, threads fixed."""
import threading

from conftest import (assert_waits, connect, echo_line, recv_exactly, run_clients,
                      sanitizer_threads, thread_count, wait_for)

CHAPTER = "06_thread_pool"


def test_two_workers_serve_two_clients_and_the_third_waits_its_turn(start_server):
    server = start_server(CHAPTER, "--workers", "2")
    held = [connect(server) for _ in range(2)]
    for sock in held:
        sock.sendall(b"mine\n")
        assert recv_exactly(sock, 5) == b"mine\n"  # both workers are now busy
    with connect(server) as third:
        third.sendall(b"third\n")
        assert_waits(third, 6)
        held[0].close()  # a worker comes free and takes the next connection
        assert recv_exactly(third, 6) == b"third\n"
    held[1].close()


def test_the_thread_count_stays_fixed_under_a_flood_of_300(start_server, impl):
    server = start_server(CHAPTER, "--workers", "4")
    pid = server.proc.pid
    # 4 workers and main, plus the C++ stop thread and a sanitizer's own
    # (started lazily): reached once, then no sample may differ from it.
    baseline = 4 + 1 + (1 if impl == "cpp" else 0) + sanitizer_threads(pid)
    wait_for(lambda: thread_count(pid) == baseline, 5,
             f"{baseline} threads when idle (now {thread_count(pid)})")
    samples, done = [], threading.Event()

    def sample():
        while not done.is_set():
            samples.append(thread_count(pid))
            done.wait(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    served = []

    def client(n):  # 20 of these at once, 15 connections each: 16 always queue
        for i in range(15):
            echo_line(server, b"flood %d.%d\n" % (n, i))
            served.append((n, i))

    try:
        errors = run_clients(client, 20)
    finally:
        done.set()
        sampler.join()
    assert not errors
    assert len(served) == 300
    assert samples and set(samples) == {baseline}, f"baseline {baseline}, saw {sorted(set(samples))}"
