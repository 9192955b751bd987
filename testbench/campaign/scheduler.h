#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "sim/functional/error_stats.h"
#include "testbench/campaign/campaign_config.h"

namespace nfsim::tb {

// Set by SIGINT/SIGTERM (apps/ installs the handler): the run finishes the current block (or
// round of blocks), writes the report with complete: false and a checkpoint, and stops.
extern std::atomic<bool> interrupt_requested;

// MPI: rank and size of MPI_COMM_WORLD, (0, 1) when MPI is not initialised (started without
// mpirun; apps/ initialises it under mpirun).
int mpi_rank();
int mpi_size();

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
std::uint64_t run_blocks(const BlockFn& run_block, std::uint64_t start, std::uint64_t nblocks, std::uint64_t block_trials,
                         std::uint64_t total_trials, const CampaignConfig& config, sim::ErrorStats& acc, std::string& reason,
                         const std::function<void(std::uint64_t)>& progress, unsigned threads);

// The largest relative half-width of the std's interval over inputs and outputs (stopping rule).
double worst_relative_half_width(const sim::ErrorStats& stats, double z);

}  // namespace nfsim::tb
