// 04_threading/client.cpp — a line client, and the notes' welcome protocol.
//
// Teaches: nothing new on the client side for the echo (it is chapter 03's
// LineClient). With --welcome it speaks the protocol of the notes'
// ThreadingTCPServer example: read the greeting, send each MESSAGE and print
// the answer, then say "exit" so the server ends the conversation.
//
// Run:      ./client one two                   (against ./server)
//           ./client --welcome hi there        (against ./server --handler welcome)
// Observe:  "welcome", then "hello" per message.
// See also: server.cpp, README.md, ../common/line_client.hpp.

#include <iostream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "line_client.hpp"
#include "socket.hpp"

int main(int argc, char** argv) {
  net::Cli cli("client", "Send each MESSAGE as a line and print the line that comes back.");
  bool welcome = false;
  std::vector<std::string> messages;
  cli.flag("--welcome", welcome,
           "speak the welcome/hello/exit protocol (server --handler welcome)");
  cli.rest("MESSAGE", messages, "sent with a newline; with none, each line of standard input");
  return net::run_main(cli, argc, argv, [&] {
    net::LineClient client(net::connect_to(cli.host, cli.port));
    if (welcome) std::cout << client.read_line() << std::flush;
    net::for_each_message(messages, [&](const std::string& message) {
      std::cout << client.ask(message) << std::flush;
    });
    if (welcome) client.send_line("exit");
    return 0;
  });
}
