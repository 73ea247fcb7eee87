// 06_thread_pool/server.cpp — a fixed pool of threads serving one listener.
//
// Teaches: 04 and 05 start a thread or a process per connection, so a flood
// of connections starts a flood of threads until memory or the process limit
// runs out. The notes' answer: make one ordinary synchronous server and let
// N pre-started threads all run its serve_forever(). At most N clients are
// served at once; the others wait in the listen backlog, served in turn. The
// thread count never changes.
//
// How the N threads share the one listener (who calls accept(), how the
// others wait) is the pool's one design choice: --accept picks one of four,
// each a short function in accept_strategies.hpp.
//
// Run:      ./server --workers 2 [--accept poll|block|lock|main]
// Observe:  two clients connected and idle (./client with no arguments, in two
//           terminals) take both workers; a third ./client hello waits until
//           one of them leaves. `ls /proc/$(pgrep -n server)/task | wc -l`
//           stays at workers + 2 (main, the stop thread) whatever the load.
// See also: accept_strategies.hpp, client.cpp, README.md, ../common/stop.hpp.

#include <sys/socket.h>

#include <map>
#include <string>

#include "accept_strategies.hpp"
#include "address.hpp"
#include "base_server.hpp"
#include "cli.hpp"
#include "stop.hpp"
#include "stream_handler.hpp"

namespace {

// The flood waits here, not in threads: a deeper backlog than Python's 5,
// so a burst of connections queues in the kernel instead of being refused
// (or, on Linux, having its SYNs dropped and retried a second later).
constexpr int backlog = 128;

// --accept NAME -> the strategy (accept_strategies.hpp: one function each).
const std::map<std::string, void (*)(net::BaseServer&, int)> strategies = {
    {"poll", pool::accept_poll},
    {"block", pool::accept_block},
    {"lock", pool::accept_lock},
    {"main", pool::accept_main},
};

}  // namespace

int main(int argc, char** argv) {
  net::Cli cli("server", "Line echo server run by a fixed pool of worker threads.");
  net::StreamOptions options;
  int workers = 16;  // the notes' NWORKERS
  std::string accept = "block";
  net::add_stream_options(cli, options);
  cli.option("--workers", workers, "N", "threads in the pool (default 16)", 1, 1024);
  cli.option("--accept", accept, "STRATEGY",
             "how the workers share the listener: poll, block (default), lock or main");
  return net::run_main(cli, argc, argv, [&] {
    if (strategies.count(accept) == 0) {
      throw net::UsageError("--accept must be poll, block, lock or main, not '" + accept + "'");
    }
    net::install_stop_handlers();

    const net::Endpoint address = net::resolve(cli.host, cli.port, SOCK_STREAM, true).front();
    // An ordinary synchronous server; bind and listen come after we set the backlog.
    net::BaseServer server(address, net::stream_handler_class<net::LineEchoHandler>(options),
                           /*bind_and_activate=*/false);
    server.request_queue_size = backlog;
    server.server_bind();
    server.server_activate();

    // Python: for n in range(NWORKERS): Thread(target=serv.serve_forever).start()
    // Here the strategy starts the workers, prints the ready line and returns
    // once SIGINT/SIGTERM has ended them all: every blocked accept() and
    // every connection being served is woken (stop.hpp), each worker's loop
    // ends, and the joins complete.
    strategies.at(accept)(server, workers);
    return 0;  // ~BaseServer closes the listener
  });
}
