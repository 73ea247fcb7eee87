// common/error.cpp — see error.hpp.
#include "error.hpp"

#include <netdb.h>

#include <string>

namespace net {

void throw_error(std::string_view call, std::string_view where, int err) {
  std::string what{call};
  if (!where.empty()) {
    what += ' ';
    what += where;
  }
  // libstdc++ appends ": " and the reason: "bind 127.0.0.1:80: Permission denied".
  throw std::system_error(err, std::generic_category(), what);
}

namespace {
class GaiCategory : public std::error_category {
 public:
  const char* name() const noexcept override { return "getaddrinfo"; }
  std::string message(int code) const override { return ::gai_strerror(code); }
};
}  // namespace

const std::error_category& gai_category() noexcept {
  static const GaiCategory category;
  return category;
}

}  // namespace net
