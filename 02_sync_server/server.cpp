// 02_sync_server/server.cpp — socketserver's shape: a server and a handler.
//
// Teaches: the four steps of the notes. (1) Write a handler class whose
// handle() serves one connection; (2) make a server with an address and the
// handler class; (3) call serve_forever() or handle_request(); (4) close the
// server (here: its destructor, the C++ for Python's `with`). The server loop
// itself is common/base_server.hpp, read it next to this file.
//
// Run:      ./server                          echo until the client closes
//           ./server --handler upper          answer one message in upper case
//           ./server --once --timeout 1       one request or give up after 1 s
//           ./server --unix /tmp/echo.sock    the same over a Unix socket
// Observe:  the client's reply; "connection from ..." on stderr; a client that
//           resets mid-request is logged by handle_error and the next is served.
// See also: client.cpp, README.md, ../common/base_server.hpp.

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <string>

#include "base_server.hpp"
#include "cli.hpp"
#include "io.hpp"
#include "socket.hpp"
#include "stop.hpp"

namespace {

// Python: class EchoHandler(BaseRequestHandler) -- echo until the client closes.
class EchoHandler : public net::RequestHandler {
 public:
  using RequestHandler::RequestHandler;

  void handle() override {
    // lab: write the echo handler's loop
    net::log_line("connection from " + net::to_string(client_address));
    char buffer[8192];
    for (;;) {
      const net::RecvResult got = net::recv_some(request.get(), buffer);
      if (got.status == net::IoStatus::eof || got.status == net::IoStatus::stopped) return;
      if (got.status != net::IoStatus::ok) fail(got.status);
      const net::IoStatus sent = net::send_all(request.get(), {buffer, got.bytes});
      if (sent == net::IoStatus::stopped) return;
      if (sent != net::IoStatus::ok) fail(sent);
    }
    // lab: end
  }

 private:
  // A reset is an expected event, returned as a value by common/. This
  // handler chooses to raise it, so the server's handle_error() reports it,
  // as Python's does with ConnectionResetError.
  [[noreturn]] static void fail(net::IoStatus status) {
    throw std::runtime_error(net::to_string(status));
  }
};

// Python: MyTCPHandler of the notes -- one message, answered in upper case.
// The notes take "one recv()" as "one message"; TCP does not promise that,
// so we read up to the first newline (or the client's EOF), 1024 bytes at most.
class UpperHandler : public net::RequestHandler {
 public:
  using RequestHandler::RequestHandler;

  void handle() override {
    net::log_line("connection from " + net::to_string(client_address));
    std::string message;
    char buffer[1024];
    while (message.find('\n') == std::string::npos && message.size() < sizeof buffer) {
      const net::RecvResult got =
          net::recv_some(request.get(), {buffer, sizeof buffer - message.size()});
      if (got.status == net::IoStatus::eof || got.status == net::IoStatus::stopped) break;
      if (got.status != net::IoStatus::ok) throw std::runtime_error(net::to_string(got.status));
      message.append(buffer, got.bytes);
    }
    message = message.substr(0, message.find('\n'));
    // Python's .strip(): drop surrounding white space, then .upper().
    const auto first = message.find_first_not_of(" \t\r\n");
    message = first == std::string::npos
                  ? ""
                  : message.substr(first, message.find_last_not_of(" \t\r\n") + 1 - first);
    std::transform(message.begin(), message.end(), message.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    net::log_line(net::to_string(client_address) + " wrote " + std::to_string(message.size()) +
                  " bytes");
    net::send_all(request.get(), message);  // then finish(); the connection closes
  }
};

// The server class, with one hook overridden: what to do when handle_request
// waited `timeout` and nobody came.
class SyncServer : public net::BaseServer {
 public:
  using BaseServer::BaseServer;

 protected:
  void handle_timeout() override {
    net::log_line("timed out: no client within the timeout (handle_timeout)");
  }
};

}  // namespace

int main(int argc, char** argv) {
  net::Cli cli("server",
               "socketserver's shape in C++: a synchronous server and a request handler.");
  std::string handler_name = "echo", unix_path;
  bool once = false;
  double timeout_seconds = 0;
  cli.option("--handler", handler_name, "NAME", "echo (until EOF, default) or upper (one message)");
  cli.flag("--once", once, "serve one request with handle_request(), then exit");
  cli.option("--timeout", timeout_seconds, "S", "with --once: give up after S seconds", 0.001,
             86400);
  cli.option("--unix", unix_path, "PATH", "listen on a Unix stream socket instead of TCP");
  return net::run_main(cli, argc, argv, [&] {
    if (handler_name != "echo" && handler_name != "upper") {
      throw net::UsageError("--handler must be echo or upper, not '" + handler_name + "'");
    }
    if (timeout_seconds > 0 && !once) throw net::UsageError("--timeout goes with --once");
    net::install_stop_handlers();

    // Step 2: the server, given an address and the handler *class*.
    const net::Endpoint address = unix_path.empty()
                                      ? net::resolve(cli.host, cli.port, SOCK_STREAM, true).front()
                                      : net::unix_endpoint(unix_path);
    SyncServer server(address, handler_name == "echo" ? net::handler_class<EchoHandler>()
                                                      : net::handler_class<UpperHandler>());
    net::announce_listening(server.fileno());

    // Step 3: one request, or requests until SIGINT/SIGTERM.
    if (once) {
      if (timeout_seconds > 0)
        server.timeout = std::chrono::milliseconds(static_cast<long>(timeout_seconds * 1000));
      server.handle_request();
    } else {
      server.serve_forever();
    }
    return 0;  // Step 4: ~BaseServer() is server_close()
  });
}
