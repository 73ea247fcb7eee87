// 01_raw_socket_echo/server.cpp — an iterative echo server, raw calls in sight.
//
// Teaches: the server model of the notes, one call per step: socket, bind,
// listen, then accept / recv / send / close for one client after another.
// Every call is checked for -1 and reported with errno. While one client is
// served, the next waits in the listen backlog: this server is iterative.
//
// Run:      ./server                      (then ./client hello in another terminal)
// Observe:  "listening on 127.0.0.1:20000"; one "connection from" line per
//           client; a second client connected meanwhile is served only after
//           the first one leaves.
// See also: client.cpp, README.md, ../02_sync_server (the same, wrapped).

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "address.hpp"
#include "cli.hpp"
#include "io.hpp"
#include "socket.hpp"
#include "stop.hpp"

namespace {

constexpr int backlog = 5;                 // the notes' listen(5)
constexpr std::size_t buffer_size = 8192;  // the notes' recv(8192)

void log_errno(const char* call, const std::string& where) {
  net::log_line(std::string("error: ") + call + " " + where + ": " + std::strerror(errno));
}

// send() may take only part of what we give it (a partial write), so we loop
// until every byte is out. MSG_NOSIGNAL: a peer that has gone makes send()
// fail with EPIPE instead of raising SIGPIPE, which would kill the server.
bool send_everything(int conn, const char* data, std::size_t size, const std::string& peer) {
  while (size > 0) {
    const ssize_t sent = ::send(conn, data, size, MSG_NOSIGNAL);
    if (sent == -1) {
      if (errno == EINTR && !net::stop_requested()) continue;  // a signal, not ours
      if (errno != EINTR) log_errno("send", peer);
      return false;
    }
    data += sent;
    size -= static_cast<std::size_t>(sent);
  }
  return true;
}

// Echoes until the client closes its side (recv returns 0) or we are stopped.
void echo(int conn, const std::string& peer) {
  char buffer[buffer_size];
  for (;;) {
    // Wait for bytes or for SIGINT/SIGTERM (see common/stop.hpp).
    if (net::wait_readable(conn) != net::IoStatus::ok) return;
    const ssize_t received = ::recv(conn, buffer, sizeof buffer, 0);
    if (received == 0) return;  // EOF: Python's `if not msg: break`
    if (received == -1) {
      if (errno == EINTR) continue;
      log_errno("recv", peer);  // e.g. Connection reset by peer
      return;
    }
    if (!send_everything(conn, buffer, static_cast<std::size_t>(received), peer)) return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  net::Cli cli("server", "Iterative echo server: every byte comes back, one client at a time.");
  return net::run_main(cli, argc, argv, [&] {
    net::install_stop_handlers();
    const net::Endpoint address = net::resolve(cli.host, cli.port, SOCK_STREAM, true).front();
    const std::string where = net::to_string(address);

    const int listener = ::socket(address.family(), SOCK_STREAM, 0);
    if (listener == -1) {
      log_errno("socket", where);
      return 1;
    }

    if (::bind(listener, address.addr(), address.length) == -1) {
      log_errno("bind", where);
      ::close(listener);  // by hand, on every path: chapter 02 lets RAII do it
      return 1;
    }

    if (::listen(listener, backlog) == -1) {
      log_errno("listen", where);
      ::close(listener);
      return 1;
    }
    net::announce_listening(listener);

    while (net::wait_readable(listener) == net::IoStatus::ok) {
      net::Endpoint client;  // accept() fills in who connected
      client.length = sizeof client.storage;
      const int conn = ::accept(listener, client.addr(), &client.length);
      if (conn == -1) {
        if (errno != EINTR && errno != ECONNABORTED) log_errno("accept", where);
        continue;  // one failed accept never ends the server
      }
      const std::string peer = net::to_string(client);
      net::log_line("connection from " + peer);
      echo(conn, peer);
      ::close(conn);
      net::log_line("closed " + peer);
    }

    ::close(listener);
    return 0;
  });
}
