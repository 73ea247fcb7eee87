// Probe (common/build.mk): does the platform have accept4()? Linux, FreeBSD.
#include <sys/socket.h>
int main() {
  return accept4(0, nullptr, nullptr, SOCK_CLOEXEC);
}
