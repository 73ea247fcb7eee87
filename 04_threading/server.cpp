// 04_threading/server.cpp — one thread per connection: ThreadingMixIn in C++.
//
// Teaches: the synchronous server of 02/03 serves one client at a time, so a
// slow client blocks everyone. Python's fix is a mix-in class that overrides
// one hook, process_request, to run each request in a new thread. C++ can
// write the same mix-in as a class template deriving from its parameter:
// ThreadingMixIn<BaseServer> is Python's ThreadingTCPServer. The mix-in is
// in common/threading_mixin.hpp (chapter 08 mixes it into a UDP server too):
// read it next to this file.
//
// Run:      ./server                    line echo, a thread per client
//           ./server --handler welcome  the notes' welcome / hello / exit protocol
//           ./server --handler chat     every line goes to every other client
//           ./server --unix /tmp/t.sock the same over a Unix stream socket
// Observe:  hold a connection open with half a line (see README) and run
//           ./client fast: it is answered at once. SIGTERM with clients still
//           connected: every thread is woken, joined, and the clients see EOF.
// See also: client.cpp, README.md, ../common/threading_mixin.hpp.

#include <sys/socket.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base_server.hpp"
#include "cli.hpp"
#include "io.hpp"
#include "socket.hpp"
#include "stop.hpp"
#include "stream_handler.hpp"
#include "threading_mixin.hpp"

namespace {

// Python: class ThreadingTCPServer(ThreadingMixIn, TCPServer): pass
using ThreadingTCPServer = net::ThreadingMixIn<net::BaseServer>;

// The notes' ThreadingTCPServer example, framed by lines: "welcome" first,
// then "hello" for every line until the client sends "exit".
class WelcomeHandler : public net::StreamRequestHandler {
 public:
  using StreamRequestHandler::StreamRequestHandler;

  void handle() override {
    const std::string peer = net::to_string(client_address);
    if (wfile.write("welcome\n") != net::IoStatus::ok) return;
    std::string line;
    while (rfile->read_line(line) == net::LineStatus::line) {
      while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
      if (line == "exit") {
        net::log_line(peer + " said exit");
        return;
      }
      net::log_line(peer + " says " + line);
      if (wfile.write("hello\n") != net::IoStatus::ok) return;
    }
  }
};

// The chat room: every line a member sends goes to every other member. The
// member list is the first state in this tutorial that several handler
// threads share, so it gets the first lock: room_mutex_ guards the list.
// Each member also has its own mutex, held while a line is sent to it, so
// two senders never interleave their bytes in one member's stream, and so
// leave() can wait until nobody is writing to a socket about to be closed.
class ChatRoom {
 public:
  struct Member {
    std::mutex sending;
    int fd;  // -1 once the member has left: its socket may be closed
  };

  std::shared_ptr<Member> join(int fd) {
    auto member = std::make_shared<Member>();
    member->fd = fd;
    const std::lock_guard lock(room_mutex_);
    members_.push_back(member);
    return member;
  }

  void leave(const std::shared_ptr<Member>& member) {
    {
      const std::lock_guard lock(room_mutex_);
      std::erase(members_, member);
    }
    const std::lock_guard lock(member->sending);  // waits for a send in progress
    member->fd = -1;
  }

  // Copies the list under the room lock, then sends outside it: a member
  // slow to read holds up the lines sent to it, never the whole room.
  void broadcast(const Member& from, std::string_view line) {
    std::vector<std::shared_ptr<Member>> others;
    {
      const std::lock_guard lock(room_mutex_);
      for (const auto& member : members_) {
        if (member.get() != &from) others.push_back(member);
      }
    }
    for (const auto& member : others) {
      const std::lock_guard lock(member->sending);
      if (member->fd >= 0) net::send_all(member->fd, line);  // a failure is its reader's to see
    }
  }

 private:
  std::mutex room_mutex_;
  std::vector<std::shared_ptr<Member>> members_;
};

ChatRoom room;  // one room per server process, shared by every handler thread

class ChatHandler : public net::StreamRequestHandler {
 public:
  using StreamRequestHandler::StreamRequestHandler;

  void handle() override {
    const std::string peer = net::to_string(client_address);
    const auto me = room.join(request.get());
    net::log_line(peer + " joined the chat");
    struct Leave {  // leave the room however handle() ends, even by a throw
      const std::shared_ptr<ChatRoom::Member>& member;
      const std::string& peer;
      ~Leave() {
        room.leave(member);
        net::log_line(peer + " left the chat");
      }
    } leave{me, peer};
    std::string line;
    while (rfile->read_line(line) == net::LineStatus::line) {
      if (line.back() == '\n') room.broadcast(*me, peer + ": " + line);  // not a cut last line
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  net::Cli cli("server", "Threaded line echo server: one thread per connection (ThreadingMixIn).");
  net::StreamOptions options;
  std::string handler_name = "echo", unix_path;
  net::add_stream_options(cli, options);
  cli.option("--handler", handler_name, "NAME",
             "echo (default), welcome (the notes' protocol) or chat");
  cli.option("--unix", unix_path, "PATH",
             "listen on a Unix stream socket (ThreadingUnixStreamServer)");
  return net::run_main(cli, argc, argv, [&] {
    net::HandlerFactory handler;
    if (handler_name == "echo") {
      handler = net::stream_handler_class<net::LineEchoHandler>(options);
    } else if (handler_name == "welcome") {
      handler = net::stream_handler_class<WelcomeHandler>(options);
    } else if (handler_name == "chat") {
      handler = net::stream_handler_class<ChatHandler>(options);
    } else {
      throw net::UsageError("--handler must be echo, welcome or chat, not '" + handler_name + "'");
    }
    net::install_stop_handlers();

    // ThreadingUnixStreamServer is the same mix-in over the same class: only
    // the address family differs (02's README).
    const net::Endpoint address = unix_path.empty()
                                      ? net::resolve(cli.host, cli.port, SOCK_STREAM, true).front()
                                      : net::unix_endpoint(unix_path);
    ThreadingTCPServer server(address, handler);
    net::announce_listening(server.fileno());

    server.serve_forever();
    return 0;  // ~ThreadingMixIn joins every thread, then ~BaseServer closes
  });
}
