#pragma once

#include <optional>
#include <string>
#include <vector>

namespace nfsim::tb {

// Per-unit criticality of one point (docs/report.md, "criticality"): which units of the network
// and of the chip contribute most to the output error, first from the b4 single-unit terms
// (exact to first order in p), then the top ones verified by targeted Monte Carlo (that unit
// failed alone). Filled by the criticality analysis; rendered by the console, JSON and HTML.
struct CriticalUnit {
  // Named with coordinates, e.g. "layer 2, tile 3 (core 5), column 17" or "router 4 (x 0, y 1)".
  std::string name;
  // neuron, synapse, crossbar_row, crossbar_column, crossbar_tile, neuron_array, router, group
  std::string kind;
  int spec = -1;   // the fault spec (campaign order) the unit belongs to
  long unit = -1;  // its unit index within that spec (the number faults.jsonl used to give)
  // Coordinates where they apply (-1 when not).
  int layer = -1, tile = -1, core = -1, array = -1, router = -1, row = -1, column = -1;
  // Predicted at the spec's probability p: the unit's share of the output error variance,
  // p (1 - p) |e_u|^2 summed over outputs and averaged over inputs (e_u: the output change when
  // that unit alone fails), and of the accuracy drop, p times the fraction of correctly
  // classified inputs whose prediction that failure alone changes (with labels).
  double variance = 0;
  std::optional<double> accuracy_drop;
  // Targeted Monte Carlo (the unit failed alone in every trial, at probability 1): the measured
  // |e_u|^2 summed over outputs and averaged over inputs, times p (1 - p); set for the verified
  // top units only.
  std::optional<double> verified_variance;
};

// The criticality summed per core of the chip, for the heat map (mesh position when the layout
// is a mesh; x = core index, y = 0 for a line).
struct CoreHeat {
  int core = 0, x = 0, y = 0;
  double variance = 0;  // sum of the variance of the units that sit on this core
};

struct CriticalityReport {
  std::string metric = "variance";  // what the ranking is by: variance or accuracy_drop
  std::size_t units = 0;            // units ranked (all specs)
  std::vector<CriticalUnit> top;    // the highest first
  std::optional<double> spearman_top;  // rank agreement of predicted and verified on `top`
  // With a chip: the shares of the logical units (neurons, synapses) summed by the physical unit
  // they sit on (crossbar tile, crossbar row, crossbar column, neuron array), the highest first
  // (as many as `top`). A sum of independent first-order shares: what those units contribute
  // failing one by one, not the share of the physical unit failing as a whole.
  std::vector<CriticalUnit> aggregated;
  std::vector<CoreHeat> cores;         // empty without a chip
  int mesh_width = 0, mesh_height = 0; // 0 when the chip has no mesh
};

}  // namespace nfsim::tb
