// 08_udp/client.cpp — a datagram client that expects loss: timeout and retry.
//
// Teaches: UDP promises nothing. A datagram or its answer may be lost, so a
// client waits a bounded time and sends again, and gives up after a few
// tries. connect() on a UDP socket sends nothing; it fixes the peer, so
// send()/recv() need no address, datagrams from anyone else are dropped, and
// an ICMP "port unreachable" comes back as ECONNREFUSED on the next recv().
//
// Run:      ./client hello world              ./client --timeout 0.5 --retries 2 hi
//           ./client --unix /tmp/udp.sock hi
// Observe:  one reply per MESSAGE; with no server: "error: recv ...:
//           Connection refused" (UDP port closed) or "... timed out".
// See also: server.cpp, README.md.

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli.hpp"
#include "error.hpp"
#include "io.hpp"
#include "socket.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// A Unix datagram client must bind a name of its own, or the server has
// no address to answer to. Removed again when the client ends.
struct UnixClientName {
  std::string path = "/tmp/udp-client-" + std::to_string(::getpid()) + ".sock";
  ~UnixClientName() { ::unlink(path.c_str()); }
};

// Sends `message` and waits up to `timeout` for the same bytes to come back,
// 1 + retries times. A reply that differs is a late answer to an earlier
// try: skipped.
std::string ask(int fd, const std::string& message, const std::string& server,
                std::chrono::milliseconds timeout, int retries) {
  std::vector<char> buffer(65536);
  for (int attempt = 0; attempt <= retries; ++attempt) {
    if (::send(fd, message.data(), message.size(), 0) == -1) net::throw_error("send", server);
    const auto deadline = Clock::now() + timeout;
    for (auto left = timeout; left.count() > 0;
         left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now())) {
      if (net::wait_readable(fd, left) != net::IoStatus::ok) break;  // this try timed out
      const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
      if (n == -1 && errno == EINTR) continue;
      if (n == -1) net::throw_error("recv", server);  // e.g. ECONNREFUSED (ICMP)
      if (std::string(buffer.data(), static_cast<std::size_t>(n)) == message) return message;
    }
  }
  throw std::runtime_error("recv " + server + ": timed out (" + std::to_string(retries + 1) +
                           " tries, " + std::to_string(timeout.count()) + " ms each)");
}

}  // namespace

int main(int argc, char** argv) {
  net::Cli cli("client", "Send each MESSAGE as one datagram and print the datagram that answers.");
  double timeout_seconds = 1;
  int retries = 3;
  std::string unix_path;
  std::vector<std::string> messages;
  cli.option("--timeout", timeout_seconds, "S", "wait S seconds for each answer (default 1)", 0.001,
             3600);
  cli.option("--retries", retries, "N", "send again N times before giving up (default 3)", 0, 100);
  cli.option("--unix", unix_path, "PATH", "a Unix datagram server instead of UDP");
  cli.rest("MESSAGE", messages, "one datagram each; with none, each line of standard input");
  return net::run_main(cli, argc, argv, [&] {
    const auto timeout = std::chrono::milliseconds(static_cast<long>(timeout_seconds * 1000));
    net::UniqueFd fd;
    UnixClientName own_name;
    if (unix_path.empty()) {
      fd = net::connect_to(cli.host, cli.port, SOCK_DGRAM);  // connect: no packet is sent
    } else {
      fd = net::open_socket(AF_UNIX, SOCK_DGRAM);
      ::unlink(own_name.path.c_str());
      net::bind_to(fd.get(), net::unix_endpoint(own_name.path));
      const net::Endpoint server = net::unix_endpoint(unix_path);
      if (::connect(fd.get(), server.addr(), server.length) == -1) {
        net::throw_error("connect", net::to_string(server));
      }
    }
    const std::string server = net::to_string(net::peer_endpoint(fd.get()));

    net::for_each_message(messages, [&](const std::string& message) {
      const std::string reply = ask(fd.get(), message, server, timeout, retries);
      std::fwrite(reply.data(), 1, reply.size(), stdout);
      std::fputc('\n', stdout);
      std::fflush(stdout);
    });
    return 0;
  });
}
