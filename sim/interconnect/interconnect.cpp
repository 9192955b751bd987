// sc_spawn (the traced activity of links and routers) needs SystemC's dynamic processes.
#define SC_INCLUDE_DYNAMIC_PROCESSES

#include "sim/interconnect/interconnect.h"

#include <algorithm>

#include "core/error.h"
#include "faults/fault_sampler.h"
#include "sim/tlm/protocol.h"

namespace nfsim::sim {

Interconnect::Interconnect(sc_core::sc_module_name name, const IInterconnectModel& model)
    : sc_core::sc_module(name),
      in("in"),
      out("out"),
      model_(model),
      bandwidth_(model.bandwidth_bytes_per_ns()),
      dead_(static_cast<std::size_t>(model.router_count()), 0),
      reroutes_(model.reroutes()) {
  in.register_b_transport(this, &Interconnect::b_transport);
}

Interconnect::Link& Interconnect::link(int from, int to) {
  const std::uint64_t key = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(from)) << 32) | static_cast<std::uint32_t>(to);
  const auto [it, added] = link_index_.emplace(key, links_.size());
  if (added) links_.push_back(Link{from, to, sc_core::SC_ZERO_TIME, sc_core::SC_ZERO_TIME, 0});
  return links_[it->second];
}

std::vector<std::string> Interconnect::link_names() const {
  std::vector<std::string> out;
  for (const Link& l : links_) {
    out.push_back(l.from < 0 ? std::string("bus") : "router " + std::to_string(l.from) + " -> router " + std::to_string(l.to));
  }
  return out;
}

std::vector<Interconnect::LinkBusy> Interconnect::link_busy() const {
  std::vector<LinkBusy> out;
  const std::vector<std::string> names = link_names();
  for (std::size_t i = 0; i < links_.size(); ++i) {
    if (links_[i].busy == sc_core::SC_ZERO_TIME) continue;
    out.push_back({names[i], links_[i].busy.to_seconds() * 1e9});
  }
  return out;
}

void Interconnect::make_activity(std::unique_ptr<Activity>& slot, sc_core::sc_trace_file* file, const std::string& name) {
  slot = std::make_unique<Activity>();
  Activity* a = slot.get();
  a->busy = std::make_unique<sc_core::sc_signal<bool>>(("trace_" + name).c_str());
  a->wake = std::make_unique<sc_core::sc_event_queue>(("wake_" + name).c_str());
  sc_core::sc_trace(file, *a->busy, name);
  sc_core::sc_spawn_options options;
  options.spawn_method();
  options.dont_initialize();
  options.set_sensitivity(&a->wake->default_event());
  sc_core::sc_spawn(
      [a] {
        const sc_core::sc_time now = sc_core::sc_time_stamp();
        while (!a->changes.empty() && a->changes.begin()->first <= now) {
          a->in_flight += a->changes.begin()->second;
          a->changes.erase(a->changes.begin());
        }
        a->busy->write(a->in_flight > 0);
      },
      ("activity_" + name).c_str(), &options);
}

void Interconnect::trace(sc_core::sc_trace_file* file) {
  traced_routers_.resize(static_cast<std::size_t>(model_.router_count()));
  for (int r = 0; r < model_.router_count(); ++r) make_activity(traced_routers_[static_cast<std::size_t>(r)], file, "router_" + std::to_string(r));
  const auto links = model_.router_links();
  for (std::size_t r = 0; r < links.size(); ++r) {
    for (int q : links[r]) {
      make_activity(traced_links_[{static_cast<int>(r), q}], file, "link_" + std::to_string(r) + "_" + std::to_string(q));
    }
  }
  if (model_.router_count() == 0) make_activity(traced_links_[{-1, -1}], file, "bus");
}

void Interconnect::note_busy(Activity& a, const sc_core::sc_time& from, const sc_core::sc_time& to) {
  if (!(to > from)) return;
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  a.changes.emplace(from, +1);
  a.changes.emplace(to, -1);
  a.wake->notify(from - now);
  a.wake->notify(to - now);
}

void Interconnect::begin_inference() {
  for (Link& l : links_) l.free_at = sc_core::SC_ZERO_TIME;
}

void Interconnect::reset_counters() {
  hops_ = messages_ = dropped_ = rerouted_ = detour_hops_ = spikes_dropped_ = 0;
  wait_ = sc_core::SC_ZERO_TIME;
  for (Link& l : links_) {
    l.busy = sc_core::SC_ZERO_TIME;
    l.spikes = 0;
  }
}

Interconnect::Traffic Interconnect::traffic() const {
  Traffic t{hops_, messages_, dropped_, rerouted_, detour_hops_, wait_, {}, {}, spikes_dropped_};
  t.link_busy.reserve(links_.size());
  t.link_spikes.reserve(links_.size());
  for (const Link& l : links_) {
    t.link_busy.push_back(l.busy);
    t.link_spikes.push_back(l.spikes);
  }
  return t;
}

Interconnect::Traffic Interconnect::difference(const Traffic& after, const Traffic& before) {
  Traffic d{after.hops - before.hops, after.messages - before.messages, after.dropped - before.dropped,
            after.rerouted - before.rerouted, after.detour_hops - before.detour_hops, after.wait - before.wait, {}, {},
            after.spikes_dropped - before.spikes_dropped};
  d.link_busy = after.link_busy;
  for (std::size_t i = 0; i < before.link_busy.size(); ++i) d.link_busy[i] -= before.link_busy[i];
  d.link_spikes = after.link_spikes;
  for (std::size_t i = 0; i < before.link_spikes.size(); ++i) d.link_spikes[i] -= before.link_spikes[i];
  return d;
}

void Interconnect::add_traffic(const Traffic& t) {
  hops_ += t.hops;
  messages_ += t.messages;
  dropped_ += t.dropped;
  rerouted_ += t.rerouted;
  detour_hops_ += t.detour_hops;
  wait_ += t.wait;
  spikes_dropped_ += t.spikes_dropped;
  if (t.link_busy.size() > links_.size() || t.link_spikes.size() > links_.size()) {
    throw core::InternalError("interconnect: traffic of links it does not have");
  }
  for (std::size_t i = 0; i < t.link_busy.size(); ++i) links_[i].busy += t.link_busy[i];
  for (std::size_t i = 0; i < t.link_spikes.size(); ++i) links_[i].spikes += t.link_spikes[i];
}

void Interconnect::b_transport(int, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  const sc_core::sc_time delay_in = delay;  // the send time, from the sender's current time
  sc_core::sc_time waited = sc_core::SC_ZERO_TIME;  // for links (contention)
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
  // The route: the model's fixed one, or with dead routers and fault-tolerant routing its detour
  // (cached until the dead set changes); not routable: an end router is dead or no live path.
  const std::vector<int>* route_ptr = nullptr;
  std::vector<int> fixed;
  if (any_dead_ && reroutes_) {
    const std::uint64_t key = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(ext->src_core)) << 32) |
                              static_cast<std::uint32_t>(ext->dst_core);
    auto it = detours_.find(key);
    if (it == detours_.end()) {
      Detour d;
      d.routable = model_.route_around(ext->src_core, ext->dst_core, dead_, d.route);
      d.extra_hops = d.routable ? static_cast<std::int64_t>(d.route.size()) -
                                      static_cast<std::int64_t>(model_.route(ext->src_core, ext->dst_core).size())
                                : 0;
      it = detours_.emplace(key, std::move(d)).first;
    }
    if (!it->second.routable) {
      ++messages_;
      ++dropped_;
      if (ext->spikes) spikes_dropped_ += spike_count(trans);  // lost with the message
      ext->delivered = false;
      trans.set_response_status(tlm::TLM_OK_RESPONSE);
      return;
    }
    route_ptr = &it->second.route;
    if (it->second.extra_hops != 0 || it->second.route != model_.route(ext->src_core, ext->dst_core)) {
      ++rerouted_;
      detour_hops_ += static_cast<std::uint64_t>(std::max<std::int64_t>(0, it->second.extra_hops));
    }
  } else {
    fixed = model_.route(ext->src_core, ext->dst_core);
    route_ptr = &fixed;
  }
  const std::vector<int>& route = *route_ptr;
  if (bandwidth_ > 0) {
    // The links of the route (the bus for a routeless interconnect), held together for the
    // message's serialisation time from when the last of them is free.
    std::vector<std::pair<int, int>> hops;
    if (route.empty()) hops.emplace_back(-1, -1);
    for (std::size_t i = 1; i < route.size(); ++i) hops.emplace_back(route[i - 1], route[i]);
    const sc_core::sc_time sent = sc_core::sc_time_stamp() + delay;
    sc_core::sc_time start = sent;
    for (const auto& [a, b] : hops) start = std::max(start, link(a, b).free_at);
    const sc_core::sc_time hold(static_cast<double>(tlmx::wire_bytes(trans)) / bandwidth_, sc_core::SC_NS);
    for (const auto& [a, b] : hops) {
      Link& l = link(a, b);
      l.free_at = start + hold;
      l.busy += hold;
    }
    wait_ += start - sent;
    waited = start - sent;
    delay += start - sent;
    // It arrives after the model's latency, and not before its last byte has crossed.
    delay += std::max(sc_core::sc_time(model_.latency_ns(route, tlmx::wire_bytes(trans)), sc_core::SC_NS), hold);
  } else {
    delay += sc_core::sc_time(model_.latency_ns(route, tlmx::wire_bytes(trans)), sc_core::SC_NS);
  }
  if (!slow_links_.empty()) {
    double extra = 0;
    for (std::size_t i = 1; i < route.size(); ++i) {
      const auto it = slow_links_.find((static_cast<std::uint64_t>(static_cast<std::uint32_t>(route[i - 1])) << 32) |
                                       static_cast<std::uint32_t>(route[i]));
      if (it != slow_links_.end()) extra += (it->second - 1.0) * model_.hop_latency_ns();
    }
    delay += sc_core::sc_time(extra, sc_core::SC_NS);
  }
  if (!traced_routers_.empty() || !traced_links_.empty()) {
    // From the message's start (after its wait for links) to its arrival.
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    const sc_core::sc_time start = now + delay_in + waited;
    const sc_core::sc_time arrival = now + delay;
    for (int r : route) note_busy(*traced_routers_[static_cast<std::size_t>(r)], start, arrival);
    if (route.empty()) {
      if (auto it = traced_links_.find({-1, -1}); it != traced_links_.end()) note_busy(*it->second, start, arrival);
    }
    for (std::size_t i = 1; i < route.size(); ++i) {
      if (auto it = traced_links_.find({route[i - 1], route[i]}); it != traced_links_.end()) note_busy(*it->second, start, arrival);
    }
  }
  hops_ += route.size();
  ++messages_;
  unsigned char* const data = trans.get_data_ptr();
  if (any_dead_ && !reroutes_) {
    for (std::size_t d = 0; d < route.size(); ++d) {
      if (dead_[static_cast<std::size_t>(route[d])]) {
        ++dropped_;
        // Its spikes cross the links up to the dead router (lossy units before it drop theirs),
        // and the rest are lost there.
        if (ext->spikes) carry_spikes(trans, route, d);
        trans.set_data_ptr(data);
        ext->delivered = false;
        trans.set_response_status(tlm::TLM_OK_RESPONSE);
        return;
      }
    }
  }
  if (ext->spikes) carry_spikes(trans, route, route.size());
  trans.set_address(tlmx::offset_of(address));
  out[target]->b_transport(trans, delay);
  trans.set_address(address);
  trans.set_data_ptr(data);
}

std::uint64_t Interconnect::spike_count(const tlm::tlm_generic_payload& trans) {
  const auto n = static_cast<std::size_t>(trans.get_data_length() / sizeof(double));
  const double* values = reinterpret_cast<const double*>(trans.get_data_ptr());
  std::uint64_t spikes = 0;
  for (std::size_t i = 0; i < n; ++i) spikes += values[i] != 0.0;
  return spikes;
}

void Interconnect::carry_spikes(tlm::tlm_generic_payload& trans, const std::vector<int>& route, std::size_t dead_at) {
  const auto* ext = trans.get_extension<tlmx::MessageExtension>();
  const auto n = static_cast<std::size_t>(trans.get_data_length() / sizeof(double));
  const double* values = reinterpret_cast<const double*>(trans.get_data_ptr());
  std::uint64_t spikes = spike_count(trans);
  // The links of the route in order (the bus for a routeless interconnect), each counting the
  // spikes that are left after the units before it and itself dropped theirs.
  auto count_link = [&](int a, int b) { link(a, b).spikes += spikes; };
  if (route.empty()) count_link(-1, -1);
  // Up to the dead router at route[dead_at] (route.size(): none), which loses what reaches it.
  const std::size_t end = std::min(dead_at + 1, route.size());
  double* copy = nullptr;
  // A failed unit drops each spike that reaches it with its q: routers at their place on the
  // route, links between their routers.
  auto lose_at = [&](const Lossy& u) {
    if (ext->transfer < 0) return;
    const double* now = copy ? copy : values;
    for (std::size_t i = 0; i < n; ++i) {
      if (now[i] == 0.0) continue;
      if (faults::spike_drop_uniform(draw_seed_, u.spec, u.unit, draw_trial_, draw_input_, step_, ext->transfer,
                                     ext->first + static_cast<int>(i)) >= u.q) {
        continue;
      }
      if (!copy) {
        spike_copy_.assign(values, values + n);
        copy = spike_copy_.data();
      }
      copy[i] = 0.0;
      --spikes;
      ++spikes_dropped_;
    }
  };
  for (std::size_t i = 0; i < end; ++i) {
    if (i > 0) {
      for (const Lossy& u : lossy_) {
        if (u.to >= 0 && u.from == route[i - 1] && u.to == route[i]) lose_at(u);
      }
      count_link(route[i - 1], route[i]);
    }
    if (i == dead_at) break;  // the dead router: no draws, every spike left is lost
    for (const Lossy& u : lossy_) {
      if (u.to < 0 && u.from == route[i]) lose_at(u);
    }
  }
  if (dead_at < route.size()) spikes_dropped_ += spikes;
  if (copy) trans.set_data_ptr(reinterpret_cast<unsigned char*>(copy));
}

void Interconnect::lose_spikes(int from, int to, std::size_t spec, std::uint64_t unit, double q) {
  lossy_.push_back({from, to, spec, unit, q});
}

void Interconnect::fail_router(int router) {
  dead_[static_cast<std::size_t>(router)] = 1;
  any_dead_ = true;
  detours_.clear();
}

void Interconnect::slow_link(int from, int to, double factor) {
  slow_links_[(static_cast<std::uint64_t>(static_cast<std::uint32_t>(from)) << 32) | static_cast<std::uint32_t>(to)] = factor;
}

void Interconnect::clear_faults() {
  slow_links_.clear();
  lossy_.clear();
  if (any_dead_) std::fill(dead_.begin(), dead_.end(), 0);
  any_dead_ = false;
  detours_.clear();
}

}  // namespace nfsim::sim
