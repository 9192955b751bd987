// main() for the benchmark binaries: they link SystemC, whose own main() would otherwise run
// sc_main instead of the benchmarks (CONTRIBUTING.md pitfall 2).
#include <benchmark/benchmark.h>

#include <cstdlib>

int main(int argc, char** argv) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

extern "C" int sc_main(int, char*[]) { return 1; }
