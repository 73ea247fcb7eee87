// 04_threading/client.cpp — a line client, and the notes' welcome protocol.
//
// Teaches: nothing new on the client side for the echo (it is chapter 03's
// LineClient). With --welcome it speaks the protocol of the notes'
// ThreadingTCPServer example: read the greeting, send each MESSAGE and print
// the answer, then say "exit" so the server ends the conversation.
//
// With --chat it is the notes' two-thread chat client, made to exit: one
// thread copies the keyboard (standard input) to the socket, the other
// copies the socket to the screen, and either side can end the session.
//
// Run:      ./client one two                   (against ./server)
//           ./client --welcome hi there        (against ./server --handler welcome)
//           ./client --chat                    (against ./server --handler chat)
// Observe:  "welcome", then "hello" per message. In a chat, Ctrl-D ends what
//           you send; the session ends when the server has closed its side.
// See also: server.cpp, README.md, ../common/line_client.hpp.

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "address.hpp"
#include "cli.hpp"
#include "error.hpp"
#include "fd.hpp"
#include "io.hpp"
#include "line_client.hpp"
#include "socket.hpp"

namespace {

// The notes' chat "cannot exit properly"; this one ends from either side:
//  - you are done (end of standard input): the sender half-closes with
//    shutdown(SHUT_WR), the server sees EOF and closes, the receiver sees
//    EOF, both threads return;
//  - the server is done: the receiver sees EOF and writes a byte into
//    `peer_gone`, which the sender polls beside standard input. A thread
//    blocked in read(0) could not be woken otherwise.
// Standard input is read with read(2), not std::cin: poll() sees the
// descriptor, not the bytes std::cin may already hold in its buffer.
int chat(const net::UniqueFd& conn) {
  const std::string server = net::to_string(net::peer_endpoint(conn.get()));
  int ends[2];
  if (::pipe(ends) != 0) net::throw_error("pipe", "");
  const net::UniqueFd peer_gone_read(ends[0]), peer_gone_write(ends[1]);

  net::IoStatus received = net::IoStatus::ok;
  std::thread receiver([&] {
    std::array<char, 4096> buffer;
    net::RecvResult got;
    while ((got = net::recv_some(conn.get(), buffer)).status == net::IoStatus::ok) {
      std::cout.write(buffer.data(), static_cast<std::streamsize>(got.bytes)) << std::flush;
    }
    received = got.status;
    const char byte = 0;
    (void)!::write(peer_gone_write.get(), &byte, 1);  // a pipe with room: cannot fail
  });
  net::IoStatus sent = net::IoStatus::ok;
  std::thread sender([&] {
    std::array<char, 4096> buffer;
    for (;;) {
      pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {peer_gone_read.get(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        sent = net::IoStatus::reset;
        return;
      }
      if (fds[1].revents != 0) return;  // the server closed: nobody to talk to
      const ssize_t n = ::read(STDIN_FILENO, buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::shutdown(conn.get(), SHUT_WR);  // "I am done sending"; we still read
        return;
      }
      sent = net::send_all(conn.get(), std::string_view(buffer.data(), static_cast<size_t>(n)));
      if (sent != net::IoStatus::ok) return;
    }
  });
  sender.join();
  receiver.join();
  if (received == net::IoStatus::reset) net::throw_error("recv", server, ECONNRESET);
  if (sent != net::IoStatus::ok) net::throw_error("send", server, ECONNRESET);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  net::Cli cli("client", "Send each MESSAGE as a line and print the line that comes back.");
  bool welcome = false, chatting = false;
  std::string unix_path;
  std::vector<std::string> messages;
  cli.flag("--welcome", welcome,
           "speak the welcome/hello/exit protocol (server --handler welcome)");
  cli.flag("--chat", chatting, "two threads: standard input to the server, the server to stdout");
  cli.option("--unix", unix_path, "PATH", "connect to a Unix stream socket instead of TCP");
  cli.rest("MESSAGE", messages, "sent with a newline; with none, each line of standard input");
  return net::run_main(cli, argc, argv, [&] {
    if (chatting && (welcome || !messages.empty())) {
      throw net::UsageError("--chat reads standard input only");
    }
    net::UniqueFd conn = unix_path.empty() ? net::connect_to(cli.host, cli.port)
                                           : net::connect_to(net::unix_endpoint(unix_path));
    if (chatting) return chat(conn);
    net::LineClient client(std::move(conn));
    if (welcome) std::cout << client.read_line() << std::flush;
    net::for_each_message(messages, [&](const std::string& message) {
      std::cout << client.ask(message) << std::flush;
    });
    if (welcome) client.send_line("exit");
    return 0;
  });
}
