// tests/tsan/lost_signal.cpp — the ThreadSanitizer fault behind 05's stop design.
//
// Teaches: a sanitizer's runtime is code too, and can be caught losing a
// signal. This program is a forking server's parent cut down to its stop:
// one thread, a SIGTERM handler that writes into a pipe (the self-pipe
// trick), a "listening on" line, then a wait on the pipe. Built with
// -fsanitize=thread and sent SIGTERM a moment after that line, the WAIT=poll
// build sometimes never wakes: the handler never ran, and no signal is
// pending any more (tests/tsan/lost_signal.py counts how often).
//
// Why, as far as we could see it in a hung process with gdb: TSan runs a
// handler at once only while the thread is inside an intercepted blocking
// call; anywhere else it notes the signal in a per-thread record and runs
// it later. That record is allocated lazily, by the thread's first blocking
// call. A signal that lands while that allocation is under way is noted in
// a second record, which the first then replaces: it is lost. Newer TSan
// allocates the record with a compare-and-swap (LLVM's SigCtx()).
//
// The three builds:
//   WAIT=poll   SIGTERM open all the time; the first wait is poll()  (loses some)
//   WAIT=warm   the same, but one poll() with no wait before the handler
//               is installed, so the record exists before any signal can
//               come                                                  (the cause)
//   WAIT=ppoll  SIGTERM blocked, let in only inside ppoll(): a signal can
//               land only in the wait, never in the runtime's set-up  (05's cure)
//
// Run: make tsan-lost-signal (builds the three, prints a table).
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>

namespace {

int g_pipe[2];

void on_sigterm(int) {
  [[maybe_unused]] ssize_t n = ::write(g_pipe[1], "!", 1);
}

}  // namespace

int main() {
  if (::pipe(g_pipe) == -1) return 1;
  pollfd stop = {g_pipe[0], POLLIN, 0};
  sigset_t sigterm, none;
  sigemptyset(&sigterm);
  sigaddset(&sigterm, SIGTERM);
  sigemptyset(&none);
#if defined(WAIT_WARM)
  ::poll(&stop, 1, 0);  // TSan's per-thread signal record is made here
#elif defined(WAIT_PPOLL)
  ::sigprocmask(SIG_BLOCK, &sigterm, nullptr);
#endif
  struct sigaction action {};
  action.sa_handler = on_sigterm;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGTERM, &action, nullptr);
  std::printf("listening on 127.0.0.1:0\n");
  std::fflush(stdout);
  for (;;) {
#if defined(WAIT_PPOLL)
    const int n = ::ppoll(&stop, 1, nullptr, &none);  // SIGTERM let in here only
#else
    const int n = ::poll(&stop, 1, -1);
#endif
    if (n == 1) return 0;  // the handler wrote: stop
  }
}
