// 03_stream_handler/client.cpp — a line client: write a line, read a line.
//
// Teaches: the rule the notes state for rfile: every line must end with a
// newline, or the server's readline() waits for the rest. LineClient
// (common/line_client.hpp, new in this chapter) adds the newline to each
// MESSAGE and reads each reply with the same LineReader the server uses.
//
// Run:      ./client one two three      or     seq 1000 | ./client
// Observe:  each line echoed once, in order (the notes' double readline()
//           would have lost every other one).
// See also: server.cpp, README.md, ../common/line_client.hpp.

#include <iostream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "line_client.hpp"
#include "socket.hpp"

int main(int argc, char** argv) {
  net::Cli cli("client", "Send each MESSAGE as a line and print the line that comes back.");
  std::vector<std::string> messages;
  cli.rest("MESSAGE", messages, "sent with a newline; with none, each line of standard input");
  return net::run_main(cli, argc, argv, [&] {
    net::LineClient client(net::connect_to(cli.host, cli.port));
    net::for_each_message(messages, [&](const std::string& message) {
      std::cout << client.ask(message) << std::flush;  // the reply keeps its newline
    });
    return 0;
  });
}
