// common/io.cpp — see io.hpp.
#include "io.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "error.hpp"
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
    const int n = ::poll(fds, 2, ms);
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
    if (IoStatus waited = wait_for(fd, POLLIN, timeout); waited != IoStatus::ok) {
      return {waited};
    }
    const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n > 0) return {IoStatus::ok, static_cast<std::size_t>(n)};
    if (n == 0) return {IoStatus::eof};
    // EAGAIN: poll woke us but the data went elsewhere (another thread); wait again.
    if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
    if (peer_gone(errno)) return {IoStatus::reset};
    throw_error("recv", "");
  }
}

IoStatus send_all(int fd, std::string_view data, Timeout timeout) {
  while (!data.empty()) {
    // MSG_DONTWAIT: never block inside send(), so a stop request is seen even
    // when the peer stops reading; MSG_NOSIGNAL: EPIPE instead of SIGPIPE.
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) {
      data.remove_prefix(static_cast<std::size_t>(n));  // a partial write: go again
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (IoStatus waited = wait_for(fd, POLLOUT, timeout); waited != IoStatus::ok) return waited;
      continue;
    }
    if (peer_gone(errno)) return IoStatus::reset;
    throw_error("send", "");
  }
  return IoStatus::ok;
}

}  // namespace net
