// tests/test_error.cpp — the "CALL WHERE: REASON" message format.
#include <netdb.h>

#include <gtest/gtest.h>

#include "error.hpp"

TEST(Error, NamesCallAddressAndReason) {
  try {
    net::throw_error("bind", "127.0.0.1:20000", EADDRINUSE);
    FAIL() << "throw_error returned";
  } catch (const std::system_error& e) {
    EXPECT_STREQ(e.what(), "bind 127.0.0.1:20000: Address already in use");
    EXPECT_EQ(e.code(), std::errc::address_in_use);
  }
}

TEST(Error, WithoutAnAddressThereIsNoDoubleSpace) {
  try {
    net::throw_error("pipe2", "", EMFILE);
    FAIL() << "throw_error returned";
  } catch (const std::system_error& e) {
    EXPECT_STREQ(e.what(), "pipe2: Too many open files");
  }
}

TEST(Error, UsesErrnoByDefault) {
  errno = ECONNREFUSED;
  EXPECT_THROW(net::throw_error("connect", "[::1]:1"), std::system_error);
  try {
    errno = ECONNREFUSED;
    net::throw_error("connect", "[::1]:1");
  } catch (const std::system_error& e) {
    EXPECT_STREQ(e.what(), "connect [::1]:1: Connection refused");
  }
}

TEST(Error, GetaddrinfoCodesReadAsGaiStrerror) {
  const std::system_error e(EAI_NONAME, net::gai_category(), "getaddrinfo nosuch.invalid");
  EXPECT_EQ(std::string(e.what()),
            std::string("getaddrinfo nosuch.invalid: ") + ::gai_strerror(EAI_NONAME));
  EXPECT_STREQ(net::gai_category().name(), "getaddrinfo");
}
