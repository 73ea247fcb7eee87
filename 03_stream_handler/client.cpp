// 03_stream_handler/client.cpp — a line client: write a line, read a line.
//
// Teaches: the rule the notes state for rfile: every line must end with a
// newline, or the server's readline() waits for the rest. We add the newline
// to each MESSAGE and read replies with the same LineReader the server uses.
//
// Run:      ./client one two three      or     seq 1000 | ./client
// Observe:  each line echoed once, in order (the notes' double readline()
//           would have lost every other one).
// See also: server.cpp, README.md, ../common/line_reader.hpp.

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli.hpp"
#include "error.hpp"
#include "io.hpp"
#include "line_reader.hpp"
#include "socket.hpp"

int main(int argc, char** argv) {
  net::Cli cli("client", "Send each MESSAGE as a line and print the line that comes back.");
  std::vector<std::string> messages;
  cli.rest("MESSAGE", messages, "sent with a newline; with none, each line of standard input");
  return net::run_main(cli, argc, argv, [&] {
    const net::UniqueFd conn = net::connect_to(cli.host, cli.port);
    const std::string server = net::to_string(net::peer_endpoint(conn.get()));
    net::LineReader replies(conn.get());

    net::for_each_message(messages, [&](const std::string& message) {
      if (net::send_all(conn.get(), message + "\n") != net::IoStatus::ok) {
        net::throw_error("send", server, ECONNRESET);
      }
      std::string reply;
      if (replies.read_line(reply) != net::LineStatus::line || reply.empty() ||
          reply.back() != '\n') {
        throw std::runtime_error("recv " + server + ": the server closed the connection");
      }
      std::fwrite(reply.data(), 1, reply.size(), stdout);  // the newline included
      std::fflush(stdout);
    });
    return 0;
  });
}
