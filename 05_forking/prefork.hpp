// 05_forking/prefork.hpp — a pre-forked pool: N processes made up front.
//
// Teaches: the process twin of chapter 06's thread pool. The parent forks
// N children before any client comes; each serves one connection at a
// time, for ever, so no fork() happens per connection. They differ only in
// who calls accept() and how the others wait (--accept):
//
//   block  every child blocks in accept() on the shared listener; Linux
//          wakes one child per connection.
//   lock   one child at a time waits in accept(), the others wait for a
//          lock they share: a robust process-shared mutex, or an fcntl()
//          record lock where there is none (AcceptLock, below). A child
//          killed while it holds the lock never wedges the pool.
//   pass   only the parent accepts; it hands each connection to an idle
//          child over a Unix socket (sendmsg with SCM_RIGHTS), and the
//          child says "idle" again with one byte when it is done.
//
// The parent's own job is the contract: replace a child that dies, and on
// SIGINT/SIGTERM stop every child and reap it (children.hpp).
//
// Run:      ./server --prefork 4 --accept lock
// Observe:  `ps --ppid $(pgrep -n server)` shows 4 children before any
//           client; `kill -9` one and a new pid takes its place.
// See also: children.hpp, server.cpp, README.md ("A pool of processes").
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "base_server.hpp"
#include "children.hpp"
#include "error.hpp"
#include "socket.hpp"
#include "stop.hpp"

namespace prefork {

enum class Accept { block, lock, pass };

// The lock the children of --accept lock share. Whoever holds it waits in
// accept(); the others wait for it. Two kinds, chosen by a build probe:
#ifdef NET_HAVE_ROBUST_MUTEX
// A pthread mutex in memory every child shares (an anonymous shared
// mapping made before the fork), process-shared and robust. It sleeps on a
// futex on Linux, so an unlock wakes one waiter; and if its holder dies
// (kill -9 while it waits in accept), the next lock() is told so
// (EOWNERDEAD) and takes the lock over, instead of waiting for ever.
class AcceptLock {
 public:
  AcceptLock() {
    void* shared = ::mmap(nullptr, sizeof(pthread_mutex_t), PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) net::throw_error("mmap", "the accept lock");
    mutex_ = static_cast<pthread_mutex_t*>(shared);
    pthread_mutexattr_t attributes;
    pthread_mutexattr_init(&attributes);
    pthread_mutexattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attributes, PTHREAD_MUTEX_ROBUST);
    const int error = pthread_mutex_init(mutex_, &attributes);
    pthread_mutexattr_destroy(&attributes);
    if (error != 0) throw std::system_error(error, std::generic_category(), "pthread_mutex_init");
  }
  ~AcceptLock() { ::munmap(mutex_, sizeof(pthread_mutex_t)); }
  AcceptLock(const AcceptLock&) = delete;
  AcceptLock& operator=(const AcceptLock&) = delete;

  // Always true: a signal does not interrupt pthread_mutex_lock.
  bool acquire() {
    int error = pthread_mutex_lock(mutex_);
    if (error == EOWNERDEAD) error = pthread_mutex_consistent(mutex_);  // its holder died
    if (error != 0) throw std::system_error(error, std::generic_category(), "pthread_mutex_lock");
    return true;
  }
  void release() { pthread_mutex_unlock(mutex_); }

 private:
  pthread_mutex_t* mutex_ = nullptr;
};
#else
// The POSIX fallback (macOS; PORTABLE=1): an fcntl() write lock on an
// unlinked temporary file every child inherits. A record lock belongs to
// a process, is not shared over fork(), and the kernel releases it when
// its holder exits or dies.
class AcceptLock {
 public:
  AcceptLock() {
    const char* dir = std::getenv("TMPDIR");
    std::string path = std::string(dir && *dir ? dir : "/tmp") + "/prefork-lock.XXXXXX";
    fd_.reset(::mkstemp(path.data()));
    if (!fd_) net::throw_error("mkstemp", path);
    ::unlink(path.c_str());  // the open descriptor is all we need
    ::fcntl(fd_.get(), F_SETFD, FD_CLOEXEC);
  }
  // F_SETLKW waits for the lock. False if a signal (a stop) interrupted it.
  bool acquire() { return set(F_WRLCK); }
  void release() { set(F_UNLCK); }

 private:
  bool set(short type) {
    struct flock lock {};
    lock.l_type = type;
    lock.l_whence = SEEK_SET;  // l_start = l_len = 0: the whole file
    if (::fcntl(fd_.get(), F_SETLKW, &lock) == 0) return true;
    if (errno != EINTR) net::throw_error("fcntl", "F_SETLKW");
    return false;
  }
  net::UniqueFd fd_;
};
#endif

// The message that carries a descriptor: its bytes (`data`) and room for
// one SCM_RIGHTS control message (`control`), as sendmsg/recvmsg take them.
struct RightsMessage {
  explicit RightsMessage(void* bytes, std::size_t size) : data{bytes, size} {
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
  }
  RightsMessage(const RightsMessage&) = delete;
  RightsMessage& operator=(const RightsMessage&) = delete;

  iovec data;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr message{};
};

// pass: one connection (and its client's address, as the bytes of the
// message) over a Unix stream socket. Returns false if the child is gone.
inline bool send_connection(int channel, const net::Accepted& accepted) {
  RightsMessage out(const_cast<sockaddr_storage*>(&accepted.client_address.storage),
                    accepted.client_address.length);
  msghdr& message = out.message;
  cmsghdr* rights = CMSG_FIRSTHDR(&message);
  rights->cmsg_level = SOL_SOCKET;
  rights->cmsg_type = SCM_RIGHTS;  // "this descriptor, duplicated into the receiver"
  rights->cmsg_len = CMSG_LEN(sizeof(int));
  const int fd = accepted.request.get();
  std::memcpy(CMSG_DATA(rights), &fd, sizeof fd);
  ssize_t n;
  while ((n = ::sendmsg(channel, &message, 0)) == -1 && errno == EINTR) {}
  return n > 0;  // EPIPE (SIGPIPE is ignored): the child died
}

// The child's side: nothing if the parent closed the channel or a stop came.
inline std::optional<net::Accepted> receive_connection(int channel) {
  net::Accepted accepted;
  RightsMessage in(&accepted.client_address.storage, sizeof accepted.client_address.storage);
  msghdr& message = in.message;
  const ssize_t n = ::recvmsg(channel, &message, 0);
  if (n <= 0) return std::nullopt;  // 0: the parent is gone; EINTR: a stop
  const cmsghdr* rights = CMSG_FIRSTHDR(&message);
  if (!rights || rights->cmsg_level != SOL_SOCKET || rights->cmsg_type != SCM_RIGHTS) {
    return std::nullopt;
  }
  int fd = -1;
  std::memcpy(&fd, CMSG_DATA(rights), sizeof fd);
  accepted.request.reset(fd);
  accepted.client_address.length = static_cast<socklen_t>(n);
  return accepted;
}

class PreforkServer : public net::BaseServer {
 public:
  using net::BaseServer::BaseServer;

  // Forks the pool, announces, then looks after it until a stop.
  void serve_pool(int size, Accept strategy) {
    strategy_ = strategy;
    // Shared by every child (one open file: O_NONBLOCK is shared too): the
    // children of block and lock sleep in accept(); the parent of pass
    // polls, and must not sleep in an accept() a vanished client left it.
    net::set_blocking(fileno(), strategy != Accept::pass);
    if (strategy == Accept::lock) lock_.emplace();
    slots_.resize(static_cast<std::size_t>(size));
    for (Slot& slot : slots_) start_child(slot);
    // Every child is forked, though one may still be setting itself up (its
    // own stop pipe, closing the parent's ends): a client that comes first
    // waits in the backlog, and is served all the same.
    net::announce_listening(fileno());

    while (wait_and_dispatch()) {}
    children_.stop_all([this] {
      if (strategy_ == Accept::pass) {
        for (Slot& slot : slots_) slot.channel.reset();  // a child in recvmsg() reads EOF
      } else {
        net::wake_blocked_accepts(fileno(), static_cast<int>(slots_.size()));
      }
    });
  }

 protected:
  // In the child: say who serves the connection, then serve it.
  void process_request(net::UniqueFd request, const net::Endpoint& client_address) override {
    net::log_line("process " + std::to_string(::getpid()) + " serves " +
                  net::to_string(client_address));
    handle_one(std::move(request), client_address);
  }

 private:
  struct Slot {
    pid_t pid = -1;
    net::UniqueFd channel;  // pass: the parent's end of the socket pair
    bool idle = true;
  };

  void start_child(Slot& slot) {
    net::UniqueFd child_end;
    if (strategy_ == Accept::pass) {
      int pair[2];
      if (net::socketpair_cloexec(AF_UNIX, SOCK_STREAM, pair) == -1) {
        net::throw_error("socketpair", "");
      }
      slot.channel.reset(pair[0]);
      child_end.reset(pair[1]);
    }
    const int channel = child_end.get();
    slot.pid = children_.start([this, channel] { serve_in_child(channel); }, "prefork");
    slot.idle = true;
  }

  // A child that ended on its own is logged and replaced by a new one.
  void replace(pid_t pid, int status) {
    for (Slot& slot : slots_) {
      if (slot.pid != pid) continue;
      net::log_line("error: process " + std::to_string(pid) + " " + children::describe(status) +
                    "; starting another");
      slot.channel.reset();
      start_child(slot);
    }
  }

  // The child's life: connections until a stop, one at a time.
  void serve_in_child(int channel) {
    for (Slot& slot : slots_) slot.channel.reset();  // the parent's ends, copied
    // lab: serve connections in a pre-forked child, by strategy
    while (!net::stop_requested() && !listener_shut_down()) {
      switch (strategy_) {
        case Accept::block:  // sleep in accept(); the kernel picks who wakes
          handle_request_noblock();
          break;
        case Accept::lock: {  // one child in accept() at a time
          if (!lock_->acquire()) break;
          if (net::stop_requested()) {  // waited for the lock through the stop
            lock_->release();
            return;
          }
          std::optional<net::Accepted> accepted = get_request();
          lock_->release();
          if (accepted) verify_and_process(std::move(*accepted));
          break;
        }
        case Accept::pass: {  // wait for the parent to hand one over
          std::optional<net::Accepted> accepted = receive_connection(channel);
          if (!accepted) {
            if (net::stop_requested()) return;
            if (errno == EINTR) break;
            return;  // the parent is gone
          }
          verify_and_process(std::move(*accepted));
          [[maybe_unused]] ssize_t n = ::write(channel, "i", 1);  // idle again
          break;
        }
      }
    }
    // lab: end
  }

  // The parent's wait: for a stop, a child's exit and, with pass, a
  // connection (while some child is idle) or a child saying it is idle.
  // False once a stop is requested.
  bool wait_and_dispatch() {
    std::vector<pollfd> fds = {{net::stop_fd(), POLLIN, 0}, {children_.exited_fd(), POLLIN, 0}};
    bool any_idle = false;
    if (strategy_ == Accept::pass) {
      for (const Slot& slot : slots_) {
        fds.push_back({slot.channel.get(), POLLIN, 0});
        any_idle = any_idle || slot.idle;
      }
      fds.push_back({any_idle ? fileno() : -1, POLLIN, 0});
    }
    while (net::poll_letting_stop_in(fds.data(), fds.size(), -1) == -1) {
      if (errno != EINTR) net::throw_error("poll", "");
    }
    if (fds[0].revents != 0 || net::stop_requested()) return false;
    for (std::size_t i = 0; strategy_ == Accept::pass && i < slots_.size(); ++i) {
      if (fds[2 + i].revents == 0 || !slots_[i].channel) continue;
      char said[16];
      const ssize_t n = ::recv(slots_[i].channel.get(), said, sizeof said, MSG_DONTWAIT);
      if (n > 0) {
        slots_[i].idle = true;
      } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        // EOF: the child died; replace() starts another on SIGCHLD
        slots_[i].channel.reset();
        slots_[i].idle = false;
      }
    }
    if (fds[1].revents != 0) {
      for (const auto& [pid, status] : children_.collect()) replace(pid, status);
    }
    if (strategy_ == Accept::pass && fds.back().revents != 0) pass_one();
    return true;
  }

  // pass: accept one connection and hand it to an idle child.
  void pass_one() {
    std::optional<net::Accepted> accepted = get_request();
    if (!accepted) return;
    for (Slot& slot : slots_) {
      if (!slot.idle || !slot.channel) continue;
      slot.idle = false;
      if (send_connection(slot.channel.get(), *accepted)) return;  // ours closes as we return
    }
    net::log_line("error: no child took the connection from " +
                  net::to_string(accepted->client_address));
  }

  Accept strategy_ = Accept::block;
  std::optional<AcceptLock> lock_;
  std::vector<Slot> slots_;
  children::Children children_;  // last: destroyed first, so no child outlives the pool
};

}  // namespace prefork
