// common/cli.hpp — the command line every chapter shares.
//
// Teaches: a program that is easy to drive. Every server and client takes
// --host (default 127.0.0.1), --port (default 20000, 0 = any free port) and
// --help, and answers mistakes the same way:
//
//   --help              usage on stdout, exit 0
//   bad option/value    "error: ..." and usage on stderr, exit 2
//   failure at run time "error: bind 127.0.0.1:20000: Address already in use",
//                       exit 1 (run_main catches and prints it)
//
//   net::Cli cli("server", "Echo every byte back.");
//   cli.flag("--once", once, "serve one request, then exit");
//   return net::run_main(cli, argc, argv, [&] { ...; return 0; });
//
// See also: tests/test_cli.cpp; ../README.md ("The command-line contract").
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace net {

// A mistake on the command line: exit status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Cli {
 public:
  Cli(std::string program, std::string summary);

  // Options take "--name VALUE" or "--name=VALUE"; numbers are range-checked.
  void flag(const std::string& name, bool& target, const std::string& help);
  void option(const std::string& name, std::string& target, const std::string& metavar,
              const std::string& help);
  void option(const std::string& name, int& target, const std::string& metavar,
              const std::string& help, int min, int max);
  void option(const std::string& name, double& target, const std::string& metavar,
              const std::string& help, double min, double max);
  // The remaining non-option words (MESSAGE ...); "--" ends the options.
  void rest(const std::string& metavar, std::vector<std::string>& target, const std::string& help);

  // Fills the targets. Returns false if --help was given (usage is printed
  // then). Throws UsageError on a bad option or value.
  bool parse(int argc, char** argv);
  std::string usage() const;

  std::string host = "127.0.0.1";
  std::uint16_t port = 20000;

 private:
  struct Option {
    std::string name, metavar, help;  // metavar empty: a flag
    std::function<void(const std::string&)> set;
  };
  std::string program_, summary_;
  std::vector<Option> options_;
  std::string rest_metavar_, rest_help_;
  std::vector<std::string>* rest_ = nullptr;
  bool help_ = false;
};

// Parses the command line and runs `body`, turning what escapes it into the
// contract's messages and exit codes: 0 after --help, 2 for a UsageError,
// 1 for any other exception, else what `body` returns.
int run_main(Cli& cli, int argc, char** argv, const std::function<int()>& body);

// Calls `send` for each MESSAGE; with none, for each line of standard input
// (newline removed) until EOF, so a client works both ways:
//   ./client hello world        printf 'hello\nworld\n' | ./client
void for_each_message(const std::vector<std::string>& messages,
                      const std::function<void(const std::string&)>& send);

}  // namespace net
