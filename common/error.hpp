// common/error.hpp — errors that say which call failed, where, and why.
//
// Teaches: an error message a learner can act on. Every failure from common/
// is a std::system_error whose what() reads "CALL WHERE: REASON":
//
//   bind 127.0.0.1:20000: Address already in use
//   getaddrinfo nosuch.invalid: Name or service not known
//
// `main` prints it after "error: " and exits 1 (see run_main in cli.hpp).
// Expected conditions (EOF, EINTR, a peer's reset, a timeout) are not errors:
// io.hpp returns them as values.
//
// See also: tests/test_error.cpp.
#pragma once

#include <cerrno>
#include <string_view>
#include <system_error>

namespace net {

// Throws std::system_error(err, "CALL WHERE"); `where` may be empty.
[[noreturn]] void throw_error(std::string_view call, std::string_view where, int err = errno);

// The error category of getaddrinfo()'s EAI_* codes (gai_strerror texts).
const std::error_category& gai_category() noexcept;

}  // namespace net
