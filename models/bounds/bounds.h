#pragma once

#include <Eigen/Dense>
#include <array>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "models/network.h"

namespace nfsim::models::bounds {

// The fault model the bounds see: per layer and kind, a probability and what a faulty unit's
// value becomes. It mirrors faults::FaultPlan without depending on it (models/ sits below
// faults/); faults/ converts a plan into it.
struct NeuronTerm {
  int layer = 1;             // 0..L
  double probability = 0.0;
  bool crash = true;         // crash: y -> 0; otherwise stuck-at: y -> value
  double value = 0.0;
  // Units (neuron indices) whose probability differs from `probability` (TMR: 3p^2 - 2p^3).
  std::vector<std::pair<std::uint64_t, double>> unit_probability;
};
struct SynapseTerm {
  int layer = 1;  // 1..L: every synapse of that layer
  double probability = 0.0;
  // The faulty weight as a function of the stored one (crash: 0; stuck-at: v; bit flip: ...).
  std::function<double(double)> replace;
  std::string kind = "synapse_crash";
  // Synapses (the layer's synapse index) whose probability differs from `probability` (TMR).
  std::vector<std::pair<std::uint64_t, double>> unit_probability;
};
struct GroupTerm {
  std::string name;
  double probability = 0.0;
  std::vector<std::array<int, 2>> neurons;   // (layer, index): crash together
  std::vector<std::array<int, 3>> synapses;  // (layer, row, col): a cell of the layer's stored matrix
};
struct FaultModel {
  std::vector<NeuronTerm> neurons;
  std::vector<SynapseTerm> synapses;
  std::vector<GroupTerm> groups;
  // True when every term is a neuron crash: the paper's setting, where b1, b2 and worst_case
  // are defined.
  bool only_neuron_crashes() const;
};

// One bound's prediction for one input: per output (b1 and sum_norms: one scalar).
struct BoundValue {
  Eigen::VectorXd mean;
  Eigen::VectorXd std;  // empty when the bound has no std
};
using BoundSet = std::map<std::string, BoundValue>;

// Computes the bounds of docs/bounds.md for one network and fault model, summing over layers and terms:
// b1_paper_{1,2,inf}, b1_{1,2,inf}, b2 and worst_case (neuron crashes only), b3 and b4 (every
// kind), and sum_norms_{1,2,inf,fro} (the network-level proxy of the paper's code). b4 uses incremental partial forward
// passes: the crash of unit i of layer l changes z_{l+1} by A_{l+1}[:, i] dy_i and only layers l+1..L are evaluated.
// Layers are read through models::ILayer: W_l below is the matrix A_l of the layer's linear part
// (dense: its weights). Synapse terms need each synapse read by one connection (dense); shared
// weights (convolution) are refused until their per-synapse terms exist.
class BoundCalculator {
 public:
  BoundCalculator(const Network& network, FaultModel model);
  // The bounds for one input. `families` limits the work to those named (b1, b1_paper, b2,
  // worst_case, b3, b4, sum_norms; b1 also covers b1_paper); empty computes every bound.
  BoundSet compute(const Eigen::VectorXd& input, const std::vector<std::string>& families = {}) const;
  const FaultModel& model() const { return model_; }

 private:
  struct Wanted {
    bool b3 = true, b4 = true;
  };
  void add_neuron_terms(const ForwardTrace& t, Wanted w, BoundSet& out) const;
  void add_synapse_terms(const ForwardTrace& t, Wanted w, BoundSet& out) const;
  void add_group_terms(const ForwardTrace& t, Wanted w, BoundSet& out) const;
  void add_paper_bounds(const ForwardTrace& t, BoundSet& out) const;
  // Exact effect on the output of replacing y_l[i] by y_l[i] + dy[i], one column per i (only the
  // nonzero dy): F_l(y + dy_i e_i) - F_l(y).
  Eigen::MatrixXd single_unit_effects(const ForwardTrace& t, int layer, const Eigen::VectorXd& dy) const;

  const Network& net_;
  FaultModel model_;
  std::vector<std::array<double, 4>> norms_;       // per layer 1..L: 1, 2, inf, fro
  std::vector<double> max_abs_;                    // per layer 1..L: max |A_l(j, i)|
  std::vector<Eigen::MatrixXd> abs_products_;      // per l: |W_L| ... |W_{l+1}|
  std::vector<Eigen::MatrixXd> square_products_;   // per l: (W_L o W_L) ... (W_{l+1} o W_{l+1})
};

// The fault-tolerance profile of a network (docs/bounds.md) over a set of inputs.
struct LayerProfile {
  int layer = 0;
  double norm_1 = 0, norm_2 = 0, norm_inf = 0, norm_fro = 0;  // of W_layer (layer >= 1)
  double lipschitz = 1;                                       // of the activation
  double mean_jacobian_fro = 0;                               // mean over inputs of ||G_layer||_F
  Eigen::VectorXd b3_variance_per_p;  // per output: mean over inputs of sum_i (y_i G[k,i])^2
};
struct NetworkProfile {
  std::vector<LayerProfile> layers;  // 0..L
  double lipschitz_product = 1;      // prod_l K_l ||W_l||_2
};
NetworkProfile network_profile(const Network& network, const Eigen::MatrixXd& inputs);

// A_l of a layer's linear part z = A_l y + b as an explicit n_l x n_{l-1} matrix: the crossbar
// matrix when one position uses it (dense: W), else built column by column from jvp().
Eigen::MatrixXd linear_map(const ILayer& layer);

// Induced matrix norms: 1 = max column abs-sum, 2 = spectral, inf = max row abs-sum; fro.
double induced_norm_1(const Eigen::MatrixXd& w);
double spectral_norm(const Eigen::MatrixXd& w);
double induced_norm_inf(const Eigen::MatrixXd& w);

}  // namespace nfsim::models::bounds
