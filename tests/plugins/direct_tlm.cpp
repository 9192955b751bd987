// Two TLM-2.0 interconnect modules for the tests, written from docs/chip.md ("TLM-2.0 protocol",
// "Foreign TLM-2.0 modules") alone, without reading nfsim's Interconnect:
// - `test_direct`: every message arrives latency_ns after it is sent (what the built-in bus does
//   without a bandwidth), so a chip with it must give the bus's outputs and latencies;
// - `test_broken`: breaks the protocol in the way `mistake` names (status: answers an error;
//   address: forwards without restoring the address; lost: neither delivers nor marks dropped;
//   no_sockets: gives the chip no sockets), which the chip must refuse with exit code 2.
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>

#include <memory>
#include <string>

#include "sim/interconnect/tlm_interconnect.h"
#include "sim/tlm/protocol.h"
#include "sim/topology/chip_topology.h"

namespace {

namespace tlmx = nfsim::sim::tlmx;

struct Direct : sc_core::sc_module {
  tlm_utils::multi_passthrough_target_socket<Direct> in;
  tlm_utils::multi_passthrough_initiator_socket<Direct> out;
  sc_core::sc_time latency;
  std::string mistake;

  Direct(sc_core::sc_module_name name, double latency_ns, std::string what)
      : sc_core::sc_module(name), in("in"), out("out"), latency(latency_ns, sc_core::SC_NS), mistake(std::move(what)) {
    in.register_b_transport(this, &Direct::b_transport);
  }

  void b_transport(int, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
    const sc_dt::uint64 address = trans.get_address();
    if (mistake == "status") {
      trans.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
      return;
    }
    if (mistake == "lost") {
      trans.set_response_status(tlm::TLM_OK_RESPONSE);
      return;
    }
    delay += latency;
    trans.set_address(tlmx::offset_of(address));
    out[tlmx::target_of(address)]->b_transport(trans, delay);
    if (mistake != "address") trans.set_address(address);
  }
};

std::unique_ptr<nfsim::sim::TlmInterconnect> make(const char* name, double latency_ns, const std::string& mistake) {
  auto m = std::make_unique<Direct>(name, latency_ns, mistake);
  nfsim::sim::TlmInterconnect made;
  if (mistake != "no_sockets") {
    made.in = &m->in;
    made.out = &m->out;
  }
  made.module = std::move(m);
  return std::make_unique<nfsim::sim::TlmInterconnect>(std::move(made));
}

const nfsim::sim::TlmInterconnectRegistrar kDirect{
    {"test_direct",
     "every message arrives latency_ns after it is sent (test module)",
     {{"latency_ns", "double", "ns", "10", "latency of every message"}},
     [](const nfsim::core::Params& p, const nfsim::sim::ChipTopology&, const char* name) {
       return make(name, p.number("latency_ns"), "");
     }}};

const nfsim::sim::TlmInterconnectRegistrar kBroken{
    {"test_broken",
     "breaks the protocol as `mistake` says (test module)",
     {{"mistake", "string", "", "status", "status, address, lost or no_sockets"}},
     [](const nfsim::core::Params& p, const nfsim::sim::ChipTopology&, const char* name) {
       return make(name, 10.0, p.text("mistake"));
     }}};

}  // namespace
