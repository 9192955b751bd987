#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/interconnect/i_interconnect_model.h"

namespace nfsim::sim {

// The network-on-chip as a TLM-2.0 module (docs/chip.md, "TLM-2.0 protocol"): every sender binds
// its initiator socket to `in`, every receiver its target socket to `out` (target id = the order
// of binding). A message's route and latency come from the model (IInterconnectModel), from the
// extension's source to destination core; the interconnect adds the latency to `delay` and
// forwards the payload to its target with the address reduced to its offset. Fault hook: a failed
// router drops every message that crosses it (not forwarded, MessageExtension::delivered =
// false); the receiver keeps zeros for the values it carried. With a model that reroutes
// (fault-tolerant routing), a message takes the model's detour around dead routers and is dropped
// only when route_around() finds none. Counts messages, hops, drops, detours.
// Contention (the model's bandwidth_bytes_per_ns() > 0): a message holds every link of its route
// (the bus: the bus) for bytes / bandwidth ns, starting when all of them are free (wormhole
// switching: the worm occupies its path while it streams); links are granted first come, first
// served in the order messages are sent (the chip sends each phase's messages in order of their
// ready times). The wait is added to the message's latency, and a message arrives no earlier
// than the end of its hold.
class Interconnect : public sc_core::sc_module {
 public:
  tlm_utils::multi_passthrough_target_socket<Interconnect> in;
  tlm_utils::multi_passthrough_initiator_socket<Interconnect> out;

  Interconnect(sc_core::sc_module_name name, const IInterconnectModel& model);

  void fail_router(int router);
  // Fault kind slow_link: the hop from router `from` to its neighbour `to` takes `factor` times
  // the model's hop latency (the message arrives (factor - 1) x hop_latency_ns later per crossing).
  void slow_link(int from, int to, double factor);
  // Fault kinds lossy_router and lossy_link (docs/spiking.md, "Dropped spikes"): router `from`
  // (to = -1), or the link from router `from` to its neighbour `to`, drops each spike of a spike
  // message crossing it (MessageExtension::spikes) with probability q, decided by
  // faults::spike_drop_uniform with unit `unit` of spec `spec` and the keys set by
  // set_spike_draws() and set_step(). The receiver gets the message without the dropped spikes.
  void lose_spikes(int from, int to, std::size_t spec, std::uint64_t unit, double q);
  void set_spike_draws(std::uint64_t seed, std::uint64_t trial, std::uint32_t input) {
    draw_seed_ = seed;
    draw_trial_ = trial;
    draw_input_ = input;
  }
  void set_step(int step) { step_ = step; }
  void clear_faults();
  std::uint64_t hops() const { return hops_; }
  std::uint64_t messages() const { return messages_; }
  // Messages not delivered (dead routers), messages that took a detour, and the routers the
  // detours crossed beyond the fixed routes, since the counters were reset.
  std::uint64_t dropped() const { return dropped_; }
  std::uint64_t rerouted() const { return rerouted_; }
  std::uint64_t detour_hops() const { return detour_hops_; }
  // Time messages waited for links (contention), summed over messages.
  double wait_ns() const { return wait_.to_seconds() * 1e9; }
  // Per link that carried a message since the counters were reset: its name ("router 3 -> router
  // 4", or "bus") and the time it was busy.
  struct LinkBusy {
    std::string name;
    double busy_ns = 0;
  };
  std::vector<LinkBusy> link_busy() const;
  void reset_counters();
  // The counters as numbers, to take one inference's traffic (the difference of two) and add it
  // again for an inference the chip simulated differentially (docs/chip.md, "Differential
  // simulation"): its messages take the reference's routes and times.
  struct Traffic {
    std::uint64_t hops = 0, messages = 0, dropped = 0, rerouted = 0, detour_hops = 0;
    sc_core::sc_time wait;
    std::vector<sc_core::sc_time> link_busy;  // per link, in the order links were first used
    // Spikes: carried on each link (per link, same order; the spikes of a message count on every
    // link up to the unit that drops them), and lost (dropped by lossy units, or with a message a
    // dead router took down).
    std::vector<std::uint64_t> link_spikes;
    std::uint64_t spikes_dropped = 0;
  };
  Traffic traffic() const;
  // The name of each link of Traffic::link_busy, in the same order ("router 3 -> router 4", "bus").
  std::vector<std::string> link_names() const;
  static Traffic difference(const Traffic& after, const Traffic& before);
  void add_traffic(const Traffic& t);
  // VCD tracing (nfsim run --vcd): one boolean per link ("link_3_4"; the bus: "bus") and per
  // router ("router_3"), high while a message crosses it, from its start (after any wait for
  // links) to its arrival. Call during elaboration (before the simulation starts). The changes are
  // scheduled as events at their annotated times, which the chip's thread then passes.
  void trace(sc_core::sc_trace_file* file);
  // Every link free: an inference does not wait for the last one's traffic (trials stay
  // independent; a message's hold ends by its arrival anyway).
  void begin_inference();

 private:
  void b_transport(int initiator, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);

  struct Link {
    int from = 0, to = 0;  // routers; -1, -1: the bus
    sc_core::sc_time free_at, busy;
    std::uint64_t spikes = 0;
  };
  // Drops spikes of a spike message on `route` at the failed lossy units it crosses, in route
  // order (a copy of the payload's values when any is dropped: the sender's buffer stays), and
  // counts the spikes each link carried.
  // `dead_at`: the index on the route of a dead router that takes the message down (the spikes
  // that reach it are lost), route.size() for none.
  void carry_spikes(tlm::tlm_generic_payload& trans, const std::vector<int>& route, std::size_t dead_at);
  static std::uint64_t spike_count(const tlm::tlm_generic_payload& trans);
  struct Lossy {
    int from, to;  // to = -1: a router
    std::size_t spec;
    std::uint64_t unit;
    double q;
  };
  std::vector<Lossy> lossy_;
  std::vector<double> spike_copy_;
  std::uint64_t draw_seed_ = 0, draw_trial_ = 0;
  std::uint32_t draw_input_ = 0;
  int step_ = 0;
  std::uint64_t spikes_dropped_ = 0;
  Link& link(int from, int to);

  const IInterconnectModel& model_;
  double bandwidth_ = 0;
  std::unordered_map<std::uint64_t, std::size_t> link_index_;
  std::vector<Link> links_;
  sc_core::sc_time wait_;
  std::vector<char> dead_;
  bool any_dead_ = false;
  bool reroutes_ = false;
  struct Detour {
    bool routable = false;
    std::vector<int> route;
    std::int64_t extra_hops = 0;
  };
  std::unordered_map<std::uint64_t, Detour> detours_;
  std::unordered_map<std::uint64_t, double> slow_links_;  // by (from router, to router): the factor  // by (src core, dst core), for the current dead set
  std::uint64_t hops_ = 0, messages_ = 0, dropped_ = 0, rerouted_ = 0, detour_hops_ = 0;
  // Traced activity of one link or router: messages in flight, changed at scheduled times.
  struct Activity {
    std::unique_ptr<sc_core::sc_signal<bool>> busy;
    std::unique_ptr<sc_core::sc_event_queue> wake;
    std::multimap<sc_core::sc_time, int> changes;  // absolute time -> +1 / -1
    int in_flight = 0;
  };
  std::vector<std::unique_ptr<Activity>> traced_routers_;
  std::map<std::pair<int, int>, std::unique_ptr<Activity>> traced_links_;  // (-1, -1): the bus
  void note_busy(Activity& a, const sc_core::sc_time& from, const sc_core::sc_time& to);
  void make_activity(std::unique_ptr<Activity>& slot, sc_core::sc_trace_file* file, const std::string& name);
};

}  // namespace nfsim::sim
