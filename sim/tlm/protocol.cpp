#include "sim/tlm/protocol.h"

#include "sim/kernel/systemc_errors.h"

namespace nfsim::sim::tlmx {

bool accept(tlm::tlm_generic_payload& trans, std::size_t capacity_values) {
  if (trans.get_command() != tlm::TLM_WRITE_COMMAND) {
    trans.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
    return false;
  }
  if (trans.get_extension<MessageExtension>() == nullptr || trans.get_data_ptr() == nullptr ||
      trans.get_data_length() % sizeof(double) != 0 || trans.get_byte_enable_ptr() != nullptr) {
    trans.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
    return false;
  }
  const std::uint64_t offset = offset_of(trans.get_address());
  if (offset % sizeof(double) != 0 || offset + trans.get_data_length() > capacity_values * sizeof(double)) {
    trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return false;
  }
  trans.get_extension<MessageExtension>()->received = true;
  return true;
}

void check_response(const tlm::tlm_generic_payload& trans, const std::string& sender) {
  if (trans.is_response_ok()) return;
  throw SimulationError("chip: a message from " + sender + " to target " + std::to_string(target_of(trans.get_address())) +
                        " (offset " + std::to_string(offset_of(trans.get_address())) + " bytes, " +
                        std::to_string(trans.get_data_length()) + " bytes) was answered " + trans.get_response_string() +
                        "; expected TLM_OK_RESPONSE (docs/chip.md, \"TLM-2.0 protocol\")");
}

std::size_t wire_bytes(const tlm::tlm_generic_payload& trans) {
  const auto* ext = trans.get_extension<MessageExtension>();
  return ext && ext->wire_bytes ? ext->wire_bytes : trans.get_data_length();
}

}  // namespace nfsim::sim::tlmx
