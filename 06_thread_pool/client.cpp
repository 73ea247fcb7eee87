// 06_thread_pool/client.cpp — chapter 03's line client, unchanged.
//
// Teaches: nothing new on this side: a client cannot tell (and need not
// know) whether a pooled thread, a new thread or a process serves it.
//
// Run:      ./client one two      or     seq 100 | ./client
// See also: ../common/line_client.hpp, server.cpp.

#include "line_client.hpp"

int main(int argc, char** argv) {
  return net::line_client_main(argc, argv);
}
