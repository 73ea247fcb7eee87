// common/line_reader.cpp — see line_reader.hpp.
#include "line_reader.hpp"

#include <algorithm>
#include <cstring>

namespace net {

LineReader::LineReader(int fd, std::size_t max_line, Timeout timeout)
    : fd_(fd), max_line_(max_line), timeout_(timeout) {}

LineStatus LineReader::read_line(std::string& line) {
  line.clear();
  std::size_t scanned = start_;  // bytes before this hold no newline
  for (;;) {
    const char* data = buffer_.data();
    // (memchr must not see the null data() of a buffer never filled.)
    const void* found =
        end_ > scanned ? std::memchr(data + scanned, '\n', end_ - scanned) : nullptr;
    if (found) {
      const auto newline = static_cast<std::size_t>(static_cast<const char*>(found) - data);
      if (newline - start_ > max_line_) return LineStatus::too_long;
      line.assign(data + start_, newline + 1 - start_);
      start_ = newline + 1;
      return LineStatus::line;
    }
    if (end_ - start_ > max_line_) return LineStatus::too_long;
    if (at_eof_) {
      if (start_ == end_) return LineStatus::eof;
      line.assign(data + start_, end_ - start_);  // the last line had no newline
      start_ = end_;
      return LineStatus::line;
    }

    // Move the pending bytes to the front, then read more after them.
    if (start_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + start_, end_ - start_);
      end_ -= start_;
      start_ = 0;
    }
    scanned = end_;
    // Room for the rest of a longest line, at most 64 KiB per recv(). The
    // buffer only grows (zero-filled once, when it grows), so a recv()
    // costs no memset of its own.
    const std::size_t chunk = std::clamp<std::size_t>(max_line_ + 1 - end_, 1, 65536);
    if (buffer_.size() < end_ + chunk) buffer_.resize(end_ + chunk);
    const RecvResult got = recv_some(fd_, {buffer_.data() + end_, chunk}, timeout_);
    end_ += got.bytes;
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
  if (start_ == end_) return false;
  return at_eof_ || std::memchr(buffer_.data() + start_, '\n', end_ - start_) != nullptr;
}

}  // namespace net
