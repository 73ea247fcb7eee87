// Probe (common/build.mk): does the platform have pipe2()? Linux, FreeBSD.
#include <fcntl.h>
#include <unistd.h>
int main() {
  int fds[2];
  return pipe2(fds, O_CLOEXEC | O_NONBLOCK);
}
