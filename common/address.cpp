// common/address.cpp — see address.hpp.
#include "address.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <charconv>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <system_error>

#include "error.hpp"

namespace net {

std::string to_string(const Endpoint& endpoint) {
  char text[INET6_ADDRSTRLEN] = {};
  switch (endpoint.family()) {
    case AF_INET: {
      const auto* in = reinterpret_cast<const sockaddr_in*>(&endpoint.storage);
      ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
      return std::string(text) + ":" + std::to_string(ntohs(in->sin_port));
    }
    case AF_INET6: {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&endpoint.storage);
      ::inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
      return "[" + std::string(text) + "]:" + std::to_string(ntohs(in6->sin6_port));
    }
    case AF_UNIX: {
      const auto* un = reinterpret_cast<const sockaddr_un*>(&endpoint.storage);
      // An unnamed socket (a client's end) has no path at all.
      std::size_t max = endpoint.length > offsetof(sockaddr_un, sun_path)
                            ? endpoint.length - offsetof(sockaddr_un, sun_path)
                            : 0;
      return "unix:" + std::string(un->sun_path, ::strnlen(un->sun_path, max));
    }
    default:
      return "(address family " + std::to_string(endpoint.family()) + ")";
  }
}

std::vector<Endpoint> resolve(const std::string& host, std::uint16_t port, int socktype,
                              bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = socktype;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);

  addrinfo* raw = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &raw);
  if (rc == EAI_SYSTEM) throw_error("getaddrinfo", host);
  if (rc != 0) throw std::system_error(rc, gai_category(), "getaddrinfo " + host);
  // Owned from here on: freeaddrinfo runs however we leave this function.
  const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(raw, ::freeaddrinfo);

  std::vector<Endpoint> endpoints;
  for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    Endpoint endpoint;
    std::memcpy(&endpoint.storage, ai->ai_addr, ai->ai_addrlen);
    endpoint.length = ai->ai_addrlen;
    endpoints.push_back(endpoint);
  }
  return endpoints;
}

Endpoint unix_endpoint(const std::string& path) {
  sockaddr_un un{};
  if (path.empty()) throw_error("unix socket path", "''", EINVAL);
  if (path.size() >= sizeof un.sun_path) throw_error("unix socket path", path, ENAMETOOLONG);
  // The kernel and to_string read sun_path up to its first NUL: a path with
  // one inside would name a different file than the one asked for. (Found
  // by tests/fuzz/fuzz_address.cpp.)
  if (path.find('\0') != std::string::npos) {
    throw_error("unix socket path", path.substr(0, path.find('\0')) + "\\0...", EINVAL);
  }
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path, path.data(), path.size());

  Endpoint endpoint;
  std::memcpy(&endpoint.storage, &un, sizeof un);
  endpoint.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return endpoint;
}

std::uint16_t parse_port(std::string_view text) {
  unsigned value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end || value > 65535) {
    throw std::invalid_argument("invalid port '" + std::string(text) + "' (expected 0-65535)");
  }
  return static_cast<std::uint16_t>(value);
}

Endpoint parse_endpoint(std::string_view text) {
  if (text.starts_with("unix:")) {
    try {
      return unix_endpoint(std::string(text.substr(5)));
    } catch (const std::system_error&) {
      throw std::invalid_argument("invalid unix address '" + std::string(text) + "'");
    }
  }
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    throw std::invalid_argument("invalid address '" + std::string(text) + "' (expected HOST:PORT)");
  }
  std::string_view host = text.substr(0, colon);
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);

  Endpoint endpoint;
  const std::string host_text(host);
  const std::uint16_t port = parse_port(text.substr(colon + 1));
  auto* in = reinterpret_cast<sockaddr_in*>(&endpoint.storage);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&endpoint.storage);
  if (!bracketed && ::inet_pton(AF_INET, host_text.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    endpoint.length = sizeof(sockaddr_in);
  } else if (bracketed && ::inet_pton(AF_INET6, host_text.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    endpoint.length = sizeof(sockaddr_in6);
  } else {
    throw std::invalid_argument("invalid address '" + std::string(text) +
                                "' (IPv4 as 1.2.3.4:PORT, IPv6 as [::1]:PORT)");
  }
  return endpoint;
}

Endpoint local_endpoint(int fd) {
  Endpoint endpoint;
  endpoint.length = sizeof endpoint.storage;
  if (::getsockname(fd, endpoint.addr(), &endpoint.length) == -1) throw_error("getsockname", "");
  return endpoint;
}

Endpoint reachable_endpoint(int fd) {
  Endpoint self = local_endpoint(fd);
  if (self.family() == AF_INET) {
    auto& in = reinterpret_cast<sockaddr_in&>(self.storage);
    if (in.sin_addr.s_addr == htonl(INADDR_ANY)) in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  } else if (self.family() == AF_INET6) {
    auto& in6 = reinterpret_cast<sockaddr_in6&>(self.storage);
    if (IN6_IS_ADDR_UNSPECIFIED(&in6.sin6_addr)) in6.sin6_addr = in6addr_loopback;
  }
  return self;
}

Endpoint peer_endpoint(int fd) {
  Endpoint endpoint;
  endpoint.length = sizeof endpoint.storage;
  if (::getpeername(fd, endpoint.addr(), &endpoint.length) == -1) throw_error("getpeername", "");
  return endpoint;
}

}  // namespace net
