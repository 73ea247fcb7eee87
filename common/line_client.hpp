// common/line_client.hpp — the client side of a line protocol.
//
// Teaches: the rule of chapter 03 seen from the client: every message ends
// with "\n", every reply is read with a LineReader, and a reply cut short by
// the server closing is an error, not a shorter reply.
//
//   net::LineClient client(net::connect_to(cli.host, cli.port));
//   std::cout << client.ask("hello");      // sends "hello\n", returns "hello\n"
//
// Used by every line-echo chapter's client (03 to 07); line_client_main is
// the whole client of 03, 05, 06 and 07.
// See also: line_reader.hpp, 03_stream_handler/client.cpp.
#pragma once

#include <string>

#include "fd.hpp"
#include "line_reader.hpp"

namespace net {

class LineClient {
 public:
  explicit LineClient(UniqueFd conn);

  // Sends `message` plus a newline, in one send(), or with `split` in two
  // (the text, then "\n": the pattern that meets Nagle's algorithm, 03's
  // README). Throws std::system_error if the server is gone.
  void send_line(const std::string& message, bool split = false);
  // The next line from the server, newline included. Throws if the server
  // closes (or resets) before a whole line arrived.
  std::string read_line();
  // send_line, then read_line.
  std::string ask(const std::string& message, bool split = false);

  int fd() const noexcept { return conn_.get(); }

 private:
  UniqueFd conn_;
  std::string server_;  // "127.0.0.1:20000", for error messages
  LineReader replies_;
};

// main() of a line client: --host, --port, --split, --nodelay, MESSAGE ...
// (or stdin lines); prints each reply. Returns the exit status (run_main's rules).
int line_client_main(int argc, char** argv);

}  // namespace net
