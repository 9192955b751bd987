#include "sim/functional/spiking_engine.h"

#include <algorithm>
#include <stdexcept>

#include "core/error.h"

namespace nfsim::sim {

namespace {

using SpikeColumn = Eigen::Matrix<std::uint8_t, Eigen::Dynamic, 1>;

// The nonzero entries of v as (index, value) lists, for ILayer::add_input_changes.
void gather_nonzero(const Eigen::VectorXd& v, std::vector<Eigen::Index>& idx, std::vector<double>& val) {
  idx.clear();
  val.clear();
  for (Eigen::Index i = 0; i < v.size(); ++i) {
    if (v[i] != 0.0) {
      idx.push_back(i);
      val.push_back(v[i]);
    }
  }
}

}  // namespace

SpikingModel::SpikingModel(const models::Network& net, const models::SpikingConfig& config, std::uint64_t seed)
    : net_(net), config_(config), seed_(seed) {
  models::check_spiking_network(net, "spiking model");
  if (config_.time_steps < 1) throw core::InputError("spiking model: time_steps " + std::to_string(config_.time_steps) + ": expected >= 1");
  auto check = [&](const std::vector<Eigen::VectorXd>& per_layer, const char* what) {
    if (per_layer.size() > static_cast<std::size_t>(net.num_layers())) {
      throw core::InputError(std::string("spiking model: ") + what + " for " + std::to_string(per_layer.size()) + " layers; the network has " +
                             std::to_string(net.num_layers()));
    }
    for (std::size_t i = 0; i < per_layer.size(); ++i) {
      if (per_layer[i].size() != 0 && per_layer[i].size() != net.width(static_cast<int>(i) + 1)) {
        throw core::InputError(std::string("spiking model: layer ") + std::to_string(i + 1) + ": " + std::to_string(per_layer[i].size()) +
                               " " + what + " for " + std::to_string(net.width(static_cast<int>(i) + 1)) + " neurons");
      }
    }
  };
  check(config_.layer_thresholds, "thresholds");
  check(config_.layer_leaks, "leaks");
  const int L = net.num_layers();
  threshold_.resize(static_cast<std::size_t>(L + 1));
  leak_.resize(static_cast<std::size_t>(L + 1));
  for (int l = 1; l <= L; ++l) {
    const auto ul = static_cast<std::size_t>(l - 1);
    const Eigen::Index n = net.width(l);
    threshold_[static_cast<std::size_t>(l)] = ul < config_.layer_thresholds.size() && config_.layer_thresholds[ul].size()
                                                  ? config_.layer_thresholds[ul]
                                                  : Eigen::VectorXd::Constant(n, config_.threshold);
    leak_[static_cast<std::size_t>(l)] = ul < config_.layer_leaks.size() && config_.layer_leaks[ul].size()
                                             ? config_.layer_leaks[ul]
                                             : Eigen::VectorXd::Constant(n, config_.neuron == models::SpikingNeuron::lif ? config_.leak : 1.0);
  }
}

void SpikingModel::step_neurons(const double* current, Eigen::Index n, const double* threshold, const double* leak, double* v,
                                int* refractory, std::uint8_t* spikes) const {
  const bool subtract = config_.reset == models::SpikeReset::subtract;
  const int R = config_.refractory_steps;
  for (Eigen::Index j = 0; j < n; ++j) {
    if (refractory[j] > 0) {  // neither integrates nor fires
      --refractory[j];
      spikes[j] = 0;
      continue;
    }
    v[j] = leak[j] * v[j] + current[j];
    if (v[j] >= threshold[j]) {
      spikes[j] = 1;
      v[j] = subtract ? v[j] - threshold[j] : 0.0;
      refractory[j] = R;
    } else {
      spikes[j] = 0;
    }
  }
}

void SpikingModel::staged_input(int l, const std::uint8_t* spikes, Eigen::VectorXd& dense, Eigen::VectorXd& staged) const {
  const Eigen::Index n = net_.width(l);
  dense.resize(n);
  for (Eigen::Index i = 0; i < n; ++i) dense[i] = spikes[i];
  if (net_.stage(l)) {
    staged = net_.staged(l, dense);
  } else {
    staged = dense;
  }
}

void SpikingModel::run_clean(const double* x, std::uint64_t trial, std::uint32_t input, SpikeTrace& out) const {
  const int L = net_.num_layers();
  const int T = config_.time_steps;
  out.spikes.resize(static_cast<std::size_t>(L));
  out.currents.resize(static_cast<std::size_t>(L + 1));
  for (int l = 0; l < L; ++l) out.spikes[static_cast<std::size_t>(l)].setZero(net_.width(l), T);
  for (int l = 1; l <= L; ++l) out.currents[static_cast<std::size_t>(l)].resize(net_.width(l), T);
  const Eigen::Index n0 = net_.width(0);
  auto& in = out.spikes[0];
  for (int t = 0; t < T; ++t) {
    for (Eigen::Index i = 0; i < n0; ++i) {
      in(i, t) = config_.coding == models::SpikeCoding::regular ? models::regular_spike(x[i], t)
                                                                : models::bernoulli_spike(x[i], seed_, trial, input, t, i);
    }
  }
  std::vector<Eigen::VectorXd> v(static_cast<std::size_t>(L + 1));
  std::vector<std::vector<int>> refractory(static_cast<std::size_t>(L + 1));
  for (int l = 1; l <= L; ++l) {
    v[static_cast<std::size_t>(l)].setZero(net_.width(l));
    refractory[static_cast<std::size_t>(l)].assign(static_cast<std::size_t>(net_.width(l)), 0);
  }
  const Eigen::Index nL = net_.width(L);
  Eigen::VectorXd acc = Eigen::VectorXd::Zero(nL), dense, staged;
  SpikeColumn out_spikes(nL);
  std::vector<Eigen::Index> idx;
  std::vector<double> val;
  for (int t = 0; t < T; ++t) {
    for (int l = 1; l <= L; ++l) {
      const auto ul = static_cast<std::size_t>(l);
      staged_input(l - 1, out.spikes[ul - 1].col(t).data(), dense, staged);
      gather_nonzero(staged, idx, val);
      auto current = out.currents[ul].col(t);
      current = net_.layer(l).bias();
      net_.layer(l).add_input_changes(idx.data(), val.data(), idx.size(), current.data());
      if (l < L) {
        step_neurons(current.data(), current.size(), threshold_[ul].data(), leak_[ul].data(), v[ul].data(), refractory[ul].data(),
                     out.spikes[ul].col(t).data());
      } else if (config_.readout == models::SpikeReadout::membrane) {
        acc += current;
      } else {
        step_neurons(current.data(), nL, threshold_[ul].data(), leak_[ul].data(), v[ul].data(), refractory[ul].data(), out_spikes.data());
        acc += out_spikes.cast<double>();
      }
    }
  }
  out.output = acc / static_cast<double>(T);
}

void SpikingModel::drop_spikes(int l, const faults::FaultInstance& f, const std::uint8_t* spikes, int t, std::uint64_t trial,
                               std::uint32_t input, Eigen::VectorXd& current) const {
  const auto ul = static_cast<std::size_t>(l);
  const models::ILayer& layer = net_.layer(l);
  const Eigen::MatrixXd& w = layer.crossbar_matrix();  // dense: W_l (FaultPlan checks the spike paths' layers)
  const auto cols = static_cast<Eigen::Index>(w.cols());
  // A spike is lost when any failed unit on its message's route drops it (the chip asks the units
  // in route order, and a dropped spike reaches no later one): the drops of one message are taken
  // together, each spike once.
  const auto& drops = f.drops[ul];
  struct Lost {
    int source, out_begin, out_count;
  };
  thread_local std::vector<std::size_t> order;
  thread_local std::vector<char> gone;
  thread_local std::vector<Lost> lost;
  lost.clear();
  order.resize(drops.size());
  for (std::size_t k = 0; k < drops.size(); ++k) order[k] = k;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return drops[a].transfer < drops[b].transfer; });
  for (std::size_t a = 0; a < order.size();) {
    std::size_t b = a;
    const faults::SpikeDrop& first = drops[order[a]];
    gone.assign(static_cast<std::size_t>(first.src_count), 0);
    for (; b < order.size() && drops[order[b]].transfer == first.transfer; ++b) {
      const faults::SpikeDrop& d = drops[order[b]];
      for (int i = d.src_begin; i < d.src_begin + d.src_count; ++i) {
        char& g = gone[static_cast<std::size_t>(i - first.src_begin)];
        if (spikes[i] == 0 || g) continue;
        g = faults::spike_drop_uniform(seed_, d.spec, d.unit, trial, input, t, d.transfer, i) < d.q;
      }
    }
    for (int i = first.src_begin; i < first.src_begin + first.src_count; ++i) {
      if (gone[static_cast<std::size_t>(i - first.src_begin)]) lost.push_back({i, first.out_begin, first.out_count});
    }
    a = b;
  }
  if (lost.empty()) return;
  // A lost spike takes away what its synapses add now: the stored weights, and where a fault
  // changed a synapse (a dead row's 0, a stuck-at value) its faulty value instead. Each cell
  // (j, i) is on one message (a tile's block), so the corrections visit the faulty synapses once.
  for (const Lost& x : lost) {
    for (int j = x.out_begin; j < x.out_begin + x.out_count; ++j) current[j] -= w(j, x.source);
  }
  const auto& overrides = f.weights[ul];
  if (overrides.empty()) return;
  std::sort(lost.begin(), lost.end(), [](const Lost& a, const Lost& b) { return a.source < b.source; });
  for (const faults::WeightOverride& o : overrides) {
    const auto j = static_cast<int>(o.synapse / static_cast<std::uint64_t>(cols));
    const auto i = static_cast<int>(o.synapse % static_cast<std::uint64_t>(cols));
    auto it = std::lower_bound(lost.begin(), lost.end(), i, [](const Lost& a, int v) { return a.source < v; });
    for (; it != lost.end() && it->source == i; ++it) {
      if (j >= it->out_begin && j < it->out_begin + it->out_count) current[j] += w(j, i) - o.value;
    }
  }
}

void SpikingModel::run_faulty(const SpikeTrace& clean, const faults::FaultInstance& f, double* out, std::uint64_t trial,
                              std::uint32_t input) const {
  const faults::FaultInstance* phases[1] = {&f};
  const int from[1] = {0};
  run_faulty(clean, phases, from, 1, out, trial, input);
}

void SpikingModel::run_faulty(const SpikeTrace& clean, const faults::FaultInstance* const* phases, const int* from,
                              std::size_t phase_count, double* out, std::uint64_t trial, std::uint32_t input) const {
  const int L = net_.num_layers();
  const int T = config_.time_steps;
  int k = L + 1;
  for (std::size_t p = 0; p < phase_count; ++p) k = std::min(k, phases[p]->first_layer());
  Eigen::Map<Eigen::VectorXd> y(out, net_.width(L));
  if (k > L) {
    y = clean.output;
    return;
  }
  const bool membrane = config_.readout == models::SpikeReadout::membrane;
  // The faulty spikes of layers max(k, 0)..L-1 at the current step, and the state of layers
  // max(k, 1)..L. Layers a phase leaves fault-free compute the recorded values (the differences
  // are zero), so the state is right when a later phase's faults start.
  std::vector<SpikeColumn> cur(static_cast<std::size_t>(L + 1));
  std::vector<Eigen::VectorXd> v(static_cast<std::size_t>(L + 1));
  std::vector<std::vector<int>> refractory(static_cast<std::size_t>(L + 1));
  for (int l = std::max(k, 0); l <= L; ++l) {
    cur[static_cast<std::size_t>(l)].setZero(net_.width(l));
    v[static_cast<std::size_t>(l)].setZero(net_.width(l));
    refractory[static_cast<std::size_t>(l)].assign(static_cast<std::size_t>(net_.width(l)), 0);
  }
  // Threshold and leak deviations of the current phase: the layer's own parameters with the
  // failed neurons' scaled (a leak kept in [0, 1]); the others read the shared ones.
  std::vector<Eigen::VectorXd> threshold(static_cast<std::size_t>(L + 1)), leak(static_cast<std::size_t>(L + 1));
  std::vector<const double*> threshold_of(static_cast<std::size_t>(L + 1), nullptr), leak_of(static_cast<std::size_t>(L + 1), nullptr);
  auto set_parameters = [&](const faults::FaultInstance& f) {
    for (int l = std::max(k, 1); l <= L; ++l) {
      const auto ul = static_cast<std::size_t>(l);
      threshold_of[ul] = threshold_[ul].data();
      leak_of[ul] = leak_[ul].data();
      if (ul >= f.parameters.size() || f.parameters[ul].empty()) continue;
      threshold[ul] = threshold_[ul];
      leak[ul] = leak_[ul];
      for (const faults::ParameterOverride& o : f.parameters[ul]) {
        if (o.which == faults::ParameterOverride::Which::threshold) {
          threshold[ul][o.index] *= o.factor;
        } else {
          leak[ul][o.index] = std::min(1.0, std::max(0.0, leak[ul][o.index] * o.factor));
        }
      }
      threshold_of[ul] = threshold[ul].data();
      leak_of[ul] = leak[ul].data();
    }
  };
  // Membrane readout: a failed output neuron reads its override's value at the steps its fault
  // acts (the whole inference: exactly the value).
  const Eigen::Index nL = net_.width(L);
  std::vector<int> forced_steps;
  std::vector<char> forced_varies;
  Eigen::VectorXd forced_sum, forced_value;
  if (membrane) {
    forced_steps.assign(static_cast<std::size_t>(nL), 0);
    forced_varies.assign(static_cast<std::size_t>(nL), 0);
    forced_sum.setZero(nL);
    forced_value.setZero(nL);
  }
  Eigen::VectorXd acc = Eigen::VectorXd::Zero(nL), current, dense, staged, dense_clean, staged_clean;
  std::vector<Eigen::Index> idx;
  std::vector<double> val;
  std::size_t phase = 0;
  set_parameters(*phases[0]);
  for (int t = 0; t < T; ++t) {
    if (phase + 1 < phase_count && t >= from[phase + 1]) {
      while (phase + 1 < phase_count && t >= from[phase + 1]) ++phase;
      set_parameters(*phases[phase]);
    }
    const faults::FaultInstance& f = *phases[phase];
    if (k == 0) {
      cur[0] = clean.spikes[0].col(t);
      for (const faults::NeuronOverride& o : f.neurons[0]) cur[0][o.index] = models::regular_spike(o.value, t);
    }
    for (int l = std::max(k, 1); l <= L; ++l) {
      const auto ul = static_cast<std::size_t>(l);
      const models::ILayer& layer = net_.layer(l);
      current = clean.currents[ul].col(t);
      const bool prev_differs = l - 1 >= k;
      if (prev_differs) {
        const std::uint8_t* now = cur[ul - 1].data();
        const std::uint8_t* was = clean.spikes[ul - 1].col(t).data();
        if (!net_.stage(l - 1)) {
          idx.clear();
          val.clear();
          // The width outside the loop: Network::width is an out-of-line, checked call, and this
          // loop runs for every neuron of every faulty layer at every step (it was a third of the
          // Monte Carlo's instructions).
          const Eigen::Index n_prev = net_.width(l - 1);
          for (Eigen::Index i = 0; i < n_prev; ++i) {
            if (now[i] != was[i]) {
              idx.push_back(i);
              val.push_back(static_cast<double>(now[i]) - static_cast<double>(was[i]));
            }
          }
        } else {
          staged_input(l - 1, now, dense, staged);
          staged_input(l - 1, was, dense_clean, staged_clean);
          gather_nonzero(staged - staged_clean, idx, val);
        }
        if (!idx.empty()) layer.add_input_changes(idx.data(), val.data(), idx.size(), current.data());
      }
      const auto& weights = f.weights[ul];
      if (!weights.empty()) {
        staged_input(l - 1, prev_differs ? cur[ul - 1].data() : clean.spikes[ul - 1].col(t).data(), dense, staged);
        for (const faults::WeightOverride& w : weights) {
          if (w.pos_count != 0) throw std::logic_error("spiking model: ranged synapse overrides (replicas) are not supported");
          layer.add_synapse_change(w.synapse, w.value, staged.data(), current.data());
        }
      }
      if (!f.drops[ul].empty()) drop_spikes(l, f, prev_differs ? cur[ul - 1].data() : clean.spikes[ul - 1].col(t).data(), t, trial, input, current);
      if (l < L || !membrane) {
        step_neurons(current.data(), current.size(), threshold_of[ul], leak_of[ul], v[ul].data(), refractory[ul].data(), cur[ul].data());
        for (const faults::NeuronOverride& o : f.neurons[ul]) cur[ul][o.index] = models::regular_spike(o.value, t);
        if (l == L) acc += cur[ul].cast<double>();
      } else {
        for (const faults::NeuronOverride& o : f.neurons[ul]) {
          const auto ui = static_cast<std::size_t>(o.index);
          current[o.index] = 0.0;
          if (forced_steps[ui] > 0 && forced_value[o.index] != o.value) forced_varies[ui] = 1;
          ++forced_steps[ui];
          forced_sum[o.index] += o.value;
          forced_value[o.index] = o.value;
        }
        acc += current;
      }
    }
  }
  y = acc / static_cast<double>(T);
  if (membrane) {
    for (Eigen::Index i = 0; i < nL; ++i) {
      const auto ui = static_cast<std::size_t>(i);
      if (forced_steps[ui] == 0) continue;
      // Forced at every step by one value: exactly that value (a crash reads 0); else the
      // forced steps' values with the others' currents.
      y[i] = forced_steps[ui] == T && !forced_varies[ui] ? forced_value[i] : (acc[i] + forced_sum[i]) / static_cast<double>(T);
    }
  }
}

SpikingEngine::SpikingEngine(const models::Network& network, const models::SpikingConfig& config, const Eigen::MatrixXd& inputs,
                             const faults::FaultPlan& plan, const SpikingOptions& options, std::vector<int> labels)
    : model_(network, config, options.seed),
      inputs_(inputs),
      options_(options),
      sampler_(plan, network, options.seed),
      labels_(std::move(labels)) {
  const Eigen::Index N = inputs.cols();
  const int L = network.num_layers();
  clean_out_.resize(network.width(L), N);
  spikes_per_inference_.assign(static_cast<std::size_t>(L), 0.0);
  if (config.coding == models::SpikeCoding::regular) {
    // Per input: each layer's current (8 bytes a neuron and step) and spikes (1 byte).
    double per_step = 0;
    for (int l = 1; l <= L; ++l) per_step += 8.0 * static_cast<double>(network.width(l));
    for (int l = 0; l < L; ++l) per_step += static_cast<double>(network.width(l));
    const double bytes = per_step * config.time_steps * static_cast<double>(N);
    if (bytes > kMaxSpikeTraceBytes) {
      throw core::InputError("spiking: the fault-free records of " + std::to_string(N) + " inputs at T = " + std::to_string(config.time_steps) +
                             " would take " + std::to_string(static_cast<long long>(bytes / 1048576.0)) +
                             " MiB; expected at most 1024 MiB (fewer inputs or time steps)");
    }
  }
  if (config.coding == models::SpikeCoding::regular) traces_.resize(static_cast<std::size_t>(N));
  SpikeTrace scratch;
  for (Eigen::Index n = 0; n < N; ++n) {
    SpikeTrace& t = config.coding == models::SpikeCoding::regular ? traces_[static_cast<std::size_t>(n)] : scratch;
    model_.run_clean(inputs.col(n).data(), 0, static_cast<std::uint32_t>(n), t);
    clean_out_.col(n) = t.output;
    for (int l = 0; l < L; ++l) {
      spikes_per_inference_[static_cast<std::size_t>(l)] +=
          t.spikes[static_cast<std::size_t>(l)].cast<double>().sum() / static_cast<double>(N);
    }
  }
}

void SpikingEngine::realize(std::uint64_t trial, std::uint32_t input, PhasedFaults& out) const {
  const std::vector<int>& onsets = sampler_.onset_steps();
  out.at.resize(onsets.size() + 1);
  out.from.resize(onsets.size() + 1);
  out.pointers.resize(onsets.size() + 1);
  if (onsets.empty()) {
    sampler_.realize(trial, input, out.at[0]);
  } else {
    // What acts from step 0, then from each onset on (each phase a superset of the one before).
    for (std::size_t p = 0; p <= onsets.size(); ++p) {
      out.from[p] = p == 0 ? 0 : onsets[p - 1];
      sampler_.realize(trial, input, out.at[p], 0, out.from[p]);
    }
  }
  out.from[0] = 0;
  for (std::size_t p = 0; p < out.at.size(); ++p) out.pointers[p] = &out.at[p];
}

void SpikingEngine::run_faulty(const SpikeTrace& clean, const PhasedFaults& f, double* out, std::uint64_t trial,
                               std::uint32_t input) const {
  model_.run_faulty(clean, f.pointers.data(), f.from.data(), f.pointers.size(), out, trial, input);
}

const SpikeTrace& SpikingEngine::clean_trace(std::uint64_t trial, Eigen::Index n, SpikeTrace& scratch) const {
  if (!traces_.empty()) return traces_[static_cast<std::size_t>(n)];
  model_.run_clean(inputs_.col(n).data(), trial, static_cast<std::uint32_t>(n), scratch);
  return scratch;
}

ErrorStats SpikingEngine::run_block(std::uint64_t block, std::uint64_t total_trials) const {
  const Eigen::Index N = inputs_.cols(), K = clean_out_.rows();
  ErrorStats stats(N, K);
  const std::uint64_t first = block * options_.block_trials;
  const std::uint64_t last = std::min(first + options_.block_trials, total_trials);
  if (first >= last) return stats;
  const std::size_t trials = static_cast<std::size_t>(last - first);
  Eigen::MatrixXd deltas(K, static_cast<Eigen::Index>(trials));
  Eigen::VectorXd faulty(K);
  std::vector<std::uint32_t> correct_by_trial(trials, 0), clean_correct_by_trial(trials, 0);
  PhasedFaults phased;
  SpikeTrace scratch;
  const bool bernoulli = traces_.empty();
  auto correct = [&](Eigen::Index n, const Eigen::VectorXd& out) {
    Eigen::Index best = 0;
    out.maxCoeff(&best);
    return best == labels_[static_cast<std::size_t>(n)];
  };
  for (Eigen::Index n = 0; n < N; ++n) {
    for (std::size_t i = 0; i < trials; ++i) {
      const std::uint64_t trial = first + i;
      realize(trial, static_cast<std::uint32_t>(n), phased);
      auto delta = deltas.col(static_cast<Eigen::Index>(i));
      if (phased.all().empty()) {
        delta.setZero();
        if (!labels_.empty()) {
          // With Bernoulli coding the fault-free output depends on the trial's input spikes.
          const bool ok = correct(n, bernoulli ? clean_trace(trial, n, scratch).output : clean_out_.col(n));
          correct_by_trial[i] += ok ? 1 : 0;
          clean_correct_by_trial[i] += ok ? 1 : 0;
        }
        continue;
      }
      const SpikeTrace& clean = clean_trace(trial, n, scratch);
      run_faulty(clean, phased, faulty.data(), trial, static_cast<std::uint32_t>(n));
      delta = faulty - clean.output;
      if (!labels_.empty()) {
        correct_by_trial[i] += correct(n, faulty) ? 1 : 0;
        clean_correct_by_trial[i] += correct(n, clean.output) ? 1 : 0;
      }
    }
    stats.add_block(n, deltas.data(), trials);
  }
  if (!labels_.empty()) {
    for (std::size_t i = 0; i < trials; ++i) {
      stats.add_trial_accuracy(static_cast<double>(correct_by_trial[i]) / static_cast<double>(N));
      if (bernoulli) stats.tallies().stats[kFaultFreeAccuracyTally].add(static_cast<double>(clean_correct_by_trial[i]) / static_cast<double>(N));
    }
  }
  return stats;
}

Eigen::MatrixXd SpikingEngine::trial_outputs(std::uint64_t trial) const {
  const Eigen::Index N = inputs_.cols();
  Eigen::MatrixXd outputs(clean_out_.rows(), N);
  PhasedFaults phased;
  SpikeTrace scratch;
  for (Eigen::Index n = 0; n < N; ++n) {
    realize(trial, static_cast<std::uint32_t>(n), phased);
    const SpikeTrace& clean = clean_trace(trial, n, scratch);
    Eigen::VectorXd y(clean_out_.rows());
    run_faulty(clean, phased, y.data(), trial, static_cast<std::uint32_t>(n));
    outputs.col(n) = y;
  }
  return outputs;
}

}  // namespace nfsim::sim
