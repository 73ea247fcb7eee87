// 05_forking/server.cpp — one process per connection: ForkingMixIn in C++.
//
// Teaches: fork() as a concurrency model. Each connection is served by a
// child process with its own copy of the server's memory; the parent only
// accepts, forks and reaps. Reaping is the lesson: a child that has exited
// stays a zombie until its parent calls waitpid(). SIGCHLD tells the parent
// when; a self-pipe wakes serve_forever, and service_actions() reaps,
// with waitpid() on its own pids only.
//
// Run:      ./server --max-children 4
// Observe:  "process 12345 serves 127.0.0.1:40000" per client (a new pid
//           each time); `ps --ppid $(pgrep -n server)` while clients are
//           connected; no <defunct> left after they leave.
// See also: client.cpp, README.md, ../04_threading/server.cpp (the same hook).

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <iterator>
#include <set>
#include <string>

#include "base_server.hpp"
#include "cli.hpp"
#include "error.hpp"
#include "io.hpp"
#include "portable.hpp"
#include "socket.hpp"
#include "stop.hpp"
#include "stream_handler.hpp"

namespace {

// SIGCHLD -> one byte into this pipe (a handler may do little else).
int g_child_pipe[2] = {-1, -1};

void on_sigchld(int) {
  const int saved_errno = errno;
  [[maybe_unused]] ssize_t n = ::write(g_child_pipe[1], "c", 1);
  errno = saved_errno;
}

// Python: class ForkingMixIn. process_request forks; the child serves the
// request and exits, the parent closes its copy of the connection and
// remembers the child. At most max_children at once (Python's default: 40).
template <typename Server>
class ForkingMixIn : public Server {
 public:
  template <typename... Args>
  explicit ForkingMixIn(Args&&... args) : Server(std::forward<Args>(args)...) {
    if (net::pipe_cloexec_nonblock(g_child_pipe) == -1) net::throw_error("pipe", "");
    struct sigaction action {};
    action.sa_handler = on_sigchld;
    action.sa_flags = SA_NOCLDSTOP;  // exits only, not stops
    if (::sigaction(SIGCHLD, &action, nullptr) == -1) net::throw_error("sigaction", "SIGCHLD");
    this->watch_fd_ = g_child_pipe[0];  // serve_forever wakes on it
  }
  ~ForkingMixIn() override { stop_children(); }

  std::size_t max_children = 40;

 protected:
  void process_request(net::UniqueFd request, const net::Endpoint& client_address) override {
    // lab: fork a child for the connection
    // Full: wait for a child to exit. The client waits, connected, meanwhile.
    while (children_.size() >= max_children) {
      if (net::wait_readable(g_child_pipe[0]) != net::IoStatus::ok) return;  // stop: drop it
      collect_children();
    }

    // SIGINT/SIGTERM are blocked here (install_stop_handlers blocked them in
    // main), so no signal reaches the child before it has its own handlers.
    const pid_t pid = ::fork();
    if (pid == 0) serve_in_child(std::move(request), client_address);  // never returns
    if (pid == -1) net::throw_error("fork", net::to_string(client_address));
    children_.insert(pid);
    // lab: end
    // The parent's copy of `request` closes as this returns; the client stays
    // connected to the child, which holds the other copy.
  }

  void service_actions() override { collect_children(); }

 private:
  // The child: a copy of everything, including the listener and the
  // parent's pipes. It keeps only the connection. Every way out ends in
  // _exit: not return (that would unwind into the parent's serve loop, and
  // the child would become a second server) and not exit() (atexit
  // handlers and stdio buffers copied from the parent).
  [[noreturn]] void serve_in_child(net::UniqueFd request, const net::Endpoint& client_address) {
    int status = 0;
    try {
      net::install_stop_handlers_in_child();
      this->socket_.reset();  // only the parent accepts
      net::log_line("process " + std::to_string(::getpid()) + " serves " +
                    net::to_string(client_address));
      this->handle_one(std::move(request), client_address);  // logs its own errors
    } catch (const std::exception& e) {
      net::log_line("error: process " + std::to_string(::getpid()) + ": " + e.what());
      status = 1;
    } catch (...) {
      status = 1;
    }
    ::_exit(status);
  }

  // waitpid() each of *our* children that has exited: this is what removes
  // a zombie. Never waitpid(-1): that would also reap a child someone else
  // started in this process (a wrapper's, or any child when we are PID 1 in
  // a container), and lose its exit status.
  void collect_children() {
    // lab: reap the children that have exited
    char drain[64];
    while (::read(g_child_pipe[0], drain, sizeof drain) > 0) {}
    for (auto it = children_.begin(); it != children_.end();) {
      it = ::waitpid(*it, nullptr, WNOHANG) == *it ? children_.erase(it) : std::next(it);
    }
    // lab: end
  }

  // On close: SIGTERM every child (its handler shuts its connection down, the
  // client sees EOF), then reap them all, so none outlives the server.
  void stop_children() {
    for (const pid_t pid : children_) ::kill(pid, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
    while (!children_.empty() && std::chrono::steady_clock::now() < deadline) {
      // Not wait_readable: the stop pipe is already readable at this point.
      pollfd child_exited{g_child_pipe[0], POLLIN, 0};
      ::poll(&child_exited, 1, 50);
      collect_children();
    }
    for (const pid_t pid : children_) {
      net::log_line("error: process " + std::to_string(pid) + " ignored SIGTERM; killed");
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    children_.clear();
  }

  std::set<pid_t> children_;
};

using ForkingTCPServer = ForkingMixIn<net::BaseServer>;

}  // namespace

int main(int argc, char** argv) {
  net::Cli cli("server", "Forking line echo server: one process per connection (ForkingMixIn).");
  net::StreamOptions options;
  int max_children = 40;
  net::add_stream_options(cli, options);
  cli.option("--max-children", max_children, "N", "most children at once (default 40)", 1, 10000);
  return net::run_main(cli, argc, argv, [&] {
    net::install_stop_handlers();

    const net::Endpoint address = net::resolve(cli.host, cli.port, SOCK_STREAM, true).front();
    ForkingTCPServer server(address, net::stream_handler_class<net::LineEchoHandler>(options));
    server.max_children = static_cast<std::size_t>(max_children);
    net::announce_listening(server.fileno());

    server.serve_forever();
    return 0;  // ~ForkingMixIn stops and reaps every child
  });
}
