// common/socket.cpp — see socket.hpp.
#include "socket.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "error.hpp"
#include "portable.hpp"

namespace net {

UniqueFd open_socket(int family, int type, bool nonblocking) {
  UniqueFd fd{socket_cloexec(family, type, nonblocking)};
  if (!fd) throw_error("socket", "");
  return fd;
}

void bind_to(int fd, const Endpoint& endpoint) {
  if (::bind(fd, endpoint.addr(), endpoint.length) == -1) throw_error("bind", to_string(endpoint));
}

void listen_on(int fd, const Endpoint& endpoint, int backlog) {
  if (::listen(fd, backlog) == -1) throw_error("listen", to_string(endpoint));
}

UniqueFd connect_to(const Endpoint& endpoint, int type) {
  UniqueFd fd = open_socket(endpoint.family(), type);
  // connect() interrupted by a signal keeps connecting in the background;
  // the portable way to wait for it would be poll(POLLOUT). Our clients
  // install no handlers, so EINTR cannot happen here.
  if (::connect(fd.get(), endpoint.addr(), endpoint.length) == -1) {
    throw_error("connect", to_string(endpoint));
  }
  return fd;
}

UniqueFd connect_to(const std::string& host, std::uint16_t port, int type) {
  const std::vector<Endpoint> endpoints = resolve(host, port, type);
  for (std::size_t i = 0;; ++i) {
    try {
      return connect_to(endpoints[i], type);
    } catch (const std::system_error&) {
      if (i + 1 == endpoints.size()) throw;  // the last one: report it
    }
  }
}

void set_blocking(int fd, bool blocking) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags == -1) throw_error("fcntl", "F_GETFL");
  if (::fcntl(fd, F_SETFL, blocking ? flags & ~O_NONBLOCK : flags | O_NONBLOCK) == -1) {
    throw_error("fcntl", "F_SETFL");
  }
}

void wake_blocked_accepts(int listener, int waiters, UniqueFd* spare) {
  // That shutdown() wakes accept() is Linux's behaviour, not POSIX: under
  // PORTABLE=1 (the POSIX fallbacks only) every pool stops the macOS way.
#ifndef NET_PORTABLE
  if (::shutdown(listener, SHUT_RDWR) == 0) return;
#endif
  wake_by_connecting(listener, waiters, spare);
}

UniqueFd reserve_descriptor() {
  UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!fd) throw_error("open", "/dev/null");
  return fd;
}

void wake_by_connecting(int listener, int waiters, UniqueFd* spare) {
  if (spare != nullptr) spare->reset();  // its number is free: socket() below gets it
  try {
    const Endpoint self = reachable_endpoint(listener);
    // Out of descriptors (the limit reached, or each woken accept() holding
    // one for a moment), wait for one: the stop is closing connections
    // meanwhile. At most about a second in all.
    int out_of_descriptors = 0;
    for (int i = 0; i < waiters;) {
      const int fd = socket_cloexec(self.family(), SOCK_STREAM, /*nonblocking=*/true);
      if (fd == -1) {
        if ((errno != EMFILE && errno != ENFILE) || ++out_of_descriptors > 1000) return;
        ::usleep(1000);
        continue;
      }
      // Closed while still connecting, it would never reach the backlog: wait
      // (briefly) until it is established, then close it.
      if (::connect(fd, self.addr(), self.length) == -1 && errno == EINPROGRESS) {
        pollfd connected{fd, POLLOUT, 0};
        ::poll(&connected, 1, 100);
      }
      ::close(fd);
      ++i;
    }
  } catch (const std::exception&) {
    // No address to connect to: the waiters stay until their next client.
  }
}

void set_int_option(int fd, int level, int name, int value, const char* label) {
  if (::setsockopt(fd, level, name, &value, sizeof value) == -1) throw_error("setsockopt", label);
}

int get_int_option(int fd, int level, int name, const char* label) {
  int value = 0;
  socklen_t length = sizeof value;
  if (::getsockopt(fd, level, name, &value, &length) == -1) throw_error("getsockopt", label);
  return value;
}

void set_timeout_option(int fd, int name, std::chrono::milliseconds timeout, const char* label) {
  const auto ms = timeout.count();
  const timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>(ms % 1000 * 1000)};
  if (::setsockopt(fd, SOL_SOCKET, name, &tv, sizeof tv) == -1) throw_error("setsockopt", label);
}

std::chrono::milliseconds get_timeout_option(int fd, int name, const char* label) {
  timeval tv{};
  socklen_t length = sizeof tv;
  if (::getsockopt(fd, SOL_SOCKET, name, &tv, &length) == -1) throw_error("getsockopt", label);
  return std::chrono::milliseconds(tv.tv_sec * 1000L + tv.tv_usec / 1000);
}

void announce_listening(int listener) {
  std::printf("listening on %s\n", to_string(local_endpoint(listener)).c_str());
  std::fflush(stdout);
}

void log_line(std::string_view line) {
  std::string text(line);
  text += '\n';
  // One write() per line: stderr is unbuffered, but two calls could interleave.
  // Again if a signal came first (05's handlers have no SA_RESTART).
  while (::write(STDERR_FILENO, text.data(), text.size()) == -1 && errno == EINTR) {}
}

}  // namespace net
