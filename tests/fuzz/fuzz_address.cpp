// tests/fuzz/fuzz_address.cpp — libFuzzer target: parse_endpoint and
// parse_port on bytes a user types ("127.0.0.1:80", "[::1]:80", "unix:/p").
//
// Checks, beyond "no crash, no undefined behaviour" (ASan + UBSan):
//   * a text parse_endpoint accepts prints back through to_string as an
//     address that parses to the same thing (the two are inverses);
//   * anything it refuses is refused with std::invalid_argument (or
//     std::system_error for a Unix path too long), nothing else.
// Run: make fuzz (see tests/fuzz/README.md).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include "address.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const net::Endpoint endpoint = net::parse_endpoint(text);
    const std::string printed = net::to_string(endpoint);
    const net::Endpoint again = net::parse_endpoint(printed);
    if (net::to_string(again) != printed || again.length != endpoint.length ||
        std::memcmp(&again.storage, &endpoint.storage, endpoint.length) != 0) {
      std::abort();  // to_string and parse_endpoint disagree
    }
  } catch (const std::invalid_argument&) {
  } catch (const std::system_error&) {}
  try {
    const unsigned port = net::parse_port(text);
    if (net::parse_port(std::to_string(port)) != port) std::abort();
  } catch (const std::invalid_argument&) {}
  return 0;
}
