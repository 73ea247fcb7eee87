// common/portable.cpp — see portable.hpp.
#include "portable.hpp"

#include <fcntl.h>
#include <sys/select.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace net {

namespace {

// fcntl() in two steps, as POSIX has it: read the flags, add ours.
[[maybe_unused]] bool add_fd_flag(int fd, int get, int set, int flag) {
  const int flags = ::fcntl(fd, get);
  return flags != -1 && ::fcntl(fd, set, flags | flag) != -1;
}

[[maybe_unused]] bool set_cloexec(int fd) {
  return add_fd_flag(fd, F_GETFD, F_SETFD, FD_CLOEXEC);
}
[[maybe_unused]] bool set_nonblock(int fd) {
  return add_fd_flag(fd, F_GETFL, F_SETFL, O_NONBLOCK);
}

// Closes fd and returns -1, keeping the errno of the call that failed.
[[maybe_unused]] int fail_and_close(int fd) {
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return -1;
}

}  // namespace

int socket_cloexec(int family, int type, bool nonblocking) {
#ifdef NET_HAVE_SOCK_CLOEXEC
  return ::socket(family, type | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
#else
  const int fd = ::socket(family, type, 0);
  if (fd == -1) return -1;
  if (!set_cloexec(fd) || (nonblocking && !set_nonblock(fd))) return fail_and_close(fd);
  return fd;
#endif
}

int socketpair_cloexec(int family, int type, int fds[2]) {
#ifdef NET_HAVE_SOCK_CLOEXEC
  return ::socketpair(family, type | SOCK_CLOEXEC, 0, fds);
#else
  if (::socketpair(family, type, 0, fds) == -1) return -1;
  if (!set_cloexec(fds[0]) || !set_cloexec(fds[1])) {
    fail_and_close(fds[1]);
    return fail_and_close(fds[0]);
  }
  return 0;
#endif
}

int accept_cloexec(int listener, sockaddr* address, socklen_t* length) {
#ifdef NET_HAVE_ACCEPT4
  return ::accept4(listener, address, length, SOCK_CLOEXEC);
#else
  const int fd = ::accept(listener, address, length);
  if (fd == -1) return -1;
  // On the BSDs and macOS an accepted socket inherits O_NONBLOCK from a
  // non-blocking listener (Linux's does not): clear it, as accept4 would.
  const int flags = ::fcntl(fd, F_GETFL);
  if (!set_cloexec(fd) || flags == -1 ||
      ((flags & O_NONBLOCK) != 0 && ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1)) {
    return fail_and_close(fd);
  }
  return fd;
#endif
}

int pipe_cloexec_nonblock(int fds[2]) {
#ifdef NET_HAVE_PIPE2
  return ::pipe2(fds, O_CLOEXEC | O_NONBLOCK);
#else
  if (::pipe(fds) == -1) return -1;
  for (int i = 0; i < 2; ++i) {
    if (!set_cloexec(fds[i]) || !set_nonblock(fds[i])) {
      fail_and_close(fds[1 - i]);
      return fail_and_close(fds[i]);
    }
  }
  return 0;
#endif
}

int nosignal_flag() {
#ifdef NET_HAVE_MSG_NOSIGNAL
  return MSG_NOSIGNAL;
#else
  static const bool ignored = std::signal(SIGPIPE, SIG_IGN) != SIG_ERR;  // once, thread-safe
  (void)ignored;
  return 0;
#endif
}

int poll_with_mask(pollfd* fds, nfds_t count, int timeout_ms, const sigset_t* during) {
  const timespec timeout{timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
  const timespec* wait_for = timeout_ms < 0 ? nullptr : &timeout;  // none: wait for ever
#ifdef NET_HAVE_PPOLL
  return ::ppoll(fds, count, wait_for, during);
#else
  fd_set readable, writable;
  FD_ZERO(&readable);
  FD_ZERO(&writable);
  int highest = -1;
  for (nfds_t i = 0; i < count; ++i) {
    const int fd = fds[i].fd;
    if (fd < 0) continue;  // poll() skips a negative fd; so do we
    if (fd >= FD_SETSIZE) {
      errno = EINVAL;
      return -1;
    }
    if (fds[i].events & POLLIN) FD_SET(fd, &readable);
    if (fds[i].events & POLLOUT) FD_SET(fd, &writable);
    if (fd > highest) highest = fd;
  }
  const int n = ::pselect(highest + 1, &readable, &writable, nullptr, wait_for, during);
  // As poll() does, every revents is written, also on a timeout (all 0).
  // select() has no POLLHUP or POLLERR: a hung-up or failed descriptor
  // reads as readable (or writable), and the call that follows (recv(),
  // accept(), send()) returns the EOF or the error. Every caller reads on
  // POLLIN, so that is all they need.
  int ready = 0;  // poll() counts descriptors, pselect() bits
  for (nfds_t i = 0; i < count; ++i) {
    const int fd = fds[i].fd;
    fds[i].revents = 0;
    if (n <= 0 || fd < 0) continue;
    if (FD_ISSET(fd, &readable)) fds[i].revents |= POLLIN;
    if (FD_ISSET(fd, &writable)) fds[i].revents |= POLLOUT;
    ready += fds[i].revents != 0;
  }
  return n <= 0 ? n : ready;
#endif
}

}  // namespace net
