// 08_udp/server.cpp — datagrams: UDPServer and DatagramRequestHandler in C++.
//
// Teaches: with SOCK_DGRAM there is no connection, no listen() and no
// accept(). One socket receives every client's datagrams with recvfrom(),
// which also says who sent each one, and answers with sendto() to that
// address. A request is one datagram: (data, socket). Each arrives whole or
// not at all; none is resent if lost.
//
// Run:      ./server                   (UDPServer)
//           ./server --threading       (ThreadingUDPServer: a thread per datagram)
//           ./server --unix /tmp/udp.sock   (UnixDatagramServer)
// Observe:  ./client hello; an empty datagram comes back empty; one larger
//           than max_packet_size (8192) is dropped and logged, not cut.
// See also: client.cpp, README.md, ../common/threading_mixin.hpp.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <string>

#include "cli.hpp"
#include "error.hpp"
#include "fd.hpp"
#include "socket.hpp"
#include "stop.hpp"
#include "threading_mixin.hpp"

namespace {

struct Datagram {
  std::string packet;  // the bytes, all of them: a datagram arrives whole
  int socket;          // lent: the server's one socket, to answer on
};

// Python: DatagramRequestHandler. rfile is the packet, wfile collects the
// answer, and finish() sends it back to the client in one datagram.
class EchoDatagramHandler {
 public:
  EchoDatagramHandler(Datagram request, const net::Endpoint& client_address)
      : request_(std::move(request)), client_address_(client_address) {}

  void handle() { wfile_ = request_.packet; }  // echo: everything, even nothing

  // Sends the answer; false if the client's queue has no room for it now.
  // MSG_DONTWAIT: a UDP sendto() never waits for the receiver, but a Unix
  // datagram sendto() does (the queue it fills is the receiver's), so one
  // client that never reads would hold the server, or with --threading one
  // thread per reply. A reply that cannot go now is dropped, as a network
  // drops a datagram.
  bool finish() {
    // lab: send the answer with sendto
    if (::sendto(request_.socket, wfile_.data(), wfile_.size(), MSG_DONTWAIT,
                 client_address_.addr(), client_address_.length) != -1) {
      return true;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) return false;
    net::throw_error("sendto", net::to_string(client_address_));
    // lab: end
  }

 private:
  Datagram request_;
  net::Endpoint client_address_;
  std::string wfile_;
};

// Python: UDPServer (and UnixDatagramServer: the address family decides).
// Its shape is BaseServer's, minus listen/accept/close-the-request.
class UDPServer {
 public:
  using Request = Datagram;                             // what ThreadingMixIn hands to a thread
  static constexpr std::size_t max_packet_size = 8192;  // Python's value

  explicit UDPServer(const net::Endpoint& server_address)
      : socket_(net::open_socket(server_address.family(), SOCK_DGRAM)),
        unix_path_(server_address.family() == AF_UNIX ? net::to_string(server_address).substr(5)
                                                      : "") {
    net::bind_to(socket_.get(), server_address);  // server_bind(); no server_activate
  }
  virtual ~UDPServer() {
    if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
  }
  UDPServer(const UDPServer&) = delete;
  UDPServer& operator=(const UDPServer&) = delete;

  int fileno() const noexcept { return socket_.get(); }

  // Each datagram costs 2 system calls: recvfrom() and sendto(). No poll()
  // before recvfrom(): to stop, the stop thread sends us an empty datagram,
  // so the blocked recvfrom() returns and the loop sees the flag.
  void serve_forever() {
    const net::Endpoint self = net::reachable_endpoint(fileno());
    const net::OnStop wake([this, self] {
      [[maybe_unused]] ssize_t n = ::sendto(fileno(), "", 0, 0, self.addr(), self.length);
    });
    while (!net::stop_requested()) handle_request();
  }

  bool verbose = false;  // log every datagram (one more write() each)

  // Runs one request: handle, then finish (the reply); errors are logged.
  void handle_one(Datagram request, const net::Endpoint& client_address) {
    try {
      EchoDatagramHandler handler(std::move(request), client_address);
      handler.handle();
      if (!handler.finish()) reply_dropped(client_address);
    } catch (const std::exception& e) {
      net::log_line("error: request from " + net::to_string(client_address) + ": " + e.what());
    }
  }

 protected:
  virtual void process_request(Datagram request, const net::Endpoint& client_address) {
    handle_one(std::move(request), client_address);
  }

 private:
  // get_request(): one blocking recvfrom. MSG_TRUNC makes it return the
  // datagram's real length even when the buffer was smaller, so we can tell.
  void handle_request() {
    // lab: receive a datagram with recvfrom
    std::string packet(max_packet_size, '\0');
    net::Endpoint client_address;
    client_address.length = sizeof client_address.storage;
    const ssize_t n = ::recvfrom(fileno(), packet.data(), packet.size(), MSG_TRUNC,
                                 client_address.addr(), &client_address.length);
    if (net::stop_requested()) return;  // our own wake-up datagram, or the last one
    if (n == -1) {
      if (errno != EINTR) net::log_line(std::string("error: recvfrom: ") + std::strerror(errno));
      return;
    }
    if (client_address.length <= offsetof(sockaddr_un, sun_path)) {
      // A Unix datagram socket that never bound a path: nothing to answer to.
      net::log_line("error: datagram from an unbound socket: no address to answer; dropped");
      return;
    }
    const std::string from = net::to_string(client_address);
    if (static_cast<std::size_t>(n) > max_packet_size) {
      net::log_line("error: datagram from " + from + " has " + std::to_string(n) +
                    " bytes, more than max_packet_size " + std::to_string(max_packet_size) +
                    "; dropped");
      return;
    }
    packet.resize(static_cast<std::size_t>(n));  // 0 is a datagram too: an empty one
    if (verbose) net::log_line("datagram from " + from + ": " + std::to_string(n) + " bytes");
    process_request({std::move(packet), fileno()}, client_address);
    // lab: end
  }

  // Logs the first dropped reply at once, then at most one line a second
  // with a count: a client that never reads cannot flood the log either.
  void reply_dropped(const net::Endpoint& client_address) {
    const std::lock_guard lock(dropped_mutex_);
    ++dropped_;
    const auto now = std::chrono::steady_clock::now();
    if (dropped_logged_ != std::chrono::steady_clock::time_point{} &&
        now - dropped_logged_ < std::chrono::seconds(1)) {
      return;
    }
    net::log_line("error: reply to " + net::to_string(client_address) +
                  " dropped: its receive queue is full (" + std::to_string(dropped_) +
                  " dropped in the last second)");
    dropped_ = 0;
    dropped_logged_ = now;
  }

  net::UniqueFd socket_;
  std::string unix_path_;  // removed on close, as BaseServer does
  std::mutex dropped_mutex_;
  long dropped_ = 0;
  std::chrono::steady_clock::time_point dropped_logged_;
};

// Python: class ThreadingUDPServer(ThreadingMixIn, UDPServer): pass
using ThreadingUDPServer = net::ThreadingMixIn<UDPServer>;

}  // namespace

int main(int argc, char** argv) {
  net::Cli cli("server", "UDP echo server: each datagram comes back to its sender.");
  bool threading = false, verbose = false;
  std::string unix_path;
  cli.flag("--threading", threading, "a thread per datagram (ThreadingUDPServer)");
  cli.flag("--verbose", verbose, "log every datagram (one more system call each)");
  cli.option("--unix", unix_path, "PATH", "a Unix datagram socket instead of UDP");
  return net::run_main(cli, argc, argv, [&] {
    net::install_stop_handlers();
    const net::Endpoint address = unix_path.empty()
                                      ? net::resolve(cli.host, cli.port, SOCK_DGRAM, true).front()
                                      : net::unix_endpoint(unix_path);
    if (threading) {
      ThreadingUDPServer server(address);
      server.verbose = verbose;
      net::announce_listening(server.fileno());
      server.serve_forever();
    } else {
      UDPServer server(address);
      server.verbose = verbose;
      net::announce_listening(server.fileno());
      server.serve_forever();
    }
    return 0;
  });
}
