// libsystemc.so references sc_main; the test binaries enter through their own main() instead
// (tests/common/gtest_main.cpp) and call sc_start directly, so this is never reached.
#include <cstdio>

extern "C" int sc_main(int, char*[]) {
  std::fprintf(stderr, "sc_main must not be called in the test binaries\n");
  return 1;
}
