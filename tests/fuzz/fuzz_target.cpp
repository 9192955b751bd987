// One libFuzzer binary per reader: NFSIM_FUZZ_TARGET names the harness (tests/fuzz/CMakeLists.txt).
// Built only with clang (`make fuzz`); an exception other than InputError escapes and libFuzzer
// reports it as a crash, with the input saved for a regression test.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/harnesses.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const nfsim::fuzz::Target& t = nfsim::fuzz::target(NFSIM_FUZZ_TARGET);
  nfsim::fuzz::accepts(t, data, size);
  return 0;
}

// The SystemC kernel (linked through the topology and campaign readers) wants an sc_main; it is
// never called (libFuzzer's main runs).
extern "C" int sc_main(int, char*[]) { return 1; }
