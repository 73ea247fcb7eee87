// common/base_server.cpp — see base_server.hpp.
#include "base_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "error.hpp"
#include "portable.hpp"
#include "socket.hpp"
#include "stop.hpp"

namespace net {

BaseServer::BaseServer(const Endpoint& server_address, HandlerFactory handler_factory,
                       bool bind_and_activate)
    : socket_(open_socket(server_address.family(), SOCK_STREAM, /*nonblocking=*/true)),
      server_address_(server_address),
      handler_factory_(std::move(handler_factory)) {
  // The listener is non-blocking: serve_forever() polls, then accepts, and a
  // connection gone in between (reset while in the backlog) gives EAGAIN
  // instead of a sleep inside accept() where no stop request could reach
  // it. Chapter 06 makes it blocking on purpose, and stops it another way.
  int fds[2];
  if (pipe_cloexec_nonblock(fds) == -1) throw_error("pipe", "");
  wake_read_.reset(fds[0]);
  wake_write_.reset(fds[1]);
  if (bind_and_activate) {
    server_bind();
    server_activate();
  }
}

BaseServer::~BaseServer() {
  server_close();
}

void BaseServer::server_bind() {
  if (allow_reuse_address) set_int_option(fileno(), SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
  bind_to(fileno(), server_address_);
  server_address_ = local_endpoint(fileno());  // port 0 became a real port
}

void BaseServer::server_activate() {
  listen_on(fileno(), server_address_, request_queue_size);
}

void BaseServer::server_close() {
  if (!socket_) return;
  socket_.reset();
  // A Unix socket leaves a file behind; the next bind() would fail on it.
  if (server_address_.family() == AF_UNIX) {
    const std::string text = to_string(server_address_);
    if (text.size() > 5) ::unlink(text.c_str() + 5);  // skip "unix:"
  }
}

void BaseServer::serve_forever() {
  pollfd fds[4] = {{fileno(), POLLIN, 0},
                   {wake_read_.get(), POLLIN, 0},
                   {stop_fd(), POLLIN, 0},
                   {watch_fd_, POLLIN, 0}};
  for (;;) {
    if (stop_requested()) return;
    const int n = poll_letting_stop_in(fds, 4, -1);
    if (n == -1 && errno == EINTR) continue;
    if (n == -1) throw_error("poll", "");
    if (fds[2].revents != 0) return;  // a signal: the stop pipe stays readable for all
    if (fds[1].revents != 0) {        // shutdown(): take its bytes, so that a later
      char bytes[16];                 // serve_forever() waits again instead of
      while (::read(wake_read_.get(), bytes, sizeof bytes) > 0) {}  // returning at once
      return;
    }
    if (fds[0].revents != 0) handle_request_noblock();
    service_actions();
  }
}

void BaseServer::shutdown() {
  [[maybe_unused]] ssize_t n = ::write(wake_write_.get(), "!", 1);
}

bool BaseServer::handle_request() {
  pollfd fds[2] = {{fileno(), POLLIN, 0}, {stop_fd(), POLLIN, 0}};
  const int ms = timeout ? static_cast<int>(timeout->count()) : -1;
  for (;;) {
    if (stop_requested()) return false;
    const int n = poll_letting_stop_in(fds, 2, ms);
    if (n == -1 && errno == EINTR) continue;
    if (n == -1) throw_error("poll", "");
    if (fds[1].revents != 0) return false;
    if (n == 0) {
      handle_timeout();
      return true;
    }
    if (handle_request_noblock()) return true;
    // Readable but nothing to accept (the client already left): wait again.
  }
}

bool BaseServer::handle_request_noblock() {
  std::optional<Accepted> accepted = get_request();
  if (!accepted) return false;
  verify_and_process(std::move(*accepted));
  return true;
}

std::optional<Accepted> BaseServer::get_request() {
  Accepted accepted;
  accepted.client_address.length = sizeof accepted.client_address.storage;
  // accept4 without SOCK_NONBLOCK (or accept and fcntl: portable.hpp), so
  // the connection is a plain blocking socket whatever the listener is.
  accepted.request.reset(
      accept_cloexec(fileno(), accepted.client_address.addr(), &accepted.client_address.length));
  // Accepted after a stop began: not served. (Where a stop wakes blocked
  // accept()s by connecting to the listener, this is such a connection.)
  if (stop_requested()) return std::nullopt;
  if (accepted.request) return accepted;
  // EAGAIN: another thread took it. ECONNABORTED: the client gave up in
  // the backlog. EMFILE/ENFILE: out of fds, a real problem, but one that
  // must not end the server, nor make it spin: back off.
  const int error = errno;
  if (error == EAGAIN || error == EWOULDBLOCK || error == EINTR || error == ECONNABORTED) {
    return std::nullopt;
  }
  if (error == EINVAL) {  // shut down for a stop whose signal this thread has not seen yet
    listener_shut_down_.store(true);
    return std::nullopt;
  }
  if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM) {
    back_off_from_accept(error);
    return std::nullopt;
  }
  log_line(std::string("error: accept: ") + std::generic_category().message(error));
  return std::nullopt;
}

void BaseServer::verify_and_process(Accepted accepted) {
  // A request that fails verify_request is closed here.
  if (!verify_request(accepted.request, accepted.client_address)) return;
  try {
    process_request(std::move(accepted.request), accepted.client_address);
  } catch (...) {
    handle_error(accepted.client_address, std::current_exception());
  }
}

bool BaseServer::verify_request(const UniqueFd&, const Endpoint&) {
  return true;
}

void BaseServer::process_request(UniqueFd request, const Endpoint& client_address) {
  handle_one(std::move(request), client_address);
}

void BaseServer::finish_request(UniqueFd request, const Endpoint& client_address) {
  std::unique_ptr<RequestHandler> handler =
      handler_factory_(std::move(request), client_address, *this);
  // Until the handler is done, a stop request shuts the connection down: a
  // handler blocked in recv() or send() then returns at once (stop.hpp).
  // Declared after `handler`, so it is gone before the connection closes.
  const ShutDownOnStop tracked(handler->request.get());
  handler->setup();
  try {
    handler->handle();
  } catch (...) {
    handler->finish();
    throw;
  }
  handler->finish();
  // shutdown_request(): the handler owns the connection; destroying it closes it.
}

void BaseServer::handle_one(UniqueFd request, const Endpoint& client_address) {
  try {
    finish_request(std::move(request), client_address);
  } catch (...) {
    handle_error(client_address, std::current_exception());
  }
}

void BaseServer::back_off_from_accept(int error) {
  {
    const std::lock_guard lock(accept_errors_mutex_);
    const auto now = std::chrono::steady_clock::now();
    ++accept_errors_unlogged_;
    if (now - accept_error_logged_ >= std::chrono::seconds(1)) {
      log_line("error: accept: " + std::generic_category().message(error) + " (" +
               std::to_string(accept_errors_unlogged_) + " in the last second; retrying every " +
               std::to_string(accept_backoff.count()) + " ms)");
      accept_error_logged_ = now;
      accept_errors_unlogged_ = 0;
    }
  }
  // Sleep, but wake for a stop (poll ignores the fd -1 before install_stop_handlers).
  pollfd stop = {stop_fd(), POLLIN, 0};
  while (poll_letting_stop_in(&stop, 1, static_cast<int>(accept_backoff.count())) == -1 &&
         errno == EINTR) {}
}

void BaseServer::handle_error(const Endpoint& client_address, const std::exception_ptr& error) {
  std::string what = "unknown exception";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {}
  log_line("error: request from " + to_string(client_address) + ": " + what);
}

void BaseServer::handle_timeout() {
  log_line("timed out: no request within the timeout");
}

}  // namespace net
