#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <Eigen/Dense>
#include <algorithm>
#include <memory>
#include <vector>

#include "models/activation.h"
#include "models/layer/pool2d.h"
#include "sim/neuron/i_neuron_model.h"

namespace nfsim::sim {

// One neuron array: gathers the partial sums for its neurons from the tiles, adds the bias,
// applies the neuron model after the update latency. Fault hooks: one neuron (crash = 0 or
// stuck-at a value), the whole array (all outputs 0).
// For a conv layer the array holds whole output channels, each over `positions` positions
// (neuron c * positions + p), time-multiplexed and pipelined with the tiles' reads: it updates
// position p while the tiles read the next one, so a layer's update adds one update latency after
// the last read. It then applies the layer's output stage (a pooling) to its channels and sends
// the pooled feature maps on.
//
// TLM-2.0 (docs/chip.md, "TLM-2.0 protocol"): `in` takes partial sums (writes that add to z at the
// neuron their address names; a conv message holds `positions` consecutive positions per
// channel), `out` sends the array's output on. begin() starts a layer's accumulation from the bias.
class NeuronArray : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<NeuronArray> in;
  tlm_utils::simple_initiator_socket<NeuronArray> out;

  NeuronArray(sc_core::sc_module_name name, Eigen::VectorXd bias, models::Activation activation,
              std::unique_ptr<INeuronModel> model, sc_core::sc_time update_latency, int positions = 1,
              std::unique_ptr<models::Pool2d> stage = nullptr);

  void begin();                                              // z = bias
  void accumulate(int offset, const double* partial, int count);  // z[offset..] += partial
  // Conv partial sums (rows: positions pos_begin.., columns: the tile's channels): channels
  // [channel, channel + count) of this array get columns [column, column + count).
  void accumulate_positions(int channel, int pos_begin, const Eigen::MatrixXd& partial, int column, int count);
  void fire(sc_core::sc_time& delay);                        // y = model(z), then faults, then the stage
  // Differential simulation (docs/chip.md): the pre-activations and the model's outputs as the
  // last update left them; z set from a reference and changed by the difference of one tile's
  // partial sums (now - before); fire() for a z whose model outputs are known (`y`, the
  // reference's): the faults, then the stage. No latency.
  const Eigen::VectorXd& z() const { return z_; }
  const Eigen::VectorXd& model_output() const { return y_model_; }
  void set_z(const Eigen::VectorXd& z) { z_ = z; }
  void accumulate_difference(int offset, const double* now, const double* before, int count);
  void fire_from(const Eigen::VectorXd& y);
  // What the array sends on: y, or the stage's pooled channels.
  const Eigen::VectorXd& output() const { return stage_ ? u_ : y_; }
  // The neurons' outputs before the stage (a spiking array's spikes of the step).
  const Eigen::VectorXd& neuron_outputs() const { return y_; }

  // Spiking arrays (docs/spiking.md): each fire() is one time step of the array's spiking neuron
  // model (INeuronModel::step: the built-in lif and if integrate their current z, partial sums +
  // bias, into a membrane V <- leak V + z, spike (output 1) where V >= threshold, reset by
  // subtraction or to zero, and hold for `refractory` steps); a failed neuron with value v fires
  // the regular train of rate clamp(v, 0, 1) instead. The state persists across the fire() calls
  // of one inference: begin_spiking_inference() zeroes it, set_step() names the step. Without
  // set_spiking() (or after clear_spiking()) the array applies the model's fire() as a rate array
  // does (a spiking type's output layer under the membrane readout passes its current on).
  struct SpikingDynamics {
    Eigen::VectorXd threshold, leak;  // per neuron of the array
    bool subtract = true;
    int refractory = 0;
  };
  // Throws InternalError when the array's model is not a spiking one (the campaign's checks
  // refuse such a chip first, naming the files).
  void set_spiking(SpikingDynamics dynamics);
  void clear_spiking() { spiking_.reset(); }
  bool spiking() const { return spiking_ != nullptr; }
  // Whether the array's neuron model spikes (INeuronModel::spiking), in or out of spiking mode.
  bool spiking_model() const { return model_->spiking(); }
  void begin_spiking_inference();
  void set_step(int step) { step_ = step; }

  void set_neuron(int index, double value);
  // A spiking neuron's threshold or leak multiplied by `factor` (threshold_deviation,
  // leak_deviation; the leak kept in [0, 1]); spiking arrays only.
  void scale_parameter(int index, bool threshold, double factor);
  void crash_array();
  // Whether a fault changes what the array outputs (a neuron or the whole array).
  bool faulted() const { return dead_ || !overrides_.empty(); }
  // A timing fault: updates take `factor` times the update latency (the largest factor wins).
  void slow_down(double factor) { slowdown_ = std::max(slowdown_, factor); }
  void clear_faults();
  int size() const { return static_cast<int>(bias_.size()); }

 private:
  void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);

  Eigen::VectorXd bias_, z_, y_, u_, y_model_;  // y_model_: the model's outputs before faults
  int positions_ = 1;
  std::unique_ptr<models::Pool2d> stage_;
  models::Activation activation_;
  std::unique_ptr<INeuronModel> model_;
  sc_core::sc_time update_latency_;
  double slowdown_ = 1.0;
  std::vector<std::pair<int, double>> overrides_;
  struct ParameterFault {
    int index;
    bool threshold;
    double factor;
  };
  std::vector<ParameterFault> parameter_faults_;
  Eigen::VectorXd threshold_now_, leak_now_;  // the dynamics with the parameter faults applied
  bool dead_ = false;
  std::unique_ptr<SpikingDynamics> spiking_;
  SpikingState state_;  // membranes and refractory counts, owned here, updated by the model's step()
  int step_ = 0;
};

}  // namespace nfsim::sim
