#pragma once

// A foreign interconnect: a plain TLM-2.0 module, built outside nfsim (a plug-in), that the chip
// binds in place of its own Interconnect (docs/chip.md, "Foreign TLM-2.0 modules"). Selected by
// `tlm_interconnect: {type: NAME, ...}` in a topology file, instead of `interconnect:`.
//
// The module is any sc_core::sc_module; nfsim needs no base class of it, only its two sockets:
// - `in`: a target socket that accepts any number of bindings (tlm_utils'
//   multi_passthrough_target_socket is one). The host, every tile and every array bind their
//   initiator sockets to it.
// - `out`: an initiator socket that binds any number of targets (tlm_utils'
//   multi_passthrough_initiator_socket): every tile, then every array, then the host, in that
//   order, so a target's index on `out` is its target id.
// What travels on them is the chip's protocol (sim/tlm/protocol.h): the module forwards each
// write to `out[target_of(address)]` with the address reduced to its offset, restores the
// address afterwards, adds its latency to `delay`, and may drop a message (not forwarded,
// MessageExtension::delivered = false, TLM_OK_RESPONSE). The chip checks every transaction it
// sends through a foreign module against that and refuses the module (exit code 2) when it does
// not follow it.

#include <systemc>
#include <tlm>

#include <memory>
#include <string>

#include "core/registry.h"

namespace nfsim::sim {

struct ChipTopology;

using TlmTargetSocket = tlm::tlm_target_socket<32, tlm::tlm_base_protocol_types, 0>;
using TlmInitiatorSocket = tlm::tlm_initiator_socket<32, tlm::tlm_base_protocol_types, 0>;

// What a registered factory returns: the module (owned by the chip from then on) and pointers to
// its two sockets.
struct TlmInterconnect {
  // Names this registry in messages and provenance.
  static constexpr const char* kRegistryKind = "tlm_interconnect";
  std::unique_ptr<sc_core::sc_module> module;
  TlmTargetSocket* in = nullptr;
  TlmInitiatorSocket* out = nullptr;
};

// Factory arguments: the section's parameters, the chip's topology (cores and their mesh
// layout: core c sits at (c % mesh_width, c / mesh_width)) and the module's instance name.
using TlmInterconnectRegistry = core::Registry<TlmInterconnect, const ChipTopology&, const char*>;
using TlmInterconnectRegistrar = core::Registrar<TlmInterconnect, const ChipTopology&, const char*>;

}  // namespace nfsim::sim
