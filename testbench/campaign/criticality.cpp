// Per-unit criticality from the b4 single-unit effects, verified by targeted Monte Carlo
// (docs/report.md, "criticality").
#include "testbench/campaign/criticality.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <tuple>

#include "core/error.h"
#include "faults/bound_model.h"
#include "models/bounds/bounds.h"
#include "sim/engine/i_engine.h"

namespace nfsim::tb {
namespace {

using faults::EffectSlot;
using faults::effect_slots;

std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<std::size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double avg = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (std::size_t k = i; k <= j; ++k) r[order[k]] = avg;
    i = j + 1;
  }
  return r;
}

// The fault of one unit as a group of logical neurons and synapses, for a targeted run; none for
// faults that are not crashes (stuck-at, bit flip).
std::optional<faults::FaultGroup> unit_group(const faults::FaultPlan& plan, const models::Network& net, std::size_t s,
                                             std::uint64_t unit) {
  const faults::FaultSpec& spec = plan.specs()[s];
  if (spec.kind == faults::FaultKind::group_crash) return spec.groups.at(unit);
  if (spec.kind != faults::FaultKind::neuron_crash && spec.kind != faults::FaultKind::synapse_crash)
    return std::nullopt;
  int layer = 0;
  std::uint64_t pos = 0;
  plan.locate(s, unit, layer, pos);
  faults::FaultGroup g;
  g.name = "unit";
  if (spec.kind == faults::FaultKind::neuron_crash) {
    g.neurons.push_back({layer, static_cast<int>(pos)});
  } else {
    const models::ILayer& L = net.layer(layer);
    g.synapses.push_back({layer, static_cast<int>(L.synapse_row(pos)), static_cast<int>(L.synapse_col(pos))});
  }
  return g;
}

}  // namespace

CriticalUnit critical_unit(const sim::UnitLocation& loc, std::size_t spec, std::uint64_t unit) {
  CriticalUnit c;
  c.name = loc.name;
  c.kind = loc.kind;
  c.spec = static_cast<int>(spec);
  c.unit = static_cast<long>(unit);
  c.layer = loc.layer;
  c.tile = loc.tile;
  c.core = loc.core;
  c.array = loc.array;
  c.router = loc.router;
  c.row = loc.row;
  c.column = loc.column;
  return c;
}

std::optional<double> spearman(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size() || a.size() < 2) return std::nullopt;
  const std::vector<double> ra = ranks(a), rb = ranks(b);
  const double n = static_cast<double>(a.size());
  const double ma = std::accumulate(ra.begin(), ra.end(), 0.0) / n, mb = std::accumulate(rb.begin(), rb.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < ra.size(); ++i) {
    sab += (ra[i] - ma) * (rb[i] - mb);
    saa += (ra[i] - ma) * (ra[i] - ma);
    sbb += (rb[i] - mb) * (rb[i] - mb);
  }
  if (!(saa > 0 && sbb > 0)) return std::nullopt;
  return sab / std::sqrt(saa * sbb);
}

CriticalityReport analyse_criticality(const CriticalityInputs& in, const CriticalityOptions& options) {
  const models::Network& net = *in.network;
  const faults::FaultPlan& plan = *in.plan;
  const Eigen::MatrixXd& inputs = *in.inputs;
  const Eigen::Index N = inputs.cols();
  const std::vector<EffectSlot> slots = effect_slots(plan, net);
  std::vector<double> sq(slots.size(), 0.0), flipped(slots.size(), 0.0);
  const bool labelled = !in.labels.empty();
  const models::bounds::BoundCalculator calc(net, faults::to_bound_model(plan));
  for (Eigen::Index n = 0; n < N; ++n) {
    const Eigen::VectorXd x = inputs.col(n);
    const Eigen::VectorXd clean = net.forward(x);
    Eigen::Index clean_class = 0;
    clean.maxCoeff(&clean_class);
    const int label = labelled ? in.labels[static_cast<std::size_t>(n)] : -1;
    std::size_t k = 0;
    for (const models::bounds::TermEffects& term : calc.unit_effects(x)) {
      const Eigen::MatrixXd& e = term.effects;
      if (k + static_cast<std::size_t>(e.cols()) > slots.size())
        throw core::InternalError("criticality: more unit effects than units");
      const Eigen::RowVectorXd col_sq = e.colwise().squaredNorm();
      for (Eigen::Index u = 0; u < e.cols(); ++u, ++k) {
        sq[k] += col_sq[u];
        if (!labelled || col_sq[u] == 0.0) continue;
        Eigen::Index faulty_class = 0;  // argmax of clean + e_u, without a temporary
        double best = clean[0] + e(0, u);
        for (Eigen::Index o = 1; o < e.rows(); ++o) {
          if (clean[o] + e(o, u) > best) {
            best = clean[o] + e(o, u);
            faulty_class = o;
          }
        }
        if (clean_class == label && faulty_class != label) flipped[k] += 1;
        if (clean_class != label && faulty_class == label) flipped[k] -= 1;
      }
    }
    if (k != slots.size())
      throw core::InternalError("criticality: " + std::to_string(k) + " unit effects for " +
                                std::to_string(slots.size()) + " units");
  }
  std::vector<double> variance(slots.size());
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const double p = plan.specs()[slots[i].spec].probability;
    variance[i] = N > 0 ? p * (1 - p) * sq[i] / static_cast<double>(N) : 0.0;
  }

  CriticalityReport report;
  report.units = slots.size();
  std::vector<std::size_t> order(slots.size());
  std::iota(order.begin(), order.end(), 0);
  const std::size_t top = std::min(options.top, order.size());
  std::partial_sort(
      order.begin(), order.begin() + static_cast<std::ptrdiff_t>(top), order.end(),
      [&](std::size_t a, std::size_t b) { return variance[a] != variance[b] ? variance[a] > variance[b] : a < b; });
  const sim::UnitLocator locator(plan, net, in.chip);
  for (std::size_t r = 0; r < top; ++r) {
    const std::size_t i = order[r];
    CriticalUnit c = critical_unit(locator.locate(slots[i].spec, slots[i].unit), slots[i].spec, slots[i].unit);
    c.variance = variance[i];
    if (labelled) c.accuracy_drop = plan.specs()[slots[i].spec].probability * flipped[i] / static_cast<double>(N);
    report.top.push_back(std::move(c));
  }

  // Targeted Monte Carlo: each of the first `verify` units failed alone at probability 1.
  const sim::EngineRegistry::Entry& functional = sim::EngineRegistry::instance().get("functional", "criticality");
  std::vector<double> predicted, verified;
  for (std::size_t r = 0; r < std::min(options.verify, report.top.size()); ++r) {
    CriticalUnit& c = report.top[r];
    const auto group = unit_group(plan, net, static_cast<std::size_t>(c.spec), static_cast<std::uint64_t>(c.unit));
    if (!group) continue;
    faults::FaultSpec alone;
    alone.kind = faults::FaultKind::group_crash;
    alone.probability = 1.0;
    alone.groups.push_back(*group);
    const faults::FaultPlan one({alone}, net);
    sim::EngineSetup setup;
    setup.model = &net;
    setup.network = &net;
    setup.inputs = &inputs;
    setup.labels = in.labels;
    setup.plan = &one;
    setup.seed = in.seed;
    setup.block_trials = static_cast<std::uint32_t>(std::min<std::uint64_t>(options.trials, 1u << 20));
    const auto engine = functional.make(setup);
    const Eigen::MatrixXd clean = engine->clean_outputs();
    double sum = 0;
    for (std::uint64_t t = 0; t < options.trials; ++t) sum += (engine->trial_outputs(t) - clean).squaredNorm();
    const double p = plan.specs()[static_cast<std::size_t>(c.spec)].probability;
    c.verified_variance =
        N > 0 ? p * (1 - p) * sum / static_cast<double>(options.trials) / static_cast<double>(N) : 0.0;
    predicted.push_back(c.variance);
    verified.push_back(*c.verified_variance);
  }
  report.spearman_top = spearman(predicted, verified);

  // The heat map: every unit's variance summed on its core.
  if (in.chip) {
    const sim::ChipTopology& topo = in.chip->topology;
    const bool mesh = in.chip->interconnect && in.chip->interconnect->router_count() > 0;
    const int w = mesh ? std::max(1, topo.mesh_width) : std::max(1, topo.cores);
    if (mesh) {
      report.mesh_width = topo.mesh_width;
      report.mesh_height = topo.mesh_height;
    }
    for (int core = 0; core < topo.cores; ++core) report.cores.push_back({core, core % w, core / w, 0.0});
    const sim::Mapping& m = in.chip->mapping;
    std::map<std::tuple<int, int, int>, CriticalUnit> sums;  // (kind 0..3, tile or array, row or column)
    auto add = [&](int kind, int where, int index, double v) {
      CriticalUnit& u = sums[{kind, where, index}];
      if (u.name.empty()) {
        if (kind == 3) {
          const sim::ArrayMap& a = m.arrays[static_cast<std::size_t>(where)];
          u.kind = "neuron_array";
          u.array = where;
          u.layer = a.layer;
          u.core = a.core;
          u.name = "layer " + std::to_string(a.layer) + ", neuron array " + std::to_string(where) + " (core " +
                   std::to_string(a.core) + ")";
        } else {
          const sim::TileMap& t = m.tiles[static_cast<std::size_t>(where)];
          u.tile = where;
          u.layer = t.layer;
          u.core = t.core;
          u.name = "layer " + std::to_string(t.layer) + ", tile " + std::to_string(where) + " (core " +
                   std::to_string(t.core) + ")";
          u.kind = kind == 0 ? "crossbar_tile" : kind == 1 ? "crossbar_row" : "crossbar_column";
          if (kind == 1) {
            u.row = index;
            u.name += ", row " + std::to_string(index);
          } else if (kind == 2) {
            u.column = index;
            u.name += ", column " + std::to_string(index);
          }
        }
      }
      u.variance += v;
    };
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (variance[i] == 0.0) continue;
      const sim::UnitLocation loc = locator.locate(slots[i].spec, slots[i].unit);
      if (loc.core >= 0 && loc.core < topo.cores)
        report.cores[static_cast<std::size_t>(loc.core)].variance += variance[i];
      if (loc.kind == "synapse" && loc.tile >= 0) {
        // A tile's crossbar rows carry the inputs (the matrix's columns), its columns the outputs.
        const sim::TileMap& t = m.tiles[static_cast<std::size_t>(loc.tile)];
        add(0, loc.tile, -1, variance[i]);
        add(1, loc.tile, loc.column - t.row_begin, variance[i]);
        add(2, loc.tile, loc.row - t.col_begin, variance[i]);
      } else if (loc.kind == "neuron" && loc.array >= 0) {
        add(3, loc.array, -1, variance[i]);
      }
    }
    for (auto& [key, u] : sums) report.aggregated.push_back(std::move(u));
    std::stable_sort(report.aggregated.begin(), report.aggregated.end(),
                     [](const CriticalUnit& a, const CriticalUnit& b) { return a.variance > b.variance; });
    if (report.aggregated.size() > options.top) report.aggregated.resize(options.top);
  }
  return report;
}

CriticalityReport point_criticality(const PreparedPoint& point, const CampaignConfig& config) {
  const bool timing = config.deadline_ns || std::any_of(config.faults.begin(), config.faults.end(), [](const faults::FaultSpec& f) {
                        return f.is_timing();
                      });
  if (timing) {
    throw core::InputError(config.file + ": criticality ranks units by b4, which does not model timing faults or deadlines "
                           "(slow_tile, slow_array, slow_link, deadline_ns); expected a campaign without them");
  }
  CriticalityInputs in;
  in.network = &point.network;
  in.plan = point.plan.get();
  in.inputs = &point.data.inputs;
  in.labels = point.data.labels;
  in.chip = point.mapped ? &*point.mapped : nullptr;
  in.seed = config.seed;
  return analyse_criticality(in, config.criticality.value_or(CriticalityOptions{}));
}

}  // namespace nfsim::tb
