// common/stop.cpp — see stop.hpp.
#include "stop.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>

#include "error.hpp"

namespace net {

namespace {
// Lock-free atomics are async-signal-safe; plain ints in a handler are not.
std::atomic<bool> g_stop{false};
std::atomic<int> g_read_end{-1};
std::atomic<int> g_write_end{-1};
std::atomic<int> g_shut_down_on_stop{-1};
static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free);

void on_stop_signal(int) {
  request_stop();
}
}  // namespace

void request_stop() noexcept {
  const int saved_errno = errno;  // the interrupted code may be about to read errno
  g_stop.store(true);
  if (const int conn = g_shut_down_on_stop.load(); conn >= 0) ::shutdown(conn, SHUT_RDWR);
  const int fd = g_write_end.load();
  if (fd >= 0) {
    // Non-blocking: if the pipe is somehow full it is readable already.
    [[maybe_unused]] ssize_t n = ::write(fd, "!", 1);
  }
  errno = saved_errno;
}

void set_stop_shuts_down(int fd) noexcept {
  g_shut_down_on_stop.store(fd);
  if (fd >= 0 && g_stop.load()) ::shutdown(fd, SHUT_RDWR);  // a stop that came first
}

bool stop_requested() noexcept {
  return g_stop.load();
}

int stop_fd() noexcept {
  return g_read_end.load();
}

void install_stop_handlers() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == -1) throw_error("pipe2", "");
  // A fresh pipe: after fork the child must not share the parent's, or a
  // child's SIGTERM would stop the parent too.
  const int old_read = g_read_end.exchange(fds[0]);
  const int old_write = g_write_end.exchange(fds[1]);
  if (old_read >= 0) ::close(old_read);
  if (old_write >= 0) ::close(old_write);
  g_stop.store(false);

  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  // No SA_RESTART: a call blocked in the kernel (a send to a full buffer)
  // returns EINTR, so its loop can look at stop_requested(). Every loop in
  // common/ retries EINTR itself.
  action.sa_flags = 0;
  if (::sigaction(SIGINT, &action, nullptr) == -1) throw_error("sigaction", "SIGINT");
  if (::sigaction(SIGTERM, &action, nullptr) == -1) throw_error("sigaction", "SIGTERM");
  ::signal(SIGPIPE, SIG_IGN);
}

}  // namespace net
