// tests/test_line_reader.cpp — lines out of a byte stream, whatever the cuts.
//
// SOCK_SEQPACKET keeps each write() as one record and recv() returns at most
// one record, so these tests control exactly what each recv() sees.
#include <sys/socket.h>

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fd.hpp"
#include "io.hpp"
#include "line_reader.hpp"

namespace {

using namespace std::chrono_literals;

struct Pair {
  net::UniqueFd writer, reader;
};

// Each piece becomes what one recv() returns; then EOF if `close` is set.
Pair feed(const std::vector<std::string>& pieces, bool close = true) {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
  Pair pair{net::UniqueFd{fds[0]}, net::UniqueFd{fds[1]}};
  for (const std::string& piece : pieces)
    EXPECT_EQ(::send(fds[0], piece.data(), piece.size(), 0), static_cast<ssize_t>(piece.size()));
  if (close) ::shutdown(fds[0], SHUT_WR);
  return pair;
}

std::vector<std::string> all_lines(net::LineReader& reader, net::LineStatus& last) {
  std::vector<std::string> lines;
  std::string line;
  while ((last = reader.read_line(line)) == net::LineStatus::line) lines.push_back(line);
  return lines;
}

}  // namespace

TEST(LineReader, JoinsALineSplitOverManyReads) {
  Pair pair = feed({"alp", "ha\nbra", "vo", "\n"});
  net::LineReader reader(pair.reader.get(), 100, 1s);
  net::LineStatus last{};
  EXPECT_EQ(all_lines(reader, last), (std::vector<std::string>{"alpha\n", "bravo\n"}));
  EXPECT_EQ(last, net::LineStatus::eof);
}

TEST(LineReader, SplitsManyLinesFromOneRead) {
  Pair pair = feed({"a\nbb\n\nccc\n"});
  net::LineReader reader(pair.reader.get(), 100, 1s);
  net::LineStatus last{};
  EXPECT_EQ(all_lines(reader, last), (std::vector<std::string>{"a\n", "bb\n", "\n", "ccc\n"}));
  EXPECT_EQ(last, net::LineStatus::eof);
}

TEST(LineReader, HasLineTellsWhetherTheNextReadWouldWait) {
  Pair pair = feed({"a\nb", "\n"});
  net::LineReader reader(pair.reader.get(), 100, 1s);
  std::string line;
  EXPECT_FALSE(reader.has_line());  // nothing read yet
  EXPECT_EQ(reader.read_line(line), net::LineStatus::line);
  EXPECT_FALSE(reader.has_line());  // "b" is buffered, its newline is not
  EXPECT_EQ(reader.read_line(line), net::LineStatus::line);
  EXPECT_EQ(line, "b\n");
  EXPECT_FALSE(reader.has_line());
}

TEST(LineReader, OneByteAtATime) {
  Pair pair = feed({"o", "n", "e", "\n", "t", "w", "o", "\n"});
  net::LineReader reader(pair.reader.get(), 100, 1s);
  net::LineStatus last{};
  EXPECT_EQ(all_lines(reader, last), (std::vector<std::string>{"one\n", "two\n"}));
}

TEST(LineReader, FinalLineWithoutNewlineComesBeforeEof) {
  Pair pair = feed({"first\nlast"});
  net::LineReader reader(pair.reader.get(), 100, 1s);
  net::LineStatus last{};
  EXPECT_EQ(all_lines(reader, last), (std::vector<std::string>{"first\n", "last"}));
  EXPECT_EQ(last, net::LineStatus::eof);
}

TEST(LineReader, EofRightAfterANewlineAddsNoEmptyLine) {
  Pair pair = feed({"only\n"});
  net::LineReader reader(pair.reader.get(), 100, 1s);
  net::LineStatus last{};
  EXPECT_EQ(all_lines(reader, last), (std::vector<std::string>{"only\n"}));
  EXPECT_EQ(last, net::LineStatus::eof);
}

TEST(LineReader, LineOfExactlyMaxIsFineOneMoreIsTooLong) {
  Pair pair = feed({"12345678\n", "123456789\n"});
  net::LineReader reader(pair.reader.get(), 8, 1s);
  std::string line;
  EXPECT_EQ(reader.read_line(line), net::LineStatus::line);
  EXPECT_EQ(line, "12345678\n");
  EXPECT_EQ(reader.read_line(line), net::LineStatus::too_long);
  EXPECT_TRUE(line.empty());
}

TEST(LineReader, TooLongIsReportedWithoutWaitingForANewline) {
  // No newline ever comes and the writer stays open: the reader must not
  // buffer on and wait, it stops at max_line + 1 bytes.
  Pair pair = feed({std::string(5000, 'x')}, /*close=*/false);
  net::LineReader reader(pair.reader.get(), 100, 1s);
  std::string line;
  EXPECT_EQ(reader.read_line(line), net::LineStatus::too_long);
}

TEST(LineReader, SilenceIsATimeout) {
  Pair pair = feed({"partial"}, /*close=*/false);
  net::LineReader reader(pair.reader.get(), 100, 50ms);
  std::string line;
  EXPECT_EQ(reader.read_line(line), net::LineStatus::timed_out);
}

TEST(LineReader, EmptyStreamIsJustEof) {
  Pair pair = feed({});
  net::LineReader reader(pair.reader.get(), 100, 1s);
  std::string line;
  EXPECT_EQ(reader.read_line(line), net::LineStatus::eof);
  EXPECT_EQ(reader.read_line(line), net::LineStatus::eof);
}
