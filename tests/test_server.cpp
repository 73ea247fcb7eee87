// tests/test_server.cpp — BaseServer's hooks: handle_request, timeout, errors, shutdown,
// get_request / verify_and_process, and waking the accept()s of a pool.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base_server.hpp"
#include "io.hpp"
#include "socket.hpp"

namespace {

using namespace std::chrono_literals;

std::atomic<int> g_finished{0};

// Echoes one read, then finishes; throws if the client sends "boom".
class OneShot : public net::RequestHandler {
 public:
  using RequestHandler::RequestHandler;
  void handle() override {
    char buffer[64];
    const net::RecvResult got = net::recv_some(request.get(), buffer, 5s);
    const std::string text(buffer, got.bytes);
    if (text == "boom") throw std::runtime_error("the handler failed");
    net::send_all(request.get(), text);
  }
  void finish() override { ++g_finished; }
};

// Echoes one read, then asks its server to stop: shutdown() from a handler.
class StopAfterOne : public net::RequestHandler {
 public:
  using RequestHandler::RequestHandler;
  void handle() override {
    char buffer[64];
    const net::RecvResult got = net::recv_some(request.get(), buffer, 5s);
    net::send_all(request.get(), {buffer, got.bytes});
    server.shutdown();
  }
};

class CountingServer : public net::BaseServer {
 public:
  using BaseServer::BaseServer;
  int timeouts = 0, errors = 0;

 protected:
  void handle_timeout() override { ++timeouts; }
  void handle_error(const net::Endpoint&, const std::exception_ptr&) override { ++errors; }
};

net::Endpoint loopback_any_port() {
  return net::resolve("127.0.0.1", 0, SOCK_STREAM, true).front();
}

std::string ask(const net::BaseServer& server, const std::string& text) {
  net::UniqueFd conn = net::connect_to(server.server_address());
  net::send_all(conn.get(), text);
  char buffer[64];
  const net::RecvResult got = net::recv_some(conn.get(), buffer, 5s);
  return got.status == net::IoStatus::ok ? std::string(buffer, got.bytes) : "";
}

}  // namespace

TEST(BaseServer, BindsToARealPortWhenAskedForZero) {
  CountingServer server(loopback_any_port(), net::handler_class<OneShot>());
  EXPECT_NE(net::to_string(server.server_address()), "127.0.0.1:0");
  EXPECT_EQ(net::to_string(server.server_address()),
            net::to_string(net::local_endpoint(server.fileno())));
}

TEST(BaseServer, HandleRequestServesOneClient) {
  CountingServer server(loopback_any_port(), net::handler_class<OneShot>());
  std::string reply;
  std::thread client([&] { reply = ask(server, "hi"); });
  const int finished_before = g_finished;
  EXPECT_TRUE(server.handle_request());
  client.join();
  EXPECT_EQ(reply, "hi");
  EXPECT_EQ(g_finished, finished_before + 1);
}

TEST(BaseServer, HandleRequestCallsHandleTimeoutWhenNobodyComes) {
  CountingServer server(loopback_any_port(), net::handler_class<OneShot>());
  server.timeout = 50ms;
  EXPECT_TRUE(server.handle_request());
  EXPECT_EQ(server.timeouts, 1);
}

TEST(BaseServer, AFailingHandlerGoesToHandleErrorAndFinishStillRuns) {
  CountingServer server(loopback_any_port(), net::handler_class<OneShot>());
  const int finished_before = g_finished;
  std::thread client([&] { ask(server, "boom"); });
  server.handle_request();
  client.join();
  EXPECT_EQ(server.errors, 1);
  EXPECT_EQ(g_finished, finished_before + 1);
}

TEST(BaseServer, ShutdownFromAnotherThreadEndsServeForever) {
  CountingServer server(loopback_any_port(), net::handler_class<OneShot>());
  std::thread loop([&] { server.serve_forever(); });
  EXPECT_EQ(ask(server, "one"), "one");
  EXPECT_EQ(ask(server, "two"), "two");
  server.shutdown();
  loop.join();  // returns: otherwise this test hangs (ctest/gtest would time out)
}

TEST(BaseServer, ServeForeverServesAgainAfterShutdown) {
  CountingServer server(loopback_any_port(), net::handler_class<OneShot>());
  std::thread first([&] { server.serve_forever(); });
  EXPECT_EQ(ask(server, "one"), "one");
  server.shutdown();
  first.join();
  // The shutdown request was used up: this loop must serve, not return at once.
  std::thread second([&] { server.serve_forever(); });
  EXPECT_EQ(ask(server, "again"), "again");
  server.shutdown();
  second.join();
}

TEST(BaseServer, ShutdownFromAHandlerEndsServeForeverAfterThatRequest) {
  CountingServer server(loopback_any_port(), net::handler_class<StopAfterOne>());
  std::thread loop([&] { server.serve_forever(); });  // Python would deadlock here
  EXPECT_EQ(ask(server, "last"), "last");
  loop.join();
}

TEST(BaseServer, WithoutBindAndActivateNothingIsBoundYet) {
  CountingServer server(loopback_any_port(), net::handler_class<OneShot>(), false);
  EXPECT_EQ(net::to_string(net::local_endpoint(server.fileno())), "0.0.0.0:0");
  server.allow_reuse_address = true;
  server.server_bind();
  server.server_activate();
  EXPECT_EQ(net::get_int_option(server.fileno(), SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR"), 1);
  EXPECT_NO_THROW(net::connect_to(server.server_address()));  // listening now
}

TEST(BaseServer, UnixServerRemovesItsSocketFileOnClose) {
  const std::string path =
      ::testing::TempDir() + "/server_test_" + std::to_string(::getpid()) + ".sock";
  {
    CountingServer server(net::unix_endpoint(path), net::handler_class<OneShot>());
    EXPECT_EQ(::access(path.c_str(), F_OK), 0);
  }
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
}

TEST(BaseServer, GetRequestAndVerifyAndProcessAreTheTwoHalvesOfOneRequest) {
  CountingServer server(loopback_any_port(), net::handler_class<OneShot>());
  std::string reply;
  std::thread client([&] { reply = ask(server, "halves"); });
  std::optional<net::Accepted> accepted;
  while (!accepted) {  // the listener is non-blocking: wait for the client
    ASSERT_EQ(net::wait_readable(server.fileno(), 5s), net::IoStatus::ok);
    accepted = server.get_request();
  }
  EXPECT_EQ(net::to_string(accepted->client_address),
            net::to_string(net::peer_endpoint(accepted->request.get())));
  server.verify_and_process(std::move(*accepted));  // serves it, then closes it
  client.join();
  EXPECT_EQ(reply, "halves");
}

TEST(BaseServer, GetRequestOnAnEmptyNonBlockingListenerIsNothing) {
  CountingServer server(loopback_any_port(), net::handler_class<OneShot>());
  EXPECT_FALSE(server.get_request().has_value());  // EAGAIN: no client, no log
  EXPECT_FALSE(server.listener_shut_down());
}

// `count` threads blocked in server.get_request(), as a pool's workers are.
// Each serves the connection it accepts, if any, and counts itself out. As
// a worker does, each tries again after a failed accept() (out of
// descriptors: the test below took the last free one for an instant while
// a thread entered accept(), which failed with EMFILE; seen once under
// TSan), until it has a connection or the listener is shut down.
struct AcceptWaiters {
  AcceptWaiters(CountingServer& server, int count) {
    for (int i = 0; i < count; ++i) {
      threads.emplace_back([this, &server] {
        std::optional<net::Accepted> accepted;
        while (!(accepted = server.get_request()) && !server.listener_shut_down()) {}
        if (accepted) {
          ++accepted_one;
          server.verify_and_process(std::move(*accepted));
        }
        ++returned;
      });
    }
  }
  void join() {
    for (std::thread& thread : threads) thread.join();  // hangs if one was not woken
  }
  std::atomic<int> returned{0}, accepted_one{0};
  std::vector<std::thread> threads;
};

TEST(WakeBlockedAccepts, EndsEveryThreadBlockedInAccept) {
  CountingServer server(loopback_any_port(), net::handler_class<OneShot>());
  net::set_blocking(server.fileno(), true);
  // Blocked in accept() until woken: by shutdown() (EINVAL, Linux) or by
  // one of the connections the fallback makes (served, then done).
  AcceptWaiters waiters(server, 4);
  std::this_thread::sleep_for(50ms);  // likely all in accept() by now; correct either way
  net::wake_blocked_accepts(server.fileno(), 4);
  waiters.join();
  EXPECT_EQ(waiters.returned, 4);
#if defined(__linux__) && !defined(NET_PORTABLE)
  EXPECT_TRUE(server.listener_shut_down());  // Linux: every accept() failed EINVAL
  EXPECT_EQ(waiters.accepted_one, 0);
#endif
}

// The macOS/BSD way, run on Linux too: no shutdown(), one connection per
// waiter. Each thread's accept() returns a connection (not EINVAL), which
// the waker has already closed: the handler reads EOF and returns.
TEST(WakeByConnecting, EndsEveryThreadBlockedInAcceptWithoutAShutdown) {
  CountingServer server(loopback_any_port(), net::handler_class<OneShot>());
  net::set_blocking(server.fileno(), true);
  AcceptWaiters waiters(server, 4);
  std::this_thread::sleep_for(50ms);  // likely all in accept() by now; correct either way
  net::wake_by_connecting(server.fileno(), 4);
  waiters.join();
  EXPECT_EQ(waiters.returned, 4);
  EXPECT_FALSE(server.listener_shut_down());  // woken by connections, not by shutdown()
  EXPECT_EQ(waiters.accepted_one, 4);
}

// Lowers the descriptor limit so that exactly `free` numbers are left.
void leave_free_descriptors(int free) {
  int number = 0;
  for (int found = 0; found < free; ++number) found += ::fcntl(number, F_GETFD) == -1;
  const rlimit limit{static_cast<rlim_t>(number), static_cast<rlim_t>(number)};
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

// The stop of a pool out of descriptors: on Linux, a thread blocked in
// accept() has already reserved the number its connection will get, so
// four such threads with four numbers free leave none for the connections
// that must wake them, but the spare's. Exits 0 if every thread was woken;
// a hang dies of SIGALRM (without the spare it does, after 10 s: checked).
// Linux only: where a blocked accept() reserves no number (not checked on
// the BSDs or macOS), socket() never fails below and the test would hang.
#ifdef __linux__
TEST(WakeByConnecting, WakesThreadsWhoseAcceptsHoldEveryFreeDescriptor) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        ::alarm(10);
        CountingServer server(loopback_any_port(), net::handler_class<OneShot>());
        net::set_blocking(server.fileno(), true);
        net::UniqueFd spare = net::reserve_descriptor();  // before any accept() blocks
        leave_free_descriptors(4);
        AcceptWaiters waiters(server, 4);
        // Synchronise on the kernel's own state: socket() fails with EMFILE
        // once all four accept()s are blocked, each holding its number.
        for (int fd; (fd = ::socket(AF_INET, SOCK_STREAM, 0)) != -1;) {
          ::close(fd);
          std::this_thread::sleep_for(1ms);
        }
        net::wake_by_connecting(server.fileno(), 4, &spare);  // without the spare: a hang
        waiters.join();
        std::_Exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}
#endif  // __linux__
