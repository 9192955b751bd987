#include "sim/chip/dense_stage.h"

#include <algorithm>

namespace nfsim::sim {

DenseStage::DenseStage(sc_core::sc_module_name name, models::DenseLayer layer, sc_core::sc_time latency)
    : sc_core::sc_module(name), socket("socket"), layer_(std::move(layer)), latency_(latency) {
  socket.register_b_transport(this, &DenseStage::b_transport);
}

void DenseStage::b_transport(tlm::tlm_generic_payload& payload, sc_core::sc_time& delay) {
  const std::size_t need = static_cast<std::size_t>(std::max(inputs(), outputs())) * sizeof(double);
  if (payload.get_command() != tlm::TLM_WRITE_COMMAND || payload.get_data_length() < need) {
    payload.set_response_status(payload.get_data_length() < need ? tlm::TLM_BURST_ERROR_RESPONSE
                                                                  : tlm::TLM_COMMAND_ERROR_RESPONSE);
    SC_REPORT_ERROR("nfsim/dense_stage", (std::string(name()) + ": payload is not a write of " +
                                          std::to_string(need) + " bytes")
                                             .c_str());
    return;
  }
  Eigen::Map<Eigen::VectorXd> io(reinterpret_cast<double*>(payload.get_data_ptr()), std::max(inputs(), outputs()));
  scratch_.noalias() = layer_.weights * io.head(inputs());
  scratch_ += layer_.bias;
  io.head(outputs()) = layer_.activation.apply(scratch_);
  delay += latency_;
  ++transactions_;
  payload.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace nfsim::sim
