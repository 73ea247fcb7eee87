// 07_socket_options/server.cpp — tune the socket between socket() and bind().
//
// Teaches: a server socket can be changed only before certain steps. The
// notes' recipe: make the server with bind_and_activate=False, call
// setsockopt() on its socket, then server_bind() and server_activate().
// Every option is read back with getsockopt() and printed, because the
// kernel may not give what was asked (SO_RCVBUF comes back doubled).
// Accepted connections inherit the listener's options on Linux; each
// connection's log line shows what it really has.
//
// Run:      ./server --nodelay --keepalive --rcvbuf 65536 --timeout 5
// Observe:  "SO_RCVBUF = 131072"; a client silent for 5 s is closed by
//           SO_RCVTIMEO; restart at once after a server-side close: works
//           here, fails with --no-reuse-address (TIME_WAIT, see README).
// See also: client.cpp, README.md, ../common/base_server.hpp (server_bind).

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <string>

#include "base_server.hpp"
#include "cli.hpp"
#include "error.hpp"
#include "io.hpp"
#include "socket.hpp"
#include "stop.hpp"

namespace {

struct Options {
  bool no_reuse_address = false, nodelay = false, keepalive = false;
  int rcvbuf = 0, sndbuf = 0;  // 0: leave the kernel's default
  double timeout_seconds = 0;  // 0: no receive timeout
};

// What the kernel says the socket has, one "NAME = value" per option.
std::string effective_options(int fd, const char* separator) {
  std::string text;
  auto add = [&](const char* name, long value, const char* unit = "") {
    if (!text.empty()) text += separator;
    text += std::string(name) + " = " + std::to_string(value) + unit;
  };
  add("SO_REUSEADDR", net::get_int_option(fd, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR"));
  add("SO_RCVBUF", net::get_int_option(fd, SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF"));
  add("SO_SNDBUF", net::get_int_option(fd, SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF"));
  add("SO_KEEPALIVE", net::get_int_option(fd, SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE"));
  add("TCP_NODELAY", net::get_int_option(fd, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY"));
  add("SO_RCVTIMEO", net::get_timeout_option(fd, SO_RCVTIMEO, "SO_RCVTIMEO").count(), " ms");
  return text;
}

// A byte echo that waits in a plain blocking recv(), so that SO_RCVTIMEO,
// set by the kernel, is what ends a silent connection (recv fails EAGAIN).
class OptionsEchoHandler : public net::RequestHandler {
 public:
  using RequestHandler::RequestHandler;

  void setup() override {
    net::log_line("connection from " + net::to_string(client_address) + ": " +
                  effective_options(request.get(), ", "));
  }

  void handle() override {
    char buffer[8192];
    for (;;) {
      const ssize_t received = ::recv(request.get(), buffer, sizeof buffer, 0);
      if (received == 0) return;  // EOF, or shut down by a stop request (stop.hpp)
      if (received > 0) {
        if (net::send_all(request.get(), {buffer, static_cast<std::size_t>(received)}) !=
            net::IoStatus::ok) {
          return;
        }
        continue;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        net::log_line("timed out: " + net::to_string(client_address) +
                      " sent nothing within SO_RCVTIMEO, closing");
        return;
      }
      net::throw_error("recv", net::to_string(client_address));  // e.g. a reset
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  net::Cli cli("server", "Echo server whose socket options are set before bind and printed.");
  Options o;
  cli.flag("--no-reuse-address", o.no_reuse_address, "do not set SO_REUSEADDR (on by default)");
  cli.flag("--nodelay", o.nodelay, "set TCP_NODELAY (no Nagle algorithm)");
  cli.flag("--keepalive", o.keepalive, "set SO_KEEPALIVE");
  cli.option("--rcvbuf", o.rcvbuf, "N", "ask for an N-byte receive buffer (SO_RCVBUF)", 1, 1 << 30);
  cli.option("--sndbuf", o.sndbuf, "N", "ask for an N-byte send buffer (SO_SNDBUF)", 1, 1 << 30);
  cli.option("--timeout", o.timeout_seconds, "S", "receive timeout on connections (SO_RCVTIMEO)",
             0.001, 86400);
  return net::run_main(cli, argc, argv, [&] {
    net::install_stop_handlers();
    const net::Endpoint address = net::resolve(cli.host, cli.port, SOCK_STREAM, true).front();

    // 1. The socket only: Python's TCPServer(..., bind_and_activate=False).
    net::BaseServer server(address, net::handler_class<OptionsEchoHandler>(), false);
    server.allow_reuse_address = false;  // server_bind() must not set it: step 2 does, by hand
    const int fd = server.fileno();

    // 2. Options, while the socket is not bound yet.
    // lab: set the options, before bind
    net::set_int_option(fd, SOL_SOCKET, SO_REUSEADDR, o.no_reuse_address ? 0 : 1, "SO_REUSEADDR");
    if (o.nodelay) net::set_int_option(fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
    if (o.keepalive) net::set_int_option(fd, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE");
    if (o.rcvbuf > 0) net::set_int_option(fd, SOL_SOCKET, SO_RCVBUF, o.rcvbuf, "SO_RCVBUF");
    if (o.sndbuf > 0) net::set_int_option(fd, SOL_SOCKET, SO_SNDBUF, o.sndbuf, "SO_SNDBUF");
    if (o.timeout_seconds > 0) {
      const auto ms = std::chrono::milliseconds(static_cast<long>(o.timeout_seconds * 1000));
      net::set_timeout_option(fd, SO_RCVTIMEO, ms, "SO_RCVTIMEO");
    }
    // lab: end

    // 3. Bind and listen: Python's server_bind(), server_activate().
    server.server_bind();
    server.server_activate();
    net::announce_listening(fd);
    std::printf("%s\n", effective_options(fd, "\n").c_str());
    std::fflush(stdout);

    server.serve_forever();
    return 0;
  });
}
