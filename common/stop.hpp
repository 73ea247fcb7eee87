// common/stop.hpp — stop on SIGINT/SIGTERM: wake the accept loop, end every connection.
//
// Teaches: how a server stops at once without checking for it on every call.
//
// A signal handler may do almost nothing (no locks, no allocation), and it
// runs in whichever thread the kernel picks. So a threaded server takes the
// stop signals another way: main() blocks SIGINT and SIGTERM before it
// starts any thread (every thread inherits the mask), and one thread of our
// own waits for them in sigwait(). That thread runs ordinary code, so it can
// lock a mutex and walk the list of live connections:
//
//   stop thread: sigwait -> flag = true -> write a byte into the stop pipe
//                        -> shutdown(fd, SHUT_RDWR) on every live connection
//
//   accept loop: poll({listener, stop pipe})   one poll per *connection*
//   handler:     recv() ... send() ...         no poll per *request*:
//                a recv() blocked when the shutdown comes returns 0 (EOF),
//                a send() blocked on a client that never reads fails EPIPE.
//
// That keeps a handler at 2 system calls per request (recv + send), the
// same as Python's blocking sockets, and still ends every connection within
// a moment of Ctrl-C. The byte is never read back: once stop is requested
// the pipe stays readable for every loop that waits on it, now and later.
//
// A server that forks (chapter 05) must not start that thread. fork()
// copies only the thread that calls it: a lock another thread held at that
// moment stays locked in the child for good, which is why POSIX lets the
// child of a multi-threaded process make only async-signal-safe calls until
// it execs. (ThreadSanitizer, in such a child, stops checking, and a signal
// it deferred is never handled: a SIGTERM to a child blocked in send() was
// never seen.) So the forking parent and its children keep one thread and
// stop the classic way, with a handler that does only async-signal-safe
// things: set the flag, write the byte and, in a child, shut down its one
// connection (install_stop_handlers_single_threaded, _in_child).
//
// The parent goes one step further: it keeps SIGINT/SIGTERM blocked, and
// lets them in only while it waits, inside poll_letting_stop_in(), which
// swaps the signal mask in the same call as the wait (ppoll or pselect).
// A stop signal then lands only where the process is asleep in the kernel,
// never halfway through its own code: not between fork() and the child's
// handler, and not in code that cannot take a signal at that moment. That
// last one is real: ThreadSanitizer (GCC 12, clang 14) loses a signal that
// lands while a thread sets up its signal state, in its first intercepted
// wait (README.md, "Tests"; tests/tsan/lost_signal.cpp shows it).
//
//   main:     net::install_stop_handlers();          // before any std::thread
//   handler:  net::ShutDownOnStop tracked(fd);       // BaseServer does this
//   loops:    poll_letting_stop_in({fd, net::stop_fd()}) ... if (net::stop_requested()) break;
//
// See also: io.hpp, base_server.hpp (serve_forever), 05_forking/server.cpp.
#pragma once

#include <poll.h>

#include <csignal>
#include <cstdint>
#include <functional>

namespace net {

// Blocks SIGINT and SIGTERM in the calling thread (and so in every thread
// it starts later) and starts the stop thread; ignores SIGPIPE (a write to
// a closed peer then fails with EPIPE instead of killing the process). Call
// it once, first thing in main(). Throws std::system_error.
void install_stop_handlers();

// For a server that forks (chapter 05), instead of install_stop_handlers():
// the same stop with no thread, so that the process has one thread when it
// forks. SIGINT/SIGTERM get a handler that sets the flag and writes the stop
// byte, and are blocked except inside poll_letting_stop_in(); SIGPIPE is
// ignored. Call it once, first thing in main(). OnStop is not available in
// such a process (nothing would run its wake-up).
void install_stop_handlers_single_threaded();

// For a child right after fork(): the parent's handler and pipe are the
// parent's, so SIGINT/SIGTERM get the child's handler and are unblocked
// (the parent forked with them blocked, so none came in between: the
// child, blocked in recv or send, must be interrupted anywhere). Starts
// over with a fresh pipe and a cleared flag (the child's stop is its own);
// its one ShutDownOnStop connection is shut down by the handler itself.
void install_stop_handlers_in_child();

// poll(), for every loop that waits for a stop too. In a process of
// install_stop_handlers_single_threaded(), SIGINT/SIGTERM are let in for
// the wait only (portable.hpp, poll_with_mask); anywhere else, plain poll().
// Returns like poll(); -1 with EINTR when a stop signal came in the wait.
int poll_letting_stop_in(pollfd* fds, nfds_t count, int timeout_ms);

// True once SIGINT/SIGTERM arrived or request_stop() was called.
bool stop_requested() noexcept;

// The pipe's read end (readable once stop is requested), or -1 before
// install_stop_handlers(). poll() ignores a negative fd, so callers need no
// special case.
int stop_fd() noexcept;

// What the stop thread does on a signal, callable from code (any thread).
void request_stop();

// While one of these lives, a stop request calls shutdown(fd, SHUT_RDWR).
// Destroy it before closing fd, so that a stop never shuts down a new
// socket that reused the number. If stop was requested already, the
// constructor shuts fd down at once. In a forked child, one at a time.
class ShutDownOnStop {
 public:
  explicit ShutDownOnStop(int fd);
  ~ShutDownOnStop();
  ShutDownOnStop(const ShutDownOnStop&) = delete;
  ShutDownOnStop& operator=(const ShutDownOnStop&) = delete;

 private:
  std::uint64_t id_;
};

// The general form, for a wait that shutdown() cannot end (a UDP server
// blocked in recvfrom, chapter 08): while it lives, a stop request calls
// `wake` in the stop thread. Needs install_stop_handlers() (throws
// std::logic_error after install_stop_handlers_single_threaded()).
class OnStop {
 public:
  explicit OnStop(std::function<void()> wake);
  ~OnStop();
  OnStop(const OnStop&) = delete;
  OnStop& operator=(const OnStop&) = delete;

 private:
  std::uint64_t id_;
};

}  // namespace net
