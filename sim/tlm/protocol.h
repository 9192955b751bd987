#pragma once

// The chip's TLM-2.0 protocol (docs/chip.md, "TLM-2.0 protocol"): what a module must do to take
// the place of an nfsim tile, neuron array or interconnect.
//
// Every message of an inference is one tlm::tlm_generic_payload, sent with blocking transport
// (b_transport), loosely timed: `delay` is the message's send time as an offset from the
// sender's current simulated time on the way in, and its arrival time on the way out.
// - command: TLM_WRITE_COMMAND; data_ptr: the values, doubles in host byte order; data_length
//   and streaming_width: 8 x the number of values; no byte enables.
// - address: target id in bits 63..32 (the index of the target on the interconnect's initiator
//   socket), byte offset into the target's buffer in bits 31..0. The interconnect forwards the
//   payload to target `target_of(address)` with the address reduced to its offset, and restores it
//   afterwards (as a TLM-2.0 router does with its address map).
// - MessageExtension (required): the source and destination cores, for the interconnect's route,
//   and what the values are, for the receiver. An interconnect that drops the message (a dead
//   router) does not forward it, sets `delivered = false` and returns TLM_OK_RESPONSE: a posted
//   write that never arrives; the receiver keeps what it had (zeros).
// - Responses: a target answers TLM_OK_RESPONSE; a payload without the extension, or with a
//   command other than write, or out of the target's buffer, gets TLM_GENERIC_ERROR_RESPONSE /
//   TLM_COMMAND_ERROR_RESPONSE / TLM_ADDRESS_ERROR_RESPONSE, which the chip turns into an error
//   naming the module.

#include <tlm>

#include <cstdint>
#include <string>

namespace nfsim::sim::tlmx {

constexpr std::uint64_t address(int target, std::uint64_t byte_offset) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(target)) << 32) | (byte_offset & 0xffffffffULL);
}
constexpr int target_of(std::uint64_t address) { return static_cast<int>(address >> 32); }
constexpr std::uint64_t offset_of(std::uint64_t address) { return address & 0xffffffffULL; }

// What a message carries besides its values.
struct MessageExtension : tlm::tlm_extension<MessageExtension> {
  int src_core = 0, dst_core = 0;  // the interconnect routes from src_core to dst_core
  // The logical indices the message is about (the mapping's Transfer::begin, count): inputs or
  // conv taps (crossbar-matrix columns) to a tile, neurons or channels (rows) from a tile.
  int first = 0, count = 0;
  // A conv partial-sum message holds `positions` values per channel (consecutive positions from
  // the one its address names), channel after channel; every other message 1.
  int positions = 1;
  // The bytes on the wire when they differ from the payload's (0: the data length): spikes go as
  // address events, 4 bytes each plus a 4-byte header, while the payload holds them as dense 0/1
  // values for the receiver (docs/chip.md, "TLM-2.0 protocol"). The built-in interconnect times
  // and counts these; a foreign module may read them or the data length.
  std::size_t wire_bytes = 0;
  // The values are spikes (0 or 1; spiking networks), which the built-in interconnect counts per
  // link and its lossy routers and links may drop (docs/spiking.md, "Dropped spikes"); `transfer`
  // is the message's index among the mapping's transfers when they are the sending neurons'
  // spikes one for one (first + i: the neuron), -1 otherwise (no spike of it is dropped).
  bool spikes = false;
  int transfer = -1;
  bool delivered = true;  // false: an interconnect dropped it
  // Set by the target that accepted the write (tlmx::accept), so that the sender can tell a
  // message that reached a target from one an interconnect neither delivered nor dropped.
  bool received = false;

  tlm::tlm_extension_base* clone() const override { return new MessageExtension(*this); }
  void copy_from(const tlm::tlm_extension_base& other) override {
    *this = static_cast<const MessageExtension&>(other);
  }
};

// Checks a payload against the protocol on the target side: a write with the extension whose
// data fits `capacity_values` doubles from its offset. Sets the response status and returns false
// when it does not; otherwise marks the extension received.
bool accept(tlm::tlm_generic_payload& trans, std::size_t capacity_values);

// The bytes a message occupies on the wire: its extension's wire_bytes, or the data length.
std::size_t wire_bytes(const tlm::tlm_generic_payload& trans);

// The chip's check on a completed transaction: throws core::SimulationError naming the module
// and the status when the response is not TLM_OK_RESPONSE.
void check_response(const tlm::tlm_generic_payload& trans, const std::string& sender);

}  // namespace nfsim::sim::tlmx
