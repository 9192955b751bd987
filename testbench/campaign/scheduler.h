#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "core/error.h"
#include "sim/functional/error_stats.h"
#include "testbench/campaign/campaign_config.h"

namespace nfsim::tb {

// Set by SIGINT/SIGTERM (apps/ installs the handler): the run finishes the current block (or
// round of blocks), writes the report with complete: false and a checkpoint, and stops. Under
// MPI, a signal that finds rank 0 waiting for another rank's blocks ends the run at once with a
// checkpoint of the rounds merged before (PeerFailure): mpirun kills what is left a second later.
extern std::atomic<bool> interrupt_requested;
// The signal that set it (SIGINT, SIGTERM), 0 before any: for the messages.
extern std::atomic<int> interrupt_signal;

// An MPI rank stopped answering: it died, hung (no blocks within the peer timeout), MPI reported
// an error about it, or the run was interrupted while rank 0 waited for its blocks (mpirun sends
// SIGTERM to every rank when one dies). Thrown on rank 0 once the blocks merged before the round
// are saved (SaveFn with `now`); the run is resumable (exit 4).
class PeerFailure : public core::Error {
 public:
  PeerFailure(const std::string& what, std::uint64_t blocks_done) : core::Error(what), blocks_done_(blocks_done) {}
  std::uint64_t blocks_done() const { return blocks_done_; }

 private:
  std::uint64_t blocks_done_;
};

// Rank 0 of an MPI run keeps a checkpoint of the blocks merged so far: called after every merged
// round with `now` false (the callee writes one when it is due) and with `now` true before a
// PeerFailure is thrown.
using SaveFn = std::function<void(std::uint64_t blocks_done, const sim::ErrorStats& acc, bool now)>;

// The environment that tunes MPI runs, checked before a run starts (InputError naming the
// variable and value): NFSIM_MPI_PEER_TIMEOUT (seconds rank 0 waits for a rank's blocks of a
// round; default max(60 s, 20 x the slowest round so far)), NFSIM_MPI_CHECKPOINT_SECONDS (seconds
// between rank 0's checkpoints of an MPI run; default 60, 0 = after every round).
struct MpiEnvironment {
  double peer_timeout_s = 0;  // 0: the default rule
  double checkpoint_seconds = 60;
};
MpiEnvironment mpi_environment();

// MPI: rank and size of MPI_COMM_WORLD, (0, 1) when MPI is not initialised (started without
// mpirun; apps/ initialises it under mpirun).
int mpi_rank();
int mpi_size();
// Whether MPI is initialised (nfsim runs under mpirun), even with one rank.
bool mpi_initialized();

// Threads per process for engines that run blocks in parallel: as asked, or every core with one
// process and one per rank under mpirun (the ranks already fill the cores).
unsigned effective_threads(unsigned asked);

// The statistics of one block of trials, from whichever engine the point uses.
using BlockFn = std::function<sim::ErrorStats(std::uint64_t block)>;

// Merges blocks [start, nblocks) into `acc` in block order, dealing them out to the MPI ranks in
// rounds and to `threads` threads within a rank; stops early on the stopping rule or an
// interruption (checked after each merged block on rank 0 and broadcast after each round), with
// `reason` set to "trials", "target", "max_trials" or "interrupted". Which rank or thread
// computes a block never changes its numbers. Returns the number of blocks merged in total.
// MPI: rank 0 calls `save` after each merged round; a rank that stops answering ends the run
// with PeerFailure (see there). `processes`: the `threads` workers are processes forked for each
// round (engines with EngineCapabilities::process_workers: the chip engine), not threads.
std::uint64_t run_blocks(const BlockFn& run_block, std::uint64_t start, std::uint64_t nblocks, std::uint64_t block_trials,
                         std::uint64_t total_trials, const CampaignConfig& config, sim::ErrorStats& acc, std::string& reason,
                         const std::function<void(std::uint64_t)>& progress, unsigned threads, const SaveFn& save = {},
                         bool processes = false);

// The largest relative half-width of the std's interval over inputs and outputs with a nonzero
// std (the stopping rule): of the point's estimator (ErrorStats::estimate), or with `plain` of the
// plain estimator on the same trials.
double worst_relative_half_width(const sim::ErrorStats& stats, double z, bool plain = false);

}  // namespace nfsim::tb
