// common/io.cpp — see io.hpp.
#include "io.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "error.hpp"
#include "portable.hpp"
#include "stop.hpp"

namespace net {

const char* to_string(IoStatus status) noexcept {
  switch (status) {
    case IoStatus::ok:
      return "ok";
    case IoStatus::eof:
      return "end of file";
    case IoStatus::timed_out:
      return "timed out";
    case IoStatus::reset:
      return "connection reset by peer";
    case IoStatus::stopped:
      return "stopped";
  }
  return "?";
}

namespace {

bool peer_gone(int err) {
  return err == ECONNRESET || err == EPIPE || err == ETIMEDOUT;
}

// Waits for `events` on fd or for the stop pipe. EINTR just waits again (a
// signal that should stop us has written to the pipe by then).
IoStatus wait_for(int fd, short events, Timeout timeout) {
  pollfd fds[2] = {{fd, events, 0}, {stop_fd(), POLLIN, 0}};
  const int ms = timeout ? static_cast<int>(timeout->count()) : -1;
  for (;;) {
    if (stop_requested()) return IoStatus::stopped;
    const int n = poll_letting_stop_in(fds, 2, ms);
    if (n == -1 && errno == EINTR) continue;
    if (n == -1) throw_error("poll", "");
    if (n == 0) return IoStatus::timed_out;
    if (fds[1].revents != 0) return IoStatus::stopped;
    return IoStatus::ok;  // readable/writable, or an error the next call reports
  }
}

}  // namespace

IoStatus wait_readable(int fd, Timeout timeout) {
  return wait_for(fd, POLLIN, timeout);
}

IoStatus wait_writable(int fd, Timeout timeout) {
  return wait_for(fd, POLLOUT, timeout);
}

RecvResult recv_some(int fd, std::span<char> buffer, Timeout timeout) {
  for (;;) {
    // With a timeout: poll first (one more system call). Without: block in
    // recv() itself; a stop request shuts fd down, and recv() returns 0.
    if (timeout) {
      if (IoStatus waited = wait_for(fd, POLLIN, timeout); waited != IoStatus::ok) return {waited};
    }
    const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), timeout ? MSG_DONTWAIT : 0);
    if (n > 0) return {IoStatus::ok, static_cast<std::size_t>(n)};
    if (n == 0) return {stop_requested() ? IoStatus::stopped : IoStatus::eof};
    if (errno == EINTR && stop_requested()) return {IoStatus::stopped};  // a forked child
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      // Blocking recv: the socket's own SO_RCVTIMEO ran out. After poll:
      // the data went elsewhere (another thread took it); wait again.
      if (!timeout) return {IoStatus::timed_out};
      continue;
    }
    if (peer_gone(errno)) return {stop_requested() ? IoStatus::stopped : IoStatus::reset};
    throw_error("recv", "");
  }
}

IoStatus send_all(int fd, std::string_view data, Timeout timeout) {
  while (!data.empty()) {
    // MSG_NOSIGNAL (portable.hpp): EPIPE instead of SIGPIPE. With a
    // timeout, MSG_DONTWAIT and poll() for room; without, block in send()
    // itself: a stop request shuts fd down and a blocked send() then fails
    // with EPIPE.
    const int flags = nosignal_flag() | (timeout ? MSG_DONTWAIT : 0);
    const ssize_t n = ::send(fd, data.data(), data.size(), flags);
    if (n >= 0) {
      data.remove_prefix(static_cast<std::size_t>(n));  // a partial write: go again
      continue;
    }
    if (errno == EINTR && stop_requested()) return IoStatus::stopped;  // a forked child
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!timeout) return IoStatus::timed_out;  // the socket's SO_SNDTIMEO ran out
      if (IoStatus waited = wait_for(fd, POLLOUT, timeout); waited != IoStatus::ok) return waited;
      continue;
    }
    if (peer_gone(errno)) return stop_requested() ? IoStatus::stopped : IoStatus::reset;
    throw_error("send", "");
  }
  return IoStatus::ok;
}

}  // namespace net
