#include "models/bounds/bounds.h"

#include <Eigen/SVD>
#include <algorithm>
#include <cmath>

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

BoundCalculator::BoundCalculator(const Network& network, FaultModel model) : net_(network), model_(std::move(model)) {
  const int L = net_.num_layers();
  norms_.resize(static_cast<std::size_t>(L) + 1);
  max_abs_.resize(static_cast<std::size_t>(L) + 1);
  std::vector<Eigen::MatrixXd> maps(static_cast<std::size_t>(L) + 1);
  for (int l = 1; l <= L; ++l) {
    maps[l] = linear_map(net_.layer(l));
    const Eigen::MatrixXd& w = maps[l];
    norms_[l] = {induced_norm_1(w), spectral_norm(w), induced_norm_inf(w), w.norm()};
    max_abs_[l] = w.cwiseAbs().maxCoeff();
  }
  for (const NeuronTerm& t : model_.neurons) {
    if (t.layer < 0 || t.layer > L) throw core::InputError("bounds: neuron fault layer " + std::to_string(t.layer) + " out of range");
  }
  // Synapse terms add up per-connection changes, which is exact only when each synapse is read
  // by one connection.
  auto check_unshared = [&](int l) {
    const ILayer& layer = net_.layer(l);
    for (std::uint64_t s = 0; s < layer.synapse_count(); ++s) {
      if (layer.connection_count(s) != 1) {
        throw core::InputError("bounds: synapse faults on layer " + std::to_string(l) + " (" + layer.kind() +
                               "): its synapses are shared by several connections; b3 and b4 support synapse faults "
                               "only on layers whose synapses are read once (dense)");
      }
    }
  };
  for (const SynapseTerm& t : model_.synapses) {
    if (t.layer < 1 || t.layer > L) throw core::InputError("bounds: synapse fault layer " + std::to_string(t.layer) + " out of range");
    check_unshared(t.layer);
  }
  for (const GroupTerm& g : model_.groups) {
    for (const auto& s : g.synapses) {
      if (s[0] < 1 || s[0] > L)
        throw core::InputError("bounds: group '" + g.name + "' synapse layer " + std::to_string(s[0]) +
                               " out of range");
    }
  }
  if (model_.only_neuron_crashes()) {
    // |W_L| ... |W_{l+1}| and the squared version, built from the output down.
    abs_products_.resize(static_cast<std::size_t>(L) + 1);
    square_products_.resize(static_cast<std::size_t>(L) + 1);
    abs_products_[L] = Eigen::MatrixXd::Identity(net_.output_size(), net_.output_size());
    square_products_[L] = abs_products_[L];
    for (int l = L - 1; l >= 0; --l) {
      const Eigen::MatrixXd& w = maps[l + 1];
      abs_products_[l] = abs_products_[l + 1] * w.cwiseAbs();
      square_products_[l] = square_products_[l + 1] * w.cwiseProduct(w);
    }
  }
}

Eigen::MatrixXd BoundCalculator::single_unit_effects(const ForwardTrace& t, int l, const Eigen::VectorXd& dy) const {
  const int L = net_.num_layers();
  std::vector<Eigen::Index> units;
  for (Eigen::Index i = 0; i < dy.size(); ++i) {
    if (dy[i] != 0.0) units.push_back(i);
  }
  Eigen::MatrixXd effects(net_.output_size(), static_cast<Eigen::Index>(units.size()));
  if (units.empty()) return effects;
  if (l == L) {
    for (std::size_t c = 0; c < units.size(); ++c) {
      effects.col(static_cast<Eigen::Index>(c)).setZero();
      effects(units[c], static_cast<Eigen::Index>(c)) = dy[units[c]];
    }
    return effects;
  }
  const ILayer& next = net_.layer(l + 1);
  for (std::size_t begin = 0; begin < units.size(); begin += kColumnsPerChunk) {
    const std::size_t end = std::min(units.size(), begin + static_cast<std::size_t>(kColumnsPerChunk));
    const Eigen::Index cols = static_cast<Eigen::Index>(end - begin);
    // Rank-one update of the next layer's pre-activations, then layers l+1..L only.
    Eigen::MatrixXd z = t.z[l + 1].replicate(1, cols);
    for (Eigen::Index c = 0; c < cols; ++c) {
      const Eigen::Index i = units[begin + static_cast<std::size_t>(c)];
      next.add_input_changes(&i, &dy[i], 1, z.col(c).data());
    }
    const Eigen::MatrixXd out = net_.forward_from_batch(l + 1, next.activation().apply(z));
    effects.middleCols(static_cast<Eigen::Index>(begin), cols) = out.colwise() - t.y[L];
  }
  return effects;
}

void BoundCalculator::add_neuron_terms(const ForwardTrace& t, Wanted want, BoundSet& out) const {
  for (const NeuronTerm& term : model_.neurons) {
    const Eigen::VectorXd& y = t.y[term.layer];
    const Eigen::VectorXd dy = term.crash ? Eigen::VectorXd(-y) : Eigen::VectorXd((term.value - y.array()).matrix());
    const double p = term.probability;
    if (p == 0.0) {
      add_zero_term(out, want, net_.output_size());
      continue;
    }
    if (!term.unit_probability.empty()) {
      // Per-unit probabilities (protected units): each unit's terms weighted by its own p.
      Eigen::VectorXd pu = Eigen::VectorXd::Constant(dy.size(), p);
      for (const auto& [u, q] : term.unit_probability) pu[static_cast<Eigen::Index>(u)] = q;
      if (want.b3) {
        const Eigen::MatrixXd gdy = net_.jacobian_wrt_activations(t, term.layer) * dy.asDiagonal();
        const Eigen::VectorXd var = gdy.cwiseProduct(gdy) * pu;
        accumulate(out, "b3", gdy * pu, &var);
      }
      if (want.b4) {
        const Eigen::MatrixXd d = single_unit_effects(t, term.layer, dy);
        Eigen::VectorXd pc(d.cols());
        for (Eigen::Index i = 0, c = 0; i < dy.size(); ++i) {
          if (dy[i] != 0.0) pc[c++] = pu[i];
        }
        const Eigen::VectorXd zero = Eigen::VectorXd::Zero(net_.output_size());
        const Eigen::VectorXd var = d.cols() ? Eigen::VectorXd(d.cwiseProduct(d) * pc) : zero;
        accumulate(out, "b4", d.cols() ? Eigen::VectorXd(d * pc) : zero, &var);
      }
      continue;
    }
    if (want.b3) {
      // b3: first-order Taylor with G_l = d y_L / d y_l.
      const Eigen::MatrixXd g = net_.jacobian_wrt_activations(t, term.layer);
      const Eigen::MatrixXd gdy = g * dy.asDiagonal();
      const Eigen::VectorXd var = p * gdy.cwiseProduct(gdy).rowwise().sum();
      accumulate(out, "b3", p * gdy.rowwise().sum(), &var);
    }
    if (want.b4) {
      // b4: exact single-fault effects.
      const Eigen::MatrixXd d = single_unit_effects(t, term.layer, dy);
      // No unit changes value (crashed outputs that are already 0, as dead relu units): a zero
      // term. Eigen's row sums of a matrix without columns offset a null pointer (UBSan; found
      // by fuzz_engines, tests/fuzz/regressions/engines/).
      if (d.cols() == 0) {
        const Eigen::VectorXd zero = Eigen::VectorXd::Zero(net_.output_size());
        accumulate(out, "b4", zero, &zero);
        continue;
      }
      const Eigen::VectorXd var = p * d.cwiseProduct(d).rowwise().sum();
      accumulate(out, "b4", p * d.rowwise().sum(), &var);
    }
  }
}

void BoundCalculator::add_synapse_terms(const ForwardTrace& t, Wanted want, BoundSet& out) const {
  const int L = net_.num_layers();
  for (const SynapseTerm& term : model_.synapses) {
    const int l = term.layer;
    const double p = term.probability;
    if (p == 0.0) {
      add_zero_term(out, want, net_.output_size());
      continue;
    }
    const ILayer& layer = net_.layer(l);
    const Eigen::VectorXd& y_prev = t.y[l - 1];
    // dz(j, i) = (r(w) - w) * y_{l-1, i}: the change of z_l,j when the synapse w of connection
    // (j, i) fails (each synapse has one connection: checked in the constructor).
    Eigen::MatrixXd dz = Eigen::MatrixXd::Zero(layer.output_size(), layer.input_size());
    for (std::uint64_t s = 0; s < layer.synapse_count(); ++s) {
      const Connection c = layer.connection(s, 0);
      const double w = layer.synapse(s);
      dz(c.output, c.input) = (term.replace(w) - w) * y_prev[c.input];
    }
    // Per-synapse probabilities (protected synapses), as a matrix over connections; empty when
    // every synapse has the term's p (the plain path below keeps its rounding).
    Eigen::MatrixXd pm;
    if (!term.unit_probability.empty()) {
      pm = Eigen::MatrixXd::Constant(dz.rows(), dz.cols(), p);
      for (const auto& [s, q] : term.unit_probability) {
        const Connection c = layer.connection(s, 0);
        pm(c.output, c.input) = q;
      }
    }
    if (want.b3 && pm.size() > 0) {
      const Eigen::MatrixXd h = net_.jacobian_wrt_preactivations(t, l);
      const Eigen::VectorXd var = h.cwiseProduct(h) * dz.cwiseProduct(dz).cwiseProduct(pm).rowwise().sum();
      accumulate(out, "b3", h * dz.cwiseProduct(pm).rowwise().sum(), &var);
    } else if (want.b3) {
      // b3 with H_l = d y_L / d z_l.
      const Eigen::MatrixXd h = net_.jacobian_wrt_preactivations(t, l);
      const Eigen::VectorXd var = p * (h.cwiseProduct(h) * dz.cwiseProduct(dz).rowwise().sum());
      accumulate(out, "b3", p * (h * dz.rowwise().sum()), &var);
    }
    if (!want.b4) continue;
    // b4: exact effect of each single synapse: y_l,j becomes phi(z_j + dz_ji), then layers > l.
    const models::Activation& act = layer.activation();
    Eigen::VectorXd mean = Eigen::VectorXd::Zero(net_.output_size());
    Eigen::VectorXd var = Eigen::VectorXd::Zero(net_.output_size());
    std::vector<std::pair<Eigen::Index, double>> changes;  // (row j, new y_l,j)
    std::vector<double> change_p;                          // its probability (with pm only)
    for (Eigen::Index i = 0; i < dz.cols(); ++i) {
      for (Eigen::Index j = 0; j < dz.rows(); ++j) {
        if (dz(j, i) != 0.0) {
          changes.emplace_back(j, act.apply(t.z[l][j] + dz(j, i)));
          if (pm.size() > 0) change_p.push_back(pm(j, i));
        }
      }
    }
    for (std::size_t begin = 0; begin < changes.size(); begin += kColumnsPerChunk) {
      const std::size_t end = std::min(changes.size(), begin + static_cast<std::size_t>(kColumnsPerChunk));
      const Eigen::Index cols = static_cast<Eigen::Index>(end - begin);
      Eigen::MatrixXd y = t.y[l].replicate(1, cols);
      for (Eigen::Index c = 0; c < cols; ++c) y(changes[begin + c].first, c) = changes[begin + c].second;
      const Eigen::MatrixXd d = net_.forward_from_batch(l, y).colwise() - t.y[L];
      if (pm.size() > 0) {
        const Eigen::Map<const Eigen::VectorXd> pc(change_p.data() + begin, cols);
        mean += d * pc;
        var += d.cwiseProduct(d) * pc;
      } else {
        mean += d.rowwise().sum();
        var += d.cwiseProduct(d).rowwise().sum();
      }
    }
    if (pm.size() == 0) {
      mean *= p;
      var *= p;
    }
    accumulate(out, "b4", mean, &var);
  }
}

void BoundCalculator::add_group_terms(const ForwardTrace& t, Wanted want, BoundSet& out) const {
  const int L = net_.num_layers();
  for (const GroupTerm& g : model_.groups) {
    const double p = g.probability;
    if (p == 0.0) {
      add_zero_term(out, want, net_.output_size());
      continue;
    }
    // b3: the group's first-order effect, e = sum over members of G dy + H dz.
    Eigen::VectorXd e = Eigen::VectorXd::Zero(net_.output_size());
    std::map<int, Eigen::MatrixXd> g_cache, h_cache;
    int first = L + 1;
    for (const auto& n : g.neurons) {
      if (!g_cache.count(n[0])) g_cache[n[0]] = net_.jacobian_wrt_activations(t, n[0]);
      e -= g_cache[n[0]].col(n[1]) * t.y[n[0]][n[1]];
      first = std::min(first, n[0]);
    }
    for (const auto& s : g.synapses) {
      if (!h_cache.count(s[0])) h_cache[s[0]] = net_.jacobian_wrt_preactivations(t, s[0]);
      const ILayer& layer = net_.layer(s[0]);
      const std::uint64_t synapse = layer.synapse_at(s[1], s[2]);
      const double w = layer.synapse(synapse);
      for (int k = 0; k < layer.connection_count(synapse); ++k) {
        const Connection c = layer.connection(synapse, k);
        e -= h_cache[s[0]].col(c.output) * (w * t.y[s[0] - 1][c.input]);
      }
      first = std::min(first, s[0]);
    }
    Eigen::VectorXd var = p * e.cwiseProduct(e);
    if (want.b3) accumulate(out, "b3", p * e, &var);
    if (!want.b4) continue;
    // b4: the exact effect of the whole group, forward from its lowest layer.
    Eigen::VectorXd y = first == 0 ? t.y[0] : t.y[first - 1];
    int start = first == 0 ? 0 : first - 1;
    for (const auto& n : g.neurons) {
      if (n[0] == start) y[n[1]] = 0.0;
    }
    for (int m = start + 1; m <= L; ++m) {
      // Layer m with the group's synapses crashed (a copy only when it has some).
      const ILayer* layer = &net_.layer(m);
      std::unique_ptr<ILayer> faulty;
      for (const auto& s : g.synapses) {
        if (s[0] != m) continue;
        if (!faulty) faulty = layer->clone();
        faulty->set_synapse(faulty->synapse_at(s[1], s[2]), 0.0);
      }
      if (faulty) layer = faulty.get();
      y = layer->activation().apply(layer->linear(y));
      for (const auto& n : g.neurons) {
        if (n[0] == m) y[n[1]] = 0.0;
      }
    }
    const Eigen::VectorXd d = y - t.y[L];
    var = p * d.cwiseProduct(d);
    accumulate(out, "b4", p * d, &var);
  }
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
    add_neuron_terms(t, want, out);
    add_synapse_terms(t, want, out);
    add_group_terms(t, want, out);
  }
  if (model_.only_neuron_crashes() && wanted({"b1", "b1_paper", "b2", "worst_case"})) add_paper_bounds(t, out);
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
      const Eigen::MatrixXd w = linear_map(net.layer(l));
      lp.norm_1 = induced_norm_1(w);
      lp.norm_2 = spectral_norm(w);
      lp.norm_inf = induced_norm_inf(w);
      lp.norm_fro = w.norm();
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
