// common/address.hpp — socket addresses: resolve, parse, print.
//
// Teaches: one value type, Endpoint, for every address family the chapters
// use (AF_INET, AF_INET6, AF_UNIX), printed the same way everywhere:
//
//   127.0.0.1:20000      [::1]:20000      unix:/tmp/echo.sock
//
// resolve() asks getaddrinfo (names, IPv4 and IPv6 text); the addrinfo list it
// gets back is owned by a unique_ptr, so it is freed on every path.
//
// See also: tests/test_address.cpp.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace net {

struct Endpoint {
  sockaddr_storage storage{};
  socklen_t length = 0;

  int family() const noexcept { return storage.ss_family; }
  const sockaddr* addr() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* addr() noexcept { return reinterpret_cast<sockaddr*>(&storage); }
};

// "127.0.0.1:20000", "[::1]:20000", "unix:/path" ("unix:" alone when unnamed).
std::string to_string(const Endpoint& endpoint);

// Every address getaddrinfo finds for host/port, in its order of preference.
// `socktype` is SOCK_STREAM or SOCK_DGRAM; `passive` asks for addresses to
// bind to. Throws std::system_error "getaddrinfo HOST: REASON".
std::vector<Endpoint> resolve(const std::string& host, std::uint16_t port, int socktype,
                              bool passive = false);

// An AF_UNIX address. Throws std::system_error if the path is empty or longer
// than sun_path can hold (108 bytes on Linux, including the final NUL).
Endpoint unix_endpoint(const std::string& path);

// The inverse of to_string for numeric addresses: "127.0.0.1:80",
// "[::1]:80", "unix:/p". Throws std::invalid_argument on anything else.
Endpoint parse_endpoint(std::string_view text);

// A port number 0..65535 from decimal text; throws std::invalid_argument.
std::uint16_t parse_port(std::string_view text);

// getsockname() / getpeername(); throw std::system_error on failure.
Endpoint local_endpoint(int fd);
Endpoint peer_endpoint(int fd);

// local_endpoint(fd) as a peer can reach it: a wildcard host (0.0.0.0, ::)
// is no address to connect or send to, so loopback stands in for it. How a
// server wakes its own blocked accept() or recvfrom() (chapters 06, 08).
Endpoint reachable_endpoint(int fd);

}  // namespace net
