// 06_thread_pool/accept_strategies.hpp — four ways a pool of threads shares one listener.
//
// Teaches: a pool's threads differ only in who calls accept() and how the
// others wait. Each strategy is one function; each starts `workers`
// threads, announces the server, and returns when a stop has ended them.
//
//   poll   every worker runs serve_forever(): poll() on the listener, then
//          accept(). A connection wakes every idle worker; one wins the
//          accept, the rest find nothing (EAGAIN): the thundering herd.
//   block  every worker blocks in accept() on a blocking listener; Linux
//          wakes one of them per connection.
//   lock   a std::mutex around accept(): one worker waits in accept(), the
//          others wait for the mutex (the fix for kernels that wake all).
//   main   the main thread accepts and hands each connection to a worker
//          through a bounded queue (a mutex and a condition variable).
//
// Run:      ./server --workers 4 --accept lock
// Observe:  the same echo whatever the strategy; `make bench` (from the top)
//           counts the context switches each one costs per connection.
// See also: server.cpp, README.md ("Four ways to share a listener").
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "base_server.hpp"
#include "io.hpp"
#include "socket.hpp"
#include "stop.hpp"

namespace pool {

// Starts `workers` threads running `work`, prints the ready line, then runs
// `main_thread` (by default nothing) and joins the workers. If the process
// cannot start them all, the ones started are stopped and joined before
// the error is reported.
inline void run_pool(
    net::BaseServer& server, int workers, const std::function<void()>& work,
    const std::function<void()>& main_thread = [] {}) {
  std::vector<std::thread> threads;
  try {
    for (int i = 0; i < workers; ++i) threads.emplace_back(work);
  } catch (...) {  // no more threads to be had
    net::request_stop();
    for (std::thread& worker : threads) worker.join();
    throw;
  }
  net::announce_listening(server.fileno());  // ready: the whole pool is waiting
  main_thread();
  for (std::thread& worker : threads) worker.join();
}

// A blocking listener is stopped by waking every accept() blocked on it.
// The spare descriptor is for where that takes a connection per worker
// (macOS, the BSDs): workers blocked in accept() may hold every other one.
inline net::OnStop wake_accepts_on_stop(net::BaseServer& server, int workers) {
  net::set_blocking(server.fileno(), true);
  auto spare = std::make_shared<net::UniqueFd>(net::reserve_descriptor());
  return net::OnStop([&server, workers, spare] {
    net::wake_blocked_accepts(server.fileno(), workers, spare.get());
  });
}

// poll: the notes' pool, N threads in serve_forever(). Stopped by the stop
// pipe, which every poll() also watches.
inline void accept_poll(net::BaseServer& server, int workers) {
  run_pool(server, workers, [&server] { server.serve_forever(); });
}

// block: each worker sleeps in accept() itself; no poll() at all.
inline void accept_block(net::BaseServer& server, int workers) {
  // lab: write the block strategy (every worker sleeps in accept)
  const net::OnStop wake = wake_accepts_on_stop(server, workers);
  run_pool(server, workers, [&server] {
    while (!net::stop_requested() && !server.listener_shut_down()) server.handle_request_noblock();
  });
  // lab: end
}

// lock: one worker at a time in accept(); the mutex is released before the
// connection is served, so the next worker can accept meanwhile.
inline void accept_lock(net::BaseServer& server, int workers) {
  // lab: write the lock strategy (a mutex around accept)
  const net::OnStop wake = wake_accepts_on_stop(server, workers);
  std::mutex accept_mutex;
  run_pool(server, workers, [&server, &accept_mutex] {
    while (!net::stop_requested() && !server.listener_shut_down()) {
      std::unique_lock lock(accept_mutex);
      std::optional<net::Accepted> accepted = server.get_request();
      lock.unlock();
      if (accepted) server.verify_and_process(std::move(*accepted));
    }
  });
  // lab: end
}

// main: the main thread accepts and, instead of serving each connection,
// queues it; at most `workers` wait in the queue, then the main thread
// waits too and the kernel's backlog takes the rest. Two condition
// variables, each woken with notify_one: a connection wakes one idle
// worker, not all of them (notify_all here would be the herd again).
inline void accept_main(net::BaseServer& server, int workers) {
  // lab: write the main strategy (the main thread accepts into a queue)
  std::mutex mutex;
  std::condition_variable not_empty, not_full;
  std::deque<net::Accepted> queue;
  bool closed = false;
  const std::size_t capacity = static_cast<std::size_t>(workers);

  auto work = [&] {
    for (;;) {
      std::unique_lock lock(mutex);
      not_empty.wait(lock, [&] { return closed || !queue.empty(); });
      if (closed) return;  // queued connections are closed unserved
      net::Accepted accepted = std::move(queue.front());
      queue.pop_front();
      lock.unlock();
      not_full.notify_one();  // room in the queue for the main thread
      server.verify_and_process(std::move(accepted));
    }
  };
  auto accept_and_queue = [&] {
    while (!net::stop_requested()) {
      if (net::wait_readable(server.fileno()) != net::IoStatus::ok) break;  // a stop
      std::optional<net::Accepted> accepted = server.get_request();
      if (!accepted) continue;
      std::unique_lock lock(mutex);
      not_full.wait(lock, [&] { return queue.size() < capacity || net::stop_requested(); });
      queue.push_back(std::move(*accepted));
      lock.unlock();
      not_empty.notify_one();
    }
    const std::lock_guard lock(mutex);
    closed = true;
    not_empty.notify_all();  // every worker: the pool is closing
  };
  // A stop must also wake the main thread waiting for room in the queue.
  const net::OnStop wake([&] {
    const std::lock_guard lock(mutex);
    not_full.notify_all();
  });
  run_pool(server, workers, work, accept_and_queue);
  // lab: end
}

}  // namespace pool
