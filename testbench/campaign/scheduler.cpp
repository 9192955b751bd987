#include "testbench/campaign/scheduler.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <limits>
#include <mutex>
#include <thread>
#include <vector>

#ifdef NFSIM_HAVE_MPI
#include <mpi.h>
#endif

#include "core/running_stats.h"

namespace nfsim::tb {

std::atomic<bool> interrupt_requested{false};

namespace {

// Blocks each rank computes per round of an MPI run (a message carries that many blocks).
constexpr std::uint64_t kBlocksPerRankRound = 8;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

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
  // The failure of the lowest block wins (every lower block was taken before it, and is joined
  // below), so the error does not depend on the thread count or timing.
  std::exception_ptr failure;
  std::uint64_t failure_block = end;
  std::mutex failure_mutex;
  auto work = [&]() {
    for (std::uint64_t b = next++; b < end; b = next++) {
      try {
        out[static_cast<std::size_t>(b - begin)] = run_block(b);
      } catch (...) {
        const std::lock_guard<std::mutex> lock(failure_mutex);
        if (!failure || b < failure_block) {
          failure = std::current_exception();
          failure_block = b;
        }
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

}  // namespace

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

unsigned effective_threads(unsigned asked) {
  if (asked > 0) return asked;
  if (mpi_size() > 1) return 1;
  return std::max(1u, std::thread::hardware_concurrency());
}

int mpi_rank() { return mpi_world().first; }
int mpi_size() { return mpi_world().second; }

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

}  // namespace nfsim::tb
