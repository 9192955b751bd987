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
  // (layer, row, col, pos_begin, pos_count): a cell of the layer's stored matrix, crashed at
  // output positions [pos_begin, pos_begin + pos_count) only when pos_count > 0 (a replicated
  // crossbar tile computes those positions; faults::SynapseRef).
  std::vector<std::array<int, 5>> synapses;
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

// The single-unit effects of one input for one term of the fault model (BoundCalculator::
// unit_effects): column u of `effects` is F(x with unit u of this term failed alone) - F(x), an
// (outputs x units) matrix of pre-softmax output changes, computed by exact nonlinear propagation
// (not a linearisation). Units: neuron term, neuron index i of the layer (n_l columns); synapse
// term, synapse index s of the layer (ILayer's numbering, synapse_count() columns); group term,
// one column (u = 0): the whole group failed. `term` names it as the report's variance_by_term
// does ("neuron_crash layer 1", "synapse_crash layer 1") or is the group's name; `layer` is -1 for
// a group. A unit whose failure changes nothing has a zero column. b4 is mean = sum_u p e_u,
// var = sum_u p e_u^2 over these columns (docs/bounds.md: p, not p(1-p), as the paper's code;
// the first-order variance of independent Bernoulli failures is sum_u p (1-p) e_u^2).
struct TermEffects {
  std::string term;
  int layer = -1;
  double probability = 0;
  Eigen::MatrixXd effects;
};

// Computes the bounds of docs/bounds.md for one network and fault model, summing over layers and terms:
// b1_paper_{1,2,inf}, b1_{1,2,inf}, b2 and worst_case (neuron crashes only), b3 and b4 (every
// kind), and sum_norms_{1,2,inf,fro} (the network-level proxy of the paper's code). b4 uses incremental partial forward
// passes: the crash of unit i of layer l changes z_{l+1} by A_{l+1}[:, i] dy_i and only layers l+1..L are evaluated.
// Layers are read through models::ILayer: W_l below is the matrix A_l of the layer's linear part
// (dense: its weights). Convolutions and pooling stages: b3 and b4 for every kind (a shared
// synapse is one unit, its per-position contributions summed; b4 propagates a unit's changes
// through the pooling windows they reach, exactly); sum_norms from matrix-free norms (the
// 2-norm of a convolution is a power-iteration estimate); b1, b1_paper, b2 and worst_case are
// computed for networks of dense layers without stages only (has_paper_bounds()).
class BoundCalculator {
 public:
  BoundCalculator(const Network& network, FaultModel model);
  // The bounds for one input. `families` limits the work to those named (b1, b1_paper, b2,
  // worst_case, b3, b4, sum_norms; b1 also covers b1_paper); empty computes every bound.
  BoundSet compute(const Eigen::VectorXd& input, const std::vector<std::string>& families = {}) const;
  // The same, and, when b4 is computed, b4's variance per term (p sum_u e_u^2 per output, in the
  // order of unit_effects(): neurons, synapses, each group) in `b4_term_variance`: the report's
  // variance_by_term from the same pass.
  BoundSet compute(const Eigen::VectorXd& input, const std::vector<std::string>& families,
                   std::vector<Eigen::VectorXd>* b4_term_variance) const;
  // The single-unit effects of every term for one input, one TermEffects per term in the order
  // model().neurons, model().synapses, model().groups (whatever a term's probability: a term
  // with p = 0 still has effects). b4 is computed by the same code (compute() sums these columns
  // chunk by chunk without keeping them).
  std::vector<TermEffects> unit_effects(const Eigen::VectorXd& input) const;
  const FaultModel& model() const { return model_; }
  // Whether b1, b1_paper, b2 and worst_case are defined for this network here: dense layers
  // without pooling stages (docs/bounds.md, "Convolutional networks").
  static bool has_paper_bounds(const Network& network);
  // The labels of unit_effects() and of the report's variance_by_term.
  static std::string term_label(const NeuronTerm& t);
  static std::string term_label(const SynapseTerm& t);

 private:
  struct Wanted {
    bool b3 = true, b4 = true;
  };
  // One unit whose failure changes one activation y_l[row] by dy (a neuron, or a synapse into
  // neuron `row`).
  struct Change {
    Eigen::Index unit = 0;
    Eigen::Index row = 0;
    double dy = 0;
  };
  // Receives the effects of `count` units (units[0..count)), one column each: never empty.
  using EffectSink = std::function<void(const Eigen::Index* units, const Eigen::MatrixXd& effects)>;
  // Per synapse term, the weight changes r(w) - w that are not zero, sorted by input index.
  struct SynapseDeltas {
    std::vector<std::uint64_t> synapse;
    std::vector<Eigen::Index> row, col;
    std::vector<double> dw;
  };
  // Per group, its distinct members by layer, and the lowest layer whose pre-activations change.
  // A group's crashed synapse: everywhere (pos_count 0) or at some output positions.
  struct GroupSynapse {
    std::uint64_t synapse;
    Eigen::Index pos_begin = 0, pos_count = 0;
  };
  struct GroupPlan {
    int start = 1;  // 1..L, or L + 1 for an empty group
    std::vector<std::vector<Eigen::Index>> neurons;   // per layer 0..L
    std::vector<std::vector<GroupSynapse>> synapses;  // per layer 0..L (0 unused)
  };
  // Adds to z (one input) the change of crashing the group's synapses of `layer`, reading u.
  void crash_group_synapses(const GroupPlan& plan, int layer, const double* u, double* z) const;
  void add_neuron_terms(const ForwardTrace& t, Wanted w, BoundSet& out, std::vector<Eigen::VectorXd>* terms) const;
  void add_synapse_terms(const ForwardTrace& t, Wanted w, BoundSet& out, std::vector<Eigen::VectorXd>* terms) const;
  void add_group_terms(const ForwardTrace& t, Wanted w, BoundSet& out, std::vector<Eigen::VectorXd>* terms) const;
  void add_paper_bounds(const ForwardTrace& t, BoundSet& out) const;
  // The units of each term with a nonzero effect, in chunks (the single implementation of the
  // single-unit effects: unit_effects() and b4 both use it).
  void neuron_effects(const ForwardTrace& t, const NeuronTerm& term, const EffectSink& sink) const;
  void synapse_effects(const ForwardTrace& t, std::size_t term, const EffectSink& sink) const;
  // Units: indices into model_.groups.
  void group_effects(const ForwardTrace& t, const EffectSink& sink) const;
  // Exact effects F_l(y_l + dy e_row) - F_l(y_l), one column per change (dy != 0).
  void propagate_changes(const ForwardTrace& t, int layer, const std::vector<Change>& changes, const EffectSink& sink) const;
  // One unit whose failure changes several activations of y_l (a shared conv synapse).
  struct ChangeSet {
    Eigen::Index unit = 0;
    std::vector<Eigen::Index> rows;
    std::vector<double> dys;
  };
  // Exact effects F_l(y_l + dy) - F_l(y_l), one column per set: the changes go through layer l's
  // stage (the windows they reach) and a sparse update of z_{l+1}, then layers l+1..L run on the
  // stacked columns. Used where A_{l+1} is not stored or y_l is pooled. A set whose change dies
  // in the pooling (a max window that keeps its maximum) gives no column.
  void propagate_sets(const ForwardTrace& t, int layer, const std::vector<ChangeSet>& sets, const EffectSink& sink) const;
  // Whether changes of y_l go through the stored dense A_{l+1} (no stage after l, P = 1).
  bool dense_after(int l) const {
    return net_.stage(l) == nullptr && maps_[static_cast<std::size_t>(l) + 1].size() > 0;
  }

  const Network& net_;
  FaultModel model_;
  std::vector<Eigen::MatrixXd> maps_;              // per layer 1..L: A_l (empty for a convolution)
  std::vector<SynapseDeltas> synapse_deltas_;      // per synapse term
  std::vector<GroupPlan> group_plans_;             // per group term
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
// matrix when one position uses it (dense: W), else built column by column from jvp() (refused
// above 2^24 cells: a convolution's unrolled map is never needed in full).
Eigen::MatrixXd linear_map(const ILayer& layer);
// The 1, 2, inf and Frobenius norms of A_l without building it. Exact for layers whose every
// (output, input) pair is read through at most one synapse (dense, convolution): |A| and A o A
// are the same layer with |w| and w^2. The 2-norm of a layer with more than one position is a
// Lanczos estimate of the largest singular value (from below; converged to about 1e-14 in the tests).
std::array<double, 4> layer_norms(const ILayer& layer);

// Induced matrix norms: 1 = max column abs-sum, 2 = spectral, inf = max row abs-sum; fro.
double induced_norm_1(const Eigen::MatrixXd& w);
double spectral_norm(const Eigen::MatrixXd& w);
double induced_norm_inf(const Eigen::MatrixXd& w);

}  // namespace nfsim::models::bounds
