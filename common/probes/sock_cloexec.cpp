// Probe (common/build.mk): can socket() set close-on-exec and non-blocking
// in its type argument? Linux, the BSDs; not macOS.
#include <sys/socket.h>
int main() {
  return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
}
