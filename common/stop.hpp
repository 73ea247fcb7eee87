// common/stop.hpp — stop on SIGINT/SIGTERM, waking whoever is blocked.
//
// Teaches: the self-pipe trick. A signal handler may do almost nothing, so it
// only sets a flag and writes one byte into a pipe. Every wait in common/
// (accept loops, recv, send) polls that pipe's read end beside its own fd, so
// Ctrl-C wakes a server blocked in accept or a handler blocked in recv at
// once, with no race between "check the flag" and "block".
//
//   main:   net::install_stop_handlers();
//   loops:  poll({fd, net::stop_fd()}) ... if (net::stop_requested()) break;
//
// The byte is never read back: once stop is requested the pipe stays
// readable, so every thread that waits on it wakes, now and later.
//
// See also: io.hpp (wait_readable), server.hpp (serve_forever).
#pragma once

namespace net {

// Installs the SIGINT and SIGTERM handlers and ignores SIGPIPE (a write to a
// closed peer then fails with EPIPE instead of killing the process). Calling
// it again (e.g. in a child after fork) starts over with a fresh pipe and a
// cleared flag, so the child's stop is its own. Throws std::system_error.
void install_stop_handlers();

// True once SIGINT/SIGTERM arrived or request_stop() was called.
bool stop_requested() noexcept;

// The pipe's read end (readable once stop is requested), or -1 before
// install_stop_handlers(). poll() ignores a negative fd, so callers need no
// special case.
int stop_fd() noexcept;

// What the signal handler does, callable from code (async-signal-safe).
void request_stop() noexcept;

// For a handler that blocks in a plain recv() instead of polling the stop
// pipe (chapter 07, to let SO_RCVTIMEO do the timing): while `fd` is set,
// a stop request also calls shutdown(fd, SHUT_RDWR), so that recv() returns
// at once, even if the signal came just before the call. -1 clears it;
// clear it before closing fd. One fd, for single-threaded servers.
void set_stop_shuts_down(int fd) noexcept;

}  // namespace net
