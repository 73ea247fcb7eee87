// tests/loadgen.cpp — the load generator behind `make bench`.
//
// Drives an echo server of this tutorial over loopback and prints one CSV
// line of figures. epoll over non-blocking sockets, one thread by default:
// about 1.5 us of its own CPU per request; the rest of its cost (~11 us on
// the bench machine) is the kernel's send, recv and epoll_wait, which a
// client of any design pays.
//
//   loadgen --port P --mode rr      --concurrency 16 --size 64 --duration 2
//   loadgen --port P --mode connect --concurrency 16 --size 64 --duration 2
//   loadgen --port P --mode bulk    --duration 2
//   loadgen --port P --mode udp     --concurrency 16 --size 64 --duration 2
//   (--threads T splits the connections over T threads, for bigger machines)
//
// rr       C connections, each sends an S-byte line (S-1 bytes + "\n") and
//          waits for the echo before sending the next: requests/s and
//          latency p50/p99/max.
// connect  the same, with a new connection for every request: connections/s.
// bulk     one connection streams 1 KiB lines both ways as fast as the server
//          echoes them: MB/s echoed.
// udp      C connected UDP sockets, one S-byte datagram each in flight.
//
// Every run ends as a polite client ends: shutdown(SHUT_WR), read the
// echoes still on their way, close after the server closes. So the server
// logs no reset at the end of a run, and its handler ends as it would in use.
//
// Output (stdout): mode,concurrency,size,seconds,requests,per_second,
//                  p50_us,p99_us,max_us,mb_per_second,errors
// Loopback only: --host must be a loopback address. A server that is not
// there is "error: connect 127.0.0.1:P: Connection refused", exit 1.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "address.hpp"
#include "cli.hpp"
#include "error.hpp"
#include "fd.hpp"
#include "socket.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Config {
  std::string mode = "rr";
  int concurrency = 1, size = 64, threads = 1;
  double duration = 2;
};

struct Slot {
  net::UniqueFd fd;
  std::size_t sent = 0, received = 0;
  Clock::time_point started;
  bool connecting = false;
  bool want_out = false;  // EPOLLOUT registered: only while a send is pending
};

struct Totals {
  double seconds = 0;  // of measurement, setup excluded
  long requests = 0, errors = 0;
  double bytes = 0;
  std::vector<std::uint32_t> latencies_us;
};

bool is_loopback(const net::Endpoint& endpoint) {
  if (endpoint.family() == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&endpoint.storage);
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&endpoint.storage);
  return endpoint.family() == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
}

void set_nonblocking(int fd) {
  if (::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) == -1) net::throw_error("fcntl", "");
}

// Ends a connection as a well-behaved client does: no more requests
// (shutdown SHUT_WR), then read whatever the server still echoes until it
// closes its side. Closing with echoes still unread would make the kernel
// answer with a reset, and the server would log "Connection reset by peer"
// for a client that did nothing wrong (and the bench would measure that).
void finish(int fd) {
  if (::shutdown(fd, SHUT_WR) == -1) return;  // already reset or not connected
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  std::vector<char> buffer(1 << 16);
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) throw std::runtime_error("the server did not close within 10 s of the end");
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n == 0 || (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return;
  }
}

class Epoll {
 public:
  Epoll() : fd_(::epoll_create1(EPOLL_CLOEXEC)) {
    if (!fd_) net::throw_error("epoll_create1", "");
  }
  void watch(int fd, std::uint32_t events, std::size_t slot, bool modify) {
    epoll_event event{};
    event.events = events;
    event.data.u64 = slot;
    if (::epoll_ctl(fd_.get(), modify ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &event) == -1) {
      net::throw_error("epoll_ctl", "");
    }
  }
  int wait(epoll_event* events, int max, int ms) {
    const int n = ::epoll_wait(fd_.get(), events, max, ms);
    return n == -1 && errno == EINTR ? 0 : n;
  }

 private:
  net::UniqueFd fd_;
};

// One request/response engine for rr, connect and udp.
class Driver {
 public:
  Driver(const net::Endpoint& target, const Config& config)
      : target_(target), config_(config), request_(static_cast<std::size_t>(config.size), 'x') {
    request_.back() = '\n';
    buffer_.resize(std::max<std::size_t>(request_.size(), 65536));
  }

  Totals run() {
    const bool udp = config_.mode == "udp";
    slots_.resize(static_cast<std::size_t>(config_.concurrency));
    for (std::size_t i = 0; i < slots_.size(); ++i) open(i, udp, /*first=*/true);
    const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(config_.duration));
    for (std::size_t i = 0; i < slots_.size(); ++i) start(i);  // the clock starts now
    const auto measured_from = Clock::now();
    epoll_event events[256];
    while (Clock::now() < end) {
      const int n = epoll_.wait(events, 256, 100);
      for (int i = 0; i < n; ++i) step(events[i].data.u64, events[i].events, udp);
      if (udp) resend_lost();
    }
    totals_.seconds = std::chrono::duration<double>(Clock::now() - measured_from).count();
    if (!udp) {
      for (Slot& slot : slots_) {
        if (slot.fd && !slot.connecting) finish(slot.fd.get());
      }
    }
    return std::move(totals_);
  }

 private:
  void open(std::size_t i, bool udp, bool first) {
    Slot& slot = slots_[i];
    slot = Slot{};  // closes the previous connection, if any
    slot.fd = net::open_socket(target_.family(), udp ? SOCK_DGRAM : SOCK_STREAM);
    const int fd = slot.fd.get();
    if (!udp) net::set_int_option(fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
    if (first) {
      // The first connection of each slot is made before the clock starts,
      // one at a time, and proven served by one request: a burst of
      // connects would overflow a small listen backlog (Python's is 5),
      // and the kernel's retry a second later would distort every figure.
      if (::connect(fd, target_.addr(), target_.length) == -1) {
        net::throw_error("connect", net::to_string(target_));
      }
      warm_up(fd, i);
      set_nonblocking(fd);
      epoll_.watch(fd, EPOLLIN, i, false);
      return;
    }
    set_nonblocking(fd);
    slot.started = Clock::now();
    if (::connect(fd, target_.addr(), target_.length) == -1 && errno != EINPROGRESS) {
      ++totals_.errors;
    }
    slot.connecting = true;
    slot.want_out = true;  // writable = connected
    epoll_.watch(fd, EPOLLOUT | EPOLLIN, i, false);
  }

  // Level-triggered EPOLLOUT would report an idle socket as ready on every
  // epoll_wait, and the loop would spin; so it is on only while needed.
  void want_out(std::size_t i, bool on) {
    Slot& slot = slots_[i];
    if (slot.want_out == on) return;
    slot.want_out = on;
    epoll_.watch(slot.fd.get(), on ? (EPOLLIN | EPOLLOUT) : EPOLLIN, i, true);
  }

  // One blocking request, answered within 2 s, or the server cannot serve
  // this many connections at once (a pool smaller than the concurrency).
  void warm_up(int fd, std::size_t i) {
    const timeval two_seconds{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &two_seconds, sizeof two_seconds);
    if (::send(fd, request_.data(), request_.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request_.size())) {
      net::throw_error("send", net::to_string(target_));
    }
    for (std::size_t got = 0; got < request_.size() && config_.mode != "udp";) {
      const ssize_t n = ::recv(fd, buffer_.data(), buffer_.size(), 0);
      if (n <= 0) {
        throw std::runtime_error("connection " + std::to_string(i + 1) + " to " +
                                 net::to_string(target_) + " was not served within 2 s");
      }
      got += static_cast<std::size_t>(n);
    }
    if (config_.mode == "udp" && ::recv(fd, buffer_.data(), buffer_.size(), 0) < 0) {
      throw std::runtime_error("no answer from " + net::to_string(target_) + " within 2 s");
    }
  }

  void start(std::size_t i) {
    Slot& slot = slots_[i];
    slot.sent = slot.received = 0;
    slot.started = Clock::now();
    send_some(i);
  }

  void send_some(std::size_t i) {
    Slot& slot = slots_[i];
    while (slot.sent < request_.size()) {
      const ssize_t n = ::send(slot.fd.get(), request_.data() + slot.sent,
                               request_.size() - slot.sent, MSG_NOSIGNAL);
      if (n == -1) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) return fail(i);
        return want_out(i, true);  // the rest when the socket has room
      }
      slot.sent += static_cast<std::size_t>(n);
    }
    want_out(i, false);
  }

  void step(std::size_t i, std::uint32_t events, bool udp) {
    Slot& slot = slots_[i];
    if (!slot.fd) return;
    if (slot.connecting) {
      if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
      slot.connecting = false;
      if (net::get_int_option(slot.fd.get(), SOL_SOCKET, SO_ERROR, "SO_ERROR") != 0) return fail(i);
      const auto connect_started = slot.started;
      start(i);
      slot.started = connect_started;  // connections/s counts the connect too
      return;
    }
    if (events & EPOLLOUT) send_some(i);
    if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) == 0) return;
    for (;;) {
      const ssize_t n = ::recv(slot.fd.get(), buffer_.data(), buffer_.size(), 0);
      if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n <= 0) return fail(i);
      slot.received += static_cast<std::size_t>(n);
      if (udp || slot.received >= request_.size()) return complete(i, udp);
    }
  }

  void complete(std::size_t i, bool udp) {
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - slots_[i].started);
    totals_.latencies_us.push_back(static_cast<std::uint32_t>(us.count()));
    ++totals_.requests;
    totals_.bytes += static_cast<double>(request_.size());
    if (config_.mode == "connect") {
      open(i, udp, false);  // closes the old connection (the Slot is replaced)
    } else {
      start(i);
    }
  }

  void fail(std::size_t i) {
    ++totals_.errors;
    if (totals_.errors > 1000) throw std::runtime_error("more than 1000 failed requests");
    open(i, config_.mode == "udp", false);
  }

  // A datagram or its echo may be lost: after 200 ms, send it again.
  void resend_lost() {
    const auto now = Clock::now();
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      if (now - slots_[i].started > std::chrono::milliseconds(200)) {
        ++totals_.errors;
        start(i);
      }
    }
  }

  net::Endpoint target_;
  Config config_;
  std::string request_;
  std::vector<char> buffer_;
  std::vector<Slot> slots_;
  Epoll epoll_;
  Totals totals_;
};

// bulk: one connection, 1 KiB lines out as fast as the echo comes back.
Totals run_bulk(const net::Endpoint& target, const Config& config) {
  net::UniqueFd fd = net::connect_to(target);
  set_nonblocking(fd.get());
  std::string chunk;
  for (int i = 0; i < 256; ++i) chunk += std::string(1023, 'b') + "\n";
  std::vector<char> buffer(1 << 18);
  Epoll epoll;
  epoll.watch(fd.get(), EPOLLIN | EPOLLOUT, 0, false);
  Totals totals;
  std::size_t offset = 0;
  double in_flight = 0;
  bool want_out = true;
  const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(config.duration));
  epoll_event events[4];
  const auto measured_from = Clock::now();
  while (Clock::now() < end) {
    if (epoll.wait(events, 4, 100) <= 0) continue;
    // Keep at most 64 MiB unanswered: enough to fill every buffer on the way.
    while (in_flight < 64 << 20) {
      const ssize_t n =
          ::send(fd.get(), chunk.data() + offset, chunk.size() - offset, MSG_NOSIGNAL);
      if (n == -1) break;
      in_flight += static_cast<double>(n);
      offset = (offset + static_cast<std::size_t>(n)) % chunk.size();
    }
    for (;;) {
      const ssize_t n = ::recv(fd.get(), buffer.data(), buffer.size(), 0);
      if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n <= 0) throw std::runtime_error("bulk: the server closed the connection");
      totals.bytes += static_cast<double>(n);
      in_flight -= static_cast<double>(n);
    }
    // With 64 MiB unanswered, wait for echoes only (no EPOLLOUT spinning).
    if (const bool room = in_flight < 64 << 20; room != want_out) {
      want_out = room;
      epoll.watch(fd.get(), room ? (EPOLLIN | EPOLLOUT) : EPOLLIN, 0, true);
    }
  }
  totals.seconds = std::chrono::duration<double>(Clock::now() - measured_from).count();
  finish(fd.get());  // up to 64 MiB still on its way back: read it, then close
  return totals;
}

// rr, connect, udp with the connections split over `threads` threads, each
// with its own epoll (for machines with cores to spare: on 2 cores one
// thread leaves the other core to the server).
Totals run_threads(const net::Endpoint& target, const Config& config) {
  const int threads = std::min(config.threads, config.concurrency);
  std::vector<Totals> parts(static_cast<std::size_t>(threads));
  std::vector<std::exception_ptr> errors(parts.size());
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    Config part = config;
    part.concurrency = config.concurrency / threads + (t < config.concurrency % threads ? 1 : 0);
    pool.emplace_back([&, part, t] {
      try {
        parts[static_cast<std::size_t>(t)] = Driver(target, part).run();
      } catch (...) {
        errors[static_cast<std::size_t>(t)] = std::current_exception();
      }
    });
  }
  for (std::thread& thread : pool) thread.join();
  for (const std::exception_ptr& error : errors) {
    if (error) std::rethrow_exception(error);
  }
  Totals sum;
  for (Totals& part : parts) {
    sum.seconds = std::max(sum.seconds, part.seconds);
    sum.requests += part.requests;
    sum.errors += part.errors;
    sum.bytes += part.bytes;
    sum.latencies_us.insert(sum.latencies_us.end(), part.latencies_us.begin(),
                            part.latencies_us.end());
  }
  return sum;
}

std::uint32_t percentile(std::vector<std::uint32_t>& values, double p) {
  if (values.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + static_cast<long>(k), values.end());
  return values[k];
}

}  // namespace

int main(int argc, char** argv) {
  net::Cli cli("loadgen", "Load an echo server on loopback; print one CSV line of figures.");
  Config config;
  cli.option("--mode", config.mode, "MODE", "rr, connect, bulk or udp (default rr)");
  cli.option("--concurrency", config.concurrency, "C", "connections at once (default 1)", 1, 1024);
  cli.option("--size", config.size, "S", "bytes per request, newline included (default 64)", 2,
             65536);
  cli.option("--duration", config.duration, "D", "seconds to run (default 2)", 0.1, 60);
  cli.option("--threads", config.threads, "T",
             "client threads, each with its own epoll (default 1)", 1, 64);
  return net::run_main(cli, argc, argv, [&] {
    const std::vector<std::string> modes = {"rr", "connect", "bulk", "udp"};
    if (std::find(modes.begin(), modes.end(), config.mode) == modes.end()) {
      throw net::UsageError("--mode must be rr, connect, bulk or udp");
    }
    const int type = config.mode == "udp" ? SOCK_DGRAM : SOCK_STREAM;
    const net::Endpoint target = net::resolve(cli.host, cli.port, type).front();
    if (!is_loopback(target)) throw net::UsageError("loopback addresses only, not " + cli.host);

    Totals totals = config.mode == "bulk" ? run_bulk(target, config) : run_threads(target, config);
    const double seconds = totals.seconds;
    std::printf("%s,%d,%d,%.3f,%ld,%.0f,%u,%u,%u,%.1f,%ld\n", config.mode.c_str(),
                config.concurrency, config.size, seconds, totals.requests,
                static_cast<double>(totals.requests) / seconds,
                percentile(totals.latencies_us, 0.50), percentile(totals.latencies_us, 0.99),
                totals.latencies_us.empty()
                    ? 0u
                    : *std::max_element(totals.latencies_us.begin(), totals.latencies_us.end()),
                totals.bytes / seconds / 1e6, totals.errors);
    return 0;
  });
}
