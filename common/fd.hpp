// common/fd.hpp — UniqueFd: one owner for one file descriptor.
//
// Teaches: RAII for sockets. Chapter 01 closes its fds by hand; from 02 on
// every fd lives in a UniqueFd, so an early return or an exception can never
// leak one. Move-only: handing a UniqueFd over by value hands over ownership.
//
//   net::UniqueFd conn{::accept(listener.get(), nullptr, nullptr)};
//   serve(std::move(conn));        // serve() now owns it and closes it
//
// See also: tests/test_fd.cpp (move-only traits, the destructor closes).
#pragma once

#include <unistd.h>

#include <utility>

namespace net {

class UniqueFd {
 public:
  UniqueFd() noexcept = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }

  // Gives the fd up without closing it; the caller owns it now.
  int release() noexcept { return std::exchange(fd_, -1); }

  // Closes the fd we own (if any) and takes `fd` instead. close() is not
  // retried on EINTR: on Linux the fd is gone even then, and a retry could
  // close an fd another thread has just been given.
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace net
