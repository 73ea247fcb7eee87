// common/line_client.cpp — see line_client.hpp.
#include "line_client.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cerrno>
#include <iostream>
#include <stdexcept>
#include <vector>

#include "address.hpp"
#include "cli.hpp"
#include "error.hpp"
#include "io.hpp"
#include "socket.hpp"

namespace net {

LineClient::LineClient(UniqueFd conn)
    : conn_(std::move(conn)),
      server_(to_string(peer_endpoint(conn_.get()))),
      replies_(conn_.get()) {}

void LineClient::send_line(const std::string& message, bool split) {
  const bool sent = split ? send_all(conn_.get(), message) == IoStatus::ok &&
                                send_all(conn_.get(), "\n") == IoStatus::ok
                          : send_all(conn_.get(), message + "\n") == IoStatus::ok;
  if (!sent) throw_error("send", server_, ECONNRESET);
}

std::string LineClient::read_line() {
  std::string reply;
  const LineStatus status = replies_.read_line(reply);
  if (status == LineStatus::reset) throw_error("recv", server_, ECONNRESET);
  if (status != LineStatus::line || reply.empty() || reply.back() != '\n') {
    throw std::runtime_error("recv " + server_ + ": the server closed the connection");
  }
  return reply;
}

std::string LineClient::ask(const std::string& message, bool split) {
  send_line(message, split);
  return read_line();
}

int line_client_main(int argc, char** argv) {
  Cli cli("client", "Send each MESSAGE as a line and print the line that comes back.");
  std::vector<std::string> messages;
  bool split = false, nodelay = false;
  cli.flag("--split", split, "send each line in two writes: the text, then the newline");
  cli.flag("--nodelay", nodelay, "set TCP_NODELAY on the connection (no Nagle)");
  cli.rest("MESSAGE", messages, "sent with a newline; with none, each line of standard input");
  return run_main(cli, argc, argv, [&] {
    LineClient client(connect_to(cli.host, cli.port));
    if (nodelay) set_int_option(client.fd(), IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
    for_each_message(messages, [&](const std::string& message) {
      std::cout << client.ask(message, split) << std::flush;  // the reply keeps its newline
    });
    return 0;
  });
}

}  // namespace net
