// 07_socket_options/client.cpp — chapter 03's line client, unchanged.
//
// Teaches: options are a server-side lesson here; the client is the line
// client of common/line_client.hpp (the server echoes bytes, so each line
// comes back as it went).
//
// Run:      ./client one two
// See also: ../common/line_client.hpp, server.cpp.

#include "line_client.hpp"

int main(int argc, char** argv) {
  return net::line_client_main(argc, argv);
}
