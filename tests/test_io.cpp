// tests/test_io.cpp — send_all and recv_some against slow, closed and silent peers.
#include <pthread.h>
#include <sys/socket.h>

#include <chrono>
#include <csignal>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "fd.hpp"
#include "io.hpp"
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
  std::signal(SIGPIPE, SIG_DFL);  // the default would kill this test process
  Pair pair = stream_pair();
  pair.b.reset();
  EXPECT_EQ(net::send_all(pair.a.get(), "anyone there?"), net::IoStatus::reset);
  EXPECT_EQ(net::send_all(pair.a.get(), pattern(1 << 20)), net::IoStatus::reset);
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

TEST(Stop, RequestStopWakesEveryWaitAndReinstallClearsIt) {
  net::install_stop_handlers();
  Pair pair = stream_pair();
  net::IoStatus in_thread = net::IoStatus::ok;
  std::thread waiter([&] {
    char buffer[8];
    in_thread = net::recv_some(pair.b.get(), buffer).status;  // no timeout: only stop ends it
  });
  net::request_stop();
  waiter.join();
  EXPECT_EQ(in_thread, net::IoStatus::stopped);
  EXPECT_TRUE(net::stop_requested());
  EXPECT_EQ(net::wait_readable(pair.b.get()), net::IoStatus::stopped);  // stays stopped

  net::install_stop_handlers();  // what a child does after fork
  EXPECT_FALSE(net::stop_requested());
  EXPECT_EQ(net::wait_readable(pair.b.get(), 10ms), net::IoStatus::timed_out);
}

TEST(Stop, SigtermIsAStopRequest) {
  net::install_stop_handlers();
  ::raise(SIGTERM);
  EXPECT_TRUE(net::stop_requested());
  net::install_stop_handlers();
  std::signal(SIGTERM, SIG_DFL);
  std::signal(SIGINT, SIG_DFL);
}
