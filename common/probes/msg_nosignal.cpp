// Probe (common/build.mk): does send() take MSG_NOSIGNAL? Linux, the BSDs;
// older macOS SDKs have only SO_NOSIGPIPE, newer ones may define it.
#include <sys/socket.h>
int main() {
  return MSG_NOSIGNAL;
}
