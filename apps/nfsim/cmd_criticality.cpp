// nfsim criticality CAMPAIGN.yaml: the per-unit criticality ranking (docs/report.md, "criticality").
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "apps/nfsim/commands.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "testbench/campaign/campaign_config.h"
#include "testbench/campaign/criticality.h"
#include "testbench/campaign/prepare.h"
#include "testbench/report/criticality_json.h"

namespace po = boost::program_options;

namespace nfsim::app {

int cmd_criticality(const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()                                                         //
      ("campaign", po::value<std::string>()->required(), "campaign YAML file")  //
      ("top", po::value<long long>(),
       "units to list, the most critical first (default: the campaign's criticality.top, else 20)")  //
      ("verify", po::value<long long>(),
       "of those, how many to verify by targeted Monte Carlo, that unit failed alone (default: criticality.verify, "
       "else 5)")                                                                                          //
      ("point", po::value<long long>()->default_value(0), "sweep point to analyse (index)")                //
      ("set", po::value<std::vector<std::string>>()->composing(), "override a campaign key (repeatable)")  //
      ("json", "print the result as JSON (the report's `criticality` key) instead of the table")           //
      ("out", po::value<std::string>(), "also write the JSON to this file")                                //
      ("help,h", "show this help");
  po::positional_options_description pos;
  pos.add("campaign", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(options).positional(pos).run(), vm);
  if (vm.count("help")) {
    std::cout
        << "Usage: nfsim criticality CAMPAIGN.yaml [--top N] [--verify K] [--point I] [--json] [--out FILE]\n\n"
           "Ranks every unit of every fault spec of the campaign (neurons, synapses, crossbar tiles, rows and\n"
           "columns, neuron arrays, routers, groups) by its share of the output error variance, named with its\n"
           "coordinates on the chip (\"layer 2, tile 3 (core 5), column 17\"). The share is predicted from the b4\n"
           "single-unit effects e_u (the exact output change when u alone fails): p (1 - p) |e_u|^2, summed over\n"
           "outputs and averaged over inputs, exact to first order in p (failures of two units together are left\n"
           "out). With labels, also the accuracy drop: p times the net fraction of inputs that failure alone\n"
           "turns from right to wrong. The top K are then verified by targeted Monte Carlo: the functional engine\n"
           "with that unit failed alone (probability 1), and the Spearman rank correlation of predicted and\n"
           "verified is printed. With a chip, the variance summed per core (the report's heat map) is printed\n"
           "too. No Monte-Carlo campaign is run. A `criticality:` key in the campaign puts the same section\n"
           "into report.json (docs/report.md).\n\n"
        << options << "\n";
    return 0;
  }
  po::notify(vm);
  const std::vector<tb::CampaignConfig> points = tb::load_campaign_points(vm["campaign"].as<std::string>(), set_overrides(vm));
  const long long point = vm["point"].as<long long>();
  if (point < 0 || point >= static_cast<long long>(points.size())) {
    throw core::InputError("--point " + std::to_string(point) + ": the campaign has " + std::to_string(points.size()) +
                           " point(s); expected an index in [0, " + std::to_string(points.size() - 1) + "]");
  }
  tb::CampaignConfig config = points[static_cast<std::size_t>(point)];
  if (config.spiking) {
    throw core::InputError(config.file + ": spiking: nfsim criticality ranks units by the rate model's single-fault effects and "
                           "verifies them on the rate engine, which does not run spiking networks; expected a campaign without spiking:");
  }
  tb::CriticalityOptions o = config.criticality.value_or(tb::CriticalityOptions{});
  if (vm.count("top")) {
    const long long n = vm["top"].as<long long>();
    if (n < 1 || n > 100000)
      throw core::InputError("--top " + std::to_string(n) + ": expected an integer in [1, 100000]");
    o.top = static_cast<std::size_t>(n);
    if (!vm.count("verify")) o.verify = std::min(o.verify, o.top);
  }
  if (vm.count("verify")) {
    const long long k = vm["verify"].as<long long>();
    if (k < 0 || k > static_cast<long long>(o.top)) {
      throw core::InputError("--verify " + std::to_string(k) + ": expected an integer in [0, " + std::to_string(o.top) +
                             "] (at most --top)");
    }
    o.verify = static_cast<std::size_t>(k);
  }
  if (vm.count("out")) core::check_output_file(vm["out"].as<std::string>());
  config.criticality = o;
  const tb::PreparedPoint prepared = tb::prepare_point(config);
  const auto t0 = std::chrono::steady_clock::now();
  const tb::CriticalityReport c = tb::point_criticality(prepared, config);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const nlohmann::json j = tb::criticality_to_json(c);
  if (vm.count("out")) {
    const std::string text = j.dump(1) + "\n";
    core::write_file_atomically(vm["out"].as<std::string>(), [&](std::ostream& os) { os << text; });
  }
  if (vm.count("json")) {
    std::cout << j.dump(1) << "\n";
    return 0;
  }
  std::printf("%zu units ranked by predicted variance (first order in p, from b4's single-unit effects); %.3g s\n",
              c.units, seconds);
  std::printf("%4s  %-52s %14s %14s %14s\n", "rank", "unit", "variance", "accuracy drop", "verified");
  for (std::size_t r = 0; r < c.top.size(); ++r) {
    const tb::CriticalUnit& u = c.top[r];
    char acc[32] = "-", ver[32] = "-";
    if (u.accuracy_drop) std::snprintf(acc, sizeof acc, "%.4g", *u.accuracy_drop);
    if (u.verified_variance) std::snprintf(ver, sizeof ver, "%.4g", *u.verified_variance);
    std::printf("%4zu  %-52s %14.4g %14s %14s\n", r + 1, u.name.c_str(), u.variance, acc, ver);
  }
  std::size_t verified = 0;
  for (const tb::CriticalUnit& u : c.top) verified += u.verified_variance.has_value();
  if (c.spearman_top) {
    std::printf("Spearman rank correlation, predicted vs verified (%zu verified units): %.4f\n", verified,
                *c.spearman_top);
  } else if (verified > 0) {
    std::printf("Spearman rank correlation undefined (%zu verified unit(s), or equal values on one side)\n", verified);
  }
  if (!c.aggregated.empty()) {
    std::printf("neuron and synapse shares summed by the physical unit they sit on (each failing alone, not the unit as a whole):\n");
    for (const tb::CriticalUnit& u : c.aggregated) std::printf("      %-52s %14.4g\n", u.name.c_str(), u.variance);
  }
  if (!c.cores.empty()) {
    std::printf("variance per core%s:\n", c.mesh_width ? " (mesh x, y)" : "");
    for (const tb::CoreHeat& h : c.cores) {
      if (h.variance > 0) std::printf("  core %d (x %d, y %d): %.4g\n", h.core, h.x, h.y, h.variance);
    }
  }
  return 0;
}

}  // namespace nfsim::app
