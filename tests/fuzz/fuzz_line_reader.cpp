// tests/fuzz/fuzz_line_reader.cpp — libFuzzer target: the line reader
// (common/line_reader.cpp) on bytes a stranger sends, cut at arbitrary
// places, with line limits down to 1 byte.
//
// The input: byte 0 picks max_line (1..256), then a list of chunks, each a
// length byte followed by that many bytes. A writer thread sends each chunk
// on a Unix stream socketpair and waits until the reader has taken it all
// before sending the next, so every recv() sees at most one chunk: the cuts
// are the fuzzer's to choose.
//
// Checks, beyond "no crash, no undefined behaviour" (ASan + UBSan):
//   * the lines returned, joined, are exactly the bytes sent, in order;
//   * each line ends in '\n' (only the last may not, at EOF) and is at most
//     max_line bytes before it;
//   * too_long is returned exactly when the next line is longer than that.
// Run: make fuzz (see tests/fuzz/README.md).

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "line_reader.hpp"

namespace {

void send_chunks(int fd, const std::vector<std::string>& chunks) {
  for (const std::string& chunk : chunks) {
    for (std::size_t sent = 0; sent < chunk.size();) {
      const ssize_t n = ::send(fd, chunk.data() + sent, chunk.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;  // the reader is done (too_long) and closed its end
      sent += static_cast<std::size_t>(n);
    }
    // Wait until the reader has taken this chunk, or has closed its end.
    int queued = 0;
    while (::ioctl(fd, TIOCOUTQ, &queued) == 0 && queued > 0) std::this_thread::yield();
  }
  ::shutdown(fd, SHUT_WR);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t max_line = 1 + data[0];
  std::vector<std::string> chunks;
  std::string sent;
  for (std::size_t i = 1; i < size;) {
    const std::size_t n = std::min<std::size_t>(data[i], size - i - 1);
    chunks.emplace_back(reinterpret_cast<const char*>(data + i + 1), n);
    sent += chunks.back();
    i += 1 + n;
  }

  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == -1) std::abort();
  std::thread writer(send_chunks, fds[1], chunks);
  net::LineReader reader(fds[0], max_line);
  std::string received, line;
  for (;;) {
    const net::LineStatus status = reader.read_line(line);
    if (status == net::LineStatus::line) {
      const bool last = line.back() != '\n';
      if (line.size() - (last ? 0 : 1) > max_line) std::abort();  // over the limit
      received += line;
      if (last && received.size() != sent.size()) std::abort();  // no '\n' before EOF
      continue;
    }
    if (status == net::LineStatus::too_long) {
      // The next line really is too long: no '\n' within max_line bytes.
      const std::string rest = sent.substr(received.size());
      const std::size_t newline = rest.find('\n');
      if (rest.substr(0, newline).size() <= max_line) std::abort();
      break;
    }
    if (status != net::LineStatus::eof || received != sent) std::abort();
    break;
  }
  ::close(fds[0]);  // a writer still sending gets EPIPE and ends
  writer.join();
  ::close(fds[1]);
  return 0;
}
