// tests/fuzz/fuzz_cli.cpp — libFuzzer target: the command-line parser
// (common/cli.cpp) on argument vectors a user might type. The input is
// split at NUL bytes into argv words.
//
// Checks, beyond "no crash, no undefined behaviour" (ASan + UBSan): a bad
// command line is a net::UsageError and nothing else, and every value the
// parser accepts lies within its option's range.
// Run: make fuzz (see tests/fuzz/README.md).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> words{"fuzz"};
  std::string word;
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      words.push_back(word);
      word.clear();
    } else {
      word += static_cast<char>(data[i]);
    }
  }
  words.push_back(word);
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);

  // The options the chapters use, one of each kind.
  net::Cli cli("fuzz", "fuzzing the parser");
  bool once = false;
  int workers = 8;
  double timeout = 0;
  std::string path;
  std::vector<std::string> rest;
  cli.flag("--once", once, "a flag");
  cli.option("--workers", workers, "N", "an int", 1, 1024);
  cli.option("--timeout", timeout, "S", "a double", 0.001, 86400);
  cli.option("--unix", path, "PATH", "a string");
  cli.rest("MESSAGE", rest, "the rest");
  try {
    if (!cli.parse(static_cast<int>(words.size()), argv.data())) return 0;  // --help
  } catch (const net::UsageError&) {
    return 0;
  }
  if (workers < 1 || workers > 1024) std::abort();
  if (timeout != 0 && !(timeout >= 0.001 && timeout <= 86400)) std::abort();  // NaN fails too
  return 0;
}
