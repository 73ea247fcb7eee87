// 03_stream_handler/server.cpp — a line echo server: the socket read as a file.
//
// Teaches: StreamRequestHandler. The handler reads the connection line by
// line (rfile) and writes to it (wfile), whatever way TCP cut the bytes into
// packets. The handler and its options (timeout, max_line, TCP_NODELAY) are
// in common/stream_handler.hpp, because every later TCP chapter serves lines
// too; this file only picks the options and runs the server.
//
// Run:      ./server --timeout 10 --max-line 100
// Observe:  ./client one two prints "one" and "two"; a client silent for 10 s
//           is closed ("timed out" on stderr); a 101-byte line closes that
//           connection with an error, and the next client is served.
// See also: client.cpp, README.md, ../common/stream_handler.hpp,
//           ../common/line_reader.hpp.

#include <sys/socket.h>

#include "base_server.hpp"
#include "cli.hpp"
#include "socket.hpp"
#include "stop.hpp"
#include "stream_handler.hpp"

int main(int argc, char** argv) {
  net::Cli cli("server", "Line echo server: StreamRequestHandler, rfile and wfile.");
  net::StreamOptions options;
  net::add_stream_options(cli, options);
  return net::run_main(cli, argc, argv, [&] {
    net::install_stop_handlers();

    const net::Endpoint address = net::resolve(cli.host, cli.port, SOCK_STREAM, true).front();
    // Python: TCPServer(address, EchoHandler) with EchoHandler.timeout = ...
    net::BaseServer server(address, net::stream_handler_class<net::LineEchoHandler>(options));
    net::announce_listening(server.fileno());

    server.serve_forever();
    return 0;
  });
}
