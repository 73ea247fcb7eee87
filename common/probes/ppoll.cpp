// Probe (common/build.mk): does the platform have ppoll()? Linux, the BSDs,
// illumos (POSIX.1-2024 too); not macOS, which has pselect() only.
#include <poll.h>
#include <signal.h>
int main() {
  return ppoll(nullptr, 0, nullptr, nullptr);
}
