// The differential fuzz target (issue 13, item 5): libFuzzer's bytes become a random network,
// chip and fault plan (tests/fuzz/engine_cases.h), and the engines are held against each other:
// chip == functional per trial, Monte Carlo inside the exact engine's interval, b4 == exact to
// first order. A disagreement is printed with its case and aborts, so libFuzzer keeps the input
// (copy it to tests/fuzz/regressions/engines/: tests/unit/test_engine_properties.cpp replays it).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tests/fuzz/engine_cases.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const nfsim::fuzz::EngineCase c = nfsim::fuzz::make_engine_case(data, size);
  for (const std::string& finding : {nfsim::fuzz::check_chip_matches_functional(c), nfsim::fuzz::check_monte_carlo_in_exact_interval(c, 500),
                                     nfsim::fuzz::check_b4_first_order(c)}) {
    if (!finding.empty()) {
      std::fprintf(stderr, "fuzz_engines: the engines disagree: %s\n", finding.c_str());
      std::abort();
    }
  }
  return 0;
}

// The chip engine runs in a forked child, which elaborates SystemC from the library; sc_main is
// never called (libFuzzer's main runs).
extern "C" int sc_main(int, char*[]) { return 1; }
