// tests/test_cli.cpp — the shared command-line parser and run_main's exit codes.
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli.hpp"

namespace {

// argv as main() gets it, from a list of words.
struct Args {
  explicit Args(std::vector<std::string> words) : words_(std::move(words)) {
    words_.insert(words_.begin(), "prog");
    for (auto& word : words_) pointers_.push_back(word.data());
  }
  int argc() const { return static_cast<int>(pointers_.size()); }
  char** argv() { return pointers_.data(); }

 private:
  std::vector<std::string> words_;
  std::vector<char*> pointers_;
};

struct Options {
  bool once = false;
  int workers = 16;
  double timeout = 0;
  std::string name;
  std::vector<std::string> messages;
};

net::Cli make_cli(Options& options) {
  net::Cli cli("prog", "A test program.");
  cli.flag("--once", options.once, "once");
  cli.option("--workers", options.workers, "N", "workers", 1, 1000);
  cli.option("--timeout", options.timeout, "S", "timeout", 0.001, 60);
  cli.option("--name", options.name, "NAME", "a name");
  cli.rest("MESSAGE", options.messages, "messages");
  return cli;
}

bool parse(std::vector<std::string> words, Options& options, net::Cli* out = nullptr) {
  net::Cli cli = make_cli(options);
  Args args(std::move(words));
  const bool go_on = cli.parse(args.argc(), args.argv());
  if (out) *out = cli;
  return go_on;
}

}  // namespace

TEST(Cli, DefaultsAreTheNotesHostAndPort) {
  Options options;
  net::Cli cli = make_cli(options);
  EXPECT_EQ(cli.host, "127.0.0.1");
  EXPECT_EQ(cli.port, 20000);
}

TEST(Cli, ParsesBothValueForms) {
  Options options;
  net::Cli cli = make_cli(options);
  Args args(
      {"--host", "::1", "--port=0", "--once", "--workers", "3", "--timeout=0.5", "--name", "x"});
  ASSERT_TRUE(cli.parse(args.argc(), args.argv()));
  EXPECT_EQ(cli.host, "::1");
  EXPECT_EQ(cli.port, 0);
  EXPECT_TRUE(options.once);
  EXPECT_EQ(options.workers, 3);
  EXPECT_DOUBLE_EQ(options.timeout, 0.5);
  EXPECT_EQ(options.name, "x");
}

TEST(Cli, RestCollectsMessagesAndDoubleDashEndsOptions) {
  Options options;
  ASSERT_TRUE(parse({"hello", "--once", "--", "--not-an-option", "-"}, options));
  EXPECT_TRUE(options.once);
  EXPECT_EQ(options.messages, (std::vector<std::string>{"hello", "--not-an-option", "-"}));
}

TEST(Cli, BadInputIsAUsageError) {
  const std::vector<std::vector<std::string>> bad = {
      {"--bogus"},        {"--port", "65536"},   {"--port", "x"},
      {"--port"},         {"--workers", "0"},    {"--workers", "2.5"},
      {"--timeout", "0"}, {"--timeout", "soon"}, {"--once=yes"}};
  for (const auto& words : bad) {
    Options options;
    EXPECT_THROW(parse(words, options), net::UsageError) << words[0];
  }
}

// NaN compares false with everything: a range test written as
// "value < min || value > max" lets it through as a timeout.
TEST(Cli, NanInfinityAndOverflowAreOutOfRange) {
  const std::vector<std::vector<std::string>> bad = {{"--timeout", "nan"},
                                                     {"--timeout", "inf"},
                                                     {"--timeout", "-inf"},
                                                     {"--timeout", "1e400"},
                                                     {"--workers", "99999999999"}};
  for (const auto& words : bad) {
    Options options;
    try {
      parse(words, options);
      ADD_FAILURE() << words[1] << " was accepted";
    } catch (const net::UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("(allowed "), std::string::npos) << e.what();
    }
  }
  Options options;
  EXPECT_THROW(parse({"--timeout", "0.001000x"}, options), net::UsageError);
  try {
    parse({"--timeout", "nan"}, options);
  } catch (const net::UsageError& e) {
    EXPECT_STREQ(e.what(), "invalid value for --timeout: 'nan' (allowed 0.001 to 60)");
  }
}

TEST(Cli, HelpStopsAndUsageListsEveryOption) {
  Options options;
  net::Cli cli = make_cli(options);
  Args args({"--help"});
  testing::internal::CaptureStdout();
  EXPECT_FALSE(cli.parse(args.argc(), args.argv()));
  const std::string printed = testing::internal::GetCapturedStdout();
  EXPECT_EQ(printed, cli.usage());
  for (const char* name : {"usage: prog [options] [MESSAGE ...]", "--host HOST", "--port PORT",
                           "--workers N", "--once", "--help", "MESSAGE: messages"}) {
    EXPECT_NE(printed.find(name), std::string::npos) << name;
  }
}

TEST(Cli, RunMainMapsOutcomesToExitCodes) {
  Options options;
  auto run = [&](std::vector<std::string> words, const std::function<int()>& body) {
    net::Cli cli = make_cli(options);
    Args args(std::move(words));
    testing::internal::CaptureStderr();
    testing::internal::CaptureStdout();
    const int status = net::run_main(cli, args.argc(), args.argv(), body);
    const std::string err = testing::internal::GetCapturedStderr();
    testing::internal::GetCapturedStdout();
    return std::make_pair(status, err);
  };
  auto ok = [] { return 0; };
  EXPECT_EQ(run({}, ok).first, 0);
  EXPECT_EQ(run({"--help"}, [] { return 7; }).first, 0);

  auto [usage_status, usage_err] = run({"--bogus"}, ok);
  EXPECT_EQ(usage_status, 2);
  EXPECT_EQ(usage_err.rfind("error: unknown option '--bogus'\nusage: prog", 0), 0u) << usage_err;

  auto [late_status, late_err] = run({}, []() -> int { throw net::UsageError("--a needs --b"); });
  EXPECT_EQ(late_status, 2);
  EXPECT_EQ(late_err.rfind("error: --a needs --b\n", 0), 0u);

  auto [fail_status, fail_err] = run({}, []() -> int { throw std::runtime_error("bind x: no"); });
  EXPECT_EQ(fail_status, 1);
  EXPECT_EQ(fail_err, "error: bind x: no\n");
}
