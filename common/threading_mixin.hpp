// common/threading_mixin.hpp — ThreadingMixIn: a thread per request.
//
// Teaches (chapter 04): Python's ThreadingMixIn overrides one hook of a
// server, process_request, to run each request in a new thread, and is
// combined by inheritance: class ThreadingTCPServer(ThreadingMixIn, TCPServer).
// In C++ the mix-in is a class template deriving from the server it
// extends, so the same code makes a threading TCP server (chapter 04) and a
// threading UDP server (chapter 08):
//
//   using ThreadingTCPServer = net::ThreadingMixIn<net::BaseServer>;
//
// `Server` must provide: a type Request (what one request is: a connection,
// a datagram), a virtual process_request(Request, const Endpoint&), and
// handle_one(Request, const Endpoint&) (handle it, report errors).
//
// See also: 04_threading/README.md, base_server.hpp.
#pragma once

#include <list>
#include <mutex>
#include <thread>
#include <vector>

#include "address.hpp"

namespace net {

// Python: class ThreadingMixIn. Each request runs in its own thread; the
// server keeps every thread it started and joins it: finished ones at the
// next request (so they never pile up), all of them when the server closes
// (Python's block_on_close = True).
template <typename Server>
class ThreadingMixIn : public Server {
 public:
  using Server::Server;
  ~ThreadingMixIn() override { join_all(); }

 protected:
  void process_request(typename Server::Request request, const Endpoint& client_address) override {
    // lab 04: hand each request to a new thread
    join_finished();
    std::lock_guard lock(mutex_);
    const auto worker = workers_.emplace(workers_.end());
    try {
      // The thread owns the request (a connection, a datagram) from here on.
      worker->thread =
          std::thread([this, worker, req = std::move(request), client_address]() mutable {
            this->handle_one(std::move(req), client_address);  // handle_error inside
            std::lock_guard done(mutex_);
            worker->finished = true;
          });
    } catch (...) {
      workers_.erase(worker);  // no thread (e.g. EAGAIN): the request is dropped
      throw;                   // and handle_error logs why
    }
    // lab: end
  }

 private:
  struct Worker {
    std::thread thread;
    bool finished = false;  // guarded by mutex_
  };

  void join_finished() {
    std::vector<std::thread> done;
    {
      std::lock_guard lock(mutex_);
      for (auto it = workers_.begin(); it != workers_.end();) {
        if (!it->finished) {
          ++it;
          continue;
        }
        done.push_back(std::move(it->thread));
        it = workers_.erase(it);
      }
    }
    for (std::thread& thread : done) thread.join();  // they are past their last line
  }

  void join_all() {
    // serve_forever has returned, so nobody adds workers any more. After a
    // stop request each handler wakes from its wait and returns at once.
    std::list<Worker> all;
    {
      std::lock_guard lock(mutex_);
      all.swap(workers_);
    }
    for (Worker& worker : all) worker.thread.join();
  }

  std::mutex mutex_;
  std::list<Worker> workers_;  // a list: a worker's iterator stays valid
};

}  // namespace net
