// Probe (common/build.mk): does send() take MSG_NOSIGNAL? Linux, the BSDs;
// macOS has SO_NOSIGPIPE instead.
#include <sys/socket.h>
int main() { return MSG_NOSIGNAL; }
