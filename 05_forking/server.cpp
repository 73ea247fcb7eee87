// 05_forking/server.cpp — one process per connection (ForkingMixIn), or a pre-forked pool.
//
// Teaches: fork() as a concurrency model. Each connection is served by a
// child process with its own copy of the server's memory; the parent only
// accepts, forks and reaps. Reaping is the lesson: a child that has exited
// stays a zombie until its parent calls waitpid() (children.hpp). Then the
// cure for a fork() per connection: --prefork N forks N children up front,
// each serving connection after connection (prefork.hpp).
//
// Run:      ./server --max-children 4
//           ./server --prefork 4 [--accept block|lock|pass]
// Observe:  "process 12345 serves 127.0.0.1:40000" per client (a new pid
//           each time, or one of the pool's N); `ps --ppid $(pgrep -n server)`
//           while clients are connected; no <defunct> left after they leave.
// See also: children.hpp, prefork.hpp, client.cpp, README.md.

#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <map>
#include <string>

#include "base_server.hpp"
#include "children.hpp"
#include "cli.hpp"
#include "prefork.hpp"
#include "socket.hpp"
#include "stop.hpp"
#include "stream_handler.hpp"

namespace {

// Python: class ForkingMixIn. process_request forks; the child serves the
// request and exits, the parent closes its copy of the connection and
// remembers the child. At most max_children at once (Python's default: 40).
template <typename Server>
class ForkingMixIn : public Server {
 public:
  template <typename... Args>
  explicit ForkingMixIn(Args&&... args) : Server(std::forward<Args>(args)...) {
    this->watch_fd_ = children_.exited_fd();  // serve_forever wakes on SIGCHLD
  }

  std::size_t max_children = 40;

 protected:
  void process_request(net::UniqueFd request, const net::Endpoint& client_address) override {
    // lab: fork a child for the connection
    // Full: wait for a child to exit. The client waits, connected, meanwhile.
    while (children_.size() >= max_children) {
      if (!children_.wait_for_exit()) return;  // stop: drop it
      children_.collect();
    }
    children_.start(
        [&] {                     // in the child, which keeps only the connection
          this->socket_.reset();  // only the parent accepts
          net::log_line("process " + std::to_string(::getpid()) + " serves " +
                        net::to_string(client_address));
          this->handle_one(std::move(request), client_address);  // logs its own errors
        },
        net::to_string(client_address));
    // lab: end
    // The parent's copy of `request` closes as this returns; the client stays
    // connected to the child, which holds the other copy.
  }

  void service_actions() override { children_.collect(); }

 private:
  children::Children children_;  // its destructor stops and reaps every child
};

using ForkingTCPServer = ForkingMixIn<net::BaseServer>;

const std::map<std::string, prefork::Accept> strategies = {
    {"block", prefork::Accept::block},
    {"lock", prefork::Accept::lock},
    {"pass", prefork::Accept::pass},
};

}  // namespace

int main(int argc, char** argv) {
  net::Cli cli("server", "Forking line echo server: one process per connection (ForkingMixIn).");
  net::StreamOptions options;
  int max_children = 0, pool_size = 0;
  std::string accept;
  net::add_stream_options(cli, options);
  cli.option("--max-children", max_children, "N", "most children at once (default 40)", 1, 10000);
  cli.option("--prefork", pool_size, "N", "a pool of N processes made up front instead", 1, 1024);
  cli.option("--accept", accept, "STRATEGY",
             "with --prefork: how the pool shares the listener: block (default), lock or pass");
  return net::run_main(cli, argc, argv, [&] {
    if (!accept.empty() && strategies.count(accept) == 0) {
      throw net::UsageError("--accept must be block, lock or pass, not '" + accept + "'");
    }
    if (!accept.empty() && pool_size == 0) throw net::UsageError("--accept goes with --prefork");
    if (max_children != 0 && pool_size != 0) {
      throw net::UsageError("--max-children does not go with --prefork (the pool is the bound)");
    }
    net::install_stop_handlers_single_threaded();  // no thread: this process forks

    const net::Endpoint address = net::resolve(cli.host, cli.port, SOCK_STREAM, true).front();
    const net::HandlerFactory handler = net::stream_handler_class<net::LineEchoHandler>(options);
    if (pool_size != 0) {
      prefork::PreforkServer server(address, handler);
      server.serve_pool(pool_size, strategies.at(accept.empty() ? "block" : accept));
      return 0;  // every child stopped and reaped
    }
    ForkingTCPServer server(address, handler);
    server.max_children = static_cast<std::size_t>(max_children == 0 ? 40 : max_children);
    net::announce_listening(server.fileno());

    server.serve_forever();
    return 0;  // ~ForkingMixIn stops and reaps every child
  });
}
