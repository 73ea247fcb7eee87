// common/socket.hpp — the socket calls, each with its error checked.
//
// Teaches: the same steps chapter 01 writes out by hand (socket, bind,
// listen, connect), now with ownership in a UniqueFd and a failure thrown as
// "CALL ADDRESS: REASON". Nothing is hidden: each function is one call plus
// its error check, named after the call.
//
//   net::UniqueFd listener = net::open_socket(endpoint.family(), SOCK_STREAM);
//   net::bind_to(listener.get(), endpoint);
//   net::listen_on(listener.get(), endpoint, 5);
//   net::announce_listening(listener.get());   // "listening on 127.0.0.1:PORT"
//
// See also: tests/test_server.cpp (bind, listen, options), tests/test_io.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "address.hpp"
#include "fd.hpp"

namespace net {

// socket(family, type, 0), close-on-exec, and non-blocking if asked
// (net::socket_cloexec: SOCK_CLOEXEC where the platform has it).
UniqueFd open_socket(int family, int type, bool nonblocking = false);

// bind(); the error names the address: "bind 127.0.0.1:20000: ...".
void bind_to(int fd, const Endpoint& endpoint);

// listen(); `endpoint` only names the address in an error.
void listen_on(int fd, const Endpoint& endpoint, int backlog);

// Connects a new socket of `type` to the first address of host:port that
// accepts; throws "connect HOST:PORT: REASON" with the last address tried.
UniqueFd connect_to(const std::string& host, std::uint16_t port, int type = SOCK_STREAM);
UniqueFd connect_to(const Endpoint& endpoint, int type = SOCK_STREAM);

// Clears or sets O_NONBLOCK with fcntl (Python's sock.setblocking(flag)).
void set_blocking(int fd, bool blocking);

// Ends every accept() blocked on `listener`, in any thread or process that
// shares it, for a stop: on Linux shutdown() of a listening socket makes
// each of them fail at once (EINVAL), and every later accept() too. Where
// that fails (ENOTCONN: macOS, the BSDs) it connects to the listener
// `waiters` times instead (wake_by_connecting); each connection wakes one
// accept(), whose caller must then see the stop. Chapters 05 and 06 (pools).
void wake_blocked_accepts(int listener, int waiters, UniqueFd* spare = nullptr);

// The second way, on its own: `waiters` connections to the listener, each
// closed once established (a half-open one closed would wake nobody). What
// macOS and the BSDs run; on Linux, PORTABLE=1 builds and the unit tests.
//
// It needs a descriptor for each connection, and a thread blocked in
// accept() already holds the number its connection will get: threads of
// one process blocked in accept() can hold every number left, and then no
// socket() succeeds until one of them is woken. So a pool of threads keeps
// a `spare` (reserve_descriptor, made before any worker blocks), which is
// closed here just before the first connection: its number is the one
// socket() gets. Otherwise (or when the spare is spent), out of
// descriptors it waits for one, about a second at most.
void wake_by_connecting(int listener, int waiters, UniqueFd* spare = nullptr);

// A descriptor held only so that it can be given back when one is needed
// most (/dev/null, read-only, close-on-exec).
UniqueFd reserve_descriptor();

// setsockopt / getsockopt for int-valued options; `label` names the option
// in an error ("setsockopt SO_REUSEADDR: ...").
void set_int_option(int fd, int level, int name, int value, const char* label);
int get_int_option(int fd, int level, int name, const char* label);

// The same for SO_RCVTIMEO / SO_SNDTIMEO, whose value is a struct timeval:
// a blocking recv()/send() that waits longer fails with EAGAIN. 0 = never.
void set_timeout_option(int fd, int name, std::chrono::milliseconds timeout, const char* label);
std::chrono::milliseconds get_timeout_option(int fd, int name, const char* label);

// Prints "listening on ADDRESS" (the real port, after bind) on stdout and
// flushes at once: the one line a harness waits for.
void announce_listening(int listener);

// Writes `line` plus a newline to stderr in one write(), so lines from
// several threads or processes never interleave.
void log_line(std::string_view line);

}  // namespace net
