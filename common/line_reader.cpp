// common/line_reader.cpp — see line_reader.hpp.
#include "line_reader.hpp"

#include <algorithm>

namespace net {

LineReader::LineReader(int fd, std::size_t max_line, Timeout timeout)
    : fd_(fd), max_line_(max_line), timeout_(timeout) {}

LineStatus LineReader::read_line(std::string& line) {
  line.clear();
  std::size_t scanned = start_;  // bytes before this hold no newline
  for (;;) {
    const auto newline = buffer_.find('\n', scanned);
    if (newline != std::string::npos) {
      if (newline - start_ > max_line_) return LineStatus::too_long;
      line.assign(buffer_, start_, newline + 1 - start_);
      start_ = newline + 1;
      return LineStatus::line;
    }
    if (buffer_.size() - start_ > max_line_) return LineStatus::too_long;
    if (at_eof_) {
      if (start_ == buffer_.size()) return LineStatus::eof;
      line.assign(buffer_, start_);  // the last line had no newline
      start_ = buffer_.size();
      return LineStatus::line;
    }

    // Drop what was handed out, then read more after the pending bytes.
    buffer_.erase(0, start_);
    scanned = buffer_.size();
    start_ = 0;
    const std::size_t chunk = std::clamp<std::size_t>(max_line_ + 1 - scanned, 1, 65536);
    buffer_.resize(scanned + chunk);
    const RecvResult got = recv_some(fd_, {buffer_.data() + scanned, chunk}, timeout_);
    buffer_.resize(scanned + got.bytes);
    switch (got.status) {
      case IoStatus::ok:
        break;
      case IoStatus::eof:
        at_eof_ = true;
        break;
      case IoStatus::timed_out:
        return LineStatus::timed_out;
      case IoStatus::reset:
        return LineStatus::reset;
      case IoStatus::stopped:
        return LineStatus::stopped;
    }
  }
}

bool LineReader::has_line() const noexcept {
  if (start_ == buffer_.size()) return false;
  return at_eof_ || buffer_.find('\n', start_) != std::string::npos;
}

}  // namespace net
