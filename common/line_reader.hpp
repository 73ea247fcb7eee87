// common/line_reader.hpp — read a byte stream one line at a time.
//
// Teaches: TCP has no messages, only bytes. One recv() may hold many lines or
// a piece of one, so a reader keeps what it has not handed out yet:
//
//   recv #1: "alpha\nbra"       recv #2: "vo\ncharlie"        EOF
//   lines:   "alpha\n"          "bravo\n"                     "charlie" (no \n)
//
//   buffer_: [ handed out | pending bytes ... | free space ]
//                          ^ start_            ^ end_          ^ buffer_.size()
//
// A limit on the line length keeps one client from growing the buffer without
// bound: a line longer than max_line bytes (newline not counted) is reported
// as too_long instead of being stored. Python's rfile.readline() has no limit
// unless you pass one; ours always has one.
//
// See also: tests/test_line_reader.cpp, 03_stream_handler.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "io.hpp"

namespace net {

enum class LineStatus { line, eof, too_long, timed_out, reset, stopped };

class LineReader {
 public:
  static constexpr std::size_t default_max_line = 65536;

  // Lends `fd` (the caller keeps owning it). `timeout` bounds each wait for
  // more bytes, i.e. how long the peer may stay silent.
  explicit LineReader(int fd, std::size_t max_line = default_max_line,
                      Timeout timeout = std::nullopt);

  // Puts the next line, newline included, into `line` and returns `line`.
  // At EOF a final line without newline is returned first as `line`, then
  // `eof`. Any other status leaves `line` empty.
  LineStatus read_line(std::string& line);

  // True if the next read_line() can return a line without waiting for the
  // peer: a whole line, or the last partial one at EOF, is already buffered.
  // A writer that batches its answers flushes when this turns false.
  bool has_line() const noexcept;

 private:
  int fd_;
  std::size_t max_line_;
  Timeout timeout_;
  std::vector<char> buffer_;
  std::size_t start_ = 0;  // first byte not yet handed out
  std::size_t end_ = 0;    // one past the last byte received
  bool at_eof_ = false;
};

}  // namespace net
