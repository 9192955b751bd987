#pragma once

#include <string>
#include <vector>

namespace nfsim::faults {

// The physical fault kinds: a hardware unit of the chip that fails as a whole, taking down the
// logical neurons and synapses the mapping puts there (sim/topology/physical_units.h lists the
// units of a mapped chip). Names in this order, shared by both engines and the reader.
// slow_tile, slow_array and slow_link are timing faults: the unit works, `factor` times slower
// (its read or update latency; a mesh link's hop latency); they take nothing down, and change
// outputs only through a deadline. lossy_router and lossy_link act on spiking networks only: the
// failed router or directed link drops each spike that crosses it with the spec's
// `drop_probability` (docs/spiking.md, "Dropped spikes").
enum class PhysicalKind {
  crossbar_row,
  crossbar_column,
  crossbar_tile,
  neuron_array,
  router,
  slow_tile,
  slow_array,
  slow_link,
  lossy_router,
  lossy_link
};
// A timing fault kind (slow_*): only an engine with simulated time can honour it.
bool is_timing_kind(PhysicalKind kind);
// A kind that drops spikes (lossy_router, lossy_link).
bool is_spike_loss_kind(PhysicalKind kind);
// A kind whose units are the directed links between routers (slow_link, lossy_link) or the
// routers (router, lossy_router): not per layer.
bool is_link_kind(PhysicalKind kind);
bool is_router_kind(PhysicalKind kind);

const std::vector<std::string>& physical_kind_names();
bool is_physical_kind(const std::string& name);
// Throws InputError naming the text and the physical kinds.
PhysicalKind parse_physical_kind(const std::string& name);

}  // namespace nfsim::faults
