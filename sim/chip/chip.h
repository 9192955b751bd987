#pragma once

#include <systemc>

#include <Eigen/Dense>
#include <memory>
#include <vector>

#include "sim/chip/fault_controller.h"
#include "faults/fault_plan.h"
#include "models/layer/conv2d_layer.h"
#include "models/network.h"
#include "sim/crossbar/crossbar.h"
#include "sim/interconnect/interconnect.h"
#include "sim/neuron/neuron_array.h"
#include "sim/topology/mapping.h"
#include "sim/topology/physical_units.h"

namespace nfsim::sim {

// The chip top: one Crossbar module per mapped tile, one NeuronArray per mapped array, the
// Interconnect, and the host interface (input buffer, output collection; the host also does layer
// 0's output stage). A conv layer's tiles read once per output position (TileMap), its arrays
// hold whole channels and pool them. An inference sends the
// mapping's transfers in order; every module annotates its latency, and the calling thread
// catches up with simulated time before each phase of a layer (tile reads, array updates), so a
// fault arriving at time t reaches every phase that starts after t (loosely timed, temporally
// decoupled within a phase). A layer's tiles read together when its last input has arrived; its
// arrays update together when its last partial sum has arrived.
// Implements the fault hooks for the FaultController: logical units map to the cells, neurons and
// inputs that hold them, physical units (rows, columns, tiles, arrays, routers) to the modules.
class Chip : public sc_core::sc_module, public IFaultTarget {
 public:
  Chip(sc_core::sc_module_name name, const models::Network& network, const MappedChip& mapped);

  // Runs one inference; must be called from an SC_THREAD. Returns the output (pre-softmax y_L).
  void infer(const Eigen::VectorXd& input, Eigen::VectorXd& output);

  // The fault plan whose units apply_fault() receives (expanded: physical specs carry groups).
  void set_fault_plan(const faults::FaultPlan& plan);
  void clear_faults() override;
  void apply_fault(std::size_t spec, std::uint64_t unit) override;

  // The network as the chip stores it: weights after programming the crossbars.
  const models::Network& programmed_network() const { return programmed_; }
  sc_core::sc_time last_latency() const { return last_latency_; }
  const Interconnect& interconnect() const { return *interconnect_; }
  std::uint64_t inferences() const { return inferences_; }
  // Read noise of every tile on or off (off for the fault-free reference run).
  void set_read_noise(bool on);
  // Inference and traffic counters back to zero (after the reference run).
  void reset_counters();

 private:
  // The synapse at cell (row, col) of the layer's crossbar matrix.
  void set_synapse(int layer, int row, int col, double value);
  void set_neuron(int layer, int index, double value);

  const models::Network& net_;
  const MappedChip& mapped_;
  models::Network programmed_;
  std::vector<std::unique_ptr<Crossbar>> tiles_;
  std::vector<std::unique_ptr<NeuronArray>> arrays_;
  std::unique_ptr<Interconnect> interconnect_;
  const faults::FaultPlan* plan_ = nullptr;
  std::vector<std::vector<PhysicalUnit>> physical_;  // per spec (empty for logical specs)
  std::vector<std::pair<int, double>> input_overrides_;  // layer-0 neuron faults at the host
  std::vector<std::vector<int>> tiles_of_, arrays_of_;      // per layer, cached from the mapping
  std::vector<const models::Conv2dLayer*> conv_;  // per layer: the convolution, or null (dense)
  // Per-inference scratch. layer_u_[l] is what layer l sends on (after its stage); a conv tile's
  // input is its group's unrolled feature map (tile_patches_), with the taps whose message was
  // lost zeroed (tile_rows_ok_), and its output one row of partial sums per position.
  std::vector<Eigen::VectorXd> tile_in_, tile_out_, layer_u_;
  std::vector<Eigen::MatrixXd> group_patches_, tile_patches_, tile_partials_;
  std::vector<std::vector<char>> tile_rows_ok_;
  Eigen::VectorXd input_with_faults_;  // the input with layer-0 neuron faults, before layer 0's stage
  std::vector<sc_core::sc_time> tile_ready_, array_ready_, array_in_;
  sc_core::sc_time last_latency_;
  std::uint64_t inferences_ = 0;
};

}  // namespace nfsim::sim
