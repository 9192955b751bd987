#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "faults/fault_plan.h"
#include "models/network.h"
#include "sim/topology/unit_location.h"

namespace nfsim::sim {

struct MappedChip;

// What a fault log of one campaign point is written with (docs/report.md, "faults.jsonl").
struct FaultLogContext {
  std::size_t max_lines = 10000;                           // fault lines at most (the campaign's fault_log.max_lines)
  std::uint64_t trials_done = 0;                           // trials the point ran
  std::size_t point = 0;                                   // sweep point index
  std::vector<std::pair<std::string, std::string>> sweep;  // its sweep values (key -> value as written)
};

// Writes the JSON lines of one point's fault log: one line per fault event (a transient fault
// once per inference it acts on, a permanent one once per trial), each with the point, the
// trial, the input (transient only), the spec, the unit index and its name with coordinates
// (UnitLocator); after `max_lines` events it only counts, and finish() writes the summary line
// with the number of events left out.
class FaultLogWriter {
 public:
  FaultLogWriter(std::ostream& out, const FaultLogContext& context, const faults::FaultPlan& plan,
                 const models::Network& network, const MappedChip* chip);
  // One fault event; `input` is ignored for permanent specs; `time_ns`: simulated time since the
  // start of that inference (chip engine); `replica`: which copy of the network (with `replicas:`).
  void add(std::uint64_t trial, std::uint32_t input, std::size_t spec, std::uint64_t unit,
           std::optional<double> time_ns = {}, std::optional<std::uint32_t> replica = {});
  // Counts `n` more events beyond the cap without writing them.
  void add_left_out(std::uint64_t n) { left_out_ += n; }
  bool full() const { return logged_ >= context_.max_lines; }
  // The summary line: {"point", "sweep", "summary": true, "faults_logged", "faults_left_out", "max_lines",
  // "truncated"}.
  void finish();

 private:
  std::ostream& out_;
  FaultLogContext context_;
  const faults::FaultPlan& plan_;
  UnitLocator locator_;
  std::string prefix_;  // "{\"point\": 0, \"sweep\": {...}, "
  std::uint64_t logged_ = 0, left_out_ = 0;
};

}  // namespace nfsim::sim
