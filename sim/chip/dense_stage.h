#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "models/network.h"

namespace nfsim::sim {

// One dense layer as a TLM-2.0 target (the per-layer granularity of CONTRIBUTING.md pitfall 4):
// a b_transport write carries the input vector (doubles); the stage replaces it in place with
// phi(W x + b) (so the payload must be sized for max(inputs, outputs)) and adds its latency to
// the annotated delay. No process, no events: idle stages cost nothing.
class DenseStage : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<DenseStage> socket;

  DenseStage(sc_core::sc_module_name name, models::DenseLayer layer, sc_core::sc_time latency);

  Eigen::Index inputs() const { return layer_.weights.cols(); }
  Eigen::Index outputs() const { return layer_.weights.rows(); }
  std::uint64_t transactions() const { return transactions_; }

 private:
  void b_transport(tlm::tlm_generic_payload& payload, sc_core::sc_time& delay);

  models::DenseLayer layer_;
  sc_core::sc_time latency_;
  Eigen::VectorXd scratch_;
  std::uint64_t transactions_ = 0;
};

}  // namespace nfsim::sim
