#include "models/bounds/bounds.h"

#include <Eigen/Eigenvalues>
#include <Eigen/SVD>
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace nfsim::models::bounds {
namespace {

constexpr Eigen::Index kColumnsPerChunk = 2048;  // columns of partial forward passes at once

void accumulate(BoundSet& out, const std::string& name, const Eigen::VectorXd& mean, const Eigen::VectorXd* var) {
  auto it = out.find(name);
  if (it == out.end()) {
    BoundValue v{mean, var ? *var : Eigen::VectorXd()};
    out.emplace(name, std::move(v));  // std holds the variance until finish()
    return;
  }
  it->second.mean += mean;
  if (var) it->second.std += *var;
}

// A term that never fails (p = 0) adds nothing. It is not computed at all: its effect times 0
// would be NaN where the effect overflows (a huge stuck-at value: 0 * inf).
template <typename W>
void add_zero_term(BoundSet& out, const W& want, Eigen::Index outputs) {
  const Eigen::VectorXd zero = Eigen::VectorXd::Zero(outputs);
  if (want.b3) accumulate(out, "b3", zero, &zero);
  if (want.b4) accumulate(out, "b4", zero, &zero);
}

// Turns accumulated variances into standard deviations.
void finish(BoundSet& out) {
  for (auto& [name, v] : out) {
    if (v.std.size() > 0) v.std = v.std.cwiseMax(0.0).cwiseSqrt();
  }
}

double vector_norm(const Eigen::VectorXd& v, int ord) {
  if (ord == 1) return v.lpNorm<1>();
  if (ord == 2) return v.norm();
  return v.lpNorm<Eigen::Infinity>();
}

}  // namespace

bool FaultModel::only_neuron_crashes() const {
  return synapses.empty() && groups.empty() &&
         std::all_of(neurons.begin(), neurons.end(), [](const NeuronTerm& t) { return t.crash; });
}

Eigen::MatrixXd linear_map(const ILayer& layer) {
  if (layer.crossbar_positions() == 1) return layer.crossbar_matrix();
  if (static_cast<double>(layer.output_size()) * static_cast<double>(layer.input_size()) > double(1 << 24)) {
    throw core::InternalError("linear_map: the unrolled " + layer.kind() + " map would have " +
                              std::to_string(layer.output_size()) + " x " + std::to_string(layer.input_size()) + " cells");
  }
  Eigen::MatrixXd a(layer.output_size(), layer.input_size());
  Eigen::VectorXd e = Eigen::VectorXd::Zero(layer.input_size());
  for (Eigen::Index i = 0; i < a.cols(); ++i) {
    e[i] = 1.0;
    a.col(i) = layer.jvp(e);
    e[i] = 0.0;
  }
  return a;
}

double induced_norm_1(const Eigen::MatrixXd& w) { return w.cwiseAbs().colwise().sum().maxCoeff(); }
double induced_norm_inf(const Eigen::MatrixXd& w) { return w.cwiseAbs().rowwise().sum().maxCoeff(); }
double spectral_norm(const Eigen::MatrixXd& w) {
  if (std::min(w.rows(), w.cols()) > 64) {
    Eigen::BDCSVD<Eigen::MatrixXd> svd(w);
    return svd.singularValues()(0);
  }
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(w);
  return svd.singularValues()(0);
}

std::array<double, 4> layer_norms(const ILayer& layer) {
  if (layer.crossbar_positions() == 1) {
    const Eigen::MatrixXd& w = layer.crossbar_matrix();
    return {induced_norm_1(w), spectral_norm(w), induced_norm_inf(w), w.norm()};
  }
  std::unique_ptr<ILayer> abs = layer.clone(), sq = layer.clone();
  for (std::uint64_t s = 0; s < layer.synapse_count(); ++s) {
    const double w = layer.synapse(s);
    abs->set_synapse(s, std::abs(w));
    sq->set_synapse(s, w * w);
  }
  const Eigen::VectorXd ones_in = Eigen::VectorXd::Ones(layer.input_size());
  const Eigen::MatrixXd ones_out = Eigen::MatrixXd::Ones(1, layer.output_size());
  std::array<double, 4> n{};
  n[0] = abs->vjp(ones_out).maxCoeff();                // max column abs-sum of A
  n[2] = abs->jvp(ones_in).maxCoeff();                 // max row abs-sum
  n[3] = std::sqrt(std::max(0.0, sq->jvp(ones_in).sum()));  // Frobenius
  // The largest eigenvalue of A^T A by Lanczos with full reorthogonalisation, from all ones
  // (the Ritz value is an estimate from below; it converges in a few dozen steps where plain
  // power iteration stalls on close singular values).
  const Eigen::Index steps = std::min<Eigen::Index>(layer.input_size(), 120);
  Eigen::MatrixXd q(layer.input_size(), steps);
  Eigen::VectorXd alpha(steps), beta(steps);
  q.col(0) = ones_in.normalized();
  double sigma = 0;
  for (Eigen::Index k = 0; k < steps; ++k) {
    Eigen::VectorXd w = layer.vjp(layer.jvp(q.col(k)).transpose()).transpose();
    alpha[k] = q.col(k).dot(w);
    for (int pass = 0; pass < 2; ++pass) w -= q.leftCols(k + 1) * (q.leftCols(k + 1).transpose() * w);
    beta[k] = w.norm();
    Eigen::MatrixXd tri = Eigen::MatrixXd::Zero(k + 1, k + 1);
    for (Eigen::Index i = 0; i <= k; ++i) {
      tri(i, i) = alpha[i];
      if (i > 0) tri(i, i - 1) = tri(i - 1, i) = beta[i - 1];
    }
    const double top = std::sqrt(std::max(0.0, Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(tri, Eigen::EigenvaluesOnly).eigenvalues().maxCoeff()));
    const bool done = std::abs(top - sigma) <= 1e-14 * top || beta[k] <= 1e-12 * std::max(1.0, top * top);
    sigma = top;
    if (done || k + 1 == steps) break;
    q.col(k + 1) = w / beta[k];
  }
  n[1] = sigma;
  return n;
}

bool BoundCalculator::has_paper_bounds(const Network& network) {
  if (network.has_stages()) return false;
  for (int l = 1; l <= network.num_layers(); ++l) {
    if (network.layer(l).crossbar_positions() != 1) return false;
  }
  return true;
}

BoundCalculator::BoundCalculator(const Network& network, FaultModel model) : net_(network), model_(std::move(model)) {
  const int L = net_.num_layers();
  norms_.resize(static_cast<std::size_t>(L) + 1);
  max_abs_.resize(static_cast<std::size_t>(L) + 1);
  maps_.resize(static_cast<std::size_t>(L) + 1);
  for (int l = 1; l <= L; ++l) {
    const ILayer& layer = net_.layer(l);
    const Eigen::MatrixXd& cells = layer.crossbar_matrix();
    max_abs_[l] = cells.size() ? cells.cwiseAbs().maxCoeff() : 0.0;
    if (layer.crossbar_positions() != 1) {
      norms_[l] = layer_norms(layer);  // the map is never stored (a conv layer's would take GBs)
      continue;
    }
    maps_[l] = cells;
    const Eigen::MatrixXd& w = maps_[l];
    norms_[l] = {induced_norm_1(w), spectral_norm(w), induced_norm_inf(w), w.norm()};
  }
  for (const NeuronTerm& t : model_.neurons) {
    if (t.layer < 0 || t.layer > L) throw core::InputError("bounds: neuron fault layer " + std::to_string(t.layer) + " out of range");
  }
  for (const SynapseTerm& t : model_.synapses) {
    if (t.layer < 1 || t.layer > L) throw core::InputError("bounds: synapse fault layer " + std::to_string(t.layer) + " out of range");
    const ILayer& layer = net_.layer(t.layer);
    SynapseDeltas d;
    if (layer.crossbar_positions() != 1) {
      // A shared synapse: its connections are enumerated per input (synapse_effects).
      for (std::uint64_t s = 0; s < layer.synapse_count(); ++s) {
        const double w = layer.synapse(s);
        if (t.replace(w) - w == 0.0) continue;
        d.synapse.push_back(s);
        d.dw.push_back(t.replace(w) - w);
      }
      synapse_deltas_.push_back(std::move(d));
      continue;
    }
    // The weight changes do not depend on the input: computed once, ordered by input index so
    // that an input whose activation is 0 skips its synapses at once.
    std::vector<std::pair<Eigen::Index, std::uint64_t>> order;
    for (std::uint64_t s = 0; s < layer.synapse_count(); ++s) {
      const double w = layer.synapse(s);
      if (t.replace(w) - w != 0.0) order.emplace_back(layer.connection(s, 0).input, s);
    }
    std::stable_sort(order.begin(), order.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    for (const auto& [input, s] : order) {
      const Connection c = layer.connection(s, 0);
      const double w = layer.synapse(s);
      d.synapse.push_back(s);
      d.row.push_back(c.output);
      d.col.push_back(c.input);
      d.dw.push_back(t.replace(w) - w);
    }
    synapse_deltas_.push_back(std::move(d));
  }
  for (const GroupTerm& g : model_.groups) {
    GroupPlan plan;
    plan.neurons.resize(static_cast<std::size_t>(L) + 1);
    plan.synapses.resize(static_cast<std::size_t>(L) + 1);
    int first = L + 1;
    for (const auto& n : g.neurons) {
      if (n[0] < 0 || n[0] > L || n[1] < 0 || n[1] >= net_.width(n[0]))
        throw core::InputError("bounds: group '" + g.name + "' neuron (" + std::to_string(n[0]) + ", " + std::to_string(n[1]) +
                               ") out of range");
      plan.neurons[n[0]].push_back(n[1]);
      first = std::min(first, n[0]);
    }
    for (const auto& s : g.synapses) {
      if (s[0] < 1 || s[0] > L)
        throw core::InputError("bounds: group '" + g.name + "' synapse layer " + std::to_string(s[0]) +
                               " out of range");
      const ILayer& layer = net_.layer(s[0]);
      const Eigen::MatrixXd& cells = layer.crossbar_matrix();
      if (s[1] < 0 || s[1] >= cells.rows() || s[2] < 0 || s[2] >= cells.cols())
        throw core::InputError("bounds: group '" + g.name + "' synapse (" + std::to_string(s[0]) + ", " + std::to_string(s[1]) +
                               ", " + std::to_string(s[2]) + ") out of range");
      plan.synapses[s[0]].push_back({layer.synapse_at(s[1], s[2]), s[3], s[4]});
      first = std::min(first, s[0]);
    }
    // A member listed twice fails once.
    for (auto& v : plan.neurons) {
      std::sort(v.begin(), v.end());
      v.erase(std::unique(v.begin(), v.end()), v.end());
    }
    // A synapse crashed everywhere is not also crashed at some positions; ranges of one synapse
    // (replicas) are disjoint, and a range listed twice counts once.
    for (auto& v : plan.synapses) {
      auto key = [](const GroupSynapse& a) { return std::make_tuple(a.synapse, a.pos_count != 0, a.pos_begin, a.pos_count); };
      std::sort(v.begin(), v.end(), [&](const GroupSynapse& a, const GroupSynapse& b) { return key(a) < key(b); });
      v.erase(std::unique(v.begin(), v.end(), [&](const GroupSynapse& a, const GroupSynapse& b) { return key(a) == key(b); }),
              v.end());
      std::vector<GroupSynapse> kept;
      for (const GroupSynapse& gs : v) {
        if (gs.pos_count != 0 && !kept.empty() && kept.back().synapse == gs.synapse && kept.back().pos_count == 0) continue;
        kept.push_back(gs);
      }
      v.swap(kept);
    }
    plan.start = first > L ? L + 1 : std::max(first, 1);
    group_plans_.push_back(std::move(plan));
  }
  if (model_.only_neuron_crashes() && has_paper_bounds(net_)) {
    // |W_L| ... |W_{l+1}| and the squared version, built from the output down.
    abs_products_.resize(static_cast<std::size_t>(L) + 1);
    square_products_.resize(static_cast<std::size_t>(L) + 1);
    abs_products_[L] = Eigen::MatrixXd::Identity(net_.output_size(), net_.output_size());
    square_products_[L] = abs_products_[L];
    for (int l = L - 1; l >= 0; --l) {
      const Eigen::MatrixXd& w = maps_[l + 1];
      abs_products_[l] = abs_products_[l + 1] * w.cwiseAbs();
      square_products_[l] = square_products_[l + 1] * w.cwiseProduct(w);
    }
  }
}

std::string BoundCalculator::term_label(const NeuronTerm& t) {
  return std::string(t.crash ? "neuron_crash" : "neuron_stuck_at") + " layer " + std::to_string(t.layer);
}

std::string BoundCalculator::term_label(const SynapseTerm& t) { return t.kind + " layer " + std::to_string(t.layer); }

void BoundCalculator::propagate_changes(const ForwardTrace& t, int l, const std::vector<Change>& changes, const EffectSink& sink) const {
  const int L = net_.num_layers();
  const Eigen::Index outputs = net_.output_size();
  if (changes.empty()) return;
  std::vector<Eigen::Index> units;
  if (l < L && !dense_after(l)) {
    std::vector<ChangeSet> sets;
    sets.reserve(changes.size());
    for (const Change& c : changes) sets.push_back({c.unit, {c.row}, {c.dy}});
    propagate_sets(t, l, sets, sink);
    return;
  }
  if (l == L) {
    // The output itself: the effect is dy at its row.
    for (std::size_t begin = 0; begin < changes.size(); begin += static_cast<std::size_t>(kColumnsPerChunk)) {
      const std::size_t end = std::min(changes.size(), begin + static_cast<std::size_t>(kColumnsPerChunk));
      Eigen::MatrixXd e = Eigen::MatrixXd::Zero(outputs, static_cast<Eigen::Index>(end - begin));
      units.clear();
      for (std::size_t c = begin; c < end; ++c) {
        e(changes[c].row, static_cast<Eigen::Index>(c - begin)) = changes[c].dy;
        units.push_back(changes[c].unit);
      }
      sink(units.data(), e);
    }
    return;
  }
  // With piecewise-linear activations after layer l (identity, relu, leaky_relu), F_l is affine
  // along e_row for |dy| up to the first kink any pre-activation meets: there the effect is
  // exactly dy G[:, row] (G = d y_L / d y_l). Worth its GEMMs only when the layer has more
  // changes than neurons (synapse terms); the other changes take the partial forward passes.
  bool piecewise_linear = true;
  for (int m = l + 1; m <= L; ++m) {
    const ActivationKind k = net_.layer(m).activation().kind;
    piecewise_linear &= k == ActivationKind::identity || k == ActivationKind::relu || k == ActivationKind::leaky_relu;
    piecewise_linear &= m == L || dense_after(m);  // the shortcut multiplies stored maps
  }
  std::vector<const Change*> rest;
  rest.reserve(changes.size());
  if (piecewise_linear && static_cast<Eigen::Index>(changes.size()) > net_.width(l)) {
    // v: the change of z_m per unit dy of each y_l[row] (one column per row); radius: how far
    // dy may go before a pre-activation of layers l+1..L crosses 0.
    Eigen::MatrixXd v = maps_[l + 1];
    Eigen::VectorXd radius = Eigen::VectorXd::Constant(net_.width(l), std::numeric_limits<double>::infinity());
    for (int m = l + 1; m <= L; ++m) {
      const Activation& act = net_.layer(m).activation();
      if (m > l + 1) v = maps_[m] * v;
      if (act.kind != ActivationKind::identity) {
        const Eigen::VectorXd& z = t.z[m];
        for (Eigen::Index j = 0; j < v.cols(); ++j) {
          double r = radius[j];
          for (Eigen::Index k = 0; k < v.rows(); ++k) {
            const double a = std::abs(v(k, j));
            if (a > 0.0) r = std::min(r, std::abs(z[k]) / a);
          }
          radius[j] = r;
        }
      }
      v = act.derivative(t.z[m]).asDiagonal() * v;
    }
    // v is now G (outputs x n_l).
    Eigen::MatrixXd e(outputs, kColumnsPerChunk);
    Eigen::Index filled = 0;
    for (const Change& c : changes) {
      if (std::isfinite(c.dy) && std::abs(c.dy) <= radius[c.row]) {
        e.col(filled) = v.col(c.row) * c.dy;
        units.push_back(c.unit);
        if (++filled == kColumnsPerChunk) {
          sink(units.data(), e);
          units.clear();
          filled = 0;
        }
      } else {
        rest.push_back(&c);
      }
    }
    if (filled > 0) {
      const Eigen::MatrixXd part = e.leftCols(filled);
      sink(units.data(), part);
      units.clear();
    }
  } else {
    for (const Change& c : changes) rest.push_back(&c);
  }
  // The others: a rank-one update of z_{l+1} per change, then layers l+1..L on all columns at once.
  const Eigen::MatrixXd& a = maps_[l + 1];
  const Activation& next_act = net_.layer(l + 1).activation();
  const Eigen::VectorXd& z0 = t.z[l + 1];
  Eigen::MatrixXd z;
  for (std::size_t begin = 0; begin < rest.size(); begin += static_cast<std::size_t>(kColumnsPerChunk)) {
    const std::size_t end = std::min(rest.size(), begin + static_cast<std::size_t>(kColumnsPerChunk));
    const Eigen::Index cols = static_cast<Eigen::Index>(end - begin);
    z.resize(z0.size(), cols);
    units.clear();
    for (Eigen::Index c = 0; c < cols; ++c) {
      const Change& ch = *rest[begin + static_cast<std::size_t>(c)];
      z.col(c).noalias() = z0 + a.col(ch.row) * ch.dy;
      units.push_back(ch.unit);
    }
    next_act.apply_to(z.data(), z.data(), z.size());
    Eigen::MatrixXd out = net_.forward_from_batch(l + 1, z);
    out.colwise() -= t.y[L];
    sink(units.data(), out);
  }
}

void BoundCalculator::propagate_sets(const ForwardTrace& t, int l, const std::vector<ChangeSet>& sets,
                                     const EffectSink& sink) const {
  const int L = net_.num_layers();
  if (sets.empty()) return;
  std::vector<Eigen::Index> units;
  if (l == L) {
    Eigen::MatrixXd e;
    for (std::size_t begin = 0; begin < sets.size(); begin += static_cast<std::size_t>(kColumnsPerChunk)) {
      const std::size_t end = std::min(sets.size(), begin + static_cast<std::size_t>(kColumnsPerChunk));
      e = Eigen::MatrixXd::Zero(net_.output_size(), static_cast<Eigen::Index>(end - begin));
      units.clear();
      for (std::size_t c = begin; c < end; ++c) {
        for (std::size_t k = 0; k < sets[c].rows.size(); ++k) e(sets[c].rows[k], static_cast<Eigen::Index>(c - begin)) += sets[c].dys[k];
        units.push_back(sets[c].unit);
      }
      sink(units.data(), e);
    }
    return;
  }
  const Pool2d* stage = net_.stage(l);
  const ILayer& next = net_.layer(l + 1);
  const Eigen::Index width = next.output_size();
  // Columns per partial forward pass: at most 2048 and about 32 MB of y_{l+1}.
  const Eigen::Index chunk = std::clamp<Eigen::Index>((Eigen::Index{1} << 22) / std::max<Eigen::Index>(1, width), 1, kColumnsPerChunk);
  Eigen::MatrixXd y(width, chunk);
  Eigen::VectorXd y_work = t.y[l];
  const Eigen::VectorXd& u0 = t.u[l];
  std::vector<char> mark(static_cast<std::size_t>(u0.size()), 0);
  std::vector<Eigen::Index> windows, idx;
  std::vector<double> du;
  Eigen::Index filled = 0;
  auto flush = [&] {
    if (filled == 0) return;
    Eigen::MatrixXd out = net_.forward_from_batch(l + 1, y.leftCols(filled));
    out.colwise() -= t.y[L];
    sink(units.data(), out);
    units.clear();
    filled = 0;
  };
  for (const ChangeSet& set : sets) {
    idx.clear();
    du.clear();
    if (stage) {
      // The pooled outputs whose window holds a changed activation, recomputed.
      for (std::size_t k = 0; k < set.rows.size(); ++k) y_work[set.rows[k]] += set.dys[k];
      stage->touched_windows(set.rows.data(), set.rows.size(), mark, windows);
      for (Eigen::Index q : windows) {
        const double d = stage->window(y_work.data(), q) - u0[q];
        if (d != 0.0) {
          idx.push_back(q);
          du.push_back(d);
        }
      }
      for (Eigen::Index r : set.rows) y_work[r] = t.y[l][r];
    } else {
      idx = set.rows;
      du = set.dys;
    }
    if (idx.empty()) continue;  // the change dies in the pooling
    double* col = y.col(filled).data();
    std::copy(t.z[l + 1].data(), t.z[l + 1].data() + width, col);
    next.add_input_changes(idx.data(), du.data(), idx.size(), col);
    next.activation().apply_to(col, col, width);
    units.push_back(set.unit);
    if (++filled == chunk) flush();
  }
  flush();
}

void BoundCalculator::neuron_effects(const ForwardTrace& t, const NeuronTerm& term, const EffectSink& sink) const {
  const Eigen::VectorXd& y = t.y[term.layer];
  std::vector<Change> changes;
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    const double dy = term.crash ? -y[i] : term.value - y[i];
    // A unit that keeps its value (a crashed output already 0, a dead relu unit) changes nothing.
    if (dy != 0.0) changes.push_back({i, i, dy});
  }
  propagate_changes(t, term.layer, changes, sink);
}

void BoundCalculator::synapse_effects(const ForwardTrace& t, std::size_t index, const EffectSink& sink) const {
  const SynapseTerm& term = model_.synapses[index];
  const SynapseDeltas& d = synapse_deltas_[index];
  const int l = term.layer;
  const Activation& act = net_.layer(l).activation();
  const ILayer& layer = net_.layer(l);
  if (layer.crossbar_positions() != 1) {
    // A shared synapse changes z_l at each position that reads it: dz = (r(w) - w) u_{l-1}[input].
    const Eigen::VectorXd& u_prev = t.u[l - 1];
    std::vector<ChangeSet> sets;
    for (std::size_t k = 0; k < d.synapse.size(); ++k) {
      ChangeSet set{static_cast<Eigen::Index>(d.synapse[k]), {}, {}};
      const int connections = layer.connection_count(d.synapse[k]);
      for (int c = 0; c < connections; ++c) {
        const Connection conn = layer.connection(d.synapse[k], c);
        const double dz = d.dw[k] * u_prev[conn.input];
        if (dz == 0.0) continue;
        const double dy = act.apply(t.z[l][conn.output] + dz) - t.y[l][conn.output];
        if (dy == 0.0) continue;
        set.rows.push_back(conn.output);
        set.dys.push_back(dy);
      }
      if (!set.rows.empty()) sets.push_back(std::move(set));
    }
    propagate_sets(t, l, sets, sink);
    return;
  }
  const Eigen::VectorXd& y_prev = t.u[l - 1];
  const Eigen::VectorXd& z = t.z[l];
  const Eigen::VectorXd& y = t.y[l];
  // The failed synapse of connection (j, i) changes z_l[j] by dz = (r(w) - w) y_{l-1}[i] and
  // nothing else: y_l[j] becomes phi(z_l[j] + dz).
  std::vector<Change> changes;
  for (std::size_t k = 0; k < d.synapse.size(); ++k) {
    const double dz = d.dw[k] * y_prev[d.col[k]];
    if (dz == 0.0) continue;
    const Eigen::Index j = d.row[k];
    const double dy = act.apply(z[j] + dz) - y[j];
    if (dy != 0.0) changes.push_back({static_cast<Eigen::Index>(d.synapse[k]), j, dy});
  }
  propagate_changes(t, l, changes, sink);
}

void BoundCalculator::group_effects(const ForwardTrace& t, const EffectSink& sink) const {
  const int L = net_.num_layers();
  // Groups that start at the same layer share a batch: their columns run layers start..L together
  // (GEMMs), each column with its own members failed.
  std::vector<Eigen::Index> order;
  for (std::size_t g = 0; g < group_plans_.size(); ++g) {
    if (group_plans_[g].start <= L) order.push_back(static_cast<Eigen::Index>(g));
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](Eigen::Index x, Eigen::Index y) { return group_plans_[x].start < group_plans_[y].start; });
  std::size_t begin = 0;
  while (begin < order.size()) {
    const int start = group_plans_[order[begin]].start;
    std::size_t end = begin;
    while (end < order.size() && end - begin < static_cast<std::size_t>(kColumnsPerChunk) && group_plans_[order[end]].start == start) ++end;
    const Eigen::Index cols = static_cast<Eigen::Index>(end - begin);
    // Layer `start`: its inputs are the fault-free y_{start-1}, except crashed input neurons.
    const ILayer& first = net_.layer(start);
    Eigen::MatrixXd z(t.z[start].size(), cols);
    for (Eigen::Index c = 0; c < cols; ++c) z.col(c) = t.z[start];
    Eigen::VectorXd y_prev = t.y[start - 1];
    std::vector<double> dy;
    for (Eigen::Index c = 0; c < cols; ++c) {
      const GroupPlan& plan = group_plans_[order[begin + static_cast<std::size_t>(c)]];
      const std::vector<Eigen::Index>& crashed_inputs = plan.neurons[start - 1];
      if (net_.stage(start - 1)) {
        // Pooled inputs: u_{start-1} of the crashed y_{start-1}, then the layer in full.
        Eigen::VectorXd y_faulty = t.y[start - 1];
        for (Eigen::Index i : crashed_inputs) y_faulty[i] = 0.0;
        const Eigen::VectorXd u = net_.staged(start - 1, y_faulty);
        z.col(c) = first.linear(u);
        crash_group_synapses(plan, start, u.data(), z.col(c).data());
        continue;
      }
      dy.clear();
      for (Eigen::Index i : crashed_inputs) dy.push_back(-y_prev[i]);
      if (!crashed_inputs.empty()) first.add_input_changes(crashed_inputs.data(), dy.data(), crashed_inputs.size(), z.col(c).data());
      for (Eigen::Index i : crashed_inputs) y_prev[i] = 0.0;
      crash_group_synapses(plan, start, y_prev.data(), z.col(c).data());
      for (Eigen::Index i : crashed_inputs) y_prev[i] = t.y[start - 1][i];
    }
    Eigen::MatrixXd y, u;
    for (int m = start;; ++m) {
      const ILayer& layer = net_.layer(m);
      if (m > start) {
        if (const Pool2d* stage = net_.stage(m - 1)) {
          stage->forward_batch(y, u);
          y.swap(u);
        }
        layer.linear_batch(y, z);
        for (Eigen::Index c = 0; c < cols; ++c) {
          crash_group_synapses(group_plans_[order[begin + static_cast<std::size_t>(c)]], m, y.col(c).data(), z.col(c).data());
        }
      }
      y = layer.activation().apply(z);
      for (Eigen::Index c = 0; c < cols; ++c) {
        for (Eigen::Index i : group_plans_[order[begin + static_cast<std::size_t>(c)]].neurons[m]) y(i, c) = 0.0;
      }
      if (m == L) break;
    }
    y.colwise() -= t.y[L];
    sink(order.data() + begin, y);
    begin = end;
  }
}

namespace {

// b4 of one term: p times the sums over its units of e and e^2, chunk by chunk (a term without
// any unit that changes something adds zeros: no reduction over an empty range).
struct B4Sums {
  Eigen::VectorXd sum, sum_sq;
  explicit B4Sums(Eigen::Index outputs) : sum(Eigen::VectorXd::Zero(outputs)), sum_sq(Eigen::VectorXd::Zero(outputs)) {}
  void add(const Eigen::MatrixXd& e) {
    for (Eigen::Index c = 0; c < e.cols(); ++c) {
      sum += e.col(c);
      sum_sq += e.col(c).cwiseAbs2();
    }
  }
  void add_to(BoundSet& out, double p, std::vector<Eigen::VectorXd>* terms) const {
    const Eigen::VectorXd var = p * sum_sq;
    accumulate(out, "b4", p * sum, &var);
    if (terms) terms->push_back(var);
  }
  // A term whose units have probabilities of their own (TMR: docs/faults.md, "Protection"):
  // each column weighted by its unit's p. Then add_to(out, 1).
  void add_weighted(const Eigen::Index* units, const Eigen::MatrixXd& e, const Eigen::VectorXd& pu) {
    for (Eigen::Index c = 0; c < e.cols(); ++c) {
      const double p = pu[units[c]];
      sum += p * e.col(c);
      sum_sq += p * e.col(c).cwiseAbs2();
    }
  }
};

// The per-unit probabilities of a term with overrides: `count` units at p, the listed ones at
// their own.
Eigen::VectorXd unit_probabilities(Eigen::Index count, double p, const std::vector<std::pair<std::uint64_t, double>>& overrides) {
  Eigen::VectorXd pu = Eigen::VectorXd::Constant(count, p);
  for (const auto& [u, q] : overrides) pu[static_cast<Eigen::Index>(u)] = q;
  return pu;
}

}  // namespace

void BoundCalculator::add_neuron_terms(const ForwardTrace& t, Wanted want, BoundSet& out, std::vector<Eigen::VectorXd>* terms) const {
  for (const NeuronTerm& term : model_.neurons) {
    const Eigen::VectorXd& y = t.y[term.layer];
    const Eigen::VectorXd dy = term.crash ? Eigen::VectorXd(-y) : Eigen::VectorXd((term.value - y.array()).matrix());
    const double p = term.probability;
    if (p == 0.0) {
      add_zero_term(out, want, net_.output_size());
      if (want.b4 && terms) terms->push_back(Eigen::VectorXd::Zero(net_.output_size()));
      continue;
    }
    if (!term.unit_probability.empty()) {
      // Protected units: each unit with its own probability (the plain path below keeps its
      // rounding for every other campaign).
      const Eigen::VectorXd pu = unit_probabilities(dy.size(), p, term.unit_probability);
      if (want.b3) {
        const Eigen::MatrixXd gdy = net_.jacobian_wrt_activations(t, term.layer) * dy.asDiagonal();
        const Eigen::VectorXd var = gdy.cwiseAbs2() * pu;
        accumulate(out, "b3", gdy * pu, &var);
      }
      if (want.b4) {
        B4Sums sums(net_.output_size());
        neuron_effects(t, term, [&](const Eigen::Index* u, const Eigen::MatrixXd& e) { sums.add_weighted(u, e, pu); });
        sums.add_to(out, 1.0, terms);
      }
      continue;
    }
    if (want.b3) {
      // b3: first-order Taylor with G_l = d y_L / d y_l.
      const Eigen::MatrixXd g = net_.jacobian_wrt_activations(t, term.layer);
      const Eigen::MatrixXd gdy = g * dy.asDiagonal();
      Eigen::VectorXd mean = Eigen::VectorXd::Zero(net_.output_size()), var = mean;
      for (Eigen::Index i = 0; i < gdy.cols(); ++i) {
        mean += gdy.col(i);
        var += gdy.col(i).cwiseAbs2();
      }
      mean *= p;
      var *= p;
      accumulate(out, "b3", mean, &var);
    }
    if (want.b4) {
      // b4: exact single-fault effects.
      B4Sums sums(net_.output_size());
      neuron_effects(t, term, [&](const Eigen::Index*, const Eigen::MatrixXd& e) { sums.add(e); });
      sums.add_to(out, p, terms);
    }
  }
}

void BoundCalculator::add_synapse_terms(const ForwardTrace& t, Wanted want, BoundSet& out, std::vector<Eigen::VectorXd>* terms) const {
  for (std::size_t index = 0; index < model_.synapses.size(); ++index) {
    const SynapseTerm& term = model_.synapses[index];
    const int l = term.layer;
    const double p = term.probability;
    if (p == 0.0) {
      add_zero_term(out, want, net_.output_size());
      if (want.b4 && terms) terms->push_back(Eigen::VectorXd::Zero(net_.output_size()));
      continue;
    }
    if (want.b3 && net_.layer(l).crossbar_positions() != 1) {
      // A shared synapse s: e_s = (r(w) - w) sum over its connections (j, i) of H[:, j] u_{l-1}[i]
      // (its per-position contributions summed, then squared for the variance).
      const ILayer& layer = net_.layer(l);
      const SynapseDeltas& d = synapse_deltas_[index];
      const Eigen::MatrixXd h = net_.jacobian_wrt_preactivations(t, l);
      const Eigen::VectorXd pu = unit_probabilities(static_cast<Eigen::Index>(layer.synapse_count()), p, term.unit_probability);
      Eigen::VectorXd mean = Eigen::VectorXd::Zero(net_.output_size()), var = mean, e(net_.output_size());
      for (std::size_t k = 0; k < d.synapse.size(); ++k) {
        e.setZero();
        const int connections = layer.connection_count(d.synapse[k]);
        for (int c = 0; c < connections; ++c) {
          const Connection conn = layer.connection(d.synapse[k], c);
          e += h.col(conn.output) * t.u[l - 1][conn.input];
        }
        e *= d.dw[k];
        const double q = pu[static_cast<Eigen::Index>(d.synapse[k])];
        mean += q * e;
        var += q * e.cwiseAbs2();
      }
      accumulate(out, "b3", mean, &var);
    } else if (want.b3) {
      // b3 with H_l = d y_L / d z_l: dz(j, i) = (r(w) - w) * y_{l-1, i}, the change of z_l,j when
      // the synapse of connection (j, i) fails (each synapse has one connection: checked in the
      // constructor).
      const SynapseDeltas& d = synapse_deltas_[index];
      const Eigen::VectorXd& y_prev = t.u[l - 1];
      Eigen::VectorXd dz_sum = Eigen::VectorXd::Zero(net_.width(l)), dz_sq = dz_sum;
      if (!term.unit_probability.empty()) {
        // Protected synapses: each weighted by its own probability (p is applied below as 1).
        const Eigen::VectorXd pu = unit_probabilities(static_cast<Eigen::Index>(net_.layer(l).synapse_count()), p, term.unit_probability);
        for (std::size_t k = 0; k < d.synapse.size(); ++k) {
          const double dz = d.dw[k] * y_prev[d.col[k]];
          const double w = pu[static_cast<Eigen::Index>(d.synapse[k])];
          dz_sum[d.row[k]] += w * dz;
          dz_sq[d.row[k]] += w * dz * dz;
        }
        const Eigen::MatrixXd h = net_.jacobian_wrt_preactivations(t, l);
        const Eigen::VectorXd var = h.cwiseProduct(h) * dz_sq;
        accumulate(out, "b3", h * dz_sum, &var);
      } else {
        for (std::size_t k = 0; k < d.synapse.size(); ++k) {
          const double dz = d.dw[k] * y_prev[d.col[k]];
          dz_sum[d.row[k]] += dz;
          dz_sq[d.row[k]] += dz * dz;
        }
        const Eigen::MatrixXd h = net_.jacobian_wrt_preactivations(t, l);
        const Eigen::VectorXd var = p * (h.cwiseProduct(h) * dz_sq);
        accumulate(out, "b3", p * (h * dz_sum), &var);
      }
    }
    if (want.b4) {
      B4Sums sums(net_.output_size());
      if (!term.unit_probability.empty()) {
        const Eigen::VectorXd pu = unit_probabilities(static_cast<Eigen::Index>(net_.layer(l).synapse_count()), p, term.unit_probability);
        synapse_effects(t, index, [&](const Eigen::Index* u, const Eigen::MatrixXd& e) { sums.add_weighted(u, e, pu); });
        sums.add_to(out, 1.0, terms);
      } else {
        synapse_effects(t, index, [&](const Eigen::Index*, const Eigen::MatrixXd& e) { sums.add(e); });
        sums.add_to(out, p, terms);
      }
    }
  }
}

void BoundCalculator::crash_group_synapses(const GroupPlan& plan, int m, const double* u, double* z) const {
  const ILayer& layer = net_.layer(m);
  for (const GroupSynapse& gs : plan.synapses[static_cast<std::size_t>(m)]) {
    if (gs.pos_count == 0) {
      layer.add_synapse_change(gs.synapse, 0.0, u, z);
    } else {
      layer.add_synapse_delta(gs.synapse, -layer.synapse(gs.synapse), u, z, gs.pos_begin, gs.pos_count);
    }
  }
}

void BoundCalculator::add_group_terms(const ForwardTrace& t, Wanted want, BoundSet& out, std::vector<Eigen::VectorXd>* terms) const {
  if (model_.groups.empty()) return;
  const Eigen::Index outputs = net_.output_size();
  if (want.b3) {
    // b3: each group's first-order effect, e = sum over members of G dy + H dz (Jacobians once
    // per layer for all groups).
    std::map<int, Eigen::MatrixXd> g_cache, h_cache;
    for (const GroupTerm& g : model_.groups) {
      const double p = g.probability;
      if (p == 0.0) {
        add_zero_term(out, Wanted{true, false}, outputs);
        continue;
      }
      Eigen::VectorXd e = Eigen::VectorXd::Zero(outputs);
      for (const auto& n : g.neurons) {
        if (!g_cache.count(n[0])) g_cache[n[0]] = net_.jacobian_wrt_activations(t, n[0]);
        e -= g_cache[n[0]].col(n[1]) * t.y[n[0]][n[1]];
      }
      for (const auto& s : g.synapses) {
        if (!h_cache.count(s[0])) h_cache[s[0]] = net_.jacobian_wrt_preactivations(t, s[0]);
        const ILayer& layer = net_.layer(s[0]);
        const std::uint64_t synapse = layer.synapse_at(s[1], s[2]);
        const double w = layer.synapse(synapse);
        // A replica's crash: only the connections at its positions (output o * P + p).
        const Eigen::Index positions = layer.crossbar_positions();
        for (int k = 0; k < layer.connection_count(synapse); ++k) {
          const Connection c = layer.connection(synapse, k);
          const Eigen::Index p = c.output % positions;
          if (s[4] > 0 && (p < s[3] || p >= s[3] + s[4])) continue;
          e -= h_cache[s[0]].col(c.output) * (w * t.u[s[0] - 1][c.input]);
        }
      }
      const Eigen::VectorXd var = p * e.cwiseProduct(e);
      accumulate(out, "b3", p * e, &var);
    }
  }
  if (!want.b4) return;
  // b4: the exact effect of each whole group. Groups with p = 0 add nothing (not even 0 * inf).
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(outputs), var = mean;
  const std::size_t first = terms ? terms->size() : 0;
  if (terms) terms->resize(first + model_.groups.size(), Eigen::VectorXd::Zero(outputs));
  group_effects(t, [&](const Eigen::Index* units, const Eigen::MatrixXd& e) {
    for (Eigen::Index c = 0; c < e.cols(); ++c) {
      const double p = model_.groups[static_cast<std::size_t>(units[c])].probability;
      if (p == 0.0) continue;
      const Eigen::VectorXd v = p * e.col(c).cwiseAbs2();
      mean += p * e.col(c);
      var += v;
      if (terms) (*terms)[first + static_cast<std::size_t>(units[c])] = v;
    }
  });
  accumulate(out, "b4", mean, &var);
}

std::vector<TermEffects> BoundCalculator::unit_effects(const Eigen::VectorXd& input) const {
  const ForwardTrace t = net_.trace(input);
  const Eigen::Index outputs = net_.output_size();
  std::vector<TermEffects> out;
  for (const NeuronTerm& term : model_.neurons) {
    TermEffects te{term_label(term), term.layer, term.probability, Eigen::MatrixXd::Zero(outputs, net_.width(term.layer))};
    neuron_effects(t, term, [&](const Eigen::Index* units, const Eigen::MatrixXd& e) {
      for (Eigen::Index c = 0; c < e.cols(); ++c) te.effects.col(units[c]) = e.col(c);
    });
    out.push_back(std::move(te));
  }
  for (std::size_t index = 0; index < model_.synapses.size(); ++index) {
    const SynapseTerm& term = model_.synapses[index];
    const Eigen::Index units = static_cast<Eigen::Index>(net_.layer(term.layer).synapse_count());
    TermEffects te{term_label(term), term.layer, term.probability, Eigen::MatrixXd::Zero(outputs, units)};
    synapse_effects(t, index, [&](const Eigen::Index* u, const Eigen::MatrixXd& e) {
      for (Eigen::Index c = 0; c < e.cols(); ++c) te.effects.col(u[c]) = e.col(c);
    });
    out.push_back(std::move(te));
  }
  const std::size_t first_group = out.size();
  for (const GroupTerm& g : model_.groups) out.push_back({g.name, -1, g.probability, Eigen::MatrixXd::Zero(outputs, 1)});
  group_effects(t, [&](const Eigen::Index* units, const Eigen::MatrixXd& e) {
    for (Eigen::Index c = 0; c < e.cols(); ++c) out[first_group + static_cast<std::size_t>(units[c])].effects.col(0) = e.col(c);
  });
  return out;
}

void BoundCalculator::add_paper_bounds(const ForwardTrace& t, BoundSet& out) const {
  const int L = net_.num_layers();
  static const int kOrds[] = {1, 2, 0};  // 0 = inf
  static const char* kOrdNames[] = {"1", "2", "inf"};
  for (const NeuronTerm& term : model_.neurons) {
    const int l = term.layer;
    const double p = term.probability;
    for (int o = 0; o < 3; ++o) {
      const int norm_index = o == 2 ? 2 : o;  // norms_ columns: 0 = 1, 1 = 2, 2 = inf
      double prod = 1.0, prod_lipschitz = 1.0;
      for (int m = l + 1; m <= L; ++m) {
        prod *= norms_[m][norm_index];
        prod_lipschitz *= net_.layer(m).activation().lipschitz() * norms_[m][norm_index];
      }
      const int ord = kOrds[o];
      const Eigen::VectorXd paper = Eigen::VectorXd::Constant(1, p * prod * vector_norm(t.y[0], ord));
      const Eigen::VectorXd corrected = Eigen::VectorXd::Constant(1, p * prod_lipschitz * vector_norm(t.y[l], ord));
      accumulate(out, std::string("b1_paper_") + kOrdNames[o], paper, nullptr);
      accumulate(out, std::string("b1_") + kOrdNames[o], corrected, nullptr);
    }
    // b2: absolute matrices (|y_l| keeps it a magnitude bound for activations with negative
    // outputs; it equals the paper's y_l for relu and sigmoid).
    const Eigen::VectorXd y_abs = t.y[l].cwiseAbs();
    Eigen::VectorXd var = p * (square_products_[l] * t.y[l].cwiseProduct(t.y[l]));
    accumulate(out, "b2", p * (abs_products_[l] * y_abs), &var);
    // worst_case (El Mhamdi & Guerraoui 2017) with f_l = p * n_l failures: the bound is linear
    // in the failure count, so with the expected count it bounds the expected |Delta_k|.
    const double f = p * static_cast<double>(net_.width(l));
    const double c = y_abs.size() ? y_abs.maxCoeff() : 0.0;
    double wc = f * c;
    if (l < L) {
      wc *= max_abs_[l + 1];
      for (int m = l + 2; m <= L; ++m) {
        wc *= net_.layer(m - 1).activation().lipschitz() * static_cast<double>(net_.width(m - 1)) * max_abs_[m];
      }
      wc *= net_.layer(L).activation().lipschitz();
    }
    accumulate(out, "worst_case", Eigen::VectorXd::Constant(net_.output_size(), wc), nullptr);
  }
}

BoundSet BoundCalculator::compute(const Eigen::VectorXd& input, const std::vector<std::string>& families) const {
  return compute(input, families, nullptr);
}

BoundSet BoundCalculator::compute(const Eigen::VectorXd& input, const std::vector<std::string>& families,
                                  std::vector<Eigen::VectorXd>* b4_term_variance) const {
  auto wanted = [&](std::initializer_list<const char*> names) {
    if (families.empty()) return true;
    for (const char* n : names) {
      if (std::find(families.begin(), families.end(), n) != families.end()) return true;
    }
    return false;
  };
  const Wanted want{wanted({"b3"}), wanted({"b4"})};
  const ForwardTrace t = net_.trace(input);
  BoundSet out;
  if (want.b3 || want.b4) {
    if (b4_term_variance) b4_term_variance->clear();
    std::vector<Eigen::VectorXd>* terms = want.b4 ? b4_term_variance : nullptr;
    add_neuron_terms(t, want, out, terms);
    add_synapse_terms(t, want, out, terms);
    add_group_terms(t, want, out, terms);
  }
  if (model_.only_neuron_crashes() && has_paper_bounds(net_) && wanted({"b1", "b1_paper", "b2", "worst_case"})) {
    add_paper_bounds(t, out);
  }
  if (wanted({"sum_norms"})) {
    // sum_norms: the paper's network-level proxy, sum over layers of ||W_l||, whatever the faults.
    static const char* kSumNames[] = {"sum_norms_1", "sum_norms_2", "sum_norms_inf", "sum_norms_fro"};
    for (int o = 0; o < 4; ++o) {
      double sum = 0;
      for (int m = 1; m <= net_.num_layers(); ++m) sum += norms_[m][o];
      out[kSumNames[o]] = BoundValue{Eigen::VectorXd::Constant(1, sum), Eigen::VectorXd()};
    }
  }
  finish(out);
  return out;
}

NetworkProfile network_profile(const Network& net, const Eigen::MatrixXd& inputs) {
  const int L = net.num_layers();
  NetworkProfile prof;
  prof.layers.resize(static_cast<std::size_t>(L) + 1);
  for (int l = 0; l <= L; ++l) {
    LayerProfile& lp = prof.layers[l];
    lp.layer = l;
    if (l >= 1) {
      const std::array<double, 4> norms = layer_norms(net.layer(l));
      lp.norm_1 = norms[0];
      lp.norm_2 = norms[1];
      lp.norm_inf = norms[2];
      lp.norm_fro = norms[3];
      lp.lipschitz = net.layer(l).activation().lipschitz();
      prof.lipschitz_product *= lp.lipschitz * lp.norm_2;
    }
    lp.b3_variance_per_p = Eigen::VectorXd::Zero(net.output_size());
  }
  for (Eigen::Index c = 0; c < inputs.cols(); ++c) {
    const ForwardTrace t = net.trace(inputs.col(c));
    for (int l = 0; l <= L; ++l) {
      const Eigen::MatrixXd g = net.jacobian_wrt_activations(t, l);
      prof.layers[l].mean_jacobian_fro += g.norm();
      const Eigen::MatrixXd gy = g * t.y[l].asDiagonal();
      prof.layers[l].b3_variance_per_p += gy.cwiseProduct(gy).rowwise().sum();
    }
  }
  const double n = static_cast<double>(std::max<Eigen::Index>(1, inputs.cols()));
  for (auto& lp : prof.layers) {
    lp.mean_jacobian_fro /= n;
    lp.b3_variance_per_p /= n;
  }
  return prof;
}

}  // namespace nfsim::models::bounds
