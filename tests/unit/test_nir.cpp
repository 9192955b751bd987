// NIR import (models/nir_io.h, docs/nir.md): the fixtures of scripts/make_nir_fixtures.py run
// through the spiking engine against the script's independent numpy simulation of the NIR
// equations, the discretisation and mapping checked directly, and every refusal's message.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "models/dataset.h"
#include "models/layer/dense_layer.h"
#include "models/nir_io.h"
#include "models/spiking.h"
#include "sim/functional/spiking_engine.h"

namespace nfsim {
namespace {

const std::string kDir = std::string(NFSIM_FIXTURES_DIR) + "/nir/";

struct NirCase {
  std::string name;
  double dt = 0.0;
  int steps = 0;
};

std::vector<NirCase> cases() {
  std::ifstream in(kDir + "cases.txt");
  std::vector<NirCase> out;
  NirCase c;
  while (in >> c.name >> c.dt >> c.steps) out.push_back(c);
  return out;
}

// The message of the InputError that load_nir throws ("" when it does not throw).
std::string load_error(const std::string& file, double dt = 0.001) {
  try {
    models::load_nir(kDir + file, dt);
  } catch (const core::InputError& e) {
    return e.what();
  }
  return "";
}

TEST(NirImport, FixturesMatchTheNumpyReference) {
  const std::vector<NirCase> all = cases();
  ASSERT_EQ(all.size(), 3u);
  for (const NirCase& c : all) {
    SCOPED_TRACE(c.name);
    const models::NirModel m = models::load_nir(kDir + c.name + ".nir", c.dt);
    models::SpikingConfig config = m.spiking;
    config.time_steps = c.steps;
    const Eigen::MatrixXd inputs = models::read_npy_matrix(kDir + c.name + "_inputs.npy", -1);      // one column per input
    const Eigen::MatrixXd expected = models::read_npy_matrix(kDir + c.name + "_expected.npy", -1);  // one column per input
    ASSERT_EQ(inputs.cols(), expected.cols());
    ASSERT_EQ(inputs.rows(), m.network.input_size());
    ASSERT_EQ(expected.rows(), m.network.output_size());
    const sim::SpikingModel model(m.network, config, 1);
    sim::SpikeTrace trace;
    double worst = 0.0, spikes = 0.0;
    for (Eigen::Index n = 0; n < inputs.cols(); ++n) {
      const Eigen::VectorXd x = inputs.col(n);
      model.run_clean(x.data(), 0, static_cast<std::uint32_t>(n), trace);
      worst = std::max(worst, (trace.output - expected.col(n)).cwiseAbs().maxCoeff());
      for (std::size_t l = 1; l < trace.spikes.size(); ++l) spikes += trace.spikes[l].cast<double>().sum();
    }
    std::cout << "[ NIR      ] " << c.name << ": " << m.describe << "; max |nfsim - numpy| = " << worst << "\n";
    EXPECT_LE(worst, 1e-12);
    EXPECT_GT(spikes, 0.0);  // the hidden neurons do fire: the comparison is not vacuous
  }
}

// The comparison above is sensitive to the discretisation: the same files read with another dt
// (a different leak and gain) no longer match the reference.
TEST(NirImport, AnotherTimeStepDoesNotMatchTheReference) {
  for (const NirCase& c : cases()) {
    if (c.name == "threshold_scale") continue;  // Threshold is memoryless: dt plays no part
    SCOPED_TRACE(c.name);
    const models::NirModel m = models::load_nir(kDir + c.name + ".nir", c.dt * 1.5);
    models::SpikingConfig config = m.spiking;
    config.time_steps = c.steps;
    const Eigen::MatrixXd inputs = models::read_npy_matrix(kDir + c.name + "_inputs.npy", -1);
    const Eigen::MatrixXd expected = models::read_npy_matrix(kDir + c.name + "_expected.npy", -1);
    const sim::SpikingModel model(m.network, config, 1);
    sim::SpikeTrace trace;
    double worst = 0.0;
    for (Eigen::Index n = 0; n < inputs.cols(); ++n) {
      const Eigen::VectorXd x = inputs.col(n);
      model.run_clean(x.data(), 0, static_cast<std::uint32_t>(n), trace);
      worst = std::max(worst, (trace.output - expected.col(n)).cwiseAbs().maxCoeff());
    }
    EXPECT_GT(worst, 0.01);
  }
}

TEST(NirImport, MapsNodesOntoLayers) {
  const models::NirModel mlp = models::load_nir(kDir + "mlp_lif.nir", 0.001);
  EXPECT_EQ(mlp.network.describe(), "16-12(relu)-5(identity)");
  EXPECT_EQ(mlp.spiking.readout, models::SpikeReadout::rate);  // the last neuron node feeds Output
  EXPECT_EQ(mlp.spiking.reset, models::SpikeReset::zero);
  EXPECT_EQ(mlp.spiking.coding, models::SpikeCoding::regular);
  ASSERT_EQ(mlp.spiking.layer_leaks.size(), 2u);
  ASSERT_EQ(mlp.spiking.layer_thresholds.size(), 2u);
  // lif2: tau = 0.01, r = 2, v_leak = 0, threshold 0.5 for every neuron: leak 1 - dt/tau = 0.9,
  // gain dt r / tau = 0.2 folded (with the Scale before it) into fc2's rows.
  for (Eigen::Index j = 0; j < 5; ++j) {
    EXPECT_NEAR(mlp.spiking.layer_leaks[1][j], 1.0 - 0.001 / static_cast<double>(0.01f), 1e-15);
    EXPECT_EQ(mlp.spiking.layer_thresholds[1][j], 0.5);
  }
  EXPECT_EQ(mlp.describe, "NIR graph (7 nodes, dt = 0.001): input[16] -> fc1+lif1(LIF) -> fc2+lif2(LIF) -> output; readout rate");

  const models::NirModel conv = models::load_nir(kDir + "conv_if.nir", 0.001);
  EXPECT_EQ(conv.network.describe(), "1x6x6-4c3x3/p1(relu)+avgpool2x2-3(identity)");
  EXPECT_EQ(conv.spiking.readout, models::SpikeReadout::membrane);  // Affine feeds Output directly
  ASSERT_EQ(conv.spiking.layer_leaks.size(), 1u);
  EXPECT_TRUE((conv.spiking.layer_leaks[0].array() == 1.0).all());  // IF: no leak
  EXPECT_EQ(conv.spiking.neuron, models::SpikingNeuron::if_neuron);
  EXPECT_EQ(conv.describe,
            "NIR graph (7 nodes, dt = 0.001): input[1, 6, 6] -> conv+if1(IF) -> sumpool2x2 -> fc -> output; readout membrane");
}

TEST(NirImport, DiscretisationDependsOnDt) {
  // Halving dt halves the LIF gain dt r / tau folded into the weights and moves the leak to 1.
  const models::NirModel a = models::load_nir(kDir + "mlp_lif.nir", 0.001);
  const models::NirModel b = models::load_nir(kDir + "mlp_lif.nir", 0.0005);
  const Eigen::MatrixXd& wa = models::as_dense(a.network.layer(2), "test").weights();
  const Eigen::MatrixXd& wb = models::as_dense(b.network.layer(2), "test").weights();
  EXPECT_NEAR((wa - 2.0 * wb).cwiseAbs().maxCoeff(), 0.0, 1e-15);
  EXPECT_NEAR(b.spiking.layer_leaks[1][0], 1.0 - 0.0005 / static_cast<double>(0.01f), 1e-15);
}

TEST(NirImport, RefusesBadFilesNamingFileAndNode) {
  struct Bad {
    const char* file;
    std::vector<std::string> parts;
  };
  const std::vector<Bad> bad = {
      {"bad_missing_dataset.nir", {"bad_missing_dataset.nir: node 'lif1': dataset 'v_threshold' is missing; expected"}},
      {"bad_weight_shape.nir",
       {"bad_weight_shape.nir: node 'fc2': dataset 'weight' has shape [5, 11]; expected [outputs, 12] (12 inputs from 'lif1')"}},
      {"bad_unsupported_node.nir", {"bad_unsupported_node.nir: node 'lif2' is a CubaLIF (a synaptic current state per neuron", "nfsim does not support"}},
      {"bad_not_chain.nir",
       {"bad_not_chain.nir: node 'lif1' has 2 outgoing edges (to 'fc2', 'output'); expected a chain Input -> ... -> Output"}},
      {"bad_v_reset.nir", {"bad_v_reset.nir: node 'lif1': dataset 'v_reset' is 0.25 at neuron 2; expected 0"}},
      {"bad_param_size.nir",
       {"bad_param_size.nir: node 'lif2': dataset 'tau' has shape [3] (3 values); expected a scalar or 5 values, one per neuron"}},
      {"bad_no_neuron.nir",
       {"bad_no_neuron.nir: node 'fc2': Affine follows linear node 'fc1' directly; expected a neuron node (LIF, IF, Threshold)"}},
  };
  for (const Bad& b : bad) {
    const std::string msg = load_error(b.file);
    ASSERT_FALSE(msg.empty()) << b.file << " was accepted";
    for (const std::string& part : b.parts) EXPECT_NE(msg.find(part), std::string::npos) << msg;
  }
}

TEST(NirImport, RefusesTimeStepsTheEulerStepCannotTake) {
  // lif1's smallest tau is above 0.004 (the script draws tau in [0.004, 0.02]): dt = 0.03 exceeds
  // every tau, leak 1 - dt/tau < 0.
  const std::string msg = load_error("mlp_lif.nir", 0.03);
  EXPECT_NE(msg.find("mlp_lif.nir: node 'lif1': tau = "), std::string::npos) << msg;
  EXPECT_NE(msg.find("at neuron 0 with dt = 0.03 gives leak 1 - dt/tau = "), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected dt <= tau (leak in [0, 1])"), std::string::npos) << msg;
  EXPECT_NE(load_error("mlp_lif.nir", 0.0).find("time step dt = 0; expected a positive number"), std::string::npos);
  EXPECT_NE(load_error("no_such.nir").find("no_such.nir: cannot open"), std::string::npos);
  EXPECT_NE(load_error("cases.txt").find("cases.txt: not an HDF5 file"), std::string::npos);
}

}  // namespace
}  // namespace nfsim
