#include "sim/interconnect/interconnect.h"

#include <algorithm>

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
  if (added) links_.push_back(Link{from, to, sc_core::SC_ZERO_TIME, sc_core::SC_ZERO_TIME});
  return links_[it->second];
}

std::vector<Interconnect::LinkBusy> Interconnect::link_busy() const {
  std::vector<LinkBusy> out;
  for (const Link& l : links_) {
    if (l.busy == sc_core::SC_ZERO_TIME) continue;
    out.push_back({l.from < 0 ? std::string("bus") : "router " + std::to_string(l.from) + " -> router " + std::to_string(l.to),
                   l.busy.to_seconds() * 1e9});
  }
  return out;
}

void Interconnect::begin_inference() {
  for (Link& l : links_) l.free_at = sc_core::SC_ZERO_TIME;
}

void Interconnect::reset_counters() {
  hops_ = messages_ = dropped_ = rerouted_ = detour_hops_ = 0;
  wait_ = sc_core::SC_ZERO_TIME;
  for (Link& l : links_) l.busy = sc_core::SC_ZERO_TIME;
}

void Interconnect::b_transport(int, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
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
  // (cached until the dead set changes); `routable` false: an end router is dead or no live path.
  bool routable = true;
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
    routable = it->second.routable;
    if (!routable) {
      ++messages_;
      ++dropped_;
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
    const sc_core::sc_time hold(static_cast<double>(trans.get_data_length()) / bandwidth_, sc_core::SC_NS);
    for (const auto& [a, b] : hops) {
      Link& l = link(a, b);
      l.free_at = start + hold;
      l.busy += hold;
    }
    wait_ += start - sent;
    delay += start - sent;
    // It arrives after the model's latency, and not before its last byte has crossed.
    delay += std::max(sc_core::sc_time(model_.latency_ns(route, trans.get_data_length()), sc_core::SC_NS), hold);
  } else {
    delay += sc_core::sc_time(model_.latency_ns(route, trans.get_data_length()), sc_core::SC_NS);
  }
  hops_ += route.size();
  ++messages_;
  if (any_dead_ && !reroutes_) {
    for (int r : route) {
      if (dead_[static_cast<std::size_t>(r)]) {
        ++dropped_;
        ext->delivered = false;
        trans.set_response_status(tlm::TLM_OK_RESPONSE);
        return;
      }
    }
  }
  trans.set_address(tlmx::offset_of(address));
  out[target]->b_transport(trans, delay);
  trans.set_address(address);
}

void Interconnect::fail_router(int router) {
  dead_[static_cast<std::size_t>(router)] = 1;
  any_dead_ = true;
  detours_.clear();
}

void Interconnect::clear_faults() {
  if (any_dead_) std::fill(dead_.begin(), dead_.end(), 0);
  any_dead_ = false;
  detours_.clear();
}

}  // namespace nfsim::sim
