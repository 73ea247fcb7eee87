// common/stop.cpp — see stop.hpp.
#include "stop.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <map>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "error.hpp"
#include "portable.hpp"

namespace net {

namespace {
// Lock-free atomics are async-signal-safe; plain ints in a handler are not.
std::atomic<bool> g_stop{false};
std::atomic<int> g_read_end{-1};
std::atomic<int> g_write_end{-1};
// True in a process that takes its stop in a handler, with no stop thread:
// a forking server (install_stop_handlers_single_threaded) and its children.
std::atomic<bool> g_one_thread{false};
// True in a forking parent: its stop signals are blocked outside its waits.
std::atomic<bool> g_blocked_outside_waits{false};
std::atomic<int> g_child_connection{-1};  // in a forked child: its one connection
static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free);

// What a stop request must wake, keyed by an id so each owner removes its own.
struct Wakers {
  std::mutex mutex;
  std::uint64_t next_id = 1;
  std::map<std::uint64_t, std::function<void()>> by_id;
};
Wakers& wakers() {
  // Never destroyed: a signal may arrive while exit() runs the destructors
  // of statics, and the stop thread must still find the mutex intact.
  static Wakers* const instance = new Wakers;
  return *instance;
}

void write_stop_byte() noexcept {
  const int fd = g_write_end.load();
  // Non-blocking: if the pipe is somehow full it is readable already.
  if (fd >= 0) {
    [[maybe_unused]] ssize_t n = ::write(fd, "!", 1);
  }
}

// A fresh non-blocking pipe; the old one (a parent's, after fork) is closed.
void open_stop_pipe() {
  int fds[2];
  if (pipe_cloexec_nonblock(fds) == -1) throw_error("pipe", "");
  const int old_read = g_read_end.exchange(fds[0]);
  const int old_write = g_write_end.exchange(fds[1]);
  if (old_read >= 0) ::close(old_read);
  if (old_write >= 0) ::close(old_write);
  g_stop.store(false);
}

sigset_t stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

// The handler of a process with one thread: only async-signal-safe calls
// (shutdown, write). In a forking parent there is no connection to shut down.
void on_stop_signal(int) {
  const int saved_errno = errno;  // the interrupted code may be about to read errno
  g_stop.store(true);
  if (const int conn = g_child_connection.load(); conn >= 0) ::shutdown(conn, SHUT_RDWR);
  write_stop_byte();
  errno = saved_errno;
}

// SIGINT and SIGTERM -> on_stop_signal, in a process that has one thread.
// No SA_RESTART: a call blocked in the kernel returns EINTR, so its loop
// can look at stop_requested(). Every loop in common/ retries EINTR itself.
void set_stop_handler() {
  g_one_thread.store(true);
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  if (::sigaction(SIGINT, &action, nullptr) == -1) throw_error("sigaction", "SIGINT");
  if (::sigaction(SIGTERM, &action, nullptr) == -1) throw_error("sigaction", "SIGTERM");
}
}  // namespace

void request_stop() {
  g_stop.store(true);
  write_stop_byte();
  if (g_one_thread.load()) {
    if (const int conn = g_child_connection.load(); conn >= 0) ::shutdown(conn, SHUT_RDWR);
    return;
  }
  std::lock_guard lock(wakers().mutex);
  for (auto& [id, wake] : wakers().by_id) wake();
}

bool stop_requested() noexcept {
  return g_stop.load();
}

int stop_fd() noexcept {
  return g_read_end.load();
}

void install_stop_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    open_stop_pipe();
    ::signal(SIGPIPE, SIG_IGN);
    const sigset_t signals = stop_signals();
    if (const int err = ::pthread_sigmask(SIG_BLOCK, &signals, nullptr); err != 0) {
      throw std::system_error(err, std::generic_category(), "pthread_sigmask");
    }
    // Detached: it lives as long as the process, blocked in sigwait().
    std::thread([signals] {
      for (;;) {
        int signal_number = 0;
        if (::sigwait(&signals, &signal_number) == 0) request_stop();  // a second one: again
      }
    }).detach();
  });
}

void install_stop_handlers_single_threaded() {
  static std::once_flag once;
  std::call_once(once, [] {
    open_stop_pipe();
    ::signal(SIGPIPE, SIG_IGN);
    // Blocked first, then the handler: a signal in between stays pending
    // (and is taken in the first wait) instead of killing the process.
    const sigset_t signals = stop_signals();
    if (const int err = ::pthread_sigmask(SIG_BLOCK, &signals, nullptr); err != 0) {
      throw std::system_error(err, std::generic_category(), "pthread_sigmask");
    }
    g_blocked_outside_waits.store(true);
    set_stop_handler();
  });
}

void install_stop_handlers_in_child() {
  g_child_connection.store(-1);
  g_blocked_outside_waits.store(false);
  open_stop_pipe();
  set_stop_handler();
  const sigset_t signals = stop_signals();
  ::pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);
}

int poll_letting_stop_in(pollfd* fds, nfds_t count, int timeout_ms) {
  if (!g_blocked_outside_waits.load()) return ::poll(fds, count, timeout_ms);
  sigset_t during;  // the mask of now, less the stop signals
  ::pthread_sigmask(SIG_SETMASK, nullptr, &during);
  sigdelset(&during, SIGINT);
  sigdelset(&during, SIGTERM);
  return poll_with_mask(fds, count, timeout_ms, &during);
}

ShutDownOnStop::ShutDownOnStop(int fd) : id_(0) {
  if (g_one_thread.load()) {
    g_child_connection.store(fd);
  } else {
    std::lock_guard lock(wakers().mutex);
    id_ = wakers().next_id++;
    wakers().by_id.emplace(id_, [fd] { ::shutdown(fd, SHUT_RDWR); });
  }
  // A stop that came first: under the lock above, or before the store.
  if (g_stop.load()) ::shutdown(fd, SHUT_RDWR);
}

ShutDownOnStop::~ShutDownOnStop() {
  if (id_ == 0) {
    g_child_connection.store(-1);
    return;
  }
  std::lock_guard lock(wakers().mutex);
  wakers().by_id.erase(id_);
}

OnStop::OnStop(std::function<void()> wake) {
  if (g_one_thread.load()) {
    throw std::logic_error("net::OnStop needs the stop thread of install_stop_handlers()");
  }
  std::lock_guard lock(wakers().mutex);
  id_ = wakers().next_id++;
  if (g_stop.load()) wake();
  wakers().by_id.emplace(id_, std::move(wake));
}

OnStop::~OnStop() {
  std::lock_guard lock(wakers().mutex);
  wakers().by_id.erase(id_);
}

}  // namespace net
