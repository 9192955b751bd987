#pragma once

#include <systemc>

#include <Eigen/Dense>
#include <memory>
#include <vector>

#include "models/activation.h"
#include "sim/neuron/i_neuron_model.h"

namespace nfsim::sim {

// One neuron array: gathers the partial sums for its neurons from the tiles, adds the bias,
// applies the neuron model after the update latency. Fault hooks: one neuron (crash = 0 or
// stuck-at a value), the whole array (all outputs 0).
class NeuronArray : public sc_core::sc_module {
 public:
  NeuronArray(sc_core::sc_module_name name, Eigen::VectorXd bias, models::Activation activation,
              std::unique_ptr<INeuronModel> model, sc_core::sc_time update_latency);

  void begin();                                              // z = bias
  void accumulate(int offset, const double* partial, int count);  // z[offset..] += partial
  void fire(sc_core::sc_time& delay);                        // y = model(z), then faults
  const Eigen::VectorXd& output() const { return y_; }

  void set_neuron(int index, double value);
  void crash_array();
  void clear_faults();
  int size() const { return static_cast<int>(bias_.size()); }

 private:
  Eigen::VectorXd bias_, z_, y_;
  models::Activation activation_;
  std::unique_ptr<INeuronModel> model_;
  sc_core::sc_time update_latency_;
  std::vector<std::pair<int, double>> overrides_;
  bool dead_ = false;
};

}  // namespace nfsim::sim
