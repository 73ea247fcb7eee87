// tests/reference/blocking_echo.cpp — a yardstick for `make bench`, not a chapter.
//
// The floor of every blocking design in this tutorial: a thread per
// connection that loops recv() -> send() on raw blocking sockets, with no
// stop machinery, no handler objects, no logging, no line splitting. Each
// request costs exactly what the design needs: 2 system calls. A chapter
// row within a few per cent of this one has nothing left to remove but its
// design. It stops only by being killed (SIGTERM's default action).
//
//   blocking_echo --port 0      prints "listening on 127.0.0.1:PORT"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

int main(int argc, char** argv) {
  const int port = argc == 3 && std::strcmp(argv[1], "--port") == 0 ? std::atoi(argv[2]) : -1;
  if (port < 0 || port > 65535) {
    std::fprintf(stderr, "usage: blocking_echo --port PORT\n");
    return 2;
  }
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  const int on = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t length = sizeof address;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), length) == -1 ||
      ::listen(listener, 128) == -1 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) == -1) {
    std::perror("error: bind/listen");
    return 1;
  }
  std::printf("listening on 127.0.0.1:%d\n", ntohs(address.sin_port));
  std::fflush(stdout);
  for (;;) {
    const int conn = ::accept(listener, nullptr, nullptr);
    if (conn == -1) continue;  // e.g. ECONNABORTED; EMFILE would spin, a yardstick may
    std::thread([conn] {
      char buffer[65536];
      ssize_t received;
      while ((received = ::recv(conn, buffer, sizeof buffer, 0)) > 0) {
        for (ssize_t sent = 0, n; sent < received; sent += n) {
          n = ::send(conn, buffer + sent, static_cast<size_t>(received - sent), MSG_NOSIGNAL);
          if (n <= 0) {
            received = -1;
            break;
          }
        }
        if (received < 0) break;
      }
      ::close(conn);
    }).detach();
  }
}
