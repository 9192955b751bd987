#include "testbench/campaign/runner.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <exception>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#ifdef NFSIM_HAVE_MPI
#include <mpi.h>
#endif

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/plugin.h"
#include "core/input_file.h"
#include "core/running_stats.h"
#include "core/strings.h"
#include "faults/bound_model.h"
#include "faults/fault_sampler.h"
#include "models/onnx_io.h"
#include "models/random_network.h"
#include "sim/chip/chip_engine.h"
#include "sim/functional/functional_engine.h"
#include "sim/topology/components.h"
#include "sim/topology/mapping.h"
#include "testbench/report/html_report.h"

namespace nfsim::tb {

std::atomic<bool> interrupt_requested{false};

namespace {

constexpr const char* kVersion = "0.1.0";
// Blocks each rank computes per round of an MPI run (a message carries that many blocks).
constexpr std::uint64_t kBlocksPerRankRound = 8;

// Threads per process for the functional engine: as asked, or every core with one process and
// one per rank under mpirun (the ranks already fill the cores).
unsigned effective_threads(unsigned asked) {
  if (asked > 0) return asked;
  if (mpi_size() > 1) return 1;
  return std::max(1u, std::thread::hardware_concurrency());
}

long peak_rss_kb() {
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

nlohmann::json interval(const Eigen::VectorXd& center, const Eigen::VectorXd& hw) {
  return {{"lo", to_json(center - hw)}, {"hi", to_json(center + hw)}};
}

// The largest relative half-width of the std's interval over inputs and outputs (stopping rule).
double worst_relative_half_width(const sim::ErrorStats& stats, double z) {
  double worst = 0;
  bool any = false;
  for (Eigen::Index n = 0; n < stats.inputs(); ++n) {
    for (Eigen::Index k = 0; k < stats.outputs(); ++k) {
      const auto& d = stats.delta(n, k);
      if (d.std() <= 0) continue;
      any = true;
      worst = std::max(worst, d.std_half_width(z) / d.std());
    }
  }
  return any ? worst : std::numeric_limits<double>::infinity();
}

// A campaign point made concrete: network (as the chip stores it), inputs, plan.
struct PreparedPoint {
  models::Network model, network;
  models::Dataset data;
  std::optional<sim::MappedChip> mapped;
  std::unique_ptr<faults::FaultPlan> plan;
  nlohmann::json chip;
  double fault_free_accuracy = -1;
};

PreparedPoint prepare(const CampaignConfig& config) {
  PreparedPoint p;
  p.model = load_campaign_model(config.model);
  p.data = models::load_inputs(config.inputs, p.model.input_size(), p.model.output_size());
  std::vector<faults::FaultSpec> specs = config.faults;
  if (config.chip) {
    p.mapped = sim::map_network(p.model, *config.chip);
    if (p.mapped->noisy_reads && config.engine != "chip") {
      throw core::InputError(p.mapped->topology.file + ": crossbar type '" + p.mapped->topology.crossbar.type +
                             "' adds read noise, which only the chip engine models; expected engine: chip");
    }
    p.network = sim::programmed_network(p.model, *p.mapped);
    specs = sim::expand_physical_faults(config.faults, *p.mapped);
    const Eigen::MatrixXd diff = p.network.forward_batch(p.data.inputs) - p.model.forward_batch(p.data.inputs);
    p.chip = {{"name", p.mapped->topology.name},
              {"file", p.mapped->topology.file},
              {"cores", p.mapped->topology.cores},
              {"cores_used", p.mapped->mapping.cores_used},
              {"tiles", p.mapped->mapping.tiles.size()},
              {"neuron_arrays", p.mapped->mapping.arrays.size()},
              {"crossbar", p.mapped->topology.crossbar.type},
              {"interconnect", p.mapped->interconnect->describe()},
              {"programming_max_abs_output_error", diff.size() ? diff.cwiseAbs().maxCoeff() : 0.0}};
    p.chip["components"] = sim::component_provenance(*p.mapped);  // types, parameters, describe(), library
  } else {
    p.network = p.model;
  }
  p.plan = std::make_unique<faults::FaultPlan>(specs, p.network);
  if (!p.data.labels.empty()) {
    const Eigen::MatrixXd out = p.network.forward_batch(p.data.inputs);
    Eigen::Index correct = 0;
    for (Eigen::Index c = 0; c < out.cols(); ++c) {
      Eigen::Index best = 0;
      out.col(c).maxCoeff(&best);
      correct += best == p.data.labels[static_cast<std::size_t>(c)];
    }
    p.fault_free_accuracy = static_cast<double>(correct) / static_cast<double>(out.cols());
  }
  return p;
}

// The chip engine elaborates once per process; later sweep points reuse it with a new plan,
// which needs the same model, chip and inputs.
struct ChipSession {
  std::string key;
  models::Network model;
  Eigen::MatrixXd inputs;
  sim::MappedChip mapped;
  std::unique_ptr<sim::ChipEngine> engine;
};
std::unique_ptr<ChipSession>& chip_session() {
  static std::unique_ptr<ChipSession> session;
  return session;
}

sim::ChipEngine& chip_engine_for(const CampaignConfig& config, PreparedPoint& p, const RunOptions& options) {
  auto& session = chip_session();
  const std::string key = config.model.describe() + "|" + config.chip->file + "|" + p.data.source + "|" +
                          std::to_string(p.data.count());
  if (session) {
    if (session->key != key) {
      throw core::InputError("a chip-engine campaign can sweep fault and trial keys only: the chip is elaborated once per "
                             "process (SystemC), so the model, chip and inputs must stay; got a point with " + key +
                             " after " + session->key + " (run one campaign per chip instead)");
    }
    session->engine->set_plan(*p.plan, config.seed);
    return *session->engine;
  }
  session = std::make_unique<ChipSession>();
  session->key = key;
  session->model = p.model;
  session->inputs = p.data.inputs;
  session->mapped = std::move(*p.mapped);
  p.mapped.reset();
  sim::ChipEngineOptions copt;
  copt.seed = config.seed;
  copt.block_trials = config.block_trials;
  copt.fault_log_limit = options.fault_log_path.empty() ? 0 : options.fault_log_limit;
  copt.vcd_path = options.vcd_path;
  session->engine = std::make_unique<sim::ChipEngine>(session->model, session->inputs, session->mapped, *p.plan, copt, p.data.labels);
  return *session->engine;
}

// Runs one block on whichever engine the point uses.
using BlockFn = std::function<sim::ErrorStats(std::uint64_t block)>;

// What a resumed point must have in common with the interrupted one, as a 64-bit FNV-1a hash:
// the fault-free outputs of its network on its inputs (so the model and the inputs), its fault
// plan, seed and block size. A checkpoint from another campaign, or one whose model or inputs
// changed since, would merge statistics of two different experiments.
// Computed only when a checkpoint is written or resumed (it costs a forward pass of every input).
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
  for (const auto& f : faults) {
    const std::string d = f.describe();
    add(d.data(), d.size());
  }
  add(&config.seed, sizeof config.seed);
  add(&config.block_trials, sizeof config.block_trials);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

struct Checkpoint {
  std::string signature;  // point_signature of the interrupted point
  std::size_t point = 0;
  std::uint64_t blocks_done = 0;
  nlohmann::json completed_points = nlohmann::json::array();
  std::optional<sim::ErrorStats> stats;
};

void write_checkpoint(const RunOptions& o, std::size_t point, std::uint64_t blocks_done, const nlohmann::json& completed,
                      const sim::ErrorStats& stats, const std::string& signature) {
  const nlohmann::json meta{{"nfsim_version", kVersion},
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
                            {"completed_points", completed}};
  const std::string bytes = stats.serialize();
  core::write_file_atomically(o.out_dir + "/checkpoint.stats", [&](std::ostream& out) { out.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
  const std::string text = meta.dump(1) + "\n";
  core::write_file_atomically(o.out_dir + "/checkpoint.json", [&](std::ostream& out) { out << text; });
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
  const std::string where = dir + "/checkpoint.json";
  try {
    for (const char* key : {"point", "blocks_done"}) {
      if (!meta.at(key).is_number_unsigned()) {
        throw core::InputError(where + ": field '" + key + "' is " + meta.at(key).dump() + "; expected a non-negative integer");
      }
    }
    c.point = meta.at("point").get<std::size_t>();
    c.blocks_done = meta.at("blocks_done").get<std::uint64_t>();
    c.completed_points = meta.at("completed_points");
    c.signature = meta.at("signature").get<std::string>();
  } catch (const core::InputError&) {
    throw;
  } catch (const std::exception& e) {
    throw core::InputError(where + ": missing or malformed field (" + std::string(e.what()) + ")");
  }
  // The points finished before the interruption, as the report will list them.
  bool points_ok = c.completed_points.is_array() && c.completed_points.size() == c.point;
  for (std::size_t i = 0; points_ok && i < c.completed_points.size(); ++i) {
    const nlohmann::json& q = c.completed_points[i];
    points_ok = q.is_object() && q.contains("timing") && q["timing"].is_object() && q.contains("requirements") &&
                q["requirements"].is_array();
    for (std::size_t k = 0; points_ok && k < q["requirements"].size(); ++k) {
      points_ok = q["requirements"][k].is_object() && q["requirements"][k].contains("met") && q["requirements"][k]["met"].is_boolean();
    }
  }
  if (!points_ok) {
    throw core::InputError(where + ": field 'completed_points' is not the list of " + std::to_string(c.point) +
                           " finished points that nfsim run writes; expected an unmodified checkpoint");
  }
  if (!std::filesystem::exists(dir + "/checkpoint.stats")) throw core::InputError(dir + ": no checkpoint.stats beside checkpoint.json");
  const std::string stats_bytes = core::read_input_file(dir + "/checkpoint.stats", "statistics written by nfsim run",
                                                        std::uintmax_t{16} << 30);
  try {
    c.stats = sim::ErrorStats::deserialize(stats_bytes);
  } catch (const core::InputError& e) {
    throw core::InputError(dir + "/checkpoint.stats: " + e.what());
  }
  return c;
}

}  // namespace

namespace {

// (rank, size) of MPI_COMM_WORLD; (0, 1) when MPI is not initialised (started without mpirun).
std::pair<int, int> mpi_world() {
#ifdef NFSIM_HAVE_MPI
  int init = 0;
  MPI_Initialized(&init);
  if (init) {
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    return {rank, size};
  }
#endif
  return {0, 1};
}

}  // namespace

int mpi_rank() { return mpi_world().first; }
int mpi_size() { return mpi_world().second; }

models::Network load_campaign_model(const ModelSource& source) {
  if (source.generate) return models::make_random_network(*source.generate);
  return models::load_onnx(source.path);
}

models::bounds::BoundSet select_bounds(const models::bounds::BoundSet& all, const std::vector<std::string>& families) {
  models::bounds::BoundSet out;
  for (const auto& [name, value] : all) {
    for (const auto& f : families) {
      const bool match = name == f || (f == "b1" && name.rfind("b1_", 0) == 0) || (f == "sum_norms" && name.rfind("sum_norms_", 0) == 0);
      if (match) out[name] = value;
    }
  }
  return out;
}

namespace {

// Merges blocks [start, nblocks) into `acc` in block order, dealing them out to the MPI ranks in
// rounds; stops early on the stopping rule or an interruption (checked after each merged block
// on rank 0 and broadcast after each round). Returns the number of blocks merged in total.
#ifdef NFSIM_HAVE_MPI
// Waits for a non-blocking collective: polls at full speed for a moment (a large message moves
// in fragments, each needing a poll), then sleeps between polls. Blocking MPI calls busy-poll for
// as long as they wait, and on machines whose cores share an execution unit (SMT siblings,
// vCPUs) a rank waiting for a slower one would slow it down further.
void wait_without_spinning(MPI_Request& request) {
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    int done = 0;
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done) return;
    if (std::chrono::steady_clock::now() - start > std::chrono::milliseconds(2)) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
}
#endif

// Blocks [begin, end) on `threads` threads (each takes the next block not yet taken); the
// results come back in block order whatever thread computed them.
std::vector<sim::ErrorStats> compute_blocks(const BlockFn& run_block, std::uint64_t begin, std::uint64_t end, unsigned threads) {
  std::vector<sim::ErrorStats> out(static_cast<std::size_t>(end > begin ? end - begin : 0));
  if (threads <= 1 || out.size() <= 1) {
    for (std::uint64_t b = begin; b < end; ++b) out[static_cast<std::size_t>(b - begin)] = run_block(b);
    return out;
  }
  std::atomic<std::uint64_t> next{begin};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto work = [&]() {
    for (std::uint64_t b = next++; b < end; b = next++) {
      try {
        out[static_cast<std::size_t>(b - begin)] = run_block(b);
      } catch (...) {
        const std::lock_guard<std::mutex> lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        next = end;
      }
    }
  };
  std::vector<std::thread> pool;
  const unsigned n = static_cast<unsigned>(std::min<std::size_t>(threads, out.size()));
  for (unsigned i = 1; i < n; ++i) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
  return out;
}

std::uint64_t run_blocks(const BlockFn& run_block, std::uint64_t start, std::uint64_t nblocks, std::uint64_t block_trials,
                         std::uint64_t total_trials, const CampaignConfig& config, sim::ErrorStats& acc, std::string& reason,
                         const std::function<void(std::uint64_t)>& progress, unsigned threads) {
  const int rank = mpi_rank(), size = mpi_size();
  const double z = core::normal_quantile_two_sided(config.confidence);
  // One block per round when alone; otherwise enough blocks to keep every rank and thread busy
  // (the stopping rule still looks after every block, in block order: extra blocks computed in
  // the round it stops in are dropped, so the result does not depend on ranks or threads).
  const std::uint64_t per_rank = size > 1 || threads > 1 ? kBlocksPerRankRound * threads : 1;
  const std::uint64_t per_round = per_rank * static_cast<std::uint64_t>(size);
  // Blocks of each rank per round: equal at first, then in proportion to each rank's measured
  // speed (cores are not all equally fast, and a static split waits for the slowest). Which
  // rank computes a block never changes its numbers; rank 0 merges them in block order.
  std::vector<std::uint64_t> share(static_cast<std::size_t>(size), per_rank);
  std::vector<double> speed(static_cast<std::size_t>(size), 0.0);  // blocks per second, smoothed
  std::uint64_t done = start;
  reason = config.stopping.automatic ? "max_trials" : "trials";
  auto trials_after = [&](std::uint64_t blocks) { return std::min(total_trials, blocks * block_trials); };
  std::string payload, all;  // MPI message buffers, reused
  while (done < nblocks) {
    const std::uint64_t round_begin = done;
    const std::uint64_t round_end = std::min(nblocks, round_begin + per_round);
    // This rank's blocks of the round.
    std::uint64_t my_begin = round_begin;
    for (int r = 0; r < rank; ++r) my_begin += share[static_cast<std::size_t>(r)];
    my_begin = std::min(my_begin, round_end);
    const std::uint64_t my_end = std::min(round_end, my_begin + share[static_cast<std::size_t>(rank)]);
    const auto compute_start = std::chrono::steady_clock::now();
    std::vector<sim::ErrorStats> mine = compute_blocks(run_block, my_begin, my_end, threads);
    const double compute_seconds = seconds_since(compute_start);
    std::vector<sim::ErrorStats> ordered;
#ifdef NFSIM_HAVE_MPI
    if (size > 1) {
      payload.clear();  // buffers kept across rounds: no large allocation (and page faults) per round
      for (const auto& s : mine) {
        const std::size_t at = payload.size();
        std::uint64_t len = 0;
        payload.append(reinterpret_cast<const char*>(&len), sizeof len);
        s.serialize_to(payload);
        len = payload.size() - at - sizeof len;
        std::memcpy(&payload[at], &len, sizeof len);
      }
      int my_len = static_cast<int>(payload.size());
      std::vector<int> lens(static_cast<std::size_t>(size)), offsets(static_cast<std::size_t>(size));
      MPI_Request request;
      MPI_Igather(&my_len, 1, MPI_INT, lens.data(), 1, MPI_INT, 0, MPI_COMM_WORLD, &request);
      wait_without_spinning(request);
      // Each rank's speed this round, for the next round's shares.
      const double my_speed = my_end > my_begin && compute_seconds > 0 ? static_cast<double>(my_end - my_begin) / compute_seconds : 0.0;
      std::vector<double> speeds(static_cast<std::size_t>(size), 0.0);
      MPI_Igather(&my_speed, 1, MPI_DOUBLE, speeds.data(), 1, MPI_DOUBLE, 0, MPI_COMM_WORLD, &request);
      wait_without_spinning(request);
      if (rank == 0) {
        for (std::size_t r = 0; r < speeds.size(); ++r) {
          if (speeds[r] > 0) speed[r] = speed[r] > 0 ? 0.5 * speed[r] + 0.5 * speeds[r] : speeds[r];
        }
      }
      if (rank == 0) {
        int total = 0;
        for (int r = 0; r < size; ++r) {
          offsets[static_cast<std::size_t>(r)] = total;
          total += lens[static_cast<std::size_t>(r)];
        }
        all.resize(static_cast<std::size_t>(total));
      }
      MPI_Igatherv(payload.data(), my_len, MPI_BYTE, all.data(), lens.data(), offsets.data(), MPI_BYTE, 0, MPI_COMM_WORLD,
                   &request);
      wait_without_spinning(request);
      if (rank == 0) {
        std::size_t pos = 0;
        while (pos < all.size()) {  // ranks in order, each rank's blocks in order: block order
          std::uint64_t len = 0;
          std::memcpy(&len, all.data() + pos, sizeof len);
          pos += sizeof len;
          ordered.push_back(sim::ErrorStats::deserialize(all.data() + pos, static_cast<std::size_t>(len)));
          pos += static_cast<std::size_t>(len);
        }
      }
    } else {
      ordered = std::move(mine);
    }
#else
    ordered = std::move(mine);
#endif
    int stop = 0;
    if (rank == 0) {
      for (const auto& block : ordered) {
        acc.merge(block);
        ++done;
        if (config.stopping.automatic && trials_after(done) >= config.stopping.min_trials &&
            worst_relative_half_width(acc, z) <= config.stopping.rel_half_width) {
          reason = "target";
          stop = 1;
          break;
        }
      }
      if (!stop && interrupt_requested.load()) {
        reason = "interrupted";
        stop = 1;
      }
      if (progress) progress(trials_after(done));
    } else {
      done = round_end;
    }
#ifdef NFSIM_HAVE_MPI
    if (size > 1) {
      // Rank 0 tells the others: stop?, blocks merged, and each rank's share of the next round.
      std::vector<std::uint64_t> msg(2 + static_cast<std::size_t>(size));
      if (rank == 0) {
        msg[0] = static_cast<std::uint64_t>(stop);
        msg[1] = done;
        double total_speed = 0;
        for (double v : speed) total_speed += v;
        std::uint64_t given = 0;
        for (int r = 0; r < size; ++r) {
          const std::size_t i = static_cast<std::size_t>(r);
          std::uint64_t n = per_rank;
          if (total_speed > 0 && speed[i] > 0) {
            n = static_cast<std::uint64_t>(std::llround(static_cast<double>(per_round) * speed[i] / total_speed));
          }
          n = std::max<std::uint64_t>(1, n);
          if (r == size - 1) n = per_round > given ? std::max<std::uint64_t>(1, per_round - given) : 1;
          msg[2 + i] = n;
          given += n;
        }
      }
      MPI_Request request;
      MPI_Ibcast(msg.data(), static_cast<int>(msg.size()), MPI_UINT64_T, 0, MPI_COMM_WORLD, &request);
      wait_without_spinning(request);
      stop = static_cast<int>(msg[0]);
      done = msg[1];
      for (std::size_t i = 0; i < share.size(); ++i) share[i] = msg[2 + i];
    }
#endif
    if (stop) break;
  }
  return done;
}

void finish_point(CampaignResult& r, PreparedPoint& p) {
  const auto t0 = std::chrono::steady_clock::now();
  const double z = core::normal_quantile_two_sided(r.config.confidence);
  r.measured.clear();
  for (Eigen::Index n = 0; n < r.data.count(); ++n) r.measured.push_back(measure(r.stats, n, z));
  const models::bounds::BoundCalculator calc(r.network, faults::to_bound_model(*p.plan));
  r.bounds.clear();
  for (Eigen::Index n = 0; n < r.data.count(); ++n) r.bounds.push_back(select_bounds(calc.compute(r.data.inputs.col(n), r.config.bounds), r.config.bounds));
  r.profile = models::bounds::network_profile(r.network, r.data.inputs);
  // Per-term contributions to the predicted variance (b4), over the first inputs.
  const models::bounds::FaultModel all = faults::to_bound_model(*p.plan);
  const Eigen::Index sample = std::min<Eigen::Index>(r.data.count(), 20);
  auto contribution = [&](const models::bounds::FaultModel& one, const std::string& label) {
    const models::bounds::BoundCalculator c(r.network, one);
    double v = 0;
    for (Eigen::Index n = 0; n < sample; ++n) v += c.compute(r.data.inputs.col(n), {"b4"}).at("b4").std.squaredNorm();
    r.variance_by_term.emplace_back(label, v / static_cast<double>(std::max<Eigen::Index>(1, sample)));
  };
  r.variance_by_term.clear();
  for (const auto& t : all.neurons) {
    models::bounds::FaultModel one;
    one.neurons.push_back(t);
    contribution(one, std::string(t.crash ? "neuron_crash" : "neuron_stuck_at") + " layer " + std::to_string(t.layer));
  }
  for (const auto& t : all.synapses) {
    models::bounds::FaultModel one;
    one.synapses.push_back(t);
    contribution(one, t.kind + " layer " + std::to_string(t.layer));
  }
  if (!all.groups.empty()) {
    models::bounds::FaultModel groups;
    groups.groups = all.groups;
    contribution(groups, "groups (" + std::to_string(all.groups.size()) + ")");
  }
  r.seconds_bounds = seconds_since(t0);
}

// A checkpoint's statistics fit the point they resume: same experiment (signature), same shape,
// and as many trials as the blocks it claims.
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
    throw core::InputError(dir + "/checkpoint.stats: statistics of " + std::to_string(stats.inputs()) + " inputs x " +
                           std::to_string(stats.outputs()) + " outputs; expected " + std::to_string(r.data.count()) + " x " +
                           std::to_string(r.network.output_size()) + " for this campaign");
  }
  const std::uint64_t blocks = (config.trials + config.block_trials - 1) / config.block_trials;
  const std::uint64_t claimed = start_block >= blocks ? config.trials : start_block * config.block_trials;
  if (start_block > blocks || stats.trials() != claimed) {
    throw core::InputError(dir + "/checkpoint.json: blocks_done " + std::to_string(start_block) + " (" + std::to_string(claimed) +
                           " trials) does not match checkpoint.stats (" + std::to_string(stats.trials()) +
                           " trials); expected the two files of one interrupted run");
  }
}

// `resume`: the checkpoint of an interrupted run of this point (its statistics are moved from), or null.
CampaignResult run_point(const CampaignConfig& config, const RunOptions& options, Checkpoint* resume, std::size_t point_index,
                         std::size_t point_count, std::uint64_t& blocks_done) {
  PreparedPoint p = prepare(config);
  CampaignResult r;
  r.config = config;
  r.network = p.network;
  r.data = p.data;
  r.faults = p.plan->specs();
  r.fault_free_accuracy = p.fault_free_accuracy;
  r.chip = p.chip;
  for (const auto& s : r.faults) {
    if (s.onset_ns > 0 && config.engine != "chip") throw core::InputError("onset_ns needs engine: chip");
  }
  const std::uint64_t total = config.trials;
  const std::uint64_t nblocks = (total + config.block_trials - 1) / config.block_trials;
  BlockFn run_block;
  std::unique_ptr<sim::FunctionalEngine> functional;
  sim::ChipEngine* chip = nullptr;
  if (config.engine == "chip") {
    chip = &chip_engine_for(config, p, options);
    run_block = [&](std::uint64_t b) { return chip->run_block(b, total); };
  } else {
    sim::FunctionalOptions fopt;
    fopt.seed = config.seed;
    fopt.block_trials = config.block_trials;
    fopt.batch_trials = config.batch_trials;
    functional = std::make_unique<sim::FunctionalEngine>(r.network, r.data.inputs, *p.plan, fopt, r.data.labels);
    run_block = [&](std::uint64_t b) { return functional->run_block(b, total); };
  }
  // --trial-outputs keeps N x inputs x outputs values in memory and in one CSV: bounded here,
  // before the trials run, rather than after minutes of work.
  constexpr double kMaxTrialOutputValues = 5e7;  // about 400 MB of doubles
  const double trial_values = static_cast<double>(options.trial_outputs) * static_cast<double>(r.data.count()) *
                              static_cast<double>(r.network.output_size());
  if (trial_values > kMaxTrialOutputValues) {
    throw core::InputError("--trial-outputs " + std::to_string(options.trial_outputs) + ": " + core::format_double(trial_values) +
                           " values for " + std::to_string(r.data.count()) + " inputs x " + std::to_string(r.network.output_size()) +
                           " outputs; expected at most 5e7 (fewer trials or inputs)");
  }
  const std::uint64_t start_block = resume ? resume->blocks_done : 0;
  if (resume) check_resumed(*resume, r, config, options.out_dir);
  sim::ErrorStats acc = resume ? std::move(*resume->stats) : sim::ErrorStats(r.data.count(), r.network.output_size());
  const auto t0 = std::chrono::steady_clock::now();
  auto progress = [&](std::uint64_t trials) {
    if (options.progress) options.progress(point_index, point_count, trials, total);
  };
  r.threads = chip ? 1 : effective_threads(options.threads);
  blocks_done = run_blocks(run_block, start_block, nblocks, config.block_trials, total, config, acc, r.stop_reason, progress,
                           r.threads);
  r.seconds_monte_carlo = seconds_since(t0);  // the trials only (not the logs below)
  if (!chip && mpi_rank() == 0 && !options.fault_log_path.empty()) {
    // The functional engine's faults are a pure function of (seed, trial, input, spec, unit):
    // redraw those of the first trials for the log (the chip engine logs what it applied).
    std::ostringstream log;
    const faults::FaultSampler sampler(*p.plan, r.network, config.seed);
    std::vector<std::uint64_t> units;
    std::size_t lines = 0;
    for (std::uint64_t t = 0; t < acc.trials() && lines < options.fault_log_limit; ++t) {
      for (Eigen::Index n = 0; n < r.data.count() && lines < options.fault_log_limit; ++n) {
        for (std::size_t s = 0; s < p.plan->size(); ++s) {
          const auto& spec = p.plan->specs()[s];
          const bool permanent = spec.persistence == faults::Persistence::permanent;
          sampler.draw_units(s, t, permanent ? faults::FaultSampler::kPermanentSlot : static_cast<std::uint32_t>(n), units);
          for (std::uint64_t u : units) {
            log << "{\"trial\": " << t << ", \"input\": " << n << ", \"spec\": " << s << ", \"kind\": \""
                << (spec.physical_kind.empty() ? faults::to_string(spec.kind) : spec.physical_kind) << "\", \"unit\": " << u << "}\n";
            ++lines;
          }
        }
      }
    }
    if (lines >= options.fault_log_limit) log << "{\"truncated\": true, \"faults_logged\": " << lines << "}\n";
    const std::string text = log.str();
    core::write_file_atomically(options.fault_log_path, [&](std::ostream& o) { o << text; });
  }
  if (options.trial_outputs > 0 && mpi_rank() == 0 && !options.out_dir.empty()) {
    // The faulty outputs of the first trials, one row per (trial, input): for comparing engines.
    std::ostringstream csv;
    csv << "trial,input";
    for (Eigen::Index k = 0; k < r.network.output_size(); ++k) csv << ",out" << k;
    csv << '\n';
    char buf[32];
    for (std::uint64_t t = 0; t < options.trial_outputs; ++t) {
      const Eigen::MatrixXd out = chip ? chip->trial_outputs(t) : functional->trial_outputs(t);
      for (Eigen::Index n = 0; n < out.cols(); ++n) {
        csv << t << ',' << n;
        for (Eigen::Index k = 0; k < out.rows(); ++k) {
          std::snprintf(buf, sizeof buf, "%.17g", out(k, n));
          csv << ',' << buf;
        }
        csv << '\n';
      }
    }
    const std::string text = csv.str();
    core::write_file_atomically(options.out_dir + "/trial_outputs_" + std::to_string(point_index) + ".csv",
                                [&](std::ostream& o) { o << text; });
  }
  r.stats = std::move(acc);
  r.trials_done = r.stats.trials();
  if (chip && mpi_rank() == 0) {
    const auto& lat = chip->latency_ns();
    const auto& noc = chip->chip().interconnect();
    r.chip["inference_latency_ns"] = {{"mean", lat.mean()}, {"min", lat.min()}, {"max", lat.max()}};
    r.chip["messages_per_inference"] = chip->chip().inferences() ? noc.messages() / chip->chip().inferences() : 0;
    r.chip["router_hops_per_inference"] = chip->chip().inferences() ? static_cast<double>(noc.hops()) / static_cast<double>(chip->chip().inferences()) : 0.0;
    if (!options.fault_log_path.empty()) {
      core::write_file_atomically(options.fault_log_path, [&](std::ostream& o) { chip->controller().write_log(o); });
    }
  }
  if (mpi_rank() == 0) finish_point(r, p);
  return r;
}

}  // namespace

PreparedCampaign prepare_campaign(const CampaignConfig& config) {
  PreparedPoint p = prepare(config);
  return {p.network, p.data, p.plan->specs()};
}

CampaignResult run_campaign(const CampaignConfig& config, const RunOptions& options) {
  std::uint64_t blocks = 0;
  return run_point(config, options, nullptr, 0, 1, blocks);
}

nlohmann::json faults_to_json(const std::vector<faults::FaultSpec>& specs) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& s : specs) {
    nlohmann::json f{{"kind", s.physical_kind.empty() ? faults::to_string(s.kind) : s.physical_kind},
                     {"probability", s.probability},
                     {"persistence", faults::to_string(s.persistence)}};
    if (!s.physical_kind.empty()) {
      f["units"] = s.groups.size();
      if (!s.layers.empty()) f["layers"] = s.layers;
    } else if (s.kind == faults::FaultKind::group_crash) {
      nlohmann::json groups = nlohmann::json::array();
      for (const auto& g : s.groups) groups.push_back({{"name", g.name}, {"neurons", g.neurons.size()}, {"synapses", g.synapses.size()}});
      f["groups"] = groups;
    } else {
      f["layers"] = s.layers;
    }
    if (s.kind == faults::FaultKind::neuron_stuck_at || s.kind == faults::FaultKind::synapse_stuck_at) f["value"] = s.value;
    if (s.kind == faults::FaultKind::weight_bit_flip) {
      f["bit"] = s.bit;
      f["format"] = {{"total_bits", s.format.total_bits}, {"frac_bits", s.format.frac_bits}};
    }
    if (s.onset_ns > 0) f["onset_ns"] = s.onset_ns;
    a.push_back(f);
  }
  return a;
}

nlohmann::json profile_to_json(const models::bounds::NetworkProfile& p) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : p.layers) {
    nlohmann::json j{{"layer", l.layer}, {"mean_jacobian_fro", l.mean_jacobian_fro}, {"b3_variance_per_p", to_json(l.b3_variance_per_p)}};
    if (l.layer > 0) {
      j["norm_1"] = l.norm_1;
      j["norm_2"] = l.norm_2;
      j["norm_inf"] = l.norm_inf;
      j["norm_fro"] = l.norm_fro;
      j["lipschitz"] = l.lipschitz;
    }
    layers.push_back(j);
  }
  return {{"layers", layers}, {"lipschitz_product", p.lipschitz_product}};
}

nlohmann::json make_point_json(const CampaignResult& r) {
  const double z95 = core::normal_quantile_two_sided(0.95);
  nlohmann::json inputs = nlohmann::json::array();
  for (Eigen::Index n = 0; n < r.data.count(); ++n) {
    const Measured& m = r.measured[static_cast<std::size_t>(n)];
    const Measured m95 = r.config.confidence == 0.95 ? m : measure(r.stats, n, z95);
    nlohmann::json measured{{"mean", to_json(m.mean)},
                            {"std", to_json(m.std)},
                            {"mean_abs", to_json(m.mean_abs)},
                            {"max_abs", to_json(m.max_abs)},
                            {"ci95", {{"mean", interval(m95.mean, m95.mean_hw)},
                                      {"std", interval(m95.std, m95.std_hw)},
                                      {"mean_abs", interval(m95.mean_abs, m95.mean_abs_hw)}}},
                            {"trials", m.trials}};
    nlohmann::json bounds = nlohmann::json::object();
    for (const auto& [name, b] : r.bounds[static_cast<std::size_t>(n)]) {
      nlohmann::json v{{"mean", to_json(b.mean)}};
      if (b.std.size()) v["std"] = to_json(b.std);
      bounds[name] = v;
    }
    nlohmann::json entry{{"index", n}, {"measured", measured}, {"bounds", bounds},
                         {"verdicts", judge(m, r.bounds[static_cast<std::size_t>(n)])}};
    if (!r.data.labels.empty()) entry["label"] = r.data.labels[static_cast<std::size_t>(n)];
    inputs.push_back(entry);
  }
  nlohmann::json sweep = nlohmann::json::object();
  for (const auto& [k, v] : r.config.sweep_point) sweep[k] = v;
  nlohmann::json terms = nlohmann::json::array();
  for (const auto& [label, v] : r.variance_by_term) terms.push_back({{"term", label}, {"predicted_variance", v}});
  nlohmann::json point{{"sweep", sweep},
                       {"faults", faults_to_json(r.faults)},
                       {"trials", r.trials_done},
                       {"stopping", {{"rule", r.config.stopping.automatic ? "auto" : "fixed"},
                                     {"reached", r.stop_reason},
                                     {"target_rel_half_width", r.config.stopping.automatic ? nlohmann::json(r.config.stopping.rel_half_width) : nlohmann::json(nullptr)},
                                     {"max_trials", r.config.trials}}},
                       {"inputs", inputs},
                       {"summary", summarize(r.measured, r.bounds)},
                       {"variance_by_term", terms},
                       {"histogram_samples", {{"input", 0}, {"output", 0}, {"delta", r.stats.samples()}}}};
  if (r.fault_free_accuracy >= 0) {
    point["fault_free_accuracy"] = r.fault_free_accuracy;
    const auto& a = r.stats.accuracy();
    const double hw = a.mean_half_width(core::normal_quantile_two_sided(0.95));
    point["accuracy"] = {{"fault_free", r.fault_free_accuracy},
                         {"faulty_mean", a.mean()},
                         {"faulty_ci95", {{"lo", number_or_null(a.mean() - hw)}, {"hi", number_or_null(a.mean() + hw)}}},
                         {"drop", r.fault_free_accuracy - a.mean()}};
  }
  if (!r.chip.is_null()) point["chip"] = r.chip;
  point["requirements"] = check_requirements(r.config.require, point);
  point["timing"] = {{"monte_carlo_s", r.seconds_monte_carlo}, {"bounds_s", r.seconds_bounds}, {"threads", r.threads}};
  return point;
}

nlohmann::json check_requirements(const std::vector<Requirement>& require, const nlohmann::json& point) {
  nlohmann::json out = nlohmann::json::array();
  const nlohmann::json& summary = point["summary"];
  for (const Requirement& q : require) {
    nlohmann::json v = nullptr;
    bool met = false;
    std::string note;
    if (!summary.contains(q.bound)) {
      note = "bound not computed (is it in bounds:, and defined for these faults?)";
    } else {
      const nlohmann::json& s = summary[q.bound];
      auto num = [](const nlohmann::json& j) { return j.is_number() ? j.get<double>() : std::numeric_limits<double>::quiet_NaN(); };
      if (q.condition == "holds") {
        v = s.contains("fraction_holding") ? s["fraction_holding"] : nlohmann::json(nullptr);
        met = v.is_number() && v.get<double>() >= 1.0;
        if (!s.contains("fraction_holding")) note = "not a magnitude bound";
      } else if (q.condition == "max_median_rel_err") {
        v = s["mean"]["median_rel_err"];
        met = num(v) <= q.threshold;
      } else if (q.condition == "min_pearson") {
        v = s["mean"]["pearson"];
        met = num(v) >= q.threshold;
      } else if (q.condition == "max_rank_loss") {
        v = s["mean"]["rank_loss"];
        met = num(v) <= q.threshold;
      } else if (q.condition == "min_inside_ci") {
        // Fraction of (input, output) whose predicted mean lies inside the measured interval.
        std::size_t inside = 0, total = 0;
        for (const auto& in : point["inputs"]) {
          if (!in["verdicts"].contains(q.bound)) continue;
          for (const auto& b : in["verdicts"][q.bound]["mean_inside_ci"]) {
            ++total;
            inside += b.get<bool>();
          }
        }
        v = total ? static_cast<double>(inside) / static_cast<double>(total) : 0.0;
        met = total && v.get<double>() >= q.threshold;
      }
    }
    nlohmann::json e{{"requirement", q.describe()}, {"value", v}, {"met", met}};
    if (!note.empty()) e["note"] = note;
    out.push_back(e);
  }
  return out;
}

CampaignOutcome run_campaign_points(const std::vector<CampaignConfig>& points, const RunOptions& options) {
  CampaignOutcome outcome;
  outcome.is_root = mpi_rank() == 0;
  Checkpoint cp;
  if (options.resume) cp = read_checkpoint(options.out_dir);
  if (cp.point > points.size()) throw core::InputError(options.out_dir + "/checkpoint.json: point index beyond the campaign");
  nlohmann::json point_jsons = cp.completed_points;
  for (std::size_t i = cp.point; i < points.size(); ++i) {
    std::uint64_t blocks_done = 0;
    const bool resuming_this = options.resume && i == cp.point;
    CampaignResult r = run_point(points[i], options, resuming_this ? &cp : nullptr, i, points.size(), blocks_done);
    if (!outcome.is_root) continue;
    if (r.stop_reason == "interrupted") {
      outcome.complete = false;
      write_checkpoint(options, i, blocks_done, point_jsons, r.stats, point_signature(r));
      point_jsons.push_back(make_point_json(r));
      outcome.results.push_back(std::move(r));
      break;
    }
    point_jsons.push_back(make_point_json(r));
    outcome.results.push_back(std::move(r));
  }
  if (chip_session()) chip_session()->engine->finish_trace();
  if (!outcome.is_root) return outcome;
  for (const auto& p : point_jsons) {
    for (const auto& q : p["requirements"]) outcome.requirements_met = outcome.requirements_met && q["met"].get<bool>();
  }
  nlohmann::json timing = nlohmann::json::array();
  for (auto& p : point_jsons) {
    timing.push_back(p["timing"]);
    p.erase("timing");
  }
  const CampaignConfig& first = points.front();
  const CampaignResult* any = outcome.results.empty() ? nullptr : &outcome.results.front();
  outcome.report = {
      {"nfsim_version", kVersion},
      {"complete", outcome.complete},
      {"campaign",
       {{"file", first.file},
        {"model", first.model.describe()},
        {"engine", first.engine},
        {"seed", first.seed},
        {"block_trials", first.block_trials},
        {"confidence", first.confidence},
        {"bounds", first.bounds},
        {"points", points.size()}}},
      {"requirements_met", outcome.requirements_met},
      {"points", point_jsons},
      {"timing", {{"points", timing}, {"mpi_ranks", mpi_size()}, {"peak_rss_kb", peak_rss_kb()}}}};
  if (any) {
    outcome.report["campaign"]["inputs"] = any->data.source;
    outcome.report["campaign"]["input_count"] = any->data.count();
    outcome.report["network"] = {{"description", any->network.describe()}, {"layers", any->network.num_layers()},
                                 {"parameters", any->network.parameter_count()}};
    outcome.report["profile"] = profile_to_json(any->profile);
  }
  if (!core::loaded_plugins().empty()) outcome.report["plugins"] = sim::plugin_provenance();  // paths, hashes, types
  if (!options.out_dir.empty()) {
    const std::string json = outcome.report.dump(1) + "\n";
    core::write_file_atomically(options.out_dir + "/report.json", [&](std::ostream& o) { o << json; });
    core::write_file_atomically(options.out_dir + "/summary.csv", [&](std::ostream& o) { write_summary_csv(o, outcome.report); });
    const std::string html = render_html_report(outcome.report);
    core::write_file_atomically(options.out_dir + "/report.html", [&](std::ostream& o) { o << html; });
    if (outcome.complete) {
      std::error_code ec;
      std::filesystem::remove(options.out_dir + "/checkpoint.json", ec);
      std::filesystem::remove(options.out_dir + "/checkpoint.stats", ec);
    }
  }
  return outcome;
}

void write_summary_csv(std::ostream& out, const nlohmann::json& report) {
  std::vector<std::string> names;
  const auto& points = report["points"];
  if (!points.empty() && !points[0]["inputs"].empty()) {
    for (const auto& [name, b] : points[0]["inputs"][0]["bounds"].items()) names.push_back(name);
  }
  out << "point,input,output,trials,mean,std,mean_abs,max_abs,mean_ci95_lo,mean_ci95_hi,std_ci95_lo,std_ci95_hi";
  for (const auto& name : names) {
    out << ',' << name << "_mean";
    if (points[0]["inputs"][0]["bounds"][name].contains("std")) out << ',' << name << "_std";
  }
  out << '\n';
  auto num = [](const nlohmann::json& j) { return j.is_number() ? core::format_double(j.get<double>()) : std::string(); };
  for (std::size_t p = 0; p < points.size(); ++p) {
    for (const auto& in : points[p]["inputs"]) {
      const auto& m = in["measured"];
      for (std::size_t k = 0; k < m["mean"].size(); ++k) {
        out << p << ',' << in["index"].get<long>() << ',' << k << ',' << m["trials"].get<std::uint64_t>();
        for (const auto* v : {&m["mean"][k], &m["std"][k], &m["mean_abs"][k], &m["max_abs"][k], &m["ci95"]["mean"]["lo"][k],
                              &m["ci95"]["mean"]["hi"][k], &m["ci95"]["std"]["lo"][k], &m["ci95"]["std"]["hi"][k]}) {
          out << ',' << num(*v);
        }
        for (const auto& name : names) {
          const auto& b = in["bounds"][name];
          out << ',' << num(b["mean"].size() == 1 ? b["mean"][0] : b["mean"][k]);
          if (b.contains("std")) out << ',' << num(b["std"][k]);
        }
        out << '\n';
      }
    }
  }
}

void print_summary(std::FILE* to, const nlohmann::json& report) {
  auto num = [](const nlohmann::json& j) { return j.is_number() ? j.get<double>() : std::numeric_limits<double>::quiet_NaN(); };
  if (report.contains("network")) {
    std::fprintf(to, "network %s, %ld inputs, engine %s, seed %llu\n", report["network"]["description"].get<std::string>().c_str(),
                 report["campaign"].value("input_count", 0L), report["campaign"]["engine"].get<std::string>().c_str(),
                 static_cast<unsigned long long>(report["campaign"]["seed"].get<std::uint64_t>()));
  }
  const auto& points = report["points"];
  auto sweep_label = [](const nlohmann::json& pt) {
    std::string sweep;
    for (const auto& [k, v] : pt["sweep"].items()) sweep += (sweep.empty() ? "" : ",") + k + "=" + v.get<std::string>();
    return sweep.empty() ? std::string("-") : sweep;
  };
  int width = 5;
  for (const auto& pt : points) width = std::max(width, static_cast<int>(std::min<std::size_t>(80, sweep_label(pt).size())));
  std::fprintf(to, "\n%-5s %-*s %9s %-10s %11s %11s %9s %9s %9s %8s\n", "point", width, "sweep", "trials", "stopped", "mean std",
               "b4 std", "b4 r", "b4 medrel", "accuracy", "require");
  for (std::size_t p = 0; p < points.size(); ++p) {
    const auto& pt = points[p];
    const std::string sweep = sweep_label(pt);
    double mstd = 0, bstd = 0;
    std::size_t count = 0;
    for (const auto& in : pt["inputs"]) {
      for (std::size_t k = 0; k < in["measured"]["std"].size(); ++k) {
        mstd += num(in["measured"]["std"][k]);
        if (in["bounds"].contains("b4")) bstd += num(in["bounds"]["b4"]["std"][k]);
        ++count;
      }
    }
    const bool has_b4 = pt["summary"].contains("b4");
    std::string req = "-";
    if (!pt["requirements"].empty()) {
      bool met = true;
      for (const auto& q : pt["requirements"]) met = met && q["met"].get<bool>();
      req = met ? "met" : "NOT met";
    }
    char acc[32] = "-";
    if (pt.contains("accuracy")) std::snprintf(acc, sizeof acc, "%.4f", num(pt["accuracy"]["faulty_mean"]));
    std::fprintf(to, "%-5zu %-*s %9llu %-10s %11.4e %11.4e %9.4f %9.4f %9s %8s\n", p, width, sweep.c_str(),
                 static_cast<unsigned long long>(pt["trials"].get<std::uint64_t>()), pt["stopping"]["reached"].get<std::string>().c_str(),
                 count ? mstd / static_cast<double>(count) : 0.0, has_b4 && count ? bstd / static_cast<double>(count) : std::numeric_limits<double>::quiet_NaN(),
                 has_b4 ? num(pt["summary"]["b4"]["std"]["pearson"]) : std::numeric_limits<double>::quiet_NaN(),
                 has_b4 ? num(pt["summary"]["b4"]["mean"]["median_rel_err"]) : std::numeric_limits<double>::quiet_NaN(), acc, req.c_str());
  }
  if (!points.empty()) {
    const auto& last = points.back();
    std::fprintf(to, "\nbounds at point %zu (across inputs and outputs):\n%-14s %9s %9s %9s %9s %9s\n", points.size() - 1, "bound",
                 "pearson", "rankloss", "med.rel", "std r", "holds");
    for (const auto& [name, v] : last["summary"].items()) {
      std::fprintf(to, "%-14s %9.4f %9.4f %9.4f %9.4f %9s\n", name.c_str(), num(v["mean"]["pearson"]), num(v["mean"]["rank_loss"]),
                   num(v["mean"]["median_rel_err"]), v.contains("std") ? num(v["std"]["pearson"]) : std::numeric_limits<double>::quiet_NaN(),
                   v.contains("fraction_holding") ? core::format_double(v["fraction_holding"].get<double>()).c_str() : "-");
    }
    for (const auto& q : last["requirements"]) {
      std::fprintf(to, "requirement %-40s %s (value %s)\n", q["requirement"].get<std::string>().c_str(), q["met"].get<bool>() ? "met" : "NOT MET",
                   q["value"].dump().c_str());
    }
  }
  if (!report["complete"].get<bool>()) std::fprintf(to, "\nINTERRUPTED: resume with nfsim run --resume <out dir>\n");
}

}  // namespace nfsim::tb
