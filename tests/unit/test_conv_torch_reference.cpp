// The conv fault math against an independent PyTorch reference
// (scripts/make_torch_cnn_references.py, float64): on its tiny CNN (conv-relu-maxpool,
// conv-tanh-avgpool, dense), nfsim's Monte Carlo of neuron crashes agrees with PyTorch's
// (dropout-style masks before the pooling, no rescaling) within their intervals, and nfsim's b3
// and b4 (neurons and shared synapses of each conv layer) equal PyTorch's autograd and
// single-crash enumeration to 1e-6.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "faults/bound_model.h"
#include "faults/fault_plan.h"
#include "models/bounds/bounds.h"
#include "models/dataset.h"
#include "models/onnx_io.h"
#include "sim/functional/functional_engine.h"

namespace nfsim::models {
namespace {

using faults::FaultKind;
using faults::FaultPlan;
using faults::FaultSpec;

const std::string kDir = std::string(NFSIM_FIXTURES_DIR) + "/torch_cnn_small_refs/";
constexpr double kP = 0.02;

// Reference array `name` (images x outputs in the script) as outputs x images.
Eigen::MatrixXd reference(const std::string& name) { return read_npy_matrix(kDir + name + ".npy", -1); }

Dataset images(std::int64_t count, const Network& net) {
  InputSpec spec;
  spec.kind = InputSpec::Kind::idx;
  spec.path = std::string(NFSIM_FMNIST_DIR) + "/t10k-images-idx3-ubyte.gz";
  spec.count = count;
  spec.scale = 1.0 / 255.0;
  return load_inputs(spec, net.input_size());
}

// |a - b| <= tol * max |b| of the input, per input (column).
void expect_close(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b, double tol, const std::string& what) {
  ASSERT_EQ(a.rows(), b.rows()) << what;
  ASSERT_EQ(a.cols(), b.cols()) << what;
  for (Eigen::Index n = 0; n < b.cols(); ++n) {
    const double scale = b.col(n).cwiseAbs().maxCoeff();
    EXPECT_LE((a.col(n) - b.col(n)).cwiseAbs().maxCoeff(), tol * scale) << what << " image " << n << "\n"
                                                                        << a.col(n).transpose() << "\n"
                                                                        << b.col(n).transpose();
  }
}

TEST(ConvTorchReference, CleanOutputsMatch) {
  const Network net = load_onnx(std::string(NFSIM_FIXTURES_DIR) + "/torch_cnn_small.onnx");
  const Dataset data = images(10, net);
  expect_close(net.forward_batch(data.inputs), reference("clean_logits"), 1e-5, "clean logits");
}

TEST(ConvTorchReference, B3AndB4EqualAutogradAndSingleCrashEnumeration) {
  const Network net = load_onnx(std::string(NFSIM_FIXTURES_DIR) + "/torch_cnn_small.onnx");
  const Dataset data = images(5, net);
  for (int l = 1; l <= 2; ++l) {
    for (FaultKind kind : {FaultKind::neuron_crash, FaultKind::synapse_crash}) {
      const FaultPlan plan({FaultSpec{kind, {l}, kP}}, net);
      const bounds::BoundCalculator calc(net, faults::to_bound_model(plan));
      Eigen::MatrixXd b3_mean(10, 5), b3_var(10, 5), b4_mean(10, 5), b4_var(10, 5);
      for (Eigen::Index n = 0; n < 5; ++n) {
        const bounds::BoundSet b = calc.compute(data.inputs.col(n), {"b3", "b4"});
        b3_mean.col(n) = b.at("b3").mean;
        b4_mean.col(n) = b.at("b4").mean;
        // nfsim's variances are p sum e^2 (docs/bounds.md); the script's p (1 - p) sum e^2.
        b3_var.col(n) = b.at("b3").std.cwiseAbs2() * (1 - kP);
        b4_var.col(n) = b.at("b4").std.cwiseAbs2() * (1 - kP);
      }
      const std::string prefix = std::string(kind == FaultKind::neuron_crash ? "" : "syn_");
      const std::string tag = prefix + "layer " + std::to_string(l) + " ";
      const std::string suffix = "_l" + std::to_string(l);
      expect_close(b3_mean, reference(prefix + "b3" + suffix + "_mean"), 1e-6, tag + "b3 mean");
      expect_close(b3_var, reference(prefix + "b3" + suffix + "_var"), 1e-6, tag + "b3 var");
      expect_close(b4_mean, reference(prefix + "b4" + suffix + "_mean"), 1e-6, tag + "b4 mean");
      expect_close(b4_var, reference(prefix + "b4" + suffix + "_var"), 1e-6, tag + "b4 var");
    }
  }
}

TEST(ConvTorchReference, MonteCarloAgreesWithPyTorchWithinTheIntervals) {
  const Network net = load_onnx(std::string(NFSIM_FIXTURES_DIR) + "/torch_cnn_small.onnx");
  const Dataset data = images(10, net);
  const std::uint64_t trials = 5000;
  for (int l = 1; l <= 2; ++l) {
    const FaultPlan plan({FaultSpec{FaultKind::neuron_crash, {l}, kP}}, net);
    sim::FunctionalOptions opt;
    opt.seed = 2026;
    const sim::ErrorStats stats = sim::FunctionalEngine(net, data.inputs, plan, opt).run(trials);
    const std::string s = "mc_l" + std::to_string(l);
    const Eigen::MatrixXd mean = reference(s + "_mean"), std = reference(s + "_std"), mean_se = reference(s + "_mean_se"),
                          std_se = reference(s + "_std_se");
    int beyond = 0, pairs = 0;
    double worst = 0;
    for (Eigen::Index n = 0; n < 10; ++n) {
      for (Eigen::Index k = 0; k < 10; ++k) {
        const core::RunningStats& r = stats.delta(n, k);
        const double se_mean = r.std() / std::sqrt(double(trials));
        const double se_std = r.std_half_width(1.0);  // one standard error
        const double z_mean = (r.mean() - mean(k, n)) / std::sqrt(se_mean * se_mean + mean_se(k, n) * mean_se(k, n));
        const double z_std = (r.std() - std(k, n)) / std::sqrt(se_std * se_std + std_se(k, n) * std_se(k, n));
        for (double z : {z_mean, z_std}) {
          ++pairs;
          beyond += std::abs(z) > 2.576;
          worst = std::max(worst, std::abs(z));
        }
      }
    }
    std::printf("layer %d: %d of %d z-scores beyond 2.576, largest %.2f\n", l, beyond, pairs, worst);
    EXPECT_LE(beyond, pairs * 3 / 100) << "layer " << l;
    EXPECT_LE(worst, 4.5) << "layer " << l;
  }
}

}  // namespace
}  // namespace nfsim::models
