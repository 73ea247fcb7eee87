// tests/reference/epoll_echo.cpp — a yardstick for `make bench`, not a chapter.
//
// The limit of this machine for an echo: one thread per core, each with its
// own listener on the same port (SO_REUSEPORT: the kernel spreads the
// connections) and its own epoll set of non-blocking connections. No
// thread is ever woken for a connection it does not serve, and one thread
// serves many connections, so at high concurrency there is no context
// switch per request at all. What the blocking designs of chapters 01-07
// are measured against in "what could this box do?". Stops only by being
// killed.
//
//   epoll_echo --port 0         prints "listening on 127.0.0.1:PORT"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

int open_listener(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == -1 ||
      ::listen(fd, 128) == -1) {
    std::perror("error: bind/listen");
    std::exit(1);
  }
  return fd;
}

int port_of(int fd) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  return ntohs(address.sin_port);
}

// One event loop: accept on its own listener, echo on its own connections.
// Bytes a full send buffer did not take wait in `pending`; until they are
// out, the connection is watched for room (EPOLLOUT), not for input.
void serve(int listener) {
  const int poller = ::epoll_create1(0);
  epoll_event event{EPOLLIN, {.fd = listener}};
  ::epoll_ctl(poller, EPOLL_CTL_ADD, listener, &event);
  std::unordered_map<int, std::string> pending;
  std::vector<epoll_event> ready(256);
  char buffer[65536];
  for (;;) {
    const int n = ::epoll_wait(poller, ready.data(), static_cast<int>(ready.size()), -1);
    for (int i = 0; i < n; ++i) {
      const int fd = ready[i].data.fd;
      if (fd == listener) {
        int conn;
        while ((conn = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK)) >= 0) {
          epoll_event in{EPOLLIN, {.fd = conn}};
          ::epoll_ctl(poller, EPOLL_CTL_ADD, conn, &in);
        }
        continue;
      }
      std::string& out = pending[fd];
      bool closed = false;
      if (out.empty()) {
        const ssize_t received = ::recv(fd, buffer, sizeof buffer, 0);
        if (received > 0) {
          out.assign(buffer, static_cast<size_t>(received));
        } else if (received == 0 || (errno != EAGAIN && errno != EINTR)) {
          closed = true;
        }
      }
      while (!closed && !out.empty()) {
        const ssize_t sent = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
        if (sent > 0) {
          out.erase(0, static_cast<size_t>(sent));
        } else if (errno == EAGAIN) {
          break;
        } else {
          closed = true;
        }
      }
      if (closed) {
        pending.erase(fd);
        ::close(fd);  // also removes it from the epoll set
        continue;
      }
      epoll_event next{out.empty() ? EPOLLIN : EPOLLOUT, {.fd = fd}};
      ::epoll_ctl(poller, EPOLL_CTL_MOD, fd, &next);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int port = argc == 3 && std::strcmp(argv[1], "--port") == 0 ? std::atoi(argv[2]) : -1;
  if (port < 0 || port > 65535) {
    std::fprintf(stderr, "usage: epoll_echo --port PORT\n");
    return 2;
  }
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::vector<int> listeners{open_listener(port)};
  const int real_port = port_of(listeners[0]);  // port 0: the others join the one given
  while (listeners.size() < cores) listeners.push_back(open_listener(real_port));
  std::printf("listening on 127.0.0.1:%d\n", real_port);
  std::fflush(stdout);
  std::vector<std::thread> loops;
  for (const int listener : listeners) loops.emplace_back(serve, listener);
  for (std::thread& loop : loops) loop.join();
}
