// common/io.hpp — send and receive that survive the real world.
//
// Teaches: a socket call can do less than you asked. send() may take part of
// the buffer (a partial write), any call may fail with EINTR, a peer may reset
// the connection, and writing to a closed peer raises SIGPIPE, which kills a
// process by default. These helpers loop, retry and report each case as a
// value:
//
//   ok         the whole buffer was sent / some bytes were received
//   eof        the peer closed its side (recv returned 0)
//   timed_out  nothing happened within the timeout
//   reset      the peer is gone (ECONNRESET, EPIPE)
//   stopped    SIGINT/SIGTERM arrived (see stop.hpp)
//
// Anything else (EBADF, ENOTSOCK, ...) is a bug, thrown as std::system_error.
// Without a timeout, recv_some and send_all block in recv()/send() themselves:
// 2 system calls per request/reply. A stop request reaches them through the
// socket (net::ShutDownOnStop in stop.hpp shuts it down); a timeout set on
// the socket (SO_RCVTIMEO/SO_SNDTIMEO) comes back as timed_out. With a
// Timeout argument they poll() first, watching net::stop_fd() too.
//
// See also: tests/test_io.cpp (slow reader, closed peer).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

namespace net {

enum class IoStatus { ok, eof, timed_out, reset, stopped };
const char* to_string(IoStatus status) noexcept;

// No value: wait as long as it takes.
using Timeout = std::optional<std::chrono::milliseconds>;

struct RecvResult {
  IoStatus status;
  std::size_t bytes = 0;  // > 0 exactly when status == ok
};

// Waits until `fd` is readable (data, EOF, a connection to accept), the stop
// pipe fires, or `timeout` passes. Returns ok, stopped or timed_out.
IoStatus wait_readable(int fd, Timeout timeout = std::nullopt);

// The same for room to write: until send() on `fd` can take bytes again.
IoStatus wait_writable(int fd, Timeout timeout = std::nullopt);

// One recv() of at most buffer.size() bytes. `fd` must be a blocking
// socket: without `timeout`, EAGAIN means its SO_RCVTIMEO ran out.
RecvResult recv_some(int fd, std::span<char> buffer, Timeout timeout = std::nullopt);

// Sends every byte of `data`, however many send() calls it takes. Never
// raises SIGPIPE (MSG_NOSIGNAL). Returns ok, reset, timed_out (no progress
// for `timeout`) or stopped; on anything but ok an unknown prefix was sent.
IoStatus send_all(int fd, std::string_view data, Timeout timeout = std::nullopt);

}  // namespace net
