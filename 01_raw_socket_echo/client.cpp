// 01_raw_socket_echo/client.cpp — the client model: socket, connect, send/recv, close.
//
// Teaches: a client is four steps. Each MESSAGE is sent and the same number
// of bytes is read back, because an echo has no framing: TCP carries bytes,
// not messages, and one recv() may return any part of the reply.
//
// Run:      ./client hello world          (a server must be running)
//           printf 'one\ntwo\n' | ./client   (no MESSAGE: one per stdin line)
// Observe:  each reply on its own line; with no server,
//           "error: connect 127.0.0.1:20000: Connection refused", exit 1.
// See also: server.cpp, README.md.

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "address.hpp"
#include "cli.hpp"
#include "error.hpp"
#include "io.hpp"

namespace {

// Sending a whole large message before reading any of the echo can deadlock:
// once the server's send buffer and ours are full, it waits for us to read
// and we wait for it to read. So we send a piece and read its echo back.
constexpr std::size_t piece_size = 64 * 1024;

// Tries every address the host resolves to ("localhost" may be ::1 and
// 127.0.0.1); returns the connected fd or throws with the last failure.
int connect_any(const std::string& host, std::uint16_t port) {
  const std::vector<net::Endpoint> addresses = net::resolve(host, port, SOCK_STREAM);
  for (std::size_t i = 0;; ++i) {
    const int fd = ::socket(addresses[i].family(), SOCK_STREAM, 0);
    if (fd == -1) net::throw_error("socket", "");
    if (::connect(fd, addresses[i].addr(), addresses[i].length) == 0) return fd;
    const int err = errno;
    ::close(fd);
    if (i + 1 == addresses.size()) net::throw_error("connect", net::to_string(addresses[i]), err);
  }
}

std::string exchange(int fd, const std::string& message, const std::string& server) {
  std::string reply;
  for (std::size_t offset = 0; offset < message.size(); offset += piece_size) {
    const std::size_t piece = std::min(piece_size, message.size() - offset);
    if (net::send_all(fd, {message.data() + offset, piece}) != net::IoStatus::ok) {
      net::throw_error("send", server, ECONNRESET);
    }
    // Read until the echo of this piece is complete: recv may return less.
    for (std::size_t got = 0; got < piece;) {
      char buffer[8192];
      const ssize_t n = ::recv(fd, buffer, std::min(sizeof buffer, piece - got), 0);
      if (n == -1 && errno == EINTR) continue;
      if (n == -1) net::throw_error("recv", server);
      if (n == 0) throw std::runtime_error("recv " + server + ": the server closed the connection");
      reply.append(buffer, static_cast<std::size_t>(n));
      got += static_cast<std::size_t>(n);
    }
  }
  return reply;
}

}  // namespace

int main(int argc, char** argv) {
  net::Cli cli("client", "Send each MESSAGE to the echo server and print what comes back.");
  std::vector<std::string> messages;
  cli.rest("MESSAGE", messages, "sent as is; with none, each line of standard input");
  return net::run_main(cli, argc, argv, [&] {
    const int fd = connect_any(cli.host, cli.port);
    const std::string server = net::to_string(net::peer_endpoint(fd));

    net::for_each_message(messages, [&](const std::string& message) {
      const std::string reply = exchange(fd, message, server);
      std::fwrite(reply.data(), 1, reply.size(), stdout);
      std::fputc('\n', stdout);
      std::fflush(stdout);
    });

    ::close(fd);  // the client model's last step (on an exception, exit closes it)
    return 0;
  });
}
