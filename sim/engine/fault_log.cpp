#include "sim/engine/fault_log.h"

#include <nlohmann/json.hpp>

#include "core/strings.h"

namespace nfsim::sim {

FaultLogWriter::FaultLogWriter(std::ostream& out, const FaultLogContext& context, const faults::FaultPlan& plan,
                               const models::Network& network, const MappedChip* chip)
    : out_(out), context_(context), plan_(plan), locator_(plan, network, chip) {
  nlohmann::json sweep = nlohmann::json::object();
  for (const auto& [k, v] : context_.sweep) sweep[k] = v;
  prefix_ = "{\"point\": " + std::to_string(context_.point) + ", \"sweep\": " + sweep.dump() + ", ";
}

void FaultLogWriter::add(std::uint64_t trial, std::uint32_t input, std::size_t spec, std::uint64_t unit,
                         std::optional<double> time_ns, std::optional<std::uint32_t> replica) {
  if (full()) {
    ++left_out_;
    return;
  }
  ++logged_;
  const faults::FaultSpec& sp = plan_.specs()[spec];
  const bool permanent = sp.persistence == faults::Persistence::permanent;
  const UnitLocation loc = locator_.locate(spec, unit);
  out_ << prefix_ << "\"trial\": " << trial;
  if (!permanent) out_ << ", \"input\": " << input;
  out_ << ", \"persistence\": \"" << (permanent ? "permanent" : "transient") << "\"";
  if (time_ns) out_ << ", \"time_ns\": " << core::format_double(*time_ns);
  if (replica) out_ << ", \"replica\": " << *replica;
  out_ << ", \"spec\": " << spec << ", \"kind\": \"" << sp.kind_name() << "\", \"unit\": " << unit
       << ", \"name\": " << nlohmann::json(loc.name).dump() << ", \"unit_kind\": \"" << loc.kind << "\"";
  const std::pair<const char*, int> coords[] = {{"layer", loc.layer},   {"tile", loc.tile},     {"core", loc.core},
                                                {"array", loc.array},   {"router", loc.router}, {"row", loc.row},
                                                {"column", loc.column}, {"x", loc.x},           {"y", loc.y}};
  for (const auto& [key, value] : coords) {
    if (value >= 0) out_ << ", \"" << key << "\": " << value;
  }
  out_ << "}\n";
}

void FaultLogWriter::finish() {
  out_ << prefix_ << "\"summary\": true, \"trials\": " << context_.trials_done << ", \"faults_logged\": " << logged_
       << ", \"faults_left_out\": " << left_out_ << ", \"max_lines\": " << context_.max_lines
       << ", \"truncated\": " << (left_out_ > 0 ? "true" : "false") << "}\n";
}

}  // namespace nfsim::sim
