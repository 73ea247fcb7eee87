// 06_thread_pool/server.cpp — a fixed pool of threads serving one listener.
//
// Teaches: 04 and 05 start a thread or a process per connection, so a flood
// of connections starts a flood of threads until memory or the process limit
// runs out. The notes' answer: make one ordinary synchronous server and let
// N pre-started threads all run its serve_forever(). At most N clients are
// served at once; the others wait in the listen backlog, served in turn. The
// thread count never changes.
//
// Run:      ./server --workers 2
// Observe:  two clients connected and idle (./client with no arguments, in two
//           terminals) take both workers; a third ./client hello waits until
//           one of them leaves. `ls /proc/$(pgrep -n server)/task | wc -l`
//           stays at workers + 2 (main, the stop thread) whatever the load.
// See also: client.cpp, README.md, ../common/stop.hpp (OnStop).

#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "address.hpp"
#include "base_server.hpp"
#include "cli.hpp"
#include "portable.hpp"
#include "socket.hpp"
#include "stop.hpp"
#include "stream_handler.hpp"

namespace {

// The flood waits here, not in threads: a deeper backlog than Python's 5,
// so a burst of connections queues in the kernel instead of being refused
// (or, on Linux, having its SYNs dropped and retried a second later).
constexpr int backlog = 128;

}  // namespace

int main(int argc, char** argv) {
  net::Cli cli("server", "Line echo server run by a fixed pool of worker threads.");
  net::StreamOptions options;
  int workers = 16;  // the notes' NWORKERS
  net::add_stream_options(cli, options);
  cli.option("--workers", workers, "N", "threads in the pool (default 16)", 1, 1024);
  return net::run_main(cli, argc, argv, [&] {
    net::install_stop_handlers();

    const net::Endpoint address = net::resolve(cli.host, cli.port, SOCK_STREAM, true).front();
    // An ordinary synchronous server; bind and listen come after we set the backlog.
    net::BaseServer server(address, net::stream_handler_class<net::LineEchoHandler>(options),
                           /*bind_and_activate=*/false);
    server.request_queue_size = backlog;
    server.server_bind();
    server.server_activate();

    // Python: for n in range(NWORKERS): Thread(target=serv.serve_forever).start()
    // Here each worker blocks in accept() itself, on a *blocking* listener:
    // Linux then wakes one waiting worker per connection. (serve_forever
    // would poll() first, and a poll() wakes every idle worker: the
    // thundering herd, README.) handle_request_noblock keeps Python's name;
    // its accept() waits here because the listener blocks.
    net::set_blocking(server.fileno(), true);
    // To stop, shut the listener down: on Linux every accept() blocked on it
    // fails at once (EINVAL). Elsewhere shutdown() of a listener fails
    // (ENOTCONN) and wakes nobody, so we connect to ourselves once per
    // worker instead: each such connection wakes one accept().
    const net::OnStop wake([&server, workers] {
      if (::shutdown(server.fileno(), SHUT_RDWR) == 0) return;
      const net::Endpoint self = net::reachable_endpoint(server.fileno());
      for (int i = 0; i < workers; ++i) {
        const int fd = net::socket_cloexec(self.family(), SOCK_STREAM, /*nonblocking=*/true);
        if (fd == -1) break;
        ::connect(fd, self.addr(), self.length);  // queued in the backlog, even unfinished
        ::close(fd);
      }
    });
    // lab: start the pool of workers, announce, join them
    auto work = [&server] {
      while (!net::stop_requested()) server.handle_request_noblock();
    };
    std::vector<std::thread> pool;
    try {
      for (int i = 0; i < workers; ++i) pool.emplace_back(work);
    } catch (...) {  // no more threads to be had: stop the ones we started
      net::request_stop();
      for (std::thread& worker : pool) worker.join();
      throw;
    }
    net::announce_listening(server.fileno());  // ready: the whole pool is waiting

    // SIGINT/SIGTERM: the listener is shut down (every accept() returns) and
    // so is every connection being served (every handler returns).
    for (std::thread& worker : pool) worker.join();
    // lab: end
    return 0;
  });
}
