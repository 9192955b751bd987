// A ring interconnect with a token arbiter, as a plain TLM-2.0 module: an sc_module with a
// multi-passthrough target socket `in` and initiator socket `out`, and no nfsim base class. It
// follows the chip's protocol (docs/chip.md, "TLM-2.0 protocol"; sim/tlm/protocol.h) and is
// registered for topology files as `tlm_interconnect: {type: token_ring, ...}`.
//
// The model: one station per core on a one-way ring (core c -> c + 1 -> ... -> c - 1). A message
// between two cores travels (dst - src) mod N hops; one within a core does not use the ring and
// arrives at once. The ring carries one message at a time, and only the station holding the
// token may send. A sender waits until the ring is free (the message ahead has arrived) and for
// the token to come round to it: from the station that sent last while the ring is busy, from
// station 0 (the host's) when it is idle (an idle ring parks its token there, so inferences do
// not depend on one another). Then the message holds the ring for
//   hops * hop_latency_ns + bytes / bytes_per_ns
// and arrives at the end of it. The token moves one station per token_hop_ns.
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>

#include <algorithm>
#include <memory>
#include <string>

#include "sim/interconnect/tlm_interconnect.h"
#include "sim/tlm/protocol.h"
#include "sim/topology/chip_topology.h"

namespace {

namespace tlmx = nfsim::sim::tlmx;

class TokenRing : public sc_core::sc_module {
 public:
  tlm_utils::multi_passthrough_target_socket<TokenRing> in;
  tlm_utils::multi_passthrough_initiator_socket<TokenRing> out;

  TokenRing(sc_core::sc_module_name name, int stations, double hop_ns, double bytes_per_ns, double token_hop_ns)
      : sc_core::sc_module(name),
        in("in"),
        out("out"),
        stations_(stations),
        hop_(hop_ns, sc_core::SC_NS),
        bytes_per_ns_(bytes_per_ns),
        token_hop_(token_hop_ns, sc_core::SC_NS) {
    in.register_b_transport(this, &TokenRing::b_transport);
  }

 private:
  void b_transport(int, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
    auto* ext = trans.get_extension<tlmx::MessageExtension>();
    const sc_dt::uint64 address = trans.get_address();
    const int target = tlmx::target_of(address);
    if (ext == nullptr) {
      trans.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
      return;
    }
    if (target < 0 || static_cast<unsigned>(target) >= out.size()) {
      trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return;
    }
    const int src = ext->src_core % stations_, dst = ext->dst_core % stations_;
    if (src != dst) {
      const sc_core::sc_time sent = sc_core::sc_time_stamp() + delay;
      // The token comes from the last sender while the ring is busy, from station 0 when idle.
      const int token_at = sent < free_at_ ? last_sender_ : 0;
      const sc_core::sc_time start = std::max(sent, free_at_);
      const int token_hops = (src - token_at + stations_) % stations_;
      const int hops = (dst - src + stations_) % stations_;
      const sc_core::sc_time grant = start + static_cast<double>(token_hops) * token_hop_;
      const sc_core::sc_time arrival =
          grant + static_cast<double>(hops) * hop_ +
          sc_core::sc_time(static_cast<double>(trans.get_data_length()) / bytes_per_ns_, sc_core::SC_NS);
      free_at_ = arrival;
      last_sender_ = src;
      delay = arrival - sc_core::sc_time_stamp();
    }
    // Forward with the address reduced to its offset; restore it afterwards (the protocol).
    trans.set_address(tlmx::offset_of(address));
    out[target]->b_transport(trans, delay);
    trans.set_address(address);
  }

  int stations_;
  sc_core::sc_time hop_;
  double bytes_per_ns_;
  sc_core::sc_time token_hop_;
  sc_core::sc_time free_at_ = sc_core::SC_ZERO_TIME;
  int last_sender_ = 0;
};

const nfsim::sim::TlmInterconnectRegistrar kRegistered{
    {"token_ring",
     "one-way ring, one station per core, a token arbiter (example TLM-2.0 module)",
     {{"hop_latency_ns", "double", "ns", "2", "latency per station a message passes"},
      {"bytes_per_ns", "double", "bytes/ns", "16", "bytes the ring carries per ns"},
      {"token_hop_ns", "double", "ns", "1", "time the token takes from one station to the next"}},
     [](const nfsim::core::Params& p, const nfsim::sim::ChipTopology& t, const char* name) {
       const double hop = p.number("hop_latency_ns"), bw = p.number("bytes_per_ns"), token = p.number("token_hop_ns");
       if (!(hop >= 0 && hop <= 1e6)) p.fail("hop_latency_ns", "a number in [0, 1e6]");
       if (!(bw > 0 && bw <= 1e6)) p.fail("bytes_per_ns", "a number in (0, 1e6]");
       if (!(token >= 0 && token <= 1e6)) p.fail("token_hop_ns", "a number in [0, 1e6]");
       auto ring = std::make_unique<TokenRing>(name, t.cores, hop, bw, token);
       nfsim::sim::TlmInterconnect made;
       made.in = &ring->in;
       made.out = &ring->out;
       made.module = std::move(ring);
       return std::make_unique<nfsim::sim::TlmInterconnect>(std::move(made));
     }}};

}  // namespace
