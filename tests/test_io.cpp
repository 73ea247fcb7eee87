// tests/test_io.cpp — send_all and recv_some against slow, closed and silent peers.
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "fd.hpp"
#include "io.hpp"
#include "portable.hpp"
#include "socket.hpp"
#include "stop.hpp"

namespace {

using namespace std::chrono_literals;

struct Pair {
  net::UniqueFd a, b;
};

Pair stream_pair() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  return {net::UniqueFd{fds[0]}, net::UniqueFd{fds[1]}};
}

std::string pattern(std::size_t size) {
  std::string data(size, '\0');
  for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<char>((i * 31 + i / 997) & 0xff);
  return data;
}

void on_usr1(int) {}

}  // namespace

TEST(SendAll, DeliversEverythingToASlowReader) {
  Pair pair = stream_pair();
  // Small buffers: most send() calls can take only a part (partial writes).
  net::set_int_option(pair.a.get(), SOL_SOCKET, SO_SNDBUF, 4096, "SO_SNDBUF");
  net::set_int_option(pair.b.get(), SOL_SOCKET, SO_RCVBUF, 4096, "SO_RCVBUF");
  const std::string data = pattern(1 << 20);

  net::IoStatus status = net::IoStatus::stopped;
  std::thread writer([&] { status = net::send_all(pair.a.get(), data); });
  std::string received;
  char buffer[1000];
  for (int reads = 0; received.size() < data.size(); ++reads) {
    if (reads % 64 == 0) std::this_thread::sleep_for(1ms);  // the slowness, not a sync
    const net::RecvResult got = net::recv_some(pair.b.get(), buffer, 10s);
    ASSERT_EQ(got.status, net::IoStatus::ok) << "after " << received.size() << " bytes";
    received.append(buffer, got.bytes);
  }
  writer.join();
  EXPECT_EQ(status, net::IoStatus::ok);
  EXPECT_TRUE(received == data);
}

TEST(SendAll, ClosedPeerIsAResetNotASignal) {
#ifdef NET_HAVE_MSG_NOSIGNAL
  std::signal(SIGPIPE, SIG_DFL);  // the default would kill this test process
#endif
  Pair pair = stream_pair();
  pair.b.reset();
  EXPECT_EQ(net::send_all(pair.a.get(), "anyone there?"), net::IoStatus::reset);
  EXPECT_EQ(net::send_all(pair.a.get(), pattern(1 << 20)), net::IoStatus::reset);
#ifndef NET_HAVE_MSG_NOSIGNAL
  // The fallback (portable.hpp, make PORTABLE=1): SIGPIPE is ignored from
  // the first send on, for the whole process.
  EXPECT_EQ(std::signal(SIGPIPE, SIG_IGN), SIG_IGN);
#endif
}

TEST(SendAll, TimesOutWhenThePeerNeverReads) {
  Pair pair = stream_pair();
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(net::send_all(pair.a.get(), pattern(8 << 20), 100ms), net::IoStatus::timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST(RecvSome, ReportsEofAsAValue) {
  Pair pair = stream_pair();
  ASSERT_EQ(net::send_all(pair.a.get(), "last words"), net::IoStatus::ok);
  pair.a.reset();
  char buffer[64];
  const net::RecvResult first = net::recv_some(pair.b.get(), buffer, 1s);
  EXPECT_EQ(first.status, net::IoStatus::ok);
  EXPECT_EQ(std::string(buffer, first.bytes), "last words");
  EXPECT_EQ(net::recv_some(pair.b.get(), buffer, 1s).status, net::IoStatus::eof);
}

TEST(RecvSome, TimesOutOnASilentPeer) {
  Pair pair = stream_pair();
  char buffer[64];
  EXPECT_EQ(net::recv_some(pair.b.get(), buffer, 50ms).status, net::IoStatus::timed_out);
}

TEST(RecvSome, SurvivesSignalsThatAreNotStopRequests) {
  struct sigaction action {};
  action.sa_handler = on_usr1;  // no SA_RESTART: the wait sees EINTR
  ::sigaction(SIGUSR1, &action, nullptr);
  Pair pair = stream_pair();
  const pthread_t reader = ::pthread_self();
  std::thread pest([&] {
    for (int i = 0; i < 20; ++i) {
      ::pthread_kill(reader, SIGUSR1);
      std::this_thread::sleep_for(1ms);  // spread the signals over the wait
    }
    net::send_all(pair.a.get(), "after the noise");
  });
  char buffer[64];
  const net::RecvResult got = net::recv_some(pair.b.get(), buffer, 10s);
  pest.join();
  EXPECT_EQ(got.status, net::IoStatus::ok);
  EXPECT_EQ(std::string(buffer, got.bytes), "after the noise");
}

// The stop state is process-wide and the stop thread lives as long as the
// process, so each Stop test runs in a process of its own: a death test,
// re-executed ("threadsafe"), that exits 0 when every check held.
class Stop : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

// Runs `body` in a process of its own, after `install` (one of the
// install_stop_handlers functions), and expects it to exit 0; a hang dies
// of SIGALRM and fails the test.
#define EXPECT_IN_OWN_PROCESS_AFTER(install, ...) \
  EXPECT_EXIT(                                    \
      {                                           \
        ::alarm(10);                              \
        install;                                  \
        __VA_ARGS__;                              \
        std::_Exit(0);                            \
      },                                          \
      ::testing::ExitedWithCode(0), "")
#define EXPECT_IN_OWN_PROCESS(...) \
  EXPECT_IN_OWN_PROCESS_AFTER(net::install_stop_handlers(), __VA_ARGS__)

// Exits 1 with a message if `condition` is false; for code in a death test.
void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "failed: %s\n", what);
    std::_Exit(1);
  }
}

TEST_F(Stop, RequestStopEndsARecvBlockedOnATrackedConnection) {
  EXPECT_IN_OWN_PROCESS({
    Pair pair = stream_pair();
    net::IoStatus in_thread = net::IoStatus::ok;
    std::thread waiter([&] {
      net::ShutDownOnStop tracked(pair.b.get());
      char buffer[8];
      in_thread = net::recv_some(pair.b.get(), buffer).status;  // no timeout, no poll
    });
    std::this_thread::sleep_for(50ms);  // let it block (it works either way)
    net::request_stop();
    waiter.join();
    require(in_thread == net::IoStatus::stopped, "recv_some returned stopped");
    require(net::wait_readable(pair.a.get(), 1s) == net::IoStatus::stopped,
            "the stop pipe stays readable");
  });
}

TEST_F(Stop, RequestStopEndsASendBlockedOnAPeerThatNeverReads) {
  EXPECT_IN_OWN_PROCESS({
    Pair pair = stream_pair();
    net::IoStatus in_thread = net::IoStatus::ok;
    std::thread writer([&] {
      net::ShutDownOnStop tracked(pair.a.get());
      in_thread = net::send_all(pair.a.get(), pattern(8 << 20));  // far more than fits
    });
    std::this_thread::sleep_for(50ms);
    net::request_stop();
    writer.join();
    require(in_thread == net::IoStatus::stopped, "send_all returned stopped");
  });
}

TEST_F(Stop, AConnectionTrackedAfterTheStopIsShutDownAtOnce) {
  EXPECT_IN_OWN_PROCESS({
    net::request_stop();
    Pair pair = stream_pair();
    net::ShutDownOnStop tracked(pair.b.get());
    char buffer[8];
    require(net::recv_some(pair.b.get(), buffer).status == net::IoStatus::stopped,
            "recv_some returned stopped without blocking");
  });
}

TEST_F(Stop, SigtermIsAStopRequestTakenByTheStopThread) {
  EXPECT_IN_OWN_PROCESS({
    Pair pair = stream_pair();
    net::ShutDownOnStop tracked(pair.b.get());
    ::kill(::getpid(), SIGTERM);  // to the process: only the stop thread takes it
    char buffer[8];
    require(net::recv_some(pair.b.get(), buffer).status == net::IoStatus::stopped,
            "recv_some returned stopped");
    require(net::stop_requested(), "stop_requested()");
  });
}

TEST_F(Stop, AForkedChildStopsItsOneConnectionFromItsSignalHandler) {
  EXPECT_IN_OWN_PROCESS({
    net::install_stop_handlers_in_child();  // as 05's child does, after fork
    require(!net::stop_requested(), "a child starts with its own, clear stop");
    Pair pair = stream_pair();
    net::ShutDownOnStop tracked(pair.b.get());
    ::raise(SIGTERM);  // the handler runs now, before recv: the race stop.hpp closes
    char buffer[8];
    require(net::recv_some(pair.b.get(), buffer).status == net::IoStatus::stopped,
            "recv_some returned stopped");
  });
}

// Threads of this process, from /proc/self/task; 0 where there is no /proc.
int threads_in_this_process() {
  DIR* task = ::opendir("/proc/self/task");
  if (task == nullptr) return 0;
  int count = 0;
  while (const dirent* entry = ::readdir(task)) count += entry->d_name[0] != '.';
  ::closedir(task);
  return count;
}

// The wait of a forking server's loops: the stop pipe, through
// poll_letting_stop_in. A function, since the macros above split at commas.
int poll_stop_pipe(int timeout_ms) {
  pollfd stop = {net::stop_fd(), POLLIN, 0};
  return net::poll_letting_stop_in(&stop, 1, timeout_ms);
}

TEST_F(Stop, AForkingServerTakesSigtermInAHandlerAndStartsNoThread) {
  EXPECT_IN_OWN_PROCESS_AFTER(net::install_stop_handlers_single_threaded(), {
    require(threads_in_this_process() <= 1, "one thread: the process may fork");
    ::raise(SIGTERM);  // blocked: pending until the next wait lets it in
    const int n = poll_stop_pipe(1000);
    require(n == 1 || (n == -1 && errno == EINTR), "the wait took the signal");
    require(net::stop_requested(), "the handler set the flag");
    Pair pair = stream_pair();
    require(net::wait_readable(pair.a.get(), 1s) == net::IoStatus::stopped,
            "the stop pipe is readable");
    bool refused = false;
    try {
      const net::OnStop wake([] {});
    } catch (const std::logic_error&) {
      refused = true;
    }
    require(refused, "OnStop refuses: there is no stop thread to run it");
  });
}

// Where the signal may land is the point: outside a wait it stays pending,
// so a fork() in between hands it to no one, and no code of ours (or of a
// sanitizer's runtime) is ever interrupted halfway.
TEST_F(Stop, AForkingServerLetsItsStopSignalsInOnlyInsideItsWaits) {
  EXPECT_IN_OWN_PROCESS_AFTER(net::install_stop_handlers_single_threaded(), {
    sigset_t mask;
    ::pthread_sigmask(SIG_SETMASK, nullptr, &mask);
    require(sigismember(&mask, SIGINT) == 1 && sigismember(&mask, SIGTERM) == 1,
            "SIGINT and SIGTERM are blocked outside the waits");
    ::raise(SIGINT);  // an unblocked signal would run its handler before raise() returns
    require(!net::stop_requested(), "still pending: this is not a wait");
    poll_stop_pipe(1000);
    require(net::stop_requested(), "let in by the wait");
    sigset_t pending;
    sigpending(&pending);
    require(sigismember(&pending, SIGINT) == 0, "taken, not left pending");
  });
}

TEST_F(Stop, AForkedChildTakesItsStopSignalsAnywhere) {
  EXPECT_IN_OWN_PROCESS_AFTER(net::install_stop_handlers_single_threaded(), {
    net::install_stop_handlers_in_child();  // in the child, which must stop in recv/send
    ::raise(SIGTERM);                       // runs the child's handler before raise() returns
    require(net::stop_requested(), "taken at once");
  });
}

// The wait behind poll_letting_stop_in: ppoll, or pselect under PORTABLE=1.
TEST(PollWithMask, ReportsWhatPollReports) {
  Pair pair = stream_pair();
  sigset_t none;
  sigemptyset(&none);
  pollfd fds[3] = {{pair.a.get(), POLLIN, 0}, {-1, POLLIN, 0}, {pair.b.get(), POLLOUT, 0}};
  EXPECT_EQ(net::poll_with_mask(fds, 3, 0, &none), 1);  // b is writable, a has nothing
  EXPECT_EQ(fds[0].revents, 0);
  EXPECT_EQ(fds[1].revents, 0);  // a negative fd is skipped
  EXPECT_TRUE(fds[2].revents & POLLOUT);
  ASSERT_EQ(::send(pair.b.get(), "x", 1, 0), 1);
  fds[2].events = 0;
  EXPECT_EQ(net::poll_with_mask(fds, 3, 1000, &none), 1);
  EXPECT_TRUE(fds[0].revents & POLLIN);
  pollfd idle = {pair.b.get(), POLLIN, POLLIN | POLLHUP};  // revents left from before
  EXPECT_EQ(net::poll_with_mask(&idle, 1, 20, &none), 0);  // timed out
  EXPECT_EQ(idle.revents, 0);  // written on a timeout too, as poll() does
  pair.a.reset();              // the peer hangs up: readable, and recv() reads the EOF
  EXPECT_EQ(net::poll_with_mask(&idle, 1, 1000, &none), 1);
  EXPECT_TRUE(idle.revents & POLLIN);
}
