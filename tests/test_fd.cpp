// tests/test_fd.cpp — UniqueFd: move-only, and the destructor closes; portable.hpp's fds.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <type_traits>

#include <gtest/gtest.h>

#include "fd.hpp"
#include "portable.hpp"

namespace {

bool is_open(int fd) {
  return ::fcntl(fd, F_GETFD) != -1;
}

int new_fd() {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  ::close(fds[1]);
  return fds[0];
}

}  // namespace

TEST(UniqueFd, IsMoveOnly) {
  static_assert(!std::is_copy_constructible_v<net::UniqueFd>);
  static_assert(!std::is_copy_assignable_v<net::UniqueFd>);
  static_assert(std::is_nothrow_move_constructible_v<net::UniqueFd>);
  static_assert(std::is_nothrow_move_assignable_v<net::UniqueFd>);
}

TEST(UniqueFd, DestructorCloses) {
  const int raw = new_fd();
  {
    net::UniqueFd fd{raw};
    EXPECT_TRUE(is_open(raw));
  }
  EXPECT_FALSE(is_open(raw));
}

TEST(UniqueFd, MoveHandsOverOwnership) {
  const int raw = new_fd();
  net::UniqueFd a{raw};
  net::UniqueFd b{std::move(a)};
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_EQ(b.get(), raw);
  EXPECT_TRUE(is_open(raw));
}

TEST(UniqueFd, MoveAssignmentClosesWhatItHeld) {
  const int first = new_fd();
  const int second = new_fd();
  net::UniqueFd a{first};
  net::UniqueFd b{second};
  a = std::move(b);
  EXPECT_FALSE(is_open(first));
  EXPECT_EQ(a.get(), second);
}

TEST(UniqueFd, ReleaseGivesUpWithoutClosing) {
  const int raw = new_fd();
  {
    net::UniqueFd fd{raw};
    EXPECT_EQ(fd.release(), raw);
    EXPECT_FALSE(fd);
  }
  EXPECT_TRUE(is_open(raw));
  ::close(raw);
}

// portable.hpp's descriptor makers, on the Linux calls or the POSIX
// fallbacks (make PORTABLE=1): close-on-exec on every descriptor they make.
TEST(Portable, SocketpairAndPipeAreCloseOnExec) {
  int pair[2];
  ASSERT_EQ(net::socketpair_cloexec(AF_UNIX, SOCK_STREAM, pair), 0);
  int pipe_ends[2];
  ASSERT_EQ(net::pipe_cloexec_nonblock(pipe_ends), 0);
  for (const int fd : {pair[0], pair[1], pipe_ends[0], pipe_ends[1]}) {
    EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0) << "fd " << fd;
    ::close(fd);
  }
}
