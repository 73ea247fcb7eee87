// tests/test_address.cpp — resolving, parsing and printing addresses.
#include <sys/socket.h>

#include <gtest/gtest.h>

#include "address.hpp"

TEST(Address, ResolvesAndPrintsIPv4) {
  const auto endpoints = net::resolve("127.0.0.1", 20000, SOCK_STREAM);
  ASSERT_EQ(endpoints.size(), 1u);
  EXPECT_EQ(endpoints[0].family(), AF_INET);
  EXPECT_EQ(net::to_string(endpoints[0]), "127.0.0.1:20000");
}

TEST(Address, ResolvesAndPrintsIPv6InBrackets) {
  const auto endpoints = net::resolve("::1", 20000, SOCK_STREAM);
  ASSERT_EQ(endpoints.size(), 1u);
  EXPECT_EQ(endpoints[0].family(), AF_INET6);
  EXPECT_EQ(net::to_string(endpoints[0]), "[::1]:20000");
}

TEST(Address, ResolvesAName) {
  const auto endpoints = net::resolve("localhost", 7, SOCK_DGRAM);
  ASSERT_FALSE(endpoints.empty());
  bool has_ipv4_loopback = false;
  for (const auto& endpoint : endpoints)
    has_ipv4_loopback |= net::to_string(endpoint) == "127.0.0.1:7";
  EXPECT_TRUE(has_ipv4_loopback);
}

TEST(Address, UnknownHostIsAnErrorNamingTheHost) {
  try {
    net::resolve("no-such-host.invalid", 80, SOCK_STREAM);
    FAIL() << "resolved an .invalid name";
  } catch (const std::system_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("getaddrinfo no-such-host.invalid: ", 0), 0u) << e.what();
  }
}

TEST(Address, InvalidNumericAddressIsAnError) {
  EXPECT_THROW(net::resolve("256.1.1.1", 80, SOCK_STREAM), std::system_error);
}

TEST(Address, UnixPathsPrintWithPrefix) {
  EXPECT_EQ(net::to_string(net::unix_endpoint("/tmp/echo.sock")), "unix:/tmp/echo.sock");
}

TEST(Address, UnixPathTooLongOrEmptyIsAnError) {
  EXPECT_THROW(net::unix_endpoint(std::string(200, 'x')), std::system_error);
  EXPECT_THROW(net::unix_endpoint(""), std::system_error);
  EXPECT_NO_THROW(net::unix_endpoint(std::string(107, 'x')));  // 107 + NUL fits in 108
  EXPECT_THROW(net::unix_endpoint(std::string(108, 'x')), std::system_error);
}

// Found by the fuzzer (tests/fuzz/fuzz_address.cpp): "unix:" and a path with
// a NUL byte inside was taken, and named the file before the NUL.
TEST(Address, UnixPathWithANulByteIsAnError) {
  EXPECT_THROW(net::unix_endpoint(std::string("/tmp/a\0b", 8)), std::system_error);
  EXPECT_THROW(net::parse_endpoint(std::string_view("unix:\xad\0\0\x13..71:", 14)),
               std::invalid_argument);
}

TEST(Address, ParseIsTheInverseOfPrint) {
  for (const char* text :
       {"127.0.0.1:20000", "[::1]:1", "0.0.0.0:0", "[fe80::1]:65535", "unix:/a/b"}) {
    EXPECT_EQ(net::to_string(net::parse_endpoint(text)), text);
  }
}

TEST(Address, ParseRejectsMalformedText) {
  for (const char* text :
       {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "::1:80", "[::1:80", "[127.0.0.1]:80",
        "256.0.0.1:80", "localhost:80", "1.2.3.4:-1", "unix:"}) {
    EXPECT_THROW(net::parse_endpoint(text), std::invalid_argument) << text;
  }
}

TEST(Address, PortsAreZeroTo65535) {
  EXPECT_EQ(net::parse_port("0"), 0);
  EXPECT_EQ(net::parse_port("65535"), 65535);
  for (const char* text : {"", "-1", "65536", "12a", " 1", "0x10"}) {
    EXPECT_THROW(net::parse_port(text), std::invalid_argument) << text;
  }
}
