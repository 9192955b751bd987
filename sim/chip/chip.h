#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>

#include <Eigen/Dense>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/chip/fault_controller.h"
#include "faults/fault_plan.h"
#include "models/layer/conv2d_layer.h"
#include "models/network.h"
#include "models/spiking.h"
#include "sim/crossbar/crossbar.h"
#include "sim/interconnect/interconnect.h"
#include "sim/interconnect/tlm_interconnect.h"
#include "sim/neuron/neuron_array.h"
#include "sim/topology/mapping.h"
#include "sim/tlm/protocol.h"
#include "sim/topology/physical_units.h"

namespace nfsim::sim {

// The chip top: one Crossbar module per mapped tile, one NeuronArray per mapped array, the
// Interconnect, and the host interface (input buffer, output collection; the host also does layer
// 0's output stage). Modules exchange the mapping's messages as TLM-2.0 transactions
// (sim/tlm/protocol.h, docs/chip.md "TLM-2.0 protocol"): the host's `host_out`, every tile's and
// array's `out` are bound to the interconnect's `in`; the interconnect's `out` to every tile's and
// array's `in` and to the host's `host_in`, in that order (target ids: tiles, arrays, host).
// A conv layer's tiles read once per output position (TileMap), its arrays hold whole channels
// and pool them. An inference sends the mapping's transfers in order; every module annotates its
// latency on the transaction's delay, and the calling thread (with a tlm_quantumkeeper) catches up
// with simulated time before each phase of a layer (tile reads, array updates), so a fault
// arriving at time t reaches every phase that starts after t (loosely timed, temporally decoupled
// within a phase). A layer's tiles read together when its last input has arrived; its arrays
// update together when its last partial sum has arrived.
// Implements the fault hooks for the FaultController: logical units map to the cells, neurons and
// inputs that hold them, physical units (rows, columns, tiles, arrays, routers) to the modules.
class Chip : public sc_core::sc_module, public IFaultTarget {
 public:
  tlm_utils::simple_initiator_socket<Chip> host_out;  // layer 1's inputs to its tiles
  tlm_utils::simple_target_socket<Chip> host_in;      // the output layer's values

  Chip(sc_core::sc_module_name name, const models::Network& network, const MappedChip& mapped);

  // Runs one inference; must be called from an SC_THREAD. Returns the output (pre-softmax y_L).
  // With spiking arrays (set_spiking) an inference is T time steps, each one pass of the whole
  // dataflow: the host sends the step's input spikes, the tiles read them, the arrays integrate
  // and spike, their spikes go on as address events (docs/spiking.md, "On the chip"); the output
  // is the output layer's readout summed over the steps / T, and last_latency() the T passes'.
  void infer(const Eigen::VectorXd& input, Eigen::VectorXd& output);

  // Spiking arrays with `config`'s dynamics (regular input coding; layers 1..L-1 spike, and layer
  // L too with the rate readout; with the membrane readout the output arrays pass their current
  // on each step), or rate arrays again (null). The network must be the spiking one (converted).
  void set_spiking(const models::SpikingConfig* config);
  bool spiking() const { return spiking_.has_value(); }
  // Fault-free spikes the arrays and the host sent per inference: the input trains and each
  // hidden layer's (layers 0..L-1), summed over the inferences since reset_counters().
  const std::vector<std::uint64_t>& spikes_sent() const { return spikes_sent_; }

  // The fault plan whose units apply_fault() receives (expanded: physical specs carry groups).
  void set_fault_plan(const faults::FaultPlan& plan);
  void clear_faults() override;
  void apply_fault(std::size_t spec, std::uint64_t unit) override;
  // Called before each time step of a spiking inference with the step (the chip engine hands
  // it to the FaultController: faults with an onset_step start there).
  void set_step_hook(std::function<void(int)> hook) { step_hook_ = std::move(hook); }
  void begin_draws(std::uint64_t seed, std::uint64_t trial, std::uint32_t input) override {
    if (interconnect_) interconnect_->set_spike_draws(seed, trial, input);
  }

  // The network as the chip stores it: weights after programming the crossbars.
  const models::Network& programmed_network() const { return programmed_; }
  sc_core::sc_time last_latency() const { return last_latency_; }
  // The built-in interconnect (the chip must have one: has_builtin_interconnect()).
  const Interconnect& interconnect() const { return *interconnect_; }
  // False when the topology binds a foreign TLM-2.0 module (tlm_interconnect:) instead.
  bool has_builtin_interconnect() const { return interconnect_ != nullptr; }
  // The first protocol violation of a foreign interconnect module (empty: none), as an InputError
  // message; the engine stops its job and throws it.
  const std::string& protocol_error() const { return protocol_error_; }
  // Messages the chip's modules sent since the counters were reset (through either interconnect).
  std::uint64_t messages_sent() const { return messages_sent_; }
  std::uint64_t inferences() const { return inferences_; }
  // Outputs that reach the host later than `deadline` after the start of their inference are lost
  // (the host holds zeros for them); none: no deadline.
  void set_deadline(std::optional<sc_core::sc_time> deadline) { deadline_ = deadline; }
  // Whether the last inference lost an output to the deadline.
  bool deadline_missed() const { return deadline_missed_; }
  // Streamed inferences (docs/chip.md, "Streamed inferences"): from begin_stream() to
  // end_stream(), input n of the stream arrives at n * interval after the stream's start and the
  // inferences overlap as far as the tiles and arrays allow (each reads or updates one input at a
  // time; a layer's tiles read input n + 1 once they have read input n and its inputs are in).
  // The thread does not synchronise within a stream (loosely timed: the stream is one quantum);
  // end_stream() catches up with its last output. last_latency() is then the time from the
  // input's arrival to its last output.
  void begin_stream(sc_core::sc_time interval);
  void end_stream();
  // Leaves a stream without catching up (after an error).
  void abandon_stream() { streaming_ = false; }
  // The longest time one tile or array is busy per inference (fault-free): read latency times
  // the reads per inference (a conv tile reads once per output position it computes), or the
  // update latency. A stream cannot go faster than one input per period (its bottleneck stage).
  sc_core::sc_time stream_period() const;
  // The last inference's completion (its last output at the host) from the stream's start.
  sc_core::sc_time stream_completion() const { return stream_last_done_; }
  // Traces the built-in interconnect's links and routers to `file` (Interconnect::trace); during
  // elaboration. A foreign module traces itself, if it does.
  void trace_interconnect(sc_core::sc_trace_file* file) {
    if (interconnect_) interconnect_->trace(file);
  }
  // Differential (concurrent) fault simulation, docs/chip.md "Differential simulation". A
  // Reference is one input's fault-free inference as the modules saw it: what each tile held and
  // read, what each layer's arrays sent on, when each phase started, the traffic. An inference
  // whose faults change values only (no unit that acts through time) takes the reference's times
  // and traffic, and recomputes only the tiles whose cells or input values its faults change
  // (delta reads) and the arrays those tiles or its faults reach.
  struct Reference {
    std::vector<Eigen::VectorXd> u;              // per layer 0..L: what the layer sends on (u[0]: the host's)
    std::vector<Eigen::VectorXd> tile_input;     // per tile: its input buffer once the layer's messages are in
    std::vector<Eigen::VectorXd> tile_out;       // per dense tile: its partial sums
    std::vector<Eigen::MatrixXd> tile_partials;  // per conv tile: its partial sums (positions x columns)
    std::vector<Eigen::VectorXd> array_z, array_y;  // per array: pre-activations, the model's outputs
    std::vector<sc_core::sc_time> reads_start, updates_start;  // per layer, from the inference's start
    sc_core::sc_time latency;
    std::uint64_t messages = 0;
    Interconnect::Traffic traffic;
    std::size_t bytes() const;
  };
  // Why this chip cannot be simulated differentially (a crossbar model with noisy reads, a
  // foreign interconnect module), or empty.
  std::string differential_obstacle() const;
  // Runs a fault-free inference (no faults applied, read noise off) and records it in `ref`.
  void infer_reference(const Eigen::VectorXd& input, Eigen::VectorXd& output, Reference& ref);
  // The inference of `input` under the faults now applied, differentially from `ref` (the same
  // input's reference); `faults_until(t)` applies the faults whose onset is at most t after the
  // inference's start (called before each phase with the reference's phase times, and at its end).
  // Must not be called with a unit that acts through time applied, a deadline or a stream.
  // Needs no simulated time: the thread does not wait.
  void infer_differential(const Reference& ref, const Eigen::VectorXd& input, Eigen::VectorXd& output,
                          const std::function<void(const sc_core::sc_time&)>& faults_until);

  // Read noise of every tile on or off (off for the fault-free reference run).
  void set_read_noise(bool on);
  // Inference and traffic counters back to zero (after the reference run).
  void reset_counters();

 private:
  // The synapse at cell (row, col) of the layer's crossbar matrix.
  void set_synapse(int layer, int row, int col, double value);
  void set_neuron(int layer, int index, double value);
  // Sends transfer t as one transaction from `from` (`sender` names it in errors): `values`
  // doubles from `data` to target `target` at value offset `offset`, `per_channel` values per
  // channel (conv partial sums: the positions; otherwise 1); `when` is the send time and becomes
  // the arrival time. Returns whether it was delivered.
  bool send(tlm::tlm_initiator_socket<>& from, const char* sender, const Transfer& t, int target, Eigen::Index offset,
            const double* data, Eigen::Index values, int per_channel, sc_core::sc_time& when);
  void host_b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  // One pass of the dataflow (a rate inference, or one time step of a spiking one).
  void infer_pass(const Eigen::VectorXd& input, Eigen::VectorXd& output);
  // Whether transfer t carries spikes (a spiking chip's input or hidden spikes, unpooled): sent
  // as address events, 4 bytes a spike plus a 4-byte header on the wire.
  bool carries_spikes(const Transfer& t) const;
  // Whether the transaction just sent (first sent to `address`) through the foreign interconnect
  // follows the protocol; if not, records the first such problem in protocol_error_ (naming the
  // module). `waited`: simulated time moved during b_transport.
  bool check_foreign(const char* sender, std::uint64_t address, bool waited);
  // Tile k's read of one inference from `buffer` (its input buffer): a dense tile reads it into
  // tile_out_[k], a conv tile unrolls it (taps whose rows `delivered` lacks read 0) and reads
  // each position into tile_partials_[k]; `when` gains the read latency.
  void read_tile(int k, const Eigen::VectorXd& buffer, const std::vector<char>& delivered, bool all_delivered,
                 sc_core::sc_time& when);
  // The values of its layer's input u_{l-1} that input transfer t carries: (first, count).
  std::pair<Eigen::Index, Eigen::Index> message_span(const Transfer& t) const;
  // The host's layer-1 input (host_u_): `input` with layer-0 neuron faults, through layer 0's stage.
  void host_stage(const Eigen::VectorXd& input);
  // Values per row (neuron or channel) of layer l's arrays in u_l: 1, or a (pooled) feature map.
  Eigen::Index values_per_row(int l) const;
  // Differential state, built by the first infer_reference(): per tile, which values of its
  // layer's input u_{l-1} its messages bring, and which rows were delivered (fault-free); per
  // array, the transfers that bring its partial sums (mapping order).
  void build_differential_maps();
  std::vector<std::vector<char>> tile_receives_, ref_rows_delivered_;
  std::vector<char> ref_all_delivered_;  // per tile: every row delivered (fault-free)
  std::vector<std::vector<std::size_t>> array_sources_;
  std::vector<char> tile_dirty_;
  std::vector<Eigen::Index> changed_, next_changed_;  // changed values of the layer's input / output
  std::vector<std::pair<int, double>> row_changes_;
  Eigen::VectorXd u_scratch_[2], conv_buffer_;
  std::vector<sc_core::sc_time> last_reads_start_, last_updates_start_;  // per layer, the last inference's
  std::string protocol_error_;
  int array_target(int array) const { return static_cast<int>(tiles_.size()) + array; }
  int host_target() const { return static_cast<int>(tiles_.size() + arrays_.size()); }

  const models::Network& net_;
  const MappedChip& mapped_;
  models::Network programmed_;
  std::vector<std::unique_ptr<Crossbar>> tiles_;
  std::vector<std::unique_ptr<NeuronArray>> arrays_;
  std::unique_ptr<Interconnect> interconnect_;
  TlmInterconnect foreign_;  // a foreign interconnect module (tlm_interconnect:), or empty
  std::string foreign_name_;  // it, for errors: the topology file, key, type and library
  std::uint64_t messages_sent_ = 0;
  const faults::FaultPlan* plan_ = nullptr;
  std::vector<std::vector<PhysicalUnit>> physical_;  // per spec (empty for logical specs)
  std::vector<std::pair<int, double>> input_overrides_;  // layer-0 neuron faults at the host
  std::vector<std::vector<int>> tiles_of_, arrays_of_;      // per layer, cached from the mapping
  std::vector<const models::Conv2dLayer*> conv_;  // per layer: the convolution, or null (dense)
  // Per-inference scratch. host_u_ is what the host sends layer 1 (after layer 0's stage);
  // host_output_ what the output layer's arrays sent it. A conv tile unrolls its input buffer
  // (tile_im2col_), zeroes the taps no message brought (tile_patches_) and reads one row of
  // partial sums per position (tile_partials_).
  std::vector<Eigen::VectorXd> tile_out_;
  std::vector<Eigen::MatrixXd> tile_partials_;
  Eigen::MatrixXd tile_im2col_, tile_patches_;
  Eigen::VectorXd host_u_, host_output_;
  Eigen::VectorXd input_with_faults_;  // the input with layer-0 neuron faults, before layer 0's stage
  std::optional<models::SpikingConfig> spiking_;
  int step_ = 0;  // the spiking inference's current step
  std::function<void(int)> step_hook_;
  Eigen::VectorXd spike_input_, step_output_;
  std::vector<std::uint64_t> spikes_sent_;
  std::vector<sc_core::sc_time> tile_ready_, array_ready_, array_in_, tile_arrival_;
  std::vector<std::size_t> phase_order_;  // the transfers of one phase, in send order
  tlm::tlm_generic_payload payload_;
  tlmx::MessageExtension* message_ = nullptr;  // payload_'s extension (the payload owns it)
  tlm_utils::tlm_quantumkeeper quantum_;
  sc_core::sc_time last_latency_, inference_start_;
  std::optional<sc_core::sc_time> deadline_;
  // Streaming state: on, the input interval, the next input's index, when each tile and array is
  // free again (from the stream's start), the last inference's completion.
  bool streaming_ = false;
  sc_core::sc_time stream_interval_, stream_last_done_, stream_end_, inference_offset_;
  std::uint64_t stream_index_ = 0;
  std::vector<sc_core::sc_time> tile_free_, array_free_;
  bool deadline_missed_ = false;
  std::uint64_t inferences_ = 0;
};

}  // namespace nfsim::sim
