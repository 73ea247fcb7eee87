// 05_forking/children.hpp — the child processes a server forks: start, reap, stop.
//
// Teaches: what every forking server owes its children, whether it forks
// one per connection (ForkingMixIn, server.cpp) or a pool up front
// (prefork.hpp). A child that has exited stays a zombie until its parent
// calls waitpid(); SIGCHLD tells the parent when, through a self-pipe its
// loop waits on; and the parent waits for *its own* pids only.
//
// Run:      ./server            (fork per connection)
//           ./server --prefork 4
// Observe:  `ps --ppid $(pgrep -n server)` while clients come and go: no
//           <defunct> stays behind; after SIGTERM, no child at all.
// See also: server.cpp, prefork.hpp, README.md.
#pragma once

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <string>

#include "error.hpp"
#include "io.hpp"
#include "portable.hpp"
#include "socket.hpp"
#include "stop.hpp"

namespace children {

// SIGCHLD -> one byte into this pipe (a handler may do little else).
inline int g_exited_pipe[2] = {-1, -1};

inline void on_sigchld(int) {
  const int saved_errno = errno;
  [[maybe_unused]] ssize_t n = ::write(g_exited_pipe[1], "c", 1);
  errno = saved_errno;
}

// How a child ended, in words: "exited with status 1", "was killed by signal 9".
inline std::string describe(int status) {
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

// The children one server process forked. One per process (it owns the
// SIGCHLD handler); destroying it stops and reaps every child.
class Children {
 public:
  Children() {
    if (net::pipe_cloexec_nonblock(g_exited_pipe) == -1) net::throw_error("pipe", "");
    struct sigaction action {};
    action.sa_handler = on_sigchld;
    action.sa_flags = SA_NOCLDSTOP;  // exits only, not stops
    if (::sigaction(SIGCHLD, &action, nullptr) == -1) net::throw_error("sigaction", "SIGCHLD");
  }
  ~Children() { stop_all(); }
  Children(const Children&) = delete;
  Children& operator=(const Children&) = delete;

  // Readable once a child may have exited: a loop's poll() waits on it.
  int exited_fd() const noexcept { return g_exited_pipe[0]; }
  std::size_t size() const noexcept { return pids_.size(); }

  // Forks a child that runs `serve` and ends. The parent keeps SIGINT and
  // SIGTERM blocked outside its waits (net::install_stop_handlers_single_
  // threaded), so they are blocked across fork() too, and the child, born
  // with the parent's mask, takes none before it has a handler of its own
  // (the parent's would only write into the parent's pipe). Returns the
  // child's pid.
  pid_t start(const std::function<void()>& serve, const std::string& what) {
    const pid_t pid = ::fork();
    if (pid == 0) run_child(serve);  // never returns
    if (pid == -1) net::throw_error("fork", what);
    pids_.insert(pid);
    return pid;
  }

  // waitpid() each of *our* children that has exited: this is what removes
  // a zombie. Never waitpid(-1): that would also reap a child someone else
  // started in this process (a wrapper's, or any child when we are PID 1 in
  // a container), and lose its exit status. Returns {pid: status} of those
  // reaped.
  std::map<pid_t, int> collect() {
    std::map<pid_t, int> exited;
    // lab: reap the children that have exited
    char drain[64];
    while (::read(g_exited_pipe[0], drain, sizeof drain) > 0) {}
    for (auto it = pids_.begin(); it != pids_.end();) {
      int status = 0;
      if (::waitpid(*it, &status, WNOHANG) == *it) {
        exited[*it] = status;
        it = pids_.erase(it);
      } else {
        it = std::next(it);
      }
    }
    // lab: end
    return exited;
  }

  // Waits until a child may have exited (true) or a stop comes (false).
  bool wait_for_exit() const { return net::wait_readable(g_exited_pipe[0]) == net::IoStatus::ok; }

  // On close: SIGTERM every child (its handler shuts its connection down,
  // the client sees EOF), run `then` (a pool wakes its children's accept()
  // there), and reap them all, so none outlives the server. One that is
  // still there after 1.5 s is logged and killed.
  void stop_all(const std::function<void()>& then = {}) {
    for (const pid_t pid : pids_) ::kill(pid, SIGTERM);
    if (then) then();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
    while (!pids_.empty() && std::chrono::steady_clock::now() < deadline) {
      // Not wait_for_exit: the stop pipe is already readable at this point.
      pollfd exited{g_exited_pipe[0], POLLIN, 0};
      net::poll_letting_stop_in(&exited, 1, 50);
      collect();
    }
    for (const pid_t pid : pids_) {
      net::log_line("error: process " + std::to_string(pid) + " ignored SIGTERM; killed");
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, nullptr, 0) == -1 && errno == EINTR) {}  // a second SIGTERM
    }
    pids_.clear();
  }

 private:
  // The child: a copy of everything, the parent's pipes included. Every way
  // out ends in _exit: not return (that would unwind into the parent's
  // serve loop, and the child would become a second server) and not exit()
  // (atexit handlers and stdio buffers copied from the parent).
  [[noreturn]] static void run_child(const std::function<void()>& serve) {
    int status = 0;
    try {
      net::install_stop_handlers_in_child();
      serve();
    } catch (const std::exception& e) {
      net::log_line("error: process " + std::to_string(::getpid()) + ": " + e.what());
      status = 1;
    } catch (...) {
      status = 1;
    }
    ::_exit(status);
  }

  std::set<pid_t> pids_;
};

}  // namespace children
