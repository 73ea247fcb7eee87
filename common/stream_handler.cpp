// common/stream_handler.cpp — see stream_handler.hpp.
#include "stream_handler.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <stdexcept>
#include <string>

#include "socket.hpp"

namespace net {

void StreamRequestHandler::setup() {
  std::string line = "connection from " + to_string(client_address);
  if (disable_nagle_algorithm && client_address.family() != AF_UNIX) {
    set_int_option(request.get(), IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
    // Read it back, so the log shows what the kernel really has.
    if (get_int_option(request.get(), IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY") != 0) {
      line += " (TCP_NODELAY on)";
    }
  }
  log_line(line);
  // Python's setup() calls connection.settimeout(timeout). Here the kernel
  // keeps the time: SO_RCVTIMEO/SO_SNDTIMEO make a recv()/send() that waits
  // longer fail with EAGAIN. It costs two setsockopt() per connection and
  // nothing per request; a poll() before each recv() would cost one more
  // system call every time.
  if (timeout) {
    set_timeout_option(request.get(), SO_RCVTIMEO, *timeout, "SO_RCVTIMEO");
    set_timeout_option(request.get(), SO_SNDTIMEO, *timeout, "SO_SNDTIMEO");
  }
  rfile.emplace(request.get(), max_line);
  wfile = Wfile{request.get()};
}

void LineEchoHandler::handle() {
  // lab 03: write the line echo: read_line, then write
  std::string line, replies;
  for (;;) {
    switch (rfile->read_line(line)) {
      case LineStatus::line:
        // Answers are collected while more lines are already buffered and
        // sent together: one send() per recv(), not one per line.
        replies += line;
        if (rfile->has_line() && replies.size() < 65536) break;
        if (wfile.write(replies) != IoStatus::ok) return;  // the client left mid-reply
        replies.clear();
        break;
      case LineStatus::eof:
      case LineStatus::stopped:
        return;
      case LineStatus::timed_out:
        log_line("timed out: " + to_string(client_address) + " sent nothing for " +
                 std::to_string(timeout->count()) + " ms, closing");
        return;
      case LineStatus::too_long: {
        // Abort, not close: SO_LINGER {on, 0} makes close() send a reset
        // (RST) instead of a FIN, every time. The client's next recv fails
        // with ECONNRESET: "cut off", not "the conversation is over". (A
        // plain close would send a RST only when bytes were left unread.)
        const linger abort{1, 0};
        ::setsockopt(request.get(), SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
        throw std::length_error("line longer than " + std::to_string(max_line) +
                                " bytes, closing the connection");
      }
      case LineStatus::reset:
        throw std::runtime_error("connection reset by peer");
    }
  }
  // lab: end
}

void add_stream_options(Cli& cli, StreamOptions& options) {
  cli.option("--timeout", options.timeout_seconds, "S",
             "close a connection idle for S seconds (default: never)", 0.001, 86400);
  cli.option("--max-line", options.max_line, "N", "longest line accepted, in bytes (default 65536)",
             1, 1 << 24);
  cli.flag("--nodelay", options.nodelay, "set TCP_NODELAY on each connection (no Nagle)");
}

}  // namespace net
