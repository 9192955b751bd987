// SystemC tests: each runs in its own process (gtest_discover_tests), so each may elaborate once.
#include <gtest/gtest.h>

#include <memory>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "models/random_network.h"
#include "sim/chip/dense_stage.h"
#include "sim/kernel/systemc_errors.h"

namespace nfsim::sim {
namespace {

// Sends one vector through a chain of stages with a thread, recording output and arrival time.
struct Driver : sc_core::sc_module {
  std::vector<std::unique_ptr<tlm_utils::simple_initiator_socket<Driver>>> sockets;
  Eigen::VectorXd input, output;
  std::size_t buffer_doubles = 0;
  sc_core::sc_time done_at;
  bool done = false;

  Driver(sc_core::sc_module_name n, std::size_t stages) : sc_core::sc_module(n) {
    for (std::size_t i = 0; i < stages; ++i) {
      sockets.push_back(std::make_unique<tlm_utils::simple_initiator_socket<Driver>>(("out" + std::to_string(i)).c_str()));
    }
    SC_HAS_PROCESS(Driver);
    SC_THREAD(run);
  }

  void run() {
    std::vector<double> buf(buffer_doubles, 0.0);
    std::copy(input.data(), input.data() + input.size(), buf.begin());
    for (auto& s : sockets) {
      tlm::tlm_generic_payload p;
      p.set_command(tlm::TLM_WRITE_COMMAND);
      p.set_data_ptr(reinterpret_cast<unsigned char*>(buf.data()));
      p.set_data_length(static_cast<unsigned>(buf.size() * sizeof(double)));
      sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
      (*s)->b_transport(p, delay);
      if (p.get_response_status() != tlm::TLM_OK_RESPONSE) return;
      wait(delay);  // honour the annotated latency
    }
    output = Eigen::Map<Eigen::VectorXd>(buf.data(), static_cast<Eigen::Index>(output.size()));
    done_at = sc_core::sc_time_stamp();
    done = true;
  }
};

TEST(SystemCHarness, DenseStagesComputeTheNetworkWithTheirLatencies) {
  install_systemc_error_bridge();
  models::RandomNetworkSpec spec{{6, 8, 3}, {models::ActivationKind::sigmoid, 4.0}, {}, 3.0, 0.1, 2};
  const models::Network net = models::make_random_network(spec);
  DenseStage s1("layer1", net.layer(1), sc_core::sc_time(100, sc_core::SC_NS));
  DenseStage s2("layer2", net.layer(2), sc_core::sc_time(40, sc_core::SC_NS));
  Driver driver("driver", 2);
  driver.sockets[0]->bind(s1.socket);
  driver.sockets[1]->bind(s2.socket);
  driver.input = Eigen::VectorXd::LinSpaced(6, -1, 1);
  driver.output.resize(3);
  driver.buffer_doubles = 8;
  run_for(sc_core::sc_time(1, sc_core::SC_US));
  ASSERT_TRUE(driver.done);
  EXPECT_TRUE(driver.output.isApprox(net.forward(driver.input), 1e-14));
  EXPECT_EQ(driver.done_at, sc_core::sc_time(140, sc_core::SC_NS));
  EXPECT_EQ(s1.transactions(), 1u);
  EXPECT_EQ(s2.transactions(), 1u);
}

TEST(SystemCHarness, ModuleErrorsSurfaceAsNfsimErrors) {
  install_systemc_error_bridge();
  models::RandomNetworkSpec spec{{6, 8}, {}, {}, 1.0, 0.0, 2};
  const models::Network net = models::make_random_network(spec);
  DenseStage stage("layer1", net.layer(1), sc_core::SC_ZERO_TIME);
  Driver driver("driver", 1);
  driver.sockets[0]->bind(stage.socket);
  driver.input = Eigen::VectorXd::Zero(2);
  driver.output.resize(8);
  driver.buffer_doubles = 2;  // too small for the stage: it reports an error
  try {
    run_for(sc_core::sc_time(1, sc_core::SC_US));
    FAIL() << "no error";
  } catch (const SimulationError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("nfsim/dense_stage"), std::string::npos) << msg;
    EXPECT_NE(msg.find("layer1"), std::string::npos) << msg;
  }
  EXPECT_FALSE(driver.done);
}

}  // namespace
}  // namespace nfsim::sim
