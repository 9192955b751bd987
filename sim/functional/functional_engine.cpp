#include "sim/functional/functional_engine.h"

#include <algorithm>

#include "core/error.h"

namespace nfsim::sim {
namespace {

// Columns per dense GEMM. Fixed, so each column's rounding never depends on how many jobs a
// batch happens to hold (short chunks are padded).
constexpr Eigen::Index kDenseChunk = 64;
// Inferences drawn ahead per batch of the dense path (bounds its memory for many inputs).
constexpr std::uint64_t kDenseBatchInferences = 4096;

}  // namespace

FunctionalEngine::FunctionalEngine(const models::Network& network, const Eigen::MatrixXd& inputs,
                                   const faults::FaultPlan& plan, const FunctionalOptions& options, std::vector<int> labels)
    : net_(network), inputs_(inputs), options_(options), sampler_(plan, network, options.seed), labels_(std::move(labels)) {
  if (options_.block_trials == 0) throw core::InputError("block_trials must be >= 1");
  if (options_.batch_trials == 0) throw core::InputError("batch_trials must be >= 1");
  plan.refuse_spiking_only("the functional engine's rate model");
  if (options_.replicas == 0) throw core::InputError("replicas.count must be >= 1");
  if (inputs_.cols() >= static_cast<Eigen::Index>(faults::FaultSampler::kPermanentSlot)) {
    throw core::InputError("too many inputs for one campaign (at most 2^32 - 2)");
  }
  clean_ = net_.trace_batch(inputs_);
  rows_.resize(static_cast<std::size_t>(net_.num_layers()) + 1);
  views_.resize(static_cast<std::size_t>(net_.num_layers()) + 1);
  for (int m = 1; m <= net_.num_layers(); ++m) {
    const models::ILayer& layer = net_.layer(m);
    if (layer.crossbar_positions() == 1) rows_[static_cast<std::size_t>(m)] = layer.crossbar_matrix();
    views_[static_cast<std::size_t>(m)] = {&layer, layer.output_size(), layer.input_size(), &layer.activation(),
                                           &layer.bias()};
  }
  if (!labels_.empty()) {
    if (static_cast<Eigen::Index>(labels_.size()) != inputs_.cols()) throw core::InternalError("one label per input expected");
    for (Eigen::Index n = 0; n < inputs_.cols(); ++n) {
      Eigen::Index best = 0;
      clean_.y[net_.num_layers()].col(n).maxCoeff(&best);
      clean_correct_.push_back(best == labels_[static_cast<std::size_t>(n)]);
    }
  }
}

std::uint64_t FunctionalEngine::block_count(std::uint64_t total_trials) const {
  return (total_trials + options_.block_trials - 1) / options_.block_trials;
}

void FunctionalEngine::apply_weight_overrides(int layer, const faults::FaultInstance& f, const double* y_prev,
                                              double* z) const {
  const models::ILayer& l = net_.layer(layer);
  for (const auto& o : f.weights[layer]) {
    if (o.pos_count == 0) {
      l.add_synapse_change(o.synapse, o.value, y_prev, z);
    } else {
      l.add_synapse_delta(o.synapse, o.value - o.base, y_prev, z, o.pos_begin, o.pos_count);
    }
  }
}

namespace {

// The nonzero differences of one layer's faulty activations from the clean ones, as (index,
// value) pairs, in arrays sized once for the widest layer: filling it never allocates.
struct DiffList {
  std::vector<Eigen::Index> idx;
  std::vector<double> val;
  std::size_t size = 0;
  explicit DiffList(Eigen::Index capacity) : idx(static_cast<std::size_t>(capacity)), val(static_cast<std::size_t>(capacity)) {}
  void clear() { size = 0; }
  bool empty() const { return size == 0; }
  void push(Eigen::Index i, double v) {
    idx[size] = i;
    val[size] = v;
    ++size;
  }
  void swap(DiffList& o) {
    idx.swap(o.idx);
    val.swap(o.val);
    std::swap(size, o.size);
  }
};

// The widest y_l or u_l (a pooling with padding can be wider than its input).
Eigen::Index widest_layer(const models::Network& net) {
  Eigen::Index widest = net.input_size();
  for (int m = 0; m <= net.num_layers(); ++m) widest = std::max({widest, net.width(m), net.staged_width(m)});
  return widest;
}

}  // namespace

struct FunctionalEngine::Workspace {
  explicit Workspace(const models::Network& net)
      : y(widest_layer(net)), y_next(widest_layer(net)), z(widest_layer(net)), u(widest_layer(net)),
        delta(net.output_size()), diffs(widest_layer(net)), next_diffs(widest_layer(net)),
        mark(static_cast<std::size_t>(widest_layer(net)), 0) {}
  faults::FaultInstance instance;
  // Fast path: the faulty y of the current layer (when `full`), the next one, z, one delta, and
  // the current and next layers' differences from the clean run.
  Eigen::VectorXd y, y_next, z, u, delta;
  DiffList diffs, next_diffs;
  // Pooling stages: the windows a trial's changes reach, marked once each.
  std::vector<char> mark;
  std::vector<Eigen::Index> windows;
  // Dense path: the faults of every inference of a batch, the faulty ones' slots, their deltas
  // (the fast path keeps one input's deltas over the block there).
  std::vector<faults::FaultInstance> pool;
  std::vector<std::size_t> jobs;
  Eigen::MatrixXd deltas, dense_y, dense_z, dense_u;
  // Replicas: each replica's faulty outputs (n_L x R) and one output's values across them.
  Eigen::MatrixXd replica_outputs;
  std::vector<double> values;
};

void FunctionalEngine::median_delta(std::uint64_t trial, Eigen::Index n, Workspace& ws, double* delta) const {
  const Eigen::Index K = net_.output_size();
  const std::uint32_t R = options_.replicas;
  const double* clean = clean_.y[net_.num_layers()].col(n).data();
  ws.replica_outputs.resize(K, static_cast<Eigen::Index>(R));
  for (std::uint32_t r = 0; r < R; ++r) {
    double* out = ws.replica_outputs.col(static_cast<Eigen::Index>(r)).data();
    sampler_.realize(trial, static_cast<std::uint32_t>(n), ws.instance, r);
    if (ws.instance.empty()) {
      std::copy(clean, clean + K, out);
      continue;
    }
    faulty_delta_fast(ws.instance, n, ws, out);
    for (Eigen::Index k = 0; k < K; ++k) out[k] += clean[k];
  }
  ws.values.resize(R);
  const std::size_t mid = R / 2;
  for (Eigen::Index k = 0; k < K; ++k) {
    for (std::uint32_t r = 0; r < R; ++r) ws.values[r] = ws.replica_outputs(k, static_cast<Eigen::Index>(r));
    std::nth_element(ws.values.begin(), ws.values.begin() + static_cast<std::ptrdiff_t>(mid), ws.values.end());
    double median = ws.values[mid];
    if (R % 2 == 0) median = 0.5 * (median + *std::max_element(ws.values.begin(), ws.values.begin() + static_cast<std::ptrdiff_t>(mid)));
    delta[k] = median - clean[k];
  }
}

void FunctionalEngine::faulty_delta_fast(const faults::FaultInstance& f, Eigen::Index n, Workspace& ws,
                                         double* delta) const {
  const int L = net_.num_layers();
  DiffList& diffs = ws.diffs;
  DiffList& next = ws.next_diffs;
  diffs.clear();
  bool full = false;  // ws.y holds all of the faulty y_{m-1} (else: clean plus `diffs`)
  int m = f.first_layer();
  if (m == 0) {
    const double* x = clean_.y[0].col(n).data();
    for (const auto& o : f.neurons[0]) {
      if (o.value != x[o.index]) diffs.push(o.index, o.value - x[o.index]);
    }
    m = 1;
  }
  // The faulty y_{m-1} in ws.y (built from the clean one and the differences when needed).
  auto materialize_prev = [&](Eigen::Index width, const double* clean_prev) {
    if (full) return;
    std::copy(clean_prev, clean_prev + width, ws.y.data());
    for (std::size_t j = 0; j < diffs.size; ++j) ws.y[diffs.idx[j]] += diffs.val[j];
    full = true;
  };
  for (; m <= L; ++m) {
    const LayerView& view = views_[static_cast<std::size_t>(m)];
    const models::ILayer& layer = *view.layer;
    const Eigen::Index rows = view.rows, width = view.width;
    if (const models::Pool2d* stage = net_.stage(m - 1); stage && (full || !diffs.empty())) {
      // y_{m-1}'s changes become u_{m-1}'s: the windows they reach, recomputed from the faulty
      // y_{m-1} (a max window may not change at all).
      materialize_prev(stage->input_size(), clean_.y[m - 1].col(n).data());
      const double* clean_u = clean_.u[m - 1].col(n).data();
      next.clear();
      // Window by window while the changes are few: each costs a window lookup and a recompute,
      // against one recompute per output for the whole pooling.
      if (2 * static_cast<Eigen::Index>(diffs.size) < stage->output_size() && !diffs.empty()) {
        stage->touched_windows(diffs.idx.data(), diffs.size, ws.mark, ws.windows);
        for (Eigen::Index q : ws.windows) {
          const double d = stage->window(ws.y.data(), q) - clean_u[q];
          if (d != 0.0) next.push(q, d);
        }
        full = false;
      } else {
        stage->forward(ws.y.data(), ws.u.data());
        for (Eigen::Index q = 0; q < width; ++q) {
          const double d = ws.u[q] - clean_u[q];
          if (d != 0.0) next.push(q, d);
        }
        ws.y.swap(ws.u);
        full = true;
      }
      diffs.swap(next);
    }
    const double* clean_prev = clean_.u[m - 1].col(n).data();
    const double* clean_y = clean_.y[m].col(n).data();
    next.clear();
    bool next_full = false;
    if (diffs.empty() && f.weights[m].empty()) {
      // z_m is the clean one: y_m differs only where layer m's neurons are overridden.
      for (const auto& o : f.neurons[m]) {
        if (o.value != clean_y[o.index]) next.push(o.index, o.value - clean_y[o.index]);
      }
    } else {
      Eigen::Map<Eigen::VectorXd> z(ws.z.data(), rows);
      if (2 * static_cast<Eigen::Index>(diffs.size) < width) {
        // z' = z + A[:, S] (y'[S] - y[S]): a few columns instead of the whole matrix.
        z = clean_.z[m].col(n);
        layer.add_input_changes(diffs.idx.data(), diffs.val.data(), diffs.size, z.data());
      } else {
        materialize_prev(width, clean_prev);
        const auto& a = rows_[static_cast<std::size_t>(m)];
        if (a.size() > 0) {
          z.noalias() = a * ws.y.head(width);
          z += *view.bias;
        } else {
          z = layer.linear(ws.y.head(width));
        }
      }
      if (!f.weights[m].empty()) {
        materialize_prev(width, clean_prev);
        apply_weight_overrides(m, f, ws.y.data(), z.data());
      }
      double* y_next = ws.y_next.data();
      view.activation->apply_to(z.data(), y_next, rows);
      for (const auto& o : f.neurons[m]) y_next[o.index] = o.value;
      next_full = true;
      if (m < L) {
        // Branch-free compaction: about half the entries differ, a branch would mispredict.
        std::size_t count = 0;
        Eigen::Index* out_idx = next.idx.data();
        double* out_val = next.val.data();
        for (Eigen::Index k = 0; k < rows; ++k) {
          const double d = y_next[k] - clean_y[k];
          out_idx[count] = k;
          out_val[count] = d;
          count += d != 0.0 ? 1 : 0;
        }
        next.size = count;
      }
    }
    if (m == L) {
      if (next_full) {
        for (Eigen::Index k = 0; k < rows; ++k) delta[k] = ws.y_next[k] - clean_y[k];
      } else {
        std::fill(delta, delta + rows, 0.0);
        for (std::size_t j = 0; j < next.size; ++j) delta[next.idx[j]] = next.val[j];
      }
      return;
    }
    if (next_full) ws.y.swap(ws.y_next);
    full = next_full;
    diffs.swap(next);
  }
}

void FunctionalEngine::faulty_deltas_dense(Workspace& ws, std::size_t begin, std::size_t end) const {
  const int L = net_.num_layers();
  const Eigen::Index N = inputs_.cols();
  const Eigen::Index count = static_cast<Eigen::Index>(end - begin);
  auto slot = [&](Eigen::Index c) { return ws.jobs[begin + static_cast<std::size_t>(std::min(c, count - 1))]; };  // pad with the last
  Eigen::MatrixXd& y = ws.dense_y;
  Eigen::MatrixXd& z = ws.dense_z;
  y.resize(net_.input_size(), kDenseChunk);
  for (Eigen::Index c = 0; c < kDenseChunk; ++c) {
    const std::size_t k = slot(c);
    y.col(c) = inputs_.col(static_cast<Eigen::Index>(k % static_cast<std::size_t>(N)));
    for (const auto& o : ws.pool[k].neurons[0]) y(o.index, c) = o.value;
  }
  for (int m = 1; m <= L; ++m) {
    const models::ILayer& layer = net_.layer(m);
    if (const models::Pool2d* stage = net_.stage(m - 1)) {
      stage->forward_batch(y, ws.dense_u);
      y.swap(ws.dense_u);
    }
    layer.linear_batch(y, z);
    for (Eigen::Index c = 0; c < count; ++c) apply_weight_overrides(m, ws.pool[slot(c)], y.col(c).data(), z.col(c).data());
    y.resize(z.rows(), z.cols());
    layer.activation().apply_to(z.data(), y.data(), z.size());
    for (Eigen::Index c = 0; c < count; ++c) {
      for (const auto& o : ws.pool[slot(c)].neurons[m]) y(o.index, c) = o.value;
    }
  }
  for (Eigen::Index c = 0; c < count; ++c) {
    const Eigen::Index n = static_cast<Eigen::Index>(slot(c) % static_cast<std::size_t>(N));
    ws.deltas.col(static_cast<Eigen::Index>(begin) + c) = y.col(c) - clean_.y[L].col(n);
  }
}

ErrorStats FunctionalEngine::run_block(std::uint64_t block, std::uint64_t total_trials) const {
  const Eigen::Index N = inputs_.cols(), K = net_.output_size();
  const int L = net_.num_layers();
  ErrorStats stats(N, K);
  const std::uint64_t first = block * options_.block_trials;
  const std::uint64_t last = std::min(first + options_.block_trials, total_trials);
  if (options_.control_variate) stats.follow(*options_.control_variate, first);
  // Runs of fault-free inferences of each input are added as one run of zeros when the input's
  // next faulty inference (or the end of the block) comes: the same order, fewer calls.
  std::vector<std::uint64_t> pending_zeros(static_cast<std::size_t>(N), 0);
  Workspace ws(net_);
  const Eigen::MatrixXd& clean_out = clean_.y[L];
  std::size_t correct = 0;
  // Whether the faulty output (clean + delta) of input n still picks its label.
  auto faulty_correct = [&](Eigen::Index n, const double* delta) {
    Eigen::Index best = 0;
    (clean_out.col(n) + Eigen::Map<const Eigen::VectorXd>(delta, K)).maxCoeff(&best);
    return best == labels_[static_cast<std::size_t>(n)];
  };
  auto record_clean = [&](Eigen::Index n) {
    ++pending_zeros[static_cast<std::size_t>(n)];
    if (!labels_.empty()) correct += static_cast<std::size_t>(clean_correct_[static_cast<std::size_t>(n)]);
  };
  auto record_faulty = [&](Eigen::Index n, const double* delta) {
    stats.add_zeros(n, pending_zeros[static_cast<std::size_t>(n)]);
    pending_zeros[static_cast<std::size_t>(n)] = 0;
    stats.add(n, delta);
    if (!labels_.empty()) correct += faulty_correct(n, delta) ? 1 : 0;
  };
  auto end_trial = [&]() {
    if (!labels_.empty()) stats.add_trial_accuracy(static_cast<double>(correct) / static_cast<double>(N));
    correct = 0;
  };
  if (options_.fast_path || options_.replicas > 1) {
    // One inference at a time, input by input (each input's clean activations stay in cache),
    // the input's errors over the block's trials gathered and added as one block of statistics.
    // Per-trial accuracy is counted aside.
    const std::size_t T = static_cast<std::size_t>(last - first);
    std::vector<std::uint32_t> correct_by_trial(T, 0);
    ws.deltas.resize(K, static_cast<Eigen::Index>(T));
    for (Eigen::Index n = 0; n < N; ++n) {
      const bool clean_correct = !labels_.empty() && clean_correct_[static_cast<std::size_t>(n)];
      for (std::size_t t = 0; t < T; ++t) {
        double* delta = ws.deltas.col(static_cast<Eigen::Index>(t)).data();
        if (options_.replicas > 1) {
          median_delta(first + t, n, ws, delta);
          if (!labels_.empty()) correct_by_trial[t] += faulty_correct(n, delta) ? 1 : 0;
          continue;
        }
        sampler_.realize(first + t, static_cast<std::uint32_t>(n), ws.instance);
        if (ws.instance.empty()) {
          std::fill(delta, delta + K, 0.0);
          correct_by_trial[t] += clean_correct ? 1 : 0;
          continue;
        }
        faulty_delta_fast(ws.instance, n, ws, delta);
        if (!labels_.empty()) correct_by_trial[t] += faulty_correct(n, delta) ? 1 : 0;
      }
      stats.add_block(n, ws.deltas.data(), T);
    }
    for (std::size_t t = 0; t < T; ++t) {
      correct = correct_by_trial[t];
      end_trial();
    }
  } else {
    // Whole trials per batch, at most batch_trials and about kDenseBatchInferences inferences.
    const std::uint64_t per_batch = std::max<std::uint64_t>(
        1, std::min<std::uint64_t>(options_.batch_trials, kDenseBatchInferences / static_cast<std::uint64_t>(N)));
    ws.pool.resize(static_cast<std::size_t>(per_batch * static_cast<std::uint64_t>(N)));
    ws.deltas.resize(K, static_cast<Eigen::Index>(ws.pool.size()));
    for (std::uint64_t batch_start = first; batch_start < last; batch_start += per_batch) {
      const std::uint64_t batch_end = std::min(batch_start + per_batch, last);
      const std::size_t count = static_cast<std::size_t>((batch_end - batch_start) * static_cast<std::uint64_t>(N));
      ws.jobs.clear();
      for (std::size_t k = 0; k < count; ++k) {
        const std::uint64_t t = batch_start + k / static_cast<std::size_t>(N);
        sampler_.realize(t, static_cast<std::uint32_t>(k % static_cast<std::size_t>(N)), ws.pool[k]);
        if (!ws.pool[k].empty()) ws.jobs.push_back(k);
      }
      for (std::size_t b = 0; b < ws.jobs.size(); b += kDenseChunk) {
        faulty_deltas_dense(ws, b, std::min(ws.jobs.size(), b + static_cast<std::size_t>(kDenseChunk)));
      }
      std::size_t job = 0;
      for (std::size_t k = 0; k < count; ++k) {
        const Eigen::Index n = static_cast<Eigen::Index>(k % static_cast<std::size_t>(N));
        if (job < ws.jobs.size() && ws.jobs[job] == k) {
          record_faulty(n, ws.deltas.col(static_cast<Eigen::Index>(job)).data());
          ++job;
        } else {
          record_clean(n);
        }
        if (n == N - 1) end_trial();
      }
    }
  }
  for (Eigen::Index n = 0; n < N; ++n) stats.add_zeros(n, pending_zeros[static_cast<std::size_t>(n)]);
  return stats;
}

ErrorStats FunctionalEngine::run(std::uint64_t total_trials) const {
  ErrorStats total(inputs_.cols(), net_.output_size());
  for (std::uint64_t b = 0; b < block_count(total_trials); ++b) total.merge(run_block(b, total_trials));
  return total;
}

Eigen::MatrixXd FunctionalEngine::trial_outputs(std::uint64_t trial) const {
  const Eigen::Index N = inputs_.cols();
  Eigen::MatrixXd outputs = clean_.y[net_.num_layers()];
  Workspace ws(net_);
  for (Eigen::Index n = 0; n < N; ++n) {
    if (options_.replicas > 1) {
      median_delta(trial, n, ws, ws.delta.data());
      outputs.col(n) += ws.delta;
      continue;
    }
    sampler_.realize(trial, static_cast<std::uint32_t>(n), ws.instance);
    if (ws.instance.empty()) continue;
    faulty_delta_fast(ws.instance, n, ws, ws.delta.data());
    outputs.col(n) += ws.delta;
  }
  return outputs;
}

}  // namespace nfsim::sim
