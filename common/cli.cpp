// common/cli.cpp — see cli.hpp.
#include "cli.hpp"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string_view>
#include <system_error>
#include <type_traits>

#include "address.hpp"

namespace net {

namespace {

// 0.001 and 86400 for a double, not std::to_string's 0.001000 and 86400.000000.
template <typename Number>
std::string format_number(Number value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// The text a number may be, the same grammar contract.py's number() reads
// (so both twins refuse the same words): [-+]?DIGITS for an int; for a
// double also a fraction and an exponent, or inf, infinity, nan. No spaces,
// no "1_000", no hex.
bool is_number_text(std::string_view text, bool floating) {
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) text.remove_prefix(1);
  if (floating) {
    std::string lower(text);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "inf" || lower == "infinity" || lower == "nan") return true;
  }
  std::size_t i = 0, digits = 0;
  auto skip_digits = [&] {
    std::size_t n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, ++n;
    return n;
  };
  digits += skip_digits();
  if (!floating) return digits > 0 && i == text.size();
  if (i < text.size() && text[i] == '.') {
    ++i;
    digits += skip_digits();
  }
  if (digits == 0) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (skip_digits() == 0) return false;
  }
  return i == text.size();
}

// Converts text that is_number_text() accepted; false if it is out of the
// type's range. An int goes through std::from_chars; a double through
// std::strtod, because libc++ (macOS's standard library, and clang's on
// Linux with -stdlib=libc++) has no floating-point from_chars. strtod reads
// the locale's decimal point, which is "." here: no program calls setlocale().
bool convert(const std::string& text, int& value) {
  const std::string_view digits =
      text[0] == '+' ? std::string_view(text).substr(1) : std::string_view(text);
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return ec == std::errc{} && ptr == digits.data() + digits.size();
}

bool convert(const std::string& text, double& value) {
  errno = 0;
  value = std::strtod(text.c_str(), nullptr);
  return errno != ERANGE;
}

// The whole text must be a number, and within [min, max]. NaN fails every
// comparison, so the range test is written to reject it: "--timeout nan" is
// an error, not a timeout.
template <typename Number>
Number parse_number(const std::string& name, const std::string& text, Number min, Number max) {
  if (!is_number_text(text, std::is_floating_point_v<Number>)) {
    throw UsageError("invalid value for " + name + ": '" + text + "' is not a number");
  }
  Number value{};
  if (!convert(text, value) || !(value >= min && value <= max)) {
    throw UsageError("invalid value for " + name + ": '" + text + "' (allowed " +
                     format_number(min) + " to " + format_number(max) + ")");
  }
  return value;
}

}  // namespace

Cli::Cli(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {
  option("--host", host, "HOST", "address or name to use (default 127.0.0.1; ::1 for IPv6)");
  options_.push_back({"--port", "PORT", "TCP/UDP port (default 20000; 0 picks a free one)",
                      [this](const std::string& text) {
                        try {
                          port = parse_port(text);
                        } catch (const std::invalid_argument& e) {
                          throw UsageError(e.what());
                        }
                      }});
  flag("--help", help_, "show this help and exit");
}

void Cli::flag(const std::string& name, bool& target, const std::string& help) {
  options_.push_back({name, "", help, [&target](const std::string&) { target = true; }});
}

void Cli::option(const std::string& name, std::string& target, const std::string& metavar,
                 const std::string& help) {
  options_.push_back({name, metavar, help, [&target](const std::string& v) { target = v; }});
}

void Cli::option(const std::string& name, int& target, const std::string& metavar,
                 const std::string& help, int min, int max) {
  options_.push_back({name, metavar, help, [&target, name, min, max](const std::string& v) {
                        target = parse_number(name, v, min, max);
                      }});
}

void Cli::option(const std::string& name, double& target, const std::string& metavar,
                 const std::string& help, double min, double max) {
  options_.push_back({name, metavar, help, [&target, name, min, max](const std::string& v) {
                        target = parse_number(name, v, min, max);
                      }});
}

void Cli::rest(const std::string& metavar, std::vector<std::string>& target,
               const std::string& help) {
  rest_metavar_ = metavar;
  rest_help_ = help;
  rest_ = &target;
}

bool Cli::parse(int argc, char** argv) {
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (options_done || !word.starts_with("-") || word == "-") {
      if (rest_ == nullptr) throw UsageError("unexpected argument '" + word + "'");
      rest_->push_back(word);
      continue;
    }
    if (word == "--") {
      options_done = true;
      continue;
    }
    const auto equals = word.find('=');
    const std::string name = word.substr(0, equals);
    const Option* found = nullptr;
    for (const Option& candidate : options_) {
      if (candidate.name == name) found = &candidate;
    }
    if (found == nullptr) throw UsageError("unknown option '" + name + "'");
    if (found->metavar.empty()) {
      if (equals != std::string::npos) throw UsageError(name + " takes no value");
      found->set("");
    } else if (equals != std::string::npos) {
      found->set(word.substr(equals + 1));
    } else if (i + 1 < argc) {
      found->set(argv[++i]);
    } else {
      throw UsageError(name + " needs a value (" + found->metavar + ")");
    }
  }
  if (help_) std::cout << usage() << std::flush;
  return !help_;
}

std::string Cli::usage() const {
  std::string text = "usage: " + program_ + " [options]";
  if (rest_ != nullptr) text += " [" + rest_metavar_ + " ...]";
  text += "\n" + summary_ + "\n\noptions:\n";
  for (const Option& option : options_) {
    std::string left = "  " + option.name + (option.metavar.empty() ? "" : " " + option.metavar);
    if (left.size() < 24)
      left.resize(24, ' ');
    else
      left += "\n" + std::string(24, ' ');
    text += left + option.help + "\n";
  }
  if (rest_ != nullptr) text += "\n  " + rest_metavar_ + ": " + rest_help_ + "\n";
  return text;
}

int run_main(Cli& cli, int argc, char** argv, const std::function<int()>& body) {
  try {
    if (!cli.parse(argc, argv)) return 0;
    return body();  // may throw UsageError too, for checks across options
  } catch (const UsageError& e) {
    std::cerr << "error: " << e.what() << "\n" << cli.usage() << std::flush;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return 1;
  }
}

void for_each_message(const std::vector<std::string>& messages,
                      const std::function<void(const std::string&)>& send) {
  if (!messages.empty()) {
    for (const std::string& message : messages) send(message);
    return;
  }
  std::string line;
  while (std::getline(std::cin, line)) send(line);
}

}  // namespace net
