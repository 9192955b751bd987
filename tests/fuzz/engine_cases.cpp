#include "tests/fuzz/engine_cases.h"

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <sstream>

#include "core/error.h"
#include "faults/bound_model.h"
#include "faults/fault_plan.h"
#include "models/bounds/bounds.h"
#include "models/dataset.h"
#include "models/random_network.h"
#include "sim/chip/chip_engine.h"
#include "sim/functional/exact_oracle.h"
#include "sim/functional/functional_engine.h"
#include "sim/topology/chip_topology.h"
#include "sim/topology/physical_units.h"

namespace nfsim::fuzz {
namespace {

using faults::FaultKind;
using faults::FaultSpec;

// Reads the fuzzer's bytes as choices; past the end every byte is 0 (the first choice).
class Choices {
 public:
  Choices(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  // An integer in [lo, hi].
  int range(int lo, int hi) {
    const unsigned span = static_cast<unsigned>(hi - lo + 1);
    const unsigned v = (static_cast<unsigned>(byte()) << 8) | byte();
    return lo + static_cast<int>(v % span);
  }
  // A double in [lo, hi] on a 1/65535 grid.
  double real(double lo, double hi) {
    const unsigned v = (static_cast<unsigned>(byte()) << 8) | byte();
    return lo + (hi - lo) * static_cast<double>(v) / 65535.0;
  }
  bool flip() { return (byte() & 1u) != 0; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

const models::ActivationKind kActivations[] = {models::ActivationKind::identity, models::ActivationKind::relu,
                                               models::ActivationKind::leaky_relu, models::ActivationKind::sigmoid,
                                               models::ActivationKind::tanh,       models::ActivationKind::softplus};

int ceil_div(int a, int b) { return (a + b - 1) / b; }

// A non-empty subset of [lo, hi], ascending.
std::vector<int> some_layers(Choices& in, int lo, int hi) {
  std::vector<int> out;
  for (int l = lo; l <= hi; ++l) {
    if (in.flip()) out.push_back(l);
  }
  if (out.empty()) out.push_back(in.range(lo, hi));
  return out;
}

std::string fmt(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

// Statistics runs: this many trials in blocks of kStatsBlock (several blocks merged).
constexpr std::uint64_t kStatsTrials = 40;
constexpr std::uint32_t kStatsBlock = 16;

// Mean, std and mean |Delta| of each (output, input) as three K x N matrices side by side.
Eigen::MatrixXd stats_matrix(const sim::ErrorStats& st, Eigen::Index K, Eigen::Index N) {
  Eigen::MatrixXd m(K, 3 * N);
  for (Eigen::Index i = 0; i < N; ++i) {
    for (Eigen::Index k = 0; k < K; ++k) {
      m(k, i) = st.delta(i, k).mean();
      m(k, N + i) = st.delta(i, k).std();
      m(k, 2 * N + i) = st.abs_delta(i, k).mean();
    }
  }
  return m;
}

// The faulty outputs of `trials` trials of the chip engine, and last the statistics of
// kStatsTrials trials (stats_matrix), computed in a child process (SystemC elaborates once per
// process). Throws std::runtime_error with the child's message on failure.
std::vector<Eigen::MatrixXd> chip_trials_in_child(const EngineCase& c, const faults::FaultPlan& plan, std::uint64_t trials) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  const Eigen::Index K = c.network.output_size(), N = c.inputs.cols();
  if (pid == 0) {
    ::close(fds[0]);
    ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
    std::string out;
    char status = 0;
    try {
      sim::ChipEngineOptions options;
      options.seed = c.seed;
      options.block_trials = kStatsBlock;
      sim::ChipEngine engine(c.network, c.inputs, c.chip, plan, options);
      for (std::uint64_t t = 0; t < trials; ++t) {
        const Eigen::MatrixXd y = engine.trial_outputs(t);
        if (y.rows() != K || y.cols() != N) throw std::runtime_error("chip trial outputs have the wrong shape");
        out.append(reinterpret_cast<const char*>(y.data()), static_cast<std::size_t>(y.size()) * sizeof(double));
      }
      const Eigen::MatrixXd st = stats_matrix(engine.run(kStatsTrials), K, N);
      out.append(reinterpret_cast<const char*>(st.data()), static_cast<std::size_t>(st.size()) * sizeof(double));
    } catch (const std::exception& e) {
      status = 1;
      out = e.what();
    } catch (...) {
      status = 1;
      out = "unknown exception";
    }
    std::string msg(1, status);
    msg += out;
    std::size_t done = 0;
    while (done < msg.size()) {
      const ssize_t w = ::write(fds[1], msg.data() + done, msg.size() - done);
      if (w <= 0) ::_exit(5);
      done += static_cast<std::size_t>(w);
    }
    ::_exit(0);  // no static destructors: the SystemC kernel is torn down with the process
  }
  ::close(fds[1]);
  std::string got;
  char buf[4096];
  while (true) {
    const ssize_t r = ::read(fds[0], buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got.append(buf, static_cast<std::size_t>(r));
  }
  ::close(fds[0]);
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(wstatus)) throw std::runtime_error("the chip engine's process died with signal " + std::to_string(WTERMSIG(wstatus)));
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0 || got.empty()) {
    throw std::runtime_error("the chip engine's process failed (exit " + std::to_string(WEXITSTATUS(wstatus)) + ")");
  }
  if (got[0] != 0) throw std::runtime_error("the chip engine threw: " + got.substr(1));
  const std::size_t bytes = static_cast<std::size_t>(K * N) * sizeof(double);
  if (got.size() != 1 + bytes * (trials + 3)) throw std::runtime_error("the chip engine's process sent " + std::to_string(got.size()) + " bytes");
  std::vector<Eigen::MatrixXd> out;
  for (std::uint64_t t = 0; t <= trials; ++t) {
    Eigen::MatrixXd y(K, t < trials ? N : 3 * N);
    std::memcpy(y.data(), got.data() + 1 + t * bytes, static_cast<std::size_t>(y.size()) * sizeof(double));
    out.push_back(std::move(y));
  }
  return out;
}

// Largest |activation| of the fault-free network over every layer and input: the scale of the
// rounding errors of a forward pass.
double activation_scale(const models::Network& net, const Eigen::MatrixXd& inputs) {
  const models::BatchTrace t = net.trace_batch(inputs);
  double m = 0;
  for (const auto& y : t.y) m = std::max(m, y.cwiseAbs().maxCoeff());
  return m;
}

}  // namespace

std::vector<std::uint8_t> seed_bytes(std::uint64_t seed, std::size_t size) {
  std::mt19937_64 gen(seed);
  std::vector<std::uint8_t> out(size);
  for (auto& b : out) b = static_cast<std::uint8_t>(gen() >> 56);
  return out;
}

EngineCase make_engine_case(const std::uint8_t* data, std::size_t size) {
  Choices in(data, size);
  EngineCase c;
  // The network: 1..3 layers of 1..4 neurons (inputs 1..5).
  const int L = in.range(1, 3);
  models::RandomNetworkSpec ns;
  ns.widths.push_back(in.range(1, 5));
  for (int l = 1; l <= L; ++l) ns.widths.push_back(in.range(1, 4));
  ns.activation = models::Activation{kActivations[in.range(0, 5)]};
  ns.output_activation = models::Activation{in.flip() ? models::ActivationKind::identity : kActivations[in.range(0, 5)]};
  ns.sigma = in.real(0.5, 3.0);
  ns.mu = in.real(-0.2, 0.2);
  ns.seed = static_cast<std::uint64_t>(in.range(0, 65535));
  c.network = models::make_random_network(ns);
  c.inputs = models::random_inputs(ns.widths[0], in.range(1, 3), in.real(0.2, 2.0), in.real(-0.5, 0.5),
                                   static_cast<std::uint64_t>(in.range(0, 65535)));

  // The chip: tiles and arrays of 1..4, an ideal or quantised crossbar, a bus or a mesh.
  const int rows = in.range(1, 4), cols = in.range(1, 4), array = in.range(1, 4);
  int tiles = 0, arrays = 0;
  for (int l = 1; l <= L; ++l) {
    tiles += ceil_div(ns.widths[l], cols) * ceil_div(ns.widths[l - 1], rows);
    arrays += ceil_div(ns.widths[l], array);
  }
  const int cores = std::max(tiles, arrays) + in.range(0, 2);
  const bool mesh = in.flip();
  std::ostringstream y;
  y << "name: fuzz\n";
  if (mesh) {
    const int width = in.range(1, cores);
    y << "cores: {count: " << cores << ", layout: {type: mesh, width: " << width << ", height: " << ceil_div(cores, width) << "}}\n";
  } else {
    y << "cores: {count: " << cores << (in.flip() ? ", layout: {type: line}" : "") << "}\n";
  }
  if (in.flip()) {
    y << "crossbar: {type: quantized, rows: " << rows << ", cols: " << cols << ", weight_bits: " << in.range(2, 8)
      << ", weight_range: " << fmt(in.real(0.2, 2.0)) << ", read_latency_ns: " << in.range(1, 100) << "}\n";
  } else {
    y << "crossbar: {type: ideal, rows: " << rows << ", cols: " << cols << ", read_latency_ns: " << in.range(1, 100) << "}\n";
  }
  y << "neuron_array: {type: rate, size: " << array << ", update_latency_ns: " << in.range(1, 20) << "}\n";
  if (mesh) {
    y << "interconnect: {type: mesh, hop_latency_ns: " << in.range(1, 9) << ", flit_bytes: " << in.range(1, 64) << "}\n";
  } else {
    y << "interconnect: {type: bus, latency_ns: " << in.range(1, 20) << "}\n";
  }
  c.topology_yaml = y.str();
  c.chip = sim::map_network(c.network, sim::parse_topology(YAML::Load(c.topology_yaml), "fuzz_chip.yaml"));
  c.programmed = sim::programmed_network(c.network, c.chip);
  c.seed = static_cast<std::uint64_t>(in.range(1, 65535));

  // The fault plan: 1..4 specs of any kind, each kept only while the plan stays enumerable.
  const int wanted = in.range(1, 4);
  std::vector<FaultSpec> specs;
  for (int k = 0; k < wanted; ++k) {
    FaultSpec s;
    const int kind = in.range(0, 10);
    s.persistence = in.flip() ? faults::Persistence::permanent : faults::Persistence::transient;
    const int pc = in.range(0, 15);
    s.probability = pc == 0 ? 0.0 : pc == 1 ? 1.0 : in.real(0.02, 0.6);
    switch (kind) {
      case 0: s.kind = FaultKind::neuron_crash; s.layers = some_layers(in, 0, L); break;
      case 1: s.kind = FaultKind::synapse_crash; s.layers = some_layers(in, 1, L); break;
      case 2:
        s.kind = FaultKind::neuron_stuck_at;
        s.layers = some_layers(in, 0, L);
        s.value = in.real(-3.0, 3.0);
        break;
      case 3:
        s.kind = FaultKind::synapse_stuck_at;
        s.layers = some_layers(in, 1, L);
        s.value = in.real(-3.0, 3.0);
        break;
      case 4:
        s.kind = FaultKind::weight_bit_flip;
        s.layers = some_layers(in, 1, L);
        s.format.total_bits = in.range(2, 12);
        s.format.frac_bits = in.range(0, s.format.total_bits - 1);
        s.bit = in.range(0, s.format.total_bits - 1);
        break;
      case 5: {
        s.kind = FaultKind::group_crash;
        const int groups = in.range(1, 3);
        for (int g = 0; g < groups; ++g) {
          faults::FaultGroup group;
          group.name = "g" + std::to_string(k) + "_" + std::to_string(g);
          const int members = in.range(1, 3);
          for (int m = 0; m < members; ++m) {
            if (in.flip()) {
              const int l = in.range(0, L);
              group.neurons.push_back({l, in.range(0, ns.widths[l] - 1)});
            } else {
              const int l = in.range(1, L);
              group.synapses.push_back({l, in.range(0, ns.widths[l] - 1), in.range(0, ns.widths[l - 1] - 1)});
            }
          }
          s.groups.push_back(std::move(group));
        }
        break;
      }
      default: {
        static const char* kPhysical[] = {"crossbar_row", "crossbar_column", "crossbar_tile", "neuron_array", "router"};
        s.kind = FaultKind::group_crash;
        s.physical_kind = kPhysical[kind - 6];
        if (s.physical_kind == "router") {
          if (!mesh) s.physical_kind = "crossbar_tile";  // a bus has no routers
        }
        if (s.physical_kind != "router" && in.flip()) s.layers = some_layers(in, 1, L);
        break;
      }
    }
    specs.push_back(s);
    std::vector<FaultSpec> expanded = sim::expand_physical_faults(specs, c.chip);
    const faults::FaultPlan plan(expanded, c.network);
    // Every unit counts, also those with p 0 or 1: check (c) gives every spec a small p.
    std::uint64_t units = 0;
    for (std::size_t s = 0; s < plan.size(); ++s) units += plan.unit_count(s);
    if (units > kMaxCaseUnits) specs.pop_back();
  }
  if (specs.empty()) {  // every spec drawn was too large: crash the output neurons
    FaultSpec s;
    s.kind = FaultKind::neuron_crash;
    s.layers = {L};
    s.probability = 0.1;
    specs.push_back(s);
  }
  c.specs = sim::expand_physical_faults(specs, c.chip);
  c.uncertain_units = sim::uncertain_units(faults::FaultPlan(c.specs, c.network));
  return c;
}

std::string EngineCase::describe() const {
  std::ostringstream s;
  s << "network " << network.describe() << ", " << inputs.cols() << " input(s), seed " << seed << ", " << uncertain_units
    << " uncertain units\nchip:\n"
    << topology_yaml << "faults:\n";
  for (const FaultSpec& f : specs) {
    s << "  " << f.describe() << (f.physical_kind.empty() ? "" : " (" + std::to_string(f.groups.size()) + " units)") << "\n";
  }
  return s.str();
}

std::string check_chip_matches_functional(const EngineCase& c, std::uint64_t trials, int* faulty_trials) {
  const faults::FaultPlan plan(c.specs, c.network);
  std::vector<Eigen::MatrixXd> chip;
  try {
    chip = chip_trials_in_child(c, plan, trials);
  } catch (const std::exception& e) {
    return std::string("chip engine failed: ") + e.what() + "\n" + c.describe();
  }
  sim::FunctionalOptions fast, dense;
  fast.seed = dense.seed = c.seed;
  fast.block_trials = dense.block_trials = kStatsBlock;
  dense.fast_path = false;
  const sim::FunctionalEngine functional(c.programmed, c.inputs, plan, fast);
  const sim::FunctionalEngine plain(c.programmed, c.inputs, plan, dense);
  const double scale = activation_scale(c.programmed, c.inputs);
  for (std::uint64_t t = 0; t < trials; ++t) {
    const Eigen::MatrixXd f = functional.trial_outputs(t);
    const Eigen::MatrixXd d = plain.trial_outputs(t);
    const Eigen::MatrixXd& a = chip[t];
    if (faulty_trials && f != functional.clean().y.back()) ++*faulty_trials;
    // Relative to the trial's largest output and the network's largest activation (rounding in
    // a sum is relative to its terms, which a cancelling sum may hide).
    const double magnitude = std::max({scale, f.cwiseAbs().maxCoeff(), a.cwiseAbs().maxCoeff(), 1e-300});
    const double tol = 1e-9 * magnitude;
    for (Eigen::Index i = 0; i < f.size(); ++i) {
      const double x = f.data()[i], ch = a.data()[i], pl = d.data()[i];
      if (!(std::abs(x - ch) <= tol) || !(std::abs(x - pl) <= tol)) {
        std::ostringstream m;
        m.precision(17);
        m << "trial " << t << ", output " << i % f.rows() << ", input " << i / f.rows() << ": chip " << ch
          << ", functional " << x << " (dense path " << pl << "), tolerance " << tol << "\n"
          << c.describe();
        return m.str();
      }
    }
  }
  // The statistics of a short campaign (blocks merged in order): the same in both engines.
  const Eigen::Index K = c.network.output_size(), N = c.inputs.cols();
  const Eigen::MatrixXd want = stats_matrix(functional.run(kStatsTrials), K, N);
  const Eigen::MatrixXd& got = chip[trials];
  const double tol = 1e-9 * std::max({scale, want.cwiseAbs().maxCoeff(), 1e-300});
  for (Eigen::Index col = 0; col < want.cols(); ++col) {
    for (Eigen::Index k = 0; k < K; ++k) {
      if (!(std::abs(want(k, col) - got(k, col)) <= tol)) {
        static const char* kWhat[] = {"mean Delta", "std Delta", "mean |Delta|"};
        std::ostringstream m;
        m.precision(17);
        m << kStatsTrials << " trials, " << kWhat[col / N] << " of output " << k << ", input " << col % N << ": chip "
          << got(k, col) << ", functional " << want(k, col) << ", tolerance " << tol << "\n"
          << c.describe();
        return m.str();
      }
    }
  }
  return "";
}

std::string check_monte_carlo_in_exact_interval(const EngineCase& c, std::uint64_t trials) {
  const faults::FaultPlan plan(c.specs, c.programmed);
  const Eigen::MatrixXd reference = c.programmed.forward_batch(c.inputs);
  const sim::ExactResult exact = sim::exact_distribution(c.programmed, c.inputs, plan, reference, {}, kMaxCaseUnits);
  sim::FunctionalOptions o;
  o.seed = c.seed;
  const sim::ErrorStats mc = sim::FunctionalEngine(c.programmed, c.inputs, plan, o).run(trials);
  const Eigen::Index K = reference.rows(), N = reference.cols();
  // Bernstein: for i.i.d. X in [mu - b, mu + b] with variance s2, P(|mean - mu| >= t) <=
  // 2 exp(-n t^2 / (2 s2 + 2 b t / 3)); every (input, output) at level alpha / (K N).
  const double alpha = 1e-9;
  const double log_term = std::log(2.0 * static_cast<double>(K * N) / alpha);
  const double n = static_cast<double>(trials);
  const double scale = activation_scale(c.programmed, c.inputs);
  for (Eigen::Index i = 0; i < N; ++i) {
    for (Eigen::Index k = 0; k < K; ++k) {
      const double s2 = exact.variance(k, i), b = 2.0 * exact.max_abs(k, i);
      const double lin = 2.0 * b * log_term / 3.0;
      const double t = (lin + std::sqrt(lin * lin + 8.0 * n * s2 * log_term)) / (2.0 * n);
      const double slack = 1e-9 * (scale + exact.max_abs(k, i));  // rounding of both sides
      const double got = mc.delta(i, k).mean(), want = exact.mean(k, i);
      if (!(std::abs(got - want) <= t + slack)) {
        std::ostringstream m;
        m.precision(17);
        m << "input " << i << ", output " << k << ": Monte-Carlo mean " << got << " over " << trials
          << " trials outside the exact mean " << want << " +- " << t + slack << " (exact std " << std::sqrt(s2)
          << ", max |Delta| " << exact.max_abs(k, i) << ")\n"
          << c.describe();
        return m.str();
      }
    }
  }
  return "";
}

std::string check_b4_first_order(const EngineCase& c, int* ratio_checked) {
  // Every probability becomes a multiple of p (1 or 1/2 of it, from the case's own p): exact and
  // b4 are then polynomials in p, and halving p is exact in binary.
  const double p0 = std::ldexp(1.0, -15);
  auto plan_at = [&](double p) {
    std::vector<FaultSpec> specs = c.specs;
    for (FaultSpec& s : specs) s.probability = (s.probability < 0.3 ? 0.5 : 1.0) * p;
    return specs;
  };
  const std::vector<FaultSpec> s1 = plan_at(p0), s2 = plan_at(p0 / 2);
  const faults::FaultPlan plan1(s1, c.programmed), plan2(s2, c.programmed);
  const std::uint64_t units = sim::uncertain_units(plan1);
  const Eigen::MatrixXd reference = c.programmed.forward_batch(c.inputs);
  const sim::ExactResult e1 = sim::exact_distribution(c.programmed, c.inputs, plan1, reference, {}, kMaxCaseUnits);
  const sim::ExactResult e2 = sim::exact_distribution(c.programmed, c.inputs, plan2, reference, {}, kMaxCaseUnits);
  const models::bounds::BoundCalculator b1(c.programmed, faults::to_bound_model(plan1));
  const models::bounds::BoundCalculator b2(c.programmed, faults::to_bound_model(plan2));
  // T(p) = M sum_{k>=3} C(n, k) (2p)^k bounds the terms of order >= 3 of exact(p) - b4(p): in
  // the multilinear form exact = sum_S prod_{s in S} q_s mu_S, each |mu_S| <= 2^|S| M with M the
  // largest |Delta| over all subsets, and the orders 0, 1 are zero (b4 is the order-1 part).
  auto tail = [&](double p, double m) {
    double sum = 0, binom = 1;
    for (std::uint64_t k = 1; k <= units; ++k) {
      binom = binom * static_cast<double>(units - k + 1) / static_cast<double>(k);
      if (k >= 3) sum += binom * std::pow(2.0 * p, static_cast<double>(k));
    }
    return m * sum;
  };
  const double scale = activation_scale(c.programmed, c.inputs);
  for (Eigen::Index i = 0; i < c.inputs.cols(); ++i) {
    const Eigen::VectorXd x = c.inputs.col(i);
    const Eigen::VectorXd bound1 = b1.compute(x, {"b4"}).at("b4").mean;
    const Eigen::VectorXd bound2 = b2.compute(x, {"b4"}).at("b4").mean;
    for (Eigen::Index k = 0; k < reference.rows(); ++k) {
      const double m = std::max(e1.max_abs(k, i), e2.max_abs(k, i));
      const double err1 = e1.mean(k, i) - bound1[k], err2 = e2.mean(k, i) - bound2[k];
      const double t1 = tail(p0, m), t2 = tail(p0 / 2, m);
      const double rounding = 1e-12 * (scale + m) * static_cast<double>(units + 1);
      std::ostringstream m_;
      m_.precision(17);
      m_ << "input " << i << ", output " << k << ": exact - b4 is " << err1 << " at p = " << p0 << " and " << err2
         << " at p/2 (order >= 3 bound " << t1 << ", " << t2 << "; rounding " << rounding << "): ";
      if (!(std::abs(err2 - err1 / 4) <= t1 / 4 + t2 + 2 * rounding)) {
        return m_.str() + "b4 is not the exact mean to first order (the p^2 part must quarter)\n" + c.describe();
      }
      if (std::abs(err1) >= 4.5 * t1 + 15 * rounding) {
        if (ratio_checked) ++*ratio_checked;
        if (!(std::abs(err1) >= 3 * std::abs(err2))) return m_.str() + "the error did not shrink by 3 when p halved\n" + c.describe();
      }
    }
  }
  return "";
}

}  // namespace nfsim::fuzz
