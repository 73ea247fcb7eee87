// 03_stream_handler/client.cpp — a line client: write a line, read a line.
//
// Teaches: the rule the notes state for rfile: every line must end with a
// newline, or the server's readline() waits for the rest. The client is
// common/line_client.cpp (new in this chapter, since 05, 06 and 07 use it
// too): LineClient adds the newline to each MESSAGE and reads each reply
// with the same LineReader the server uses; line_client_main is this main.
//
// Run:      ./client one two three      or     seq 1000 | ./client
// Observe:  each line echoed once, in order (the notes' double readline()
//           would have lost every other one).
// See also: server.cpp, README.md, ../common/line_client.hpp.

#include "line_client.hpp"

int main(int argc, char** argv) {
  return net::line_client_main(argc, argv);
}
