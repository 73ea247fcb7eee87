// 04_threading/server.cpp — one thread per connection: ThreadingMixIn in C++.
//
// Teaches: the synchronous server of 02/03 serves one client at a time, so a
// slow client blocks everyone. Python's fix is a mix-in class that overrides
// one hook, process_request, to run each request in a new thread. C++ can
// write the same mix-in as a class template deriving from its parameter:
// ThreadingMixIn<BaseServer> is Python's ThreadingTCPServer.
//
// Run:      ./server                    line echo, a thread per client
//           ./server --handler welcome  the notes' welcome / hello / exit protocol
// Observe:  hold a connection open with half a line (see README) and run
//           ./client fast: it is answered at once. SIGTERM with clients still
//           connected: every thread is woken, joined, and the clients see EOF.
// See also: client.cpp, README.md, ../common/server.hpp (process_request).

#include <sys/socket.h>

#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cli.hpp"
#include "server.hpp"
#include "socket.hpp"
#include "stop.hpp"
#include "stream_handler.hpp"

namespace {

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
  void process_request(net::UniqueFd request, const net::Endpoint& client_address) override {
    join_finished();
    std::lock_guard lock(mutex_);
    const auto worker = workers_.emplace(workers_.end());
    try {
      // The thread owns the connection from here on (moved into the lambda).
      worker->thread =
          std::thread([this, worker, conn = std::move(request), client_address]() mutable {
            this->handle_one(std::move(conn), client_address);  // handle_error inside
            std::lock_guard done(mutex_);
            worker->finished = true;
          });
    } catch (...) {
      workers_.erase(worker);  // no thread (e.g. EAGAIN): the connection is closed
      throw;                   // and handle_error logs why
    }
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

using ThreadingTCPServer = ThreadingMixIn<net::BaseServer>;

// The notes' ThreadingTCPServer example, framed by lines: "welcome" first,
// then "hello" for every line until the client sends "exit".
class WelcomeHandler : public net::StreamRequestHandler {
 public:
  using StreamRequestHandler::StreamRequestHandler;

  void handle() override {
    const std::string peer = net::to_string(client_address);
    if (wfile.write("welcome\n") != net::IoStatus::ok) return;
    std::string line;
    while (rfile->read_line(line) == net::LineStatus::line) {
      while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
      if (line == "exit") {
        net::log_line(peer + " said exit");
        return;
      }
      net::log_line(peer + " says " + line);
      if (wfile.write("hello\n") != net::IoStatus::ok) return;
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  net::Cli cli("server", "Threaded line echo server: one thread per connection (ThreadingMixIn).");
  net::StreamOptions options;
  std::string handler_name = "echo";
  net::add_stream_options(cli, options);
  cli.option("--handler", handler_name, "NAME", "echo (default) or welcome (the notes' protocol)");
  return net::run_main(cli, argc, argv, [&] {
    if (handler_name != "echo" && handler_name != "welcome") {
      throw net::UsageError("--handler must be echo or welcome, not '" + handler_name + "'");
    }
    net::install_stop_handlers();

    const net::Endpoint address = net::resolve(cli.host, cli.port, SOCK_STREAM, true).front();
    ThreadingTCPServer server(
        address, handler_name == "echo" ? net::stream_handler_class<net::LineEchoHandler>(options)
                                        : net::stream_handler_class<WelcomeHandler>(options));
    net::announce_listening(server.fileno());

    server.serve_forever();
    return 0;  // ~ThreadingMixIn joins every thread, then ~BaseServer closes
  });
}
