// common/base_server.hpp — Python's socketserver shape in C++.
//
// Teaches (chapter 02): a server is two objects. The *server* owns the
// listening socket and decides when and where a request is handled; the
// *request handler* is made fresh for each connection and holds what to do
// with it. The names are Python's, so the notes read straight across:
//
//   serve_forever()                  loop: wait -> get_request -> verify_request
//     -> process_request             (the hook 04/05/06 override: thread, fork...)
//       -> finish_request            makes the handler: setup(), handle(), finish()
//       -> shutdown_request          closes the connection
//     handle_error() if anything threw; the loop goes on
//
// process_request is synchronous here: one request at a time. The threading,
// forking and pool policies are the lessons of chapters 04-06 and live there.
//
// Stopping: serve_forever() returns when SIGINT/SIGTERM arrive (stop.hpp) or
// shutdown() is called from another thread. Python's serve_forever polls
// every poll_interval seconds; ours sleeps in poll() on the listener and the
// two wake-up pipes, so it reacts at once and burns no CPU while idle.
//
// See also: 02_sync_server/README.md (the mapping table), tests/test_server.cpp.
#pragma once

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "address.hpp"
#include "fd.hpp"

namespace net {

class BaseServer;

// BaseRequestHandler: one object per request, built with the request (the
// connected socket), the client's address and the server.
class RequestHandler {
 public:
  // The members keep Python's attribute names (self.request, ...), public as
  // in Python, so a handler reads like the notes.
  RequestHandler(UniqueFd conn, const Endpoint& peer, BaseServer& owner)
      : request(std::move(conn)), client_address(peer), server(owner) {}
  virtual ~RequestHandler() = default;

  virtual void setup() {}
  virtual void handle() = 0;
  virtual void finish() {}

  UniqueFd request;  // the connection: owned here, closed by shutdown_request
  const Endpoint client_address;
  BaseServer& server;
};

// What Python gets from the handler *class*: a way to build one handler.
using HandlerFactory =
    std::function<std::unique_ptr<RequestHandler>(UniqueFd, const Endpoint&, BaseServer&)>;

// What get_request() returns: Python's (request, client_address) pair.
struct Accepted {
  UniqueFd request;
  Endpoint client_address;
};

// handler_class<EchoHandler>() is the C++ for passing the class EchoHandler.
template <typename Handler>
HandlerFactory handler_class() {
  return [](UniqueFd request, const Endpoint& client, BaseServer& server) {
    return std::make_unique<Handler>(std::move(request), client, server);
  };
}

// TCPServer and UnixStreamServer in one class: the address family decides.
class BaseServer {
 public:
  using Request = UniqueFd;  // one request is one connection (a mix-in's view)

  // Creates the socket; with bind_and_activate, also binds and listens
  // (Python's TCPServer(server_address, RequestHandlerClass, bind_and_activate)).
  BaseServer(const Endpoint& server_address, HandlerFactory handler_factory,
             bool bind_and_activate = true);
  virtual ~BaseServer();  // server_close(): the C++ for Python's `with` block
  BaseServer(const BaseServer&) = delete;
  BaseServer& operator=(const BaseServer&) = delete;

  void server_bind();      // bind(), then learn the real address (port 0 -> a port)
  void server_activate();  // listen(request_queue_size)
  void server_close();     // close the listener; remove a Unix socket file

  // Handles requests until SIGINT/SIGTERM or shutdown().
  void serve_forever();
  // Asks serve_forever() to return once the request it is handling (if any)
  // is done, and returns at once, from any thread, a handler included.
  // Python's shutdown() also *waits* until serve_forever has returned, which
  // is why calling it from a handler in serve_forever's own thread deadlocks
  // there; ours does not wait. serve_forever() may be called again after.
  void shutdown();
  // Waits up to `timeout` for one request and handles it; if none comes,
  // calls handle_timeout(). Returns false if stopped by a signal instead.
  bool handle_request();
  // Python's _handle_request_noblock: accept one connection (if any) and
  // process it; false if there was none. On a listener made blocking, the
  // accept() waits: chapter 06's workers call it in a loop.
  bool handle_request_noblock();
  // Its two halves, for a caller that accepts in one place and serves in
  // another (chapter 06's strategies: accept under a lock, or in the main
  // thread). get_request(): accept one connection, or nothing (another
  // thread took it, the client left, a stop, out of descriptors: backed
  // off). verify_and_process(): verify_request, then process_request, its
  // errors logged by handle_error; the connection closes when it returns.
  std::optional<Accepted> get_request();
  void verify_and_process(Accepted accepted);
  // True once accept() has failed with EINVAL: the listener was shut down
  // (a stop, in another thread or, for a pre-forked pool, another process).
  bool listener_shut_down() const noexcept { return listener_shut_down_.load(); }

  int fileno() const noexcept { return socket_.get(); }
  const Endpoint& server_address() const noexcept { return server_address_; }

  // Class attributes in Python; set them before server_bind/serve_forever.
  // SO_REUSEADDR before bind (chapter 07). On here, unlike Python's TCPServer
  // (False; http.server's HTTPServer sets it True): a server can restart at
  // once while connections it closed sit in TIME_WAIT (01's README).
  bool allow_reuse_address = true;
  int request_queue_size = 5;                        // the listen() backlog
  std::optional<std::chrono::milliseconds> timeout;  // for handle_request only
  // How long to wait before accepting again when out of descriptors.
  std::chrono::milliseconds accept_backoff{100};

 protected:
  // The hooks, as in Python. Override them to change the policy.
  virtual bool verify_request(const UniqueFd& request, const Endpoint& client_address);
  virtual void process_request(UniqueFd request, const Endpoint& client_address);
  virtual void handle_error(const Endpoint& client_address, const std::exception_ptr& error);
  virtual void handle_timeout();
  // Python's service_actions(): serve_forever calls it after each wake-up.
  // Python wakes every poll_interval; ours wakes on a request, or when
  // watch_fd_ (if a subclass sets one, e.g. a SIGCHLD pipe) is readable.
  virtual void service_actions() {}

  // Builds the handler and runs setup/handle/finish (finish runs even if
  // handle throws). The connection is closed when this returns.
  void finish_request(UniqueFd request, const Endpoint& client_address);
  // finish_request wrapped in "log and carry on": what a server runs per request.
  void handle_one(UniqueFd request, const Endpoint& client_address);

  UniqueFd socket_;    // the listening socket
  int watch_fd_ = -1;  // another fd for serve_forever to wait on (lent, not owned)

 private:
  // accept() failed for want of a descriptor or of memory (EMFILE, ENFILE,
  // ENOBUFS, ENOMEM). The connection stays in the backlog and the listener
  // stays readable, so retrying at once would spin at a full core, logging
  // each time. Instead: log at most once a second (with a count), and wait
  // `accept_backoff` (or until a stop) before accepting again. Thread-safe:
  // chapter 06's workers all land here at once.
  void back_off_from_accept(int error);

  Endpoint server_address_;
  HandlerFactory handler_factory_;
  UniqueFd wake_read_, wake_write_;  // shutdown() writes here
  std::atomic<bool> listener_shut_down_{false};
  std::mutex accept_errors_mutex_;
  std::chrono::steady_clock::time_point accept_error_logged_{};
  long accept_errors_unlogged_ = 0;
};

}  // namespace net
