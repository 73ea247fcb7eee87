// common/portable.hpp — five Linux conveniences, and their POSIX fallbacks.
//
// Teaches: what is POSIX and what is not. accept4(), pipe2(), SOCK_CLOEXEC
// and SOCK_NONBLOCK in socket(), and send()'s MSG_NOSIGNAL are Linux (and
// BSD) extensions; macOS lacks the first three, older SDKs the last too.
// ppoll() is Linux and BSD (and POSIX only since 2024); macOS has pselect().
// Each saves a system call, and the first three set close-on-exec *in the
// same call* that makes the
// descriptor, so a fork()+exec() in another thread can never inherit it in
// between (with socket() then fcntl(), it can). Where a probe in the build
// (common/probes/, common/build.mk) finds the extension, NET_HAVE_* is
// defined and it is used; elsewhere the POSIX calls do the same work in
// two steps. `make PORTABLE=1` defines none, so the fallbacks are built and
// the whole suite runs on them, on Linux too.
//
//   int fd = net::accept_cloexec(listener, addr, &length);   // accept4 or accept+fcntl
//   ::send(fd, data, size, net::nosignal_flag());            // MSG_NOSIGNAL or 0
//
// See also: README.md ("Portability"), 01_raw_socket_echo/README.md.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <csignal>

namespace net {

// socket(family, type) with close-on-exec set (and O_NONBLOCK if `nonblocking`):
// SOCK_CLOEXEC | SOCK_NONBLOCK in the type, or socket() then fcntl().
// Returns the descriptor, or -1 with errno set, like socket().
int socket_cloexec(int family, int type, bool nonblocking = false);

// socketpair(family, type) with close-on-exec set on both ends (chapter
// 05's descriptor passing): SOCK_CLOEXEC in the type, or socketpair() then
// fcntl() on each end. -1 with errno, like socketpair().
int socketpair_cloexec(int family, int type, int fds[2]);

// accept() whose new descriptor is close-on-exec (and blocking): accept4(...,
// SOCK_CLOEXEC), or accept() then fcntl(). -1 with errno, like accept().
int accept_cloexec(int listener, sockaddr* address, socklen_t* length);

// A pipe whose two ends are close-on-exec and non-blocking: pipe2(), or
// pipe() then fcntl() on each end. -1 with errno, like pipe().
int pipe_cloexec_nonblock(int fds[2]);

// The flags for a send() that must not raise SIGPIPE when the peer has gone
// (the call fails with EPIPE instead): MSG_NOSIGNAL where send() has it.
// Elsewhere 0, and the first call sets SIGPIPE to be ignored in the whole
// process, the one fallback every POSIX system has (macOS's per-socket
// SO_NOSIGPIPE would need setting on every socket, accepted ones too).
int nosignal_flag();

// poll() with the signal mask `during` in place for the wait only, swapped
// in and back out by the kernel in the same call, so a signal `during` lets
// in can arrive only while the call waits (chapter 05's parent, stop.hpp).
// ppoll(), or pselect() with the same descriptors as fd_sets (descriptors
// below FD_SETSIZE; POLLIN and POLLOUT only: there a hang-up or an error
// shows as POLLIN or POLLOUT, and the call that follows returns it).
// Returns like poll(), and writes every revents, on a timeout too.
int poll_with_mask(pollfd* fds, nfds_t count, int timeout_ms, const sigset_t* during);

}  // namespace net
