// 01_raw_socket_echo/server.cpp — an iterative echo server, raw calls in sight.
//
// Teaches: the server model of the notes, one call per step: socket, bind,
// listen, then accept / recv / send / close for one client after another.
// Every call is checked for -1 and reported with errno. While one client is
// served, the next waits in the listen backlog: this server is iterative.
// With --nonblocking each connection is made non-blocking (Python's
// setblocking(False)), and send() can return short counts; --sndbuf makes
// the send buffer small, so that they come at once.
//
// Run:      ./server                      (then ./client hello in another terminal)
// Observe:  "listening on 127.0.0.1:20000"; "connection from" and "closed ...
//           (N short sends)" per client; a second client connected meanwhile
//           is served only after the first one leaves.
// See also: client.cpp, README.md, ../02_sync_server (the same, wrapped).

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "address.hpp"
#include "cli.hpp"
#include "io.hpp"
#include "portable.hpp"
#include "socket.hpp"
#include "stop.hpp"

namespace {

constexpr int backlog = 5;  // the notes' listen(5)

void log_errno(const char* call, const std::string& where) {
  net::log_line(std::string("error: ") + call + " " + where + ": " + std::strerror(errno));
}

// send() may take only part of what we give it (README: "When send is
// short"), so we loop until every byte is out, and count the short counts.
// MSG_NOSIGNAL: a peer that has gone makes send() fail with EPIPE instead of
// raising SIGPIPE, which would kill the server. It is Linux's (and BSD's);
// net::nosignal_flag() is MSG_NOSIGNAL there, and elsewhere (macOS) 0 with
// SIGPIPE ignored for the whole process (../common/portable.hpp).
bool send_everything(int conn, const char* data, std::size_t size, const std::string& peer,
                     int& short_sends) {
  while (size > 0) {
    const ssize_t sent = ::send(conn, data, size, net::nosignal_flag());
    if (sent == -1) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {                  // non-blocking, no room:
        if (net::wait_writable(conn) == net::IoStatus::ok) continue;  // wait for room
        return false;                                                 // (or a stop)
      }
      if (!net::stop_requested()) log_errno("send", peer);  // a stop shows as EPIPE
      return false;
    }
    if (static_cast<std::size_t>(sent) < size) ++short_sends;
    data += sent;
    size -= static_cast<std::size_t>(sent);
  }
  return true;
}

// Echoes until the client closes its side (recv returns 0) or we are stopped;
// returns how many send() calls came back short.
int echo(int conn, const std::string& peer, std::vector<char>& buffer) {
  int short_sends = 0;
  for (;;) {
    // Blocks until bytes come. A stop request shuts conn down, and recv()
    // returns 0 as at EOF (see main and common/stop.hpp).
    const ssize_t received = ::recv(conn, buffer.data(), buffer.size(), 0);
    if (received == 0) return short_sends;  // EOF: Python's `if not msg: break`
    if (received == -1) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {                  // non-blocking, nothing yet:
        if (net::wait_readable(conn) == net::IoStatus::ok) continue;  // wait for bytes
        return short_sends;                                           // (or a stop)
      }
      if (!net::stop_requested()) log_errno("recv", peer);  // e.g. Connection reset by peer
      return short_sends;
    }
    if (!send_everything(conn, buffer.data(), static_cast<std::size_t>(received), peer,
                         short_sends)) {
      return short_sends;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  net::Cli cli("server", "Iterative echo server: every byte comes back, one client at a time.");
  bool nonblocking = false;
  int buffer_size = 8192;  // the notes' recv(8192)
  int sndbuf = 0;          // 0: the kernel's default, which grows as needed
  cli.flag("--nonblocking", nonblocking, "make each connection non-blocking (setblocking(False))");
  cli.option("--buffer", buffer_size, "N", "bytes per recv(), so per send() (default 8192)", 1,
             1 << 24);
  cli.option("--sndbuf", sndbuf, "N", "ask for an N-byte send buffer (SO_SNDBUF) per connection", 1,
             1 << 30);
  return net::run_main(cli, argc, argv, [&] {
    std::vector<char> buffer(static_cast<std::size_t>(buffer_size));
    net::install_stop_handlers();
    const net::Endpoint address = net::resolve(cli.host, cli.port, SOCK_STREAM, true).front();
    const std::string where = net::to_string(address);

    const int listener = ::socket(address.family(), SOCK_STREAM, 0);
    if (listener == -1) {
      log_errno("socket", where);
      return 1;
    }

    // Restart on the same port at once, even while connections of the last
    // run sit in TIME_WAIT (README: "Restarting: TIME_WAIT"; chapter 07).
    const int on = 1;
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);

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

    // lab: write the accept loop
    while (net::wait_readable(listener) == net::IoStatus::ok) {
      net::Endpoint client;  // accept() fills in who connected
      client.length = sizeof client.storage;
      const int conn = ::accept(listener, client.addr(), &client.length);
      if (conn == -1) {
        if (errno != EINTR && errno != ECONNABORTED) log_errno("accept", where);
        continue;  // one failed accept never ends the server
      }
      if (nonblocking) ::fcntl(conn, F_SETFL, ::fcntl(conn, F_GETFL) | O_NONBLOCK);
      if (sndbuf > 0) ::setsockopt(conn, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
      const std::string peer = net::to_string(client);
      net::log_line("connection from " + peer);
      int short_sends = 0;
      {
        // While we serve it, SIGINT/SIGTERM shut conn down: a recv() or a
        // send() blocked on it returns at once. Gone before close(conn).
        const net::ShutDownOnStop tracked(conn);
        short_sends = echo(conn, peer, buffer);
      }
      ::close(conn);
      net::log_line("closed " + peer + " (" + std::to_string(short_sends) + " short sends)");
    }
    // lab: end

    ::close(listener);
    return 0;
  });
}
