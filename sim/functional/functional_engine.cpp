#include "sim/functional/functional_engine.h"

#include <algorithm>

#include "core/error.h"

namespace nfsim::sim {
namespace {

// Columns per dense GEMM. Fixed, so each column's rounding never depends on how many jobs a
// batch happens to hold (short chunks are padded).
constexpr Eigen::Index kDenseChunk = 64;

}  // namespace

FunctionalEngine::FunctionalEngine(const models::Network& network, const Eigen::MatrixXd& inputs,
                                   const faults::FaultPlan& plan, const FunctionalOptions& options, std::vector<int> labels)
    : net_(network), inputs_(inputs), plan_(plan), options_(options), sampler_(plan, network, options.seed), labels_(std::move(labels)) {
  if (options_.block_trials == 0) throw core::InputError("block_trials must be >= 1");
  if (options_.batch_trials == 0) throw core::InputError("batch_trials must be >= 1");
  if (inputs_.cols() >= static_cast<Eigen::Index>(faults::FaultSampler::kPermanentSlot)) {
    throw core::InputError("too many inputs for one campaign (at most 2^32 - 2)");
  }
  clean_ = net_.trace_batch(inputs_);
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
  const Eigen::MatrixXd& w = net_.layer(layer).weights;
  for (const auto& o : f.weights[layer]) z[o.row] += (o.value - w(o.row, o.col)) * y_prev[o.col];
}

void FunctionalEngine::faulty_output_fast(const Job& job, Eigen::VectorXd& out) const {
  const faults::FaultInstance& f = job.faults;
  const Eigen::Index n = job.input;
  const int L = net_.num_layers();
  const int l0 = f.first_layer();
  Eigen::VectorXd y, z;
  std::vector<int> changed;  // indices of y (layer m-1) that differ from the clean run
  bool dense = false;        // y differs (potentially) everywhere
  if (l0 == 0) {
    y = inputs_.col(n);
  } else {
    // Layer l0 from the clean y_{l0-1}: only the rows with weight overrides change.
    y = clean_.y[l0].col(n);
    if (!f.weights[l0].empty()) {
      z = clean_.z[l0].col(n);
      apply_weight_overrides(l0, f, clean_.y[l0 - 1].col(n).data(), z.data());
      const models::Activation& act = net_.layer(l0).activation;
      for (const auto& o : f.weights[l0]) {
        y[o.row] = act.apply(z[o.row]);
        changed.push_back(o.row);
      }
    }
  }
  for (const auto& o : f.neurons[l0]) {
    y[o.index] = o.value;
    changed.push_back(o.index);
  }
  for (int m = l0 + 1; m <= L; ++m) {
    const models::DenseLayer& layer = net_.layer(m);
    const Eigen::Index n_prev = layer.weights.cols();
    std::sort(changed.begin(), changed.end());
    changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
    const bool propagated = dense || !changed.empty();
    if (!dense && 2 * static_cast<Eigen::Index>(changed.size()) < n_prev) {
      z = clean_.z[m].col(n);
      for (int i : changed) {
        const double d = y[i] - clean_.y[m - 1](i, n);
        if (d != 0.0) z.noalias() += layer.weights.col(i) * d;
      }
    } else {
      z.noalias() = layer.weights * y;
      z += layer.bias;
    }
    changed.clear();
    apply_weight_overrides(m, f, y.data(), z.data());
    if (propagated) {
      y = layer.activation.apply(z);
      dense = true;
    } else {
      // Nothing upstream changed: only rows with weight overrides differ.
      y = clean_.y[m].col(n);
      for (const auto& o : f.weights[m]) {
        y[o.row] = layer.activation.apply(z[o.row]);
        changed.push_back(o.row);
      }
    }
    for (const auto& o : f.neurons[m]) {
      y[o.index] = o.value;
      changed.push_back(o.index);
    }
  }
  out = y;
}

void FunctionalEngine::faulty_outputs_dense(const std::vector<Job>& jobs, std::size_t begin, std::size_t end,
                                            Eigen::MatrixXd& out) const {
  const int L = net_.num_layers();
  const Eigen::Index count = static_cast<Eigen::Index>(end - begin);
  Eigen::MatrixXd y(net_.input_size(), kDenseChunk), z;
  for (Eigen::Index c = 0; c < kDenseChunk; ++c) {
    const Job& job = jobs[begin + static_cast<std::size_t>(std::min(c, count - 1))];  // pad with the last job
    y.col(c) = inputs_.col(job.input);
    for (const auto& o : job.faults.neurons[0]) y(o.index, c) = o.value;
  }
  for (int m = 1; m <= L; ++m) {
    const models::DenseLayer& layer = net_.layer(m);
    z.noalias() = layer.weights * y;
    z.colwise() += layer.bias;
    for (Eigen::Index c = 0; c < count; ++c) {
      apply_weight_overrides(m, jobs[begin + static_cast<std::size_t>(c)].faults, y.col(c).data(), z.col(c).data());
    }
    y = layer.activation.apply(z);
    for (Eigen::Index c = 0; c < count; ++c) {
      for (const auto& o : jobs[begin + static_cast<std::size_t>(c)].faults.neurons[m]) y(o.index, c) = o.value;
    }
  }
  out = y.leftCols(count);
}

ErrorStats FunctionalEngine::run_block(std::uint64_t block, std::uint64_t total_trials) const {
  const Eigen::Index N = inputs_.cols(), K = net_.output_size();
  ErrorStats stats(N, K);
  const std::uint64_t first = block * options_.block_trials;
  const std::uint64_t last = std::min(first + options_.block_trials, total_trials);
  std::vector<std::uint64_t> pending_zeros(static_cast<std::size_t>(N), 0);
  std::vector<Job> jobs;
  std::vector<std::pair<std::uint64_t, Eigen::Index>> order;  // (trial, input) of each job
  Eigen::MatrixXd deltas;
  Eigen::VectorXd out;
  for (std::uint64_t batch_start = first; batch_start < last; batch_start += options_.batch_trials) {
    const std::uint64_t batch_end = std::min(batch_start + options_.batch_trials, last);
    // Draw every (trial, input) of the batch; keep the faulty ones as jobs.
    jobs.clear();
    std::vector<char> faulty;  // per (trial, input) in trial-major order
    faulty.reserve(static_cast<std::size_t>((batch_end - batch_start) * static_cast<std::uint64_t>(N)));
    faults::FaultInstance instance;
    for (std::uint64_t t = batch_start; t < batch_end; ++t) {
      for (Eigen::Index n = 0; n < N; ++n) {
        sampler_.realize(t, static_cast<std::uint32_t>(n), instance);
        faulty.push_back(instance.empty() ? 0 : 1);
        if (!instance.empty()) jobs.push_back(Job{n, std::move(instance)});  // realize() resets it
      }
    }
    deltas.resize(K, static_cast<Eigen::Index>(jobs.size()));
    if (options_.fast_path) {
      for (std::size_t j = 0; j < jobs.size(); ++j) {
        faulty_output_fast(jobs[j], out);
        deltas.col(static_cast<Eigen::Index>(j)) = out - clean_.y[net_.num_layers()].col(jobs[j].input);
      }
    } else {
      Eigen::MatrixXd chunk;
      for (std::size_t b = 0; b < jobs.size(); b += kDenseChunk) {
        const std::size_t e = std::min(jobs.size(), b + static_cast<std::size_t>(kDenseChunk));
        faulty_outputs_dense(jobs, b, e, chunk);
        for (std::size_t j = b; j < e; ++j) {
          deltas.col(static_cast<Eigen::Index>(j)) =
              chunk.col(static_cast<Eigen::Index>(j - b)) - clean_.y[net_.num_layers()].col(jobs[j].input);
        }
      }
    }
    // Accumulate in (trial, input) order; runs of fault-free inferences are merged as zeros.
    std::size_t job = 0, k = 0;
    const Eigen::MatrixXd& clean_out = clean_.y[net_.num_layers()];
    for (std::uint64_t t = batch_start; t < batch_end; ++t) {
      std::size_t correct = 0;
      for (Eigen::Index n = 0; n < N; ++n, ++k) {
        if (!faulty[k]) {
          ++pending_zeros[static_cast<std::size_t>(n)];
          if (!labels_.empty()) correct += static_cast<std::size_t>(clean_correct_[static_cast<std::size_t>(n)]);
          continue;
        }
        stats.add_zeros(n, pending_zeros[static_cast<std::size_t>(n)]);
        pending_zeros[static_cast<std::size_t>(n)] = 0;
        const auto delta = deltas.col(static_cast<Eigen::Index>(job++));
        stats.add(n, delta.data());
        if (!labels_.empty()) {
          Eigen::Index best = 0;
          (clean_out.col(n) + delta).maxCoeff(&best);
          correct += static_cast<std::size_t>(best == labels_[static_cast<std::size_t>(n)]);
        }
      }
      if (!labels_.empty()) stats.add_trial_accuracy(static_cast<double>(correct) / static_cast<double>(N));
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
  Eigen::VectorXd out;
  for (Eigen::Index n = 0; n < N; ++n) {
    Job job{n, {}};
    sampler_.realize(trial, static_cast<std::uint32_t>(n), job.faults);
    if (job.faults.empty()) continue;
    faulty_output_fast(job, out);
    outputs.col(n) = out;
  }
  return outputs;
}

}  // namespace nfsim::sim
