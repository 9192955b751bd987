#include "testbench/campaign/checkpoint.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/input_file.h"
#include "core/plugin.h"
#include "core/strings.h"
#include "testbench/campaign/scheduler.h"
#include "testbench/report/point_report.h"

namespace nfsim::tb {

std::string point_signature(const CampaignResult& r) {
  const models::Network& network = r.network;
  const models::Dataset& data = r.data;
  const CampaignConfig& config = r.config;
  const std::vector<faults::FaultSpec>& faults = r.faults;
  std::uint64_t h = 1469598103934665603ull;
  auto add = [&h](const void* bytes, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(bytes);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  };
  const Eigen::MatrixXd clean = network.forward_batch(data.inputs);
  const Eigen::Index shape[2] = {clean.rows(), clean.cols()};
  add(shape, sizeof shape);
  add(clean.data(), static_cast<std::size_t>(clean.size()) * sizeof(double));
  // A spiking point's dynamics (nothing added without one: rate checkpoints keep their signatures).
  if (config.spiking) {
    // The dynamics the engine ran (a NIR file's per-neuron thresholds and leaks included).
    const std::string d = r.spiking_signature + "|" + core::format_double(config.spiking->percentile);
    add(d.data(), d.size());
    // The conversion's normalisation (a calibration change), as well as the outputs it gives.
    if (r.spiking) add(r.spiking->lambdas.data(), r.spiking->lambdas.size() * sizeof(double));
  }
  for (const auto& f : faults) {
    const std::string d = f.describe();
    add(d.data(), d.size());
    // Protection changes the draws: a resumed run must have the same (nothing added without it,
    // so checkpoints of unprotected campaigns keep their signatures).
    if (!f.tmr_units.empty()) add(f.tmr_units.data(), f.tmr_units.size() * sizeof(std::uint64_t));
    // A mission draws failure times over its whole length (nothing added without one).
    if (f.lifetime_end_hours > 0) {
      add(&f.lifetime_end_hours, sizeof f.lifetime_end_hours);
      add(&f.lifetime_fit, sizeof f.lifetime_fit);
    }
    if (!f.spare_pool.empty()) {
      add(f.spare_pool.data(), f.spare_pool.size() * sizeof(std::uint32_t));
      add(&f.spares, sizeof f.spares);
    }
  }
  if (config.replicas.count > 1) add(&config.replicas.count, sizeof config.replicas.count);
  add(config.engine.data(), config.engine.size());
  if (r.chip) {  // the components, their parameters and libraries (a neuron model changes nothing above)
    const std::string components = r.chip->components.dump();
    add(components.data(), components.size());
  }
  for (const auto& plugin : core::loaded_plugins()) add(plugin.fnv1a64.data(), plugin.fnv1a64.size());
  add(&config.seed, sizeof config.seed);
  add(&config.block_trials, sizeof config.block_trials);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}


namespace {
constexpr const char* kStatsFiles[] = {"checkpoint.stats", "checkpoint.alt.stats"};
}  // namespace

CheckpointWriter::CheckpointWriter(const RunOptions& o, std::string resumed_stats_file)
    : options_(o), current_stats_file_(std::move(resumed_stats_file)), interval_s_(mpi_environment().checkpoint_seconds),
      last_(std::chrono::steady_clock::now()) {}

bool CheckpointWriter::due(bool now) const {
  return now || std::chrono::duration<double>(std::chrono::steady_clock::now() - last_).count() >= interval_s_;
}

void CheckpointWriter::write(std::size_t point, std::uint64_t blocks_done, const std::vector<PointReport>& finished,
                             const sim::ErrorStats& stats, const std::string& signature) {
  const RunOptions& o = options_;
  // The statistics go to the file the current checkpoint.json does not name.
  const std::string stats_file = current_stats_file_ == kStatsFiles[0] ? kStatsFiles[1] : kStatsFiles[0];
  nlohmann::json completed = nlohmann::json::array();
  for (const auto& p : finished) completed.push_back(point_to_json(p));
  const nlohmann::json meta{{"nfsim_version", kNfsimVersion},
                            {"signature", signature},
                            {"campaign_file", o.campaign_file},
                            {"campaign_file_absolute", o.campaign_file_absolute.empty()
                                                           ? std::filesystem::absolute(o.campaign_file).string()
                                                           : o.campaign_file_absolute},
                            {"overrides", o.overrides},
                            // --plugin libraries, loaded again by --resume (a `plugins:` key comes back with the file).
                            {"plugins", core::command_line_plugin_paths()},
                            {"point", point},
                            {"blocks_done", blocks_done},
                            {"stats_file", stats_file},
                            {"completed_points", completed}};
  const std::string bytes = stats.serialize();
  core::write_file_atomically(o.out_dir + "/" + stats_file, [&](std::ostream& out) { out.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
  const std::string text = meta.dump(1) + "\n";
  core::write_file_atomically(json_path(), [&](std::ostream& out) { out << text; });
  // The other statistics file is no longer named by anything.
  std::error_code ec;
  if (!current_stats_file_.empty() && current_stats_file_ != stats_file) std::filesystem::remove(o.out_dir + "/" + current_stats_file_, ec);
  current_stats_file_ = stats_file;
  last_ = std::chrono::steady_clock::now();
}

void CheckpointWriter::remove_files() const { remove_checkpoint(options_.out_dir); }

void remove_checkpoint(const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove(dir + "/checkpoint.json", ec);
  for (const char* f : kStatsFiles) std::filesystem::remove(dir + "/" + f, ec);
}

Checkpoint read_checkpoint(const std::string& dir) {
  if (!std::filesystem::exists(dir + "/checkpoint.json")) {
    throw core::InputError(dir + ": no checkpoint.json; expected the output directory of an interrupted run");
  }
  const std::string meta_text = core::read_input_file(dir + "/checkpoint.json", "a checkpoint written by nfsim run", core::kMaxTextFileBytes);
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(meta_text);
  } catch (const std::exception& e) {
    throw core::InputError(dir + "/checkpoint.json: not valid JSON (" + std::string(e.what()) + ")");
  }
  Checkpoint c;
  nlohmann::json completed;
  const std::string where = dir + "/checkpoint.json";
  try {
    for (const char* key : {"point", "blocks_done"}) {
      if (!meta.at(key).is_number_unsigned()) {
        throw core::InputError(where + ": field '" + key + "' is " + meta.at(key).dump() + "; expected a non-negative integer");
      }
    }
    c.point = meta.at("point").get<std::size_t>();
    c.blocks_done = meta.at("blocks_done").get<std::uint64_t>();
    completed = meta.at("completed_points");
    c.signature = meta.at("signature").get<std::string>();
    // Checkpoints before the alternating statistics files name none: checkpoint.stats.
    c.stats_file = meta.contains("stats_file") ? meta.at("stats_file").get<std::string>() : kStatsFiles[0];
  } catch (const core::InputError&) {
    throw;
  } catch (const std::exception& e) {
    throw core::InputError(where + ": missing or malformed field (" + std::string(e.what()) + ")");
  }
  // The points finished before the interruption, as the report will list them.
  bool points_ok = completed.is_array() && completed.size() == c.point;
  for (std::size_t i = 0; points_ok && i < completed.size(); ++i) {
    const nlohmann::json& q = completed[i];
    points_ok = q.is_object() && q.contains("timing") && q["timing"].is_object() && q.contains("requirements") &&
                q["requirements"].is_array();
    for (std::size_t k = 0; points_ok && k < q["requirements"].size(); ++k) {
      points_ok = q["requirements"][k].is_object() && q["requirements"][k].contains("met") && q["requirements"][k]["met"].is_boolean();
    }
  }
  try {
    for (std::size_t i = 0; points_ok && i < completed.size(); ++i) c.completed_points.push_back(point_from_json(completed[i]));
  } catch (const core::InputError&) {
    points_ok = false;
  }
  if (!points_ok) {
    throw core::InputError(where + ": field 'completed_points' is not the list of " + std::to_string(c.point) +
                           " finished points that nfsim run writes; expected an unmodified checkpoint");
  }
  if (c.stats_file != kStatsFiles[0] && c.stats_file != kStatsFiles[1]) {
    throw core::InputError(where + ": field 'stats_file' is '" + c.stats_file + "'; expected " + kStatsFiles[0] + " or " +
                           kStatsFiles[1] + " (a file beside it)");
  }
  const std::string stats_path = dir + "/" + c.stats_file;
  if (!std::filesystem::exists(stats_path)) throw core::InputError(dir + ": no " + c.stats_file + " beside checkpoint.json");
  const std::string stats_bytes = core::read_input_file(stats_path, "statistics written by nfsim run", std::uintmax_t{16} << 30);
  try {
    c.stats = sim::ErrorStats::deserialize(stats_bytes);
  } catch (const core::InputError& e) {
    throw core::InputError(stats_path + ": " + e.what());
  }
  return c;
}

void check_resumed(const Checkpoint& cp, const CampaignResult& r, const CampaignConfig& config, const std::string& dir) {
  const sim::ErrorStats& stats = *cp.stats;
  const std::uint64_t start_block = cp.blocks_done;
  const std::string signature = point_signature(r);
  if (cp.signature != signature) {
    throw core::InputError(dir + "/checkpoint.json: signature " + cp.signature + " does not match the campaign's (" +
                           signature + "): its model, inputs, faults, seed or block_trials changed since the run was "
                           "interrupted; expected the campaign as it was (or start a new run)");
  }
  if (stats.inputs() != r.data.count() || stats.outputs() != r.network.output_size()) {
    throw core::InputError(dir + "/" + cp.stats_file + ": statistics of " + std::to_string(stats.inputs()) + " inputs x " +
                           std::to_string(stats.outputs()) + " outputs; expected " + std::to_string(r.data.count()) + " x " +
                           std::to_string(r.network.output_size()) + " for this campaign");
  }
  if (stats.trials() > 0 && stats.control_variate().empty() == config.control_variate()) {
    const auto name = [](bool cv) { return std::string(cv ? "control_variate" : "plain"); };
    throw core::InputError(dir + "/" + cp.stats_file + ": statistics taken with estimator: " + name(!config.control_variate()) +
                           "; the campaign asks for estimator: " + config.estimator +
                           "; expected the estimator as it was (or start a new run)");
  }
  const std::uint64_t blocks = (config.trials + config.block_trials - 1) / config.block_trials;
  const std::uint64_t claimed = start_block >= blocks ? config.trials : start_block * config.block_trials;
  if (start_block > blocks || stats.trials() != claimed) {
    throw core::InputError(dir + "/checkpoint.json: blocks_done " + std::to_string(start_block) + " (" + std::to_string(claimed) +
                           " trials) does not match " + cp.stats_file + " (" + std::to_string(stats.trials()) +
                           " trials); expected the two files of one interrupted run");
  }
}


ResumeSource read_resume_source(const std::string& dir) {
  if (!std::filesystem::exists(dir + "/checkpoint.json")) {
    throw core::InputError(dir + ": no checkpoint.json; expected the output directory of an interrupted run");
  }
  const std::string meta_text = core::read_input_file(dir + "/checkpoint.json", "a checkpoint written by nfsim run", core::kMaxTextFileBytes);
  ResumeSource source;
  std::vector<std::string> plugins;
  try {
    const nlohmann::json meta = nlohmann::json::parse(meta_text);
    // Checkpoints hold binary statistics and report fragments in this version's layout, and the
    // plug-ins they name were built against it: another version's checkpoint is not read.
    const std::string version = meta.contains("nfsim_version") && meta["nfsim_version"].is_string()
                                    ? meta["nfsim_version"].get<std::string>()
                                    : std::string();
    if (version != kNfsimVersion) {
      throw core::InputError(dir + "/checkpoint.json: written by nfsim " + (version.empty() ? "of unknown version (no nfsim_version)" : version) +
                             ", this is nfsim " + kNfsimVersion + "; expected a checkpoint of the same version (resume with nfsim " +
                             (version.empty() ? "that wrote it" : version) + ", or start a new run)");
    }
    source.campaign_file_absolute = meta.at("campaign_file_absolute").get<std::string>();
    source.campaign_file = meta.at("campaign_file").get<std::string>();
    source.overrides = meta.at("overrides").get<std::vector<std::string>>();
    if (meta.contains("plugins")) plugins = meta.at("plugins").get<std::vector<std::string>>();
  } catch (const core::InputError&) {
    throw;
  } catch (const std::exception& e) {
    throw core::InputError(dir + "/checkpoint.json: malformed (" + std::string(e.what()) + ")");
  }
  for (const std::string& lib : plugins) core::load_plugin(lib, "--plugin (from " + dir + "/checkpoint.json)");
  return source;
}

}  // namespace nfsim::tb
