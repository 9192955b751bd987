#pragma once
// The chip of the CLI tests' tiny networks, as campaign YAML (tests only).
#include <string>

namespace nfsim::test {

// A `chip:` entry for a tiny network (layers of up to 4 neurons): 4x4 crossbars (rows and
// columns split), 2x2 mesh. `crossbar` and `neuron` set the components, e.g. "type: ideal" and
// "type: rate"; more keys of the chip can follow, indented by two spaces.
inline std::string tiny_chip(const std::string& crossbar, const std::string& neuron) {
  return "chip:\n  cores: {count: 4, layout: {type: mesh, width: 2, height: 2}}\n"
         "  crossbar: {" + crossbar + ", rows: 4, cols: 4}\n"
         "  neuron_array: {" + neuron + ", size: 4}\n"
         "  interconnect: {type: mesh, hop_latency_ns: 5, flit_bytes: 8}\n";
}

}  // namespace nfsim::test
