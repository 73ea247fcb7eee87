// Probe (common/build.mk): process-shared robust pthread mutexes? Linux
// (glibc, musl), FreeBSD 11 on; not macOS. Chapter 05's --accept lock.
#include <pthread.h>
int main() {
  pthread_mutexattr_t attributes;
  pthread_mutexattr_init(&attributes);
  pthread_mutexattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attributes, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_t mutex;
  pthread_mutex_init(&mutex, &attributes);
  return pthread_mutex_consistent(&mutex);
}
