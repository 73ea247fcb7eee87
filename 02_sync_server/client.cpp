// 02_sync_server/client.cpp — one connection per message, ended by a half-close.
//
// Teaches: how a client tells the server "that was all": shutdown(SHUT_WR)
// sends EOF while our side can still read. The server's handler sees recv()
// return 0, answers, and closes; we read until our own EOF. No length, no
// delimiter needed, and it works for both handlers (echo and upper).
//
// Run:      ./client hello world          (against ./server or --handler upper)
//           ./client --unix /tmp/echo.sock hello
// Observe:  one reply per MESSAGE, each from a new connection.
// See also: server.cpp, README.md.

#include <sys/socket.h>

#include <cstdio>
#include <string>
#include <vector>

#include "cli.hpp"
#include "error.hpp"
#include "io.hpp"
#include "socket.hpp"

int main(int argc, char** argv) {
  net::Cli cli("client", "Send each MESSAGE on its own connection and print the reply.");
  std::string unix_path;
  std::vector<std::string> messages;
  cli.option("--unix", unix_path, "PATH", "connect to a Unix stream socket instead of TCP");
  cli.rest("MESSAGE", messages, "sent as is; with none, each line of standard input");
  return net::run_main(cli, argc, argv, [&] {
    net::for_each_message(messages, [&](const std::string& message) {
      // RAII from here on: the fd is closed when `conn` goes out of scope.
      const net::UniqueFd conn = unix_path.empty() ? net::connect_to(cli.host, cli.port)
                                                   : net::connect_to(net::unix_endpoint(unix_path));
      const std::string server = net::to_string(net::peer_endpoint(conn.get()));
      // Send everything, then half-close. (A reply bigger than the socket
      // buffers would need reading while sending: see chapter 01's client.)
      if (net::send_all(conn.get(), message) != net::IoStatus::ok)
        net::throw_error("send", server, ECONNRESET);
      if (::shutdown(conn.get(), SHUT_WR) == -1) net::throw_error("shutdown", server);

      std::string reply;
      char buffer[8192];
      for (;;) {
        const net::RecvResult got = net::recv_some(conn.get(), buffer);
        if (got.status == net::IoStatus::eof) break;
        if (got.status != net::IoStatus::ok) net::throw_error("recv", server, ECONNRESET);  // reset
        reply.append(buffer, got.bytes);
      }
      std::fwrite(reply.data(), 1, reply.size(), stdout);
      std::fputc('\n', stdout);
      std::fflush(stdout);
    });
    return 0;
  });
}
