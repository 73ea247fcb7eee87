// common/stream_handler.hpp — StreamRequestHandler: a socket read as lines.
//
// Teaches (chapter 03): Python's StreamRequestHandler wraps the connection in
// two file objects, rfile (buffered reads, readline) and wfile (writes). Here
// rfile is a LineReader with a length limit and wfile sends everything it is
// given. The class options of Python become members, set before setup():
//
//   Python                          C++ (StreamRequestHandler member)
//   timeout = 5                     timeout = 5s (SO_RCVTIMEO/SO_SNDTIMEO)
//   disable_nagle_algorithm = True  disable_nagle_algorithm = true
//   rbufsize / wbufsize             (LineReader's buffer / none: every write is sent)
//   readline(limit)                 max_line (always on, default 65536)
//
// LineEchoHandler is the echo of chapter 03, reused by every later TCP
// chapter: each line comes back as it was sent, until EOF.
//
// See also: line_reader.hpp, 03_stream_handler/README.md.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>

#include "base_server.hpp"
#include "cli.hpp"
#include "line_reader.hpp"

namespace net {

class StreamRequestHandler : public RequestHandler {
 public:
  using RequestHandler::RequestHandler;

  Timeout timeout;  // how long the client may stay silent
  std::size_t max_line = LineReader::default_max_line;
  bool disable_nagle_algorithm = false;  // TCP_NODELAY (TCP only)

  // Logs "connection from ADDR", applies the options, makes rfile.
  void setup() override;

 protected:
  struct Wfile {
    int fd;
    IoStatus write(std::string_view data) const { return send_all(fd, data); }
  };
  std::optional<LineReader> rfile;  // made by setup()
  Wfile wfile{-1};
};

// For each line in rfile: wfile.write(line) — the lines that arrived in one
// read are answered in one write. Logs a timeout and returns;
// throws (so handle_error logs it) on an over-long line or a reset.
class LineEchoHandler : public StreamRequestHandler {
 public:
  using StreamRequestHandler::StreamRequestHandler;
  void handle() override;
};

// The three options every line server offers, as one struct...
struct StreamOptions {
  double timeout_seconds = 0;  // 0: no timeout
  int max_line = static_cast<int>(LineReader::default_max_line);
  bool nodelay = false;
};
// ...registered on the command line as --timeout S, --max-line N, --nodelay...
void add_stream_options(Cli& cli, StreamOptions& options);
// ...and applied to each new handler of class Handler.
template <typename Handler>
HandlerFactory stream_handler_class(const StreamOptions& options) {
  return [options](UniqueFd request, const Endpoint& client, BaseServer& server) {
    auto handler = std::make_unique<Handler>(std::move(request), client, server);
    if (options.timeout_seconds > 0) {
      handler->timeout =
          std::chrono::milliseconds(static_cast<long>(options.timeout_seconds * 1000));
    }
    handler->max_line = static_cast<std::size_t>(options.max_line);
    handler->disable_nagle_algorithm = options.nodelay;
    return handler;
  };
}

}  // namespace net
