// 04_threading/server.cpp — one thread per connection: ThreadingMixIn in C++.
//
// Teaches: the synchronous server of 02/03 serves one client at a time, so a
// slow client blocks everyone. Python's fix is a mix-in class that overrides
// one hook, process_request, to run each request in a new thread. C++ can
// write the same mix-in as a class template deriving from its parameter:
// ThreadingMixIn<BaseServer> is Python's ThreadingTCPServer. The mix-in is
// in common/threading_mixin.hpp (chapter 08 mixes it into a UDP server too):
// read it next to this file.
//
// Run:      ./server                    line echo, a thread per client
//           ./server --handler welcome  the notes' welcome / hello / exit protocol
// Observe:  hold a connection open with half a line (see README) and run
//           ./client fast: it is answered at once. SIGTERM with clients still
//           connected: every thread is woken, joined, and the clients see EOF.
// See also: client.cpp, README.md, ../common/threading_mixin.hpp.

#include <sys/socket.h>

#include <string>

#include "cli.hpp"
#include "server.hpp"
#include "socket.hpp"
#include "stop.hpp"
#include "stream_handler.hpp"
#include "threading_mixin.hpp"

namespace {

// Python: class ThreadingTCPServer(ThreadingMixIn, TCPServer): pass
using ThreadingTCPServer = net::ThreadingMixIn<net::BaseServer>;

// The notes' ThreadingTCPServer example, framed by lines: "welcome" first,
// then "hello" for every line until the client sends "exit".
class WelcomeHandler : public net::StreamRequestHandler {
 public:
  using StreamRequestHandler::StreamRequestHandler;

  void handle() override {
    const std::string peer = net::to_string(client_address);
    if (wfile.write("welcome\n") != net::IoStatus::ok) return;
    std::string line;
    while (rfile->read_line(line) == net::LineStatus::line) {
      while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
      if (line == "exit") {
        net::log_line(peer + " said exit");
        return;
      }
      net::log_line(peer + " says " + line);
      if (wfile.write("hello\n") != net::IoStatus::ok) return;
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  net::Cli cli("server", "Threaded line echo server: one thread per connection (ThreadingMixIn).");
  net::StreamOptions options;
  std::string handler_name = "echo";
  net::add_stream_options(cli, options);
  cli.option("--handler", handler_name, "NAME", "echo (default) or welcome (the notes' protocol)");
  return net::run_main(cli, argc, argv, [&] {
    if (handler_name != "echo" && handler_name != "welcome") {
      throw net::UsageError("--handler must be echo or welcome, not '" + handler_name + "'");
    }
    net::install_stop_handlers();

    const net::Endpoint address = net::resolve(cli.host, cli.port, SOCK_STREAM, true).front();
    ThreadingTCPServer server(
        address, handler_name == "echo" ? net::stream_handler_class<net::LineEchoHandler>(options)
                                        : net::stream_handler_class<WelcomeHandler>(options));
    net::announce_listening(server.fileno());

    server.serve_forever();
    return 0;  // ~ThreadingMixIn joins every thread, then ~BaseServer closes
  });
}
