#include "testbench/campaign/scheduler.h"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
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
std::atomic<int> interrupt_signal{0};

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
// Returns MPI's error code (MPI_ERRORS_RETURN is set on MPI_COMM_WORLD by apps/).
int wait_without_spinning(MPI_Request& request) {
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    int done = 0;
    const int rc = MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS || done) return rc;
    if (std::chrono::steady_clock::now() - start > std::chrono::milliseconds(2)) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
}
#endif

// A number of seconds from the environment: `fallback` when unset; InputError when it is not a
// finite number >= `min` (> 0 when `positive`).
double seconds_from_environment(const char* name, double fallback, bool positive) {
  const char* text = std::getenv(name);
  if (!text) return fallback;
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (!*text || *end || !std::isfinite(v) || v < 0 || (positive && v == 0) || v > 1e7) {
    throw core::InputError(std::string("environment variable ") + name + "='" + text + "': expected a number of seconds " +
                           (positive ? "> 0" : ">= 0") + " (at most 1e7)");
  }
  return v;
}

// Test hooks (tests/cli/test_mpi_failure.cpp): NFSIM_TEST_DIE_AFTER_BLOCKS=N kills (SIGKILL) and
// NFSIM_TEST_HANG_AFTER_BLOCKS=N hangs the rank NFSIM_TEST_FAULTY_RANK (default: the last) of an
// MPI run once it has computed N blocks. 0 = off.
struct TestFault {
  std::uint64_t die_after = 0, hang_after = 0;
  int rank = -1;
};

TestFault test_fault_from_environment(int size) {
  TestFault f;
  auto number = [](const char* name) -> std::uint64_t {
    const char* v = std::getenv(name);
    return v ? std::strtoull(v, nullptr, 10) : 0;
  };
  f.die_after = number("NFSIM_TEST_DIE_AFTER_BLOCKS");
  f.hang_after = number("NFSIM_TEST_HANG_AFTER_BLOCKS");
  f.rank = std::getenv("NFSIM_TEST_FAULTY_RANK") ? static_cast<int>(number("NFSIM_TEST_FAULTY_RANK")) : size - 1;
  return f;
}

void apply_test_fault(const TestFault& f, int rank, std::uint64_t computed) {
  if (rank != f.rank) return;
  if (f.die_after > 0 && computed >= f.die_after) std::raise(SIGKILL);
  if (f.hang_after > 0 && computed >= f.hang_after) {
    for (;;) ::sleep(1000);
  }
}

#ifdef NFSIM_HAVE_MPI
constexpr int kTagBlocks = 1;

std::string mpi_error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, text, &len);
  return std::string(text, static_cast<std::size_t>(len));
}

std::string name_ranks(const std::vector<int>& ranks, int size) {
  std::string s = ranks.size() == 1 ? "MPI rank " : "MPI ranks ";
  for (std::size_t i = 0; i < ranks.size(); ++i) s += (i ? ", " : "") + std::to_string(ranks[i]);
  return s + " of " + std::to_string(size);
}

// Rank 0: what stops it waiting for `ranks` (empty while it may wait on): an interruption (mpirun
// sends SIGTERM to every rank when one dies) or the peer timeout.
std::string give_up_reason(const std::vector<int>& ranks, int size, std::chrono::steady_clock::time_point since, double timeout_s,
                           bool timeout_from_environment, const char* waiting_for) {
  if (interrupt_requested.load()) {
    const int sig = interrupt_signal.load();
    return std::string("interrupted by ") + (sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "a signal") +
           " while waiting for " + waiting_for + " from " + name_ranks(ranks, size) +
           " (mpirun stops every rank this way when one dies)";
  }
  if (seconds_since(since) > timeout_s) {
    char t[32];
    std::snprintf(t, sizeof t, "%g", timeout_s);
    return name_ranks(ranks, size) + " sent no " + waiting_for + " for " + t + " s (" +
           (timeout_from_environment ? "NFSIM_MPI_PEER_TIMEOUT" : "the peer timeout: 60 s or 20 rounds, NFSIM_MPI_PEER_TIMEOUT") +
           "): it died or hangs";
  }
  return {};
}

// Rank 0: the message of every other rank for this round (their blocks), in rank order. Returns
// why it gave up, or "" once every message is in.
std::string receive_round(std::vector<std::string>& from, int size, double timeout_s, bool timeout_from_environment) {
  std::vector<int> pending;
  for (int r = 1; r < size; ++r) pending.push_back(r);
  const auto start = std::chrono::steady_clock::now();
  while (!pending.empty()) {
    bool progressed = false;
    for (auto it = pending.begin(); it != pending.end();) {
      const int r = *it;
      int flag = 0;
      MPI_Status status;
      int rc = MPI_Iprobe(r, kTagBlocks, MPI_COMM_WORLD, &flag, &status);
      if (rc == MPI_SUCCESS && flag) {
        int count = 0;
        MPI_Get_count(&status, MPI_BYTE, &count);
        from[static_cast<std::size_t>(r)].resize(static_cast<std::size_t>(count));
        rc = MPI_Recv(from[static_cast<std::size_t>(r)].data(), count, MPI_BYTE, r, kTagBlocks, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      }
      if (rc != MPI_SUCCESS) return name_ranks({r}, size) + " failed: MPI error " + mpi_error_text(rc);
      if (flag) {
        it = pending.erase(it);
        progressed = true;
      } else {
        ++it;
      }
    }
    if (pending.empty()) break;
    const std::string why = give_up_reason(pending, size, start, timeout_s, timeout_from_environment, "blocks");
    if (!why.empty()) return why;
    if (!progressed && seconds_since(start) > 0.002) std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return {};
}

// Waits for a request of rank 0 that involves every rank (the broadcast of a round's decision);
// returns why it gave up, or "".
std::string wait_on_peers(MPI_Request& request, int size, double timeout_s, bool timeout_from_environment) {
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    int done = 0;
    const int rc = MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) return "MPI error while broadcasting to the ranks: " + mpi_error_text(rc);
    if (done) return {};
    std::vector<int> all;
    for (int r = 1; r < size; ++r) all.push_back(r);
    const std::string why = give_up_reason(all, size, start, timeout_s, timeout_from_environment, "broadcast replies");
    if (!why.empty()) return why;
    if (seconds_since(start) > 0.002) std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}
#endif

// Blocks [begin, end) on `threads` threads (each takes the next block not yet taken); the
// results come back in block order whatever thread computed them.
std::vector<sim::ErrorStats> compute_blocks_in_processes(const BlockFn& run_block, std::uint64_t begin, std::uint64_t end,
                                                        unsigned workers);

std::vector<sim::ErrorStats> compute_blocks(const BlockFn& run_block, std::uint64_t begin, std::uint64_t end, unsigned threads,
                                            bool processes) {
  if (processes && threads > 1 && end > begin + 1) return compute_blocks_in_processes(run_block, begin, end, threads);
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

// Blocks [begin, end) in `workers` processes forked from this one (the chip engine: one SystemC
// kernel per process, so threads cannot share it; each child has its own copy of the elaborated
// chip). Child i computes blocks begin + i, begin + i + workers, ... in order and sends each
// block's exact bytes (ErrorStats::serialize, tallies included) through a pipe; the parent
// gathers them in block order. Returns the blocks in order up to, not including, the first one a
// worker failed on (a child stops at its first failing block, so every block below the lowest
// failure was computed): run_blocks merges those, applies the stopping rule, and only then
// computes that block itself, which raises the same error with its type (an input error, a
// non-finite block, a simulation error) whatever the number of workers. A block a worker did not
// deliver (it was killed, say by the out-of-memory killer) is computed here, with a warning.
// Children ignore SIGINT and SIGTERM: the parent finishes the round and checkpoints.
std::vector<sim::ErrorStats> compute_blocks_in_processes(const BlockFn& run_block, std::uint64_t begin, std::uint64_t end,
                                                        unsigned workers) {
  const std::size_t count = static_cast<std::size_t>(end - begin);
  const unsigned n = static_cast<unsigned>(std::min<std::size_t>(workers, count));
  std::fflush(nullptr);  // nothing buffered is written twice
  struct Child {
    pid_t pid = -1;
    int fd = -1;
    std::string bytes;
  };
  std::vector<Child> children(n);
  auto write_all = [](int fd, const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
      const ssize_t w = ::write(fd, data.data() + done, data.size() - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      done += static_cast<std::size_t>(w);
    }
    return true;
  };
  // On an error before every child is reaped: stop and reap the ones started, close their pipes.
  auto abandon = [&children](const std::string& why) {
    for (auto& c : children) {
      if (c.pid > 0) {
        ::kill(c.pid, SIGKILL);
        while (::waitpid(c.pid, nullptr, 0) < 0 && errno == EINTR) {
        }
      }
      if (c.fd >= 0) ::close(c.fd);
    }
    throw core::Error("chip workers: " + why);
  };
  for (unsigned i = 0; i < n; ++i) {
    int fds[2];
    if (::pipe(fds) != 0) abandon(std::string("cannot create a pipe: ") + std::strerror(errno));
    const pid_t pid = ::fork();
    if (pid < 0) {
      ::close(fds[0]);
      ::close(fds[1]);
      abandon(std::string("cannot fork a worker process: ") + std::strerror(errno));
    }
    if (pid == 0) {
      ::close(fds[0]);
      for (unsigned j = 0; j < i; ++j) ::close(children[j].fd);
      std::signal(SIGINT, SIG_IGN);  // the parent finishes the round and checkpoints
      std::signal(SIGTERM, SIG_IGN);
      std::string record;
      auto u64 = [&record](std::uint64_t v) { record.append(reinterpret_cast<const char*>(&v), sizeof v); };
      int status = 0;
      for (std::uint64_t b = begin + i; b < end; b += n) {
        record.clear();
        std::string body;
        char tag = 'B';
        try {
          run_block(b).serialize_to(body);
        } catch (const std::exception& e) {
          tag = 'E';
          body = e.what();
        } catch (...) {
          tag = 'E';
          body = "unknown error";
        }
        record.push_back(tag);
        u64(b);
        u64(body.size());
        record += body;
        if (!write_all(fds[1], record)) status = 1;
        if (tag == 'E' || status) break;
      }
      ::close(fds[1]);
      std::_Exit(status);  // no destructors, no atexit: the parent owns the engine and the files
    }
    ::close(fds[1]);
    children[i].pid = pid;
    children[i].fd = fds[0];
  }
  // Read every pipe as it fills (a child blocks when its pipe is full).
  std::vector<pollfd> open_fds;
  for (auto& c : children) open_fds.push_back({c.fd, POLLIN, 0});
  std::size_t open_count = open_fds.size();
  char buffer[1 << 16];
  while (open_count > 0) {
    if (::poll(open_fds.data(), open_fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      abandon(std::string("poll failed: ") + std::strerror(errno));
    }
    for (std::size_t i = 0; i < open_fds.size(); ++i) {
      if (open_fds[i].fd < 0 || !(open_fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t r = ::read(open_fds[i].fd, buffer, sizeof buffer);
      if (r > 0) {
        children[i].bytes.append(buffer, static_cast<std::size_t>(r));
      } else if (r == 0 || errno != EINTR) {
        ::close(open_fds[i].fd);
        open_fds[i].fd = children[i].fd = -1;
        --open_count;
      }
    }
  }
  std::vector<std::string> failures(n);
  for (unsigned i = 0; i < n; ++i) {
    int status = 0;
    while (::waitpid(children[i].pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status)) failures[i] = "killed by signal " + std::to_string(WTERMSIG(status));
    else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) failures[i] = "could not send its results";
    children[i].pid = -1;
  }
  std::vector<sim::ErrorStats> out(count);
  std::vector<char> have(count, 0);
  std::uint64_t lowest_failure = end;
  std::string failure_text;
  for (unsigned i = 0; i < n; ++i) {
    const std::string& bytes = children[i].bytes;
    std::size_t pos = 0;
    auto u64 = [&](std::uint64_t& v) {
      if (bytes.size() - pos < sizeof v) return false;
      std::memcpy(&v, bytes.data() + pos, sizeof v);
      pos += sizeof v;
      return true;
    };
    while (pos < bytes.size()) {
      const char tag = bytes[pos++];
      std::uint64_t b = 0, size = 0;
      if (!u64(b) || !u64(size) || bytes.size() - pos < size || b < begin || b >= end) break;
      if (tag == 'B') {
        try {
          out[static_cast<std::size_t>(b - begin)] = sim::ErrorStats::deserialize(bytes.data() + pos, static_cast<std::size_t>(size));
          have[static_cast<std::size_t>(b - begin)] = 1;
        } catch (const core::Error&) {  // not what the worker wrote: computed again below
        }
      } else if (b < lowest_failure) {
        lowest_failure = b;
        failure_text = bytes.substr(pos, static_cast<std::size_t>(size));
      }
      pos += static_cast<std::size_t>(size);
    }
  }
  // Below the lowest reported failure, a block no child delivered: its worker died. Computed here
  // (an error it raises is the lowest, and comes with its type).
  for (std::size_t k = 0; k < count && begin + k < lowest_failure; ++k) {
    if (have[k]) continue;
    const unsigned worker = static_cast<unsigned>(k % n);
    std::fprintf(stderr, "nfsim: warning: chip worker process %u of %u %s before sending block %llu; computing it in the main process\n",
                 worker + 1, n, failures[worker].empty() ? "stopped" : failures[worker].c_str(),
                 static_cast<unsigned long long>(begin + k));
    out[k] = run_block(begin + k);
    have[k] = 1;
  }
  // The blocks before the lowest failure; run_blocks computes that block after merging them.
  out.resize(static_cast<std::size_t>(std::min(lowest_failure, end) - begin));
  return out;
}

}  // namespace

std::uint64_t run_blocks(const BlockFn& run_block, std::uint64_t start, std::uint64_t nblocks, std::uint64_t block_trials,
                         std::uint64_t total_trials, const CampaignConfig& config, sim::ErrorStats& acc, std::string& reason,
                         const std::function<void(std::uint64_t)>& progress, unsigned threads, const SaveFn& save,
                         bool processes) {
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
  // MPI: how long rank 0 waits for a rank's blocks (the slowest round so far sets the default).
  const MpiEnvironment env = size > 1 ? mpi_environment() : MpiEnvironment{};
  const TestFault test_fault = size > 1 ? test_fault_from_environment(size) : TestFault{};
  static std::uint64_t computed_here = 0;  // blocks this rank computed, over every point (test hooks)
  double slowest_round_s = 0;
  [[maybe_unused]] auto peer_timeout_s = [&] { return env.peer_timeout_s > 0 ? env.peer_timeout_s : std::max(60.0, 20 * slowest_round_s); };
  // Rank 0 gives up on a rank: the blocks merged before this round are saved, the run ends.
  [[maybe_unused]] auto give_up = [&](const std::string& why) {
    if (save) save(done, acc, true);
    throw PeerFailure(why, done);
  };
  std::string payload, all;  // MPI message buffers, reused
  std::vector<std::string> from(static_cast<std::size_t>(size));
  while (done < nblocks) {
    const auto round_start = std::chrono::steady_clock::now();
    const std::uint64_t round_begin = done;
    const std::uint64_t round_end = std::min(nblocks, round_begin + per_round);
    // This rank's blocks of the round.
    std::uint64_t my_begin = round_begin;
    for (int r = 0; r < rank; ++r) my_begin += share[static_cast<std::size_t>(r)];
    my_begin = std::min(my_begin, round_end);
    const std::uint64_t my_end = std::min(round_end, my_begin + share[static_cast<std::size_t>(rank)]);
    const auto compute_start = std::chrono::steady_clock::now();
    std::vector<sim::ErrorStats> mine = compute_blocks(run_block, my_begin, my_end, threads, processes);
    const double compute_seconds = seconds_since(compute_start);
    if (size > 1) {
      computed_here += mine.size();
      apply_test_fault(test_fault, rank, computed_here);
    }
    std::vector<sim::ErrorStats> ordered;
#ifdef NFSIM_HAVE_MPI
    if (size > 1) {
      // Each rank's speed this round, for the next round's shares.
      const double my_speed = my_end > my_begin && compute_seconds > 0 ? static_cast<double>(my_end - my_begin) / compute_seconds : 0.0;
      if (rank == 0) {
        // Point to point rather than a gather: rank 0 knows which rank it still waits for, and
        // gives up on it (timeout, MPI error, interruption) instead of waiting for ever.
        const std::string why = receive_round(from, size, peer_timeout_s(), env.peer_timeout_s > 0);
        if (!why.empty()) give_up(why);
        std::vector<double> speeds(static_cast<std::size_t>(size), 0.0);
        speeds[0] = my_speed;
        ordered = std::move(mine);
        for (int r = 1; r < size; ++r) {  // ranks in order, each rank's blocks in order: block order
          const std::string& m = from[static_cast<std::size_t>(r)];
          std::size_t pos = 0;
          if (m.size() < sizeof(double)) throw core::InternalError("MPI rank " + std::to_string(r) + " sent a short message");
          std::memcpy(&speeds[static_cast<std::size_t>(r)], m.data(), sizeof(double));
          pos += sizeof(double);
          while (pos < m.size()) {
            std::uint64_t len = 0;
            std::memcpy(&len, m.data() + pos, sizeof len);
            pos += sizeof len;
            ordered.push_back(sim::ErrorStats::deserialize(m.data() + pos, static_cast<std::size_t>(len)));
            pos += static_cast<std::size_t>(len);
          }
        }
        for (std::size_t r = 0; r < speeds.size(); ++r) {
          if (speeds[r] > 0) speed[r] = speed[r] > 0 ? 0.5 * speed[r] + 0.5 * speeds[r] : speeds[r];
        }
      } else {
        payload.clear();  // buffers kept across rounds: no large allocation (and page faults) per round
        payload.append(reinterpret_cast<const char*>(&my_speed), sizeof my_speed);
        for (const auto& s : mine) {
          const std::size_t at = payload.size();
          std::uint64_t len = 0;
          payload.append(reinterpret_cast<const char*>(&len), sizeof len);
          s.serialize_to(payload);
          len = payload.size() - at - sizeof len;
          std::memcpy(&payload[at], &len, sizeof len);
        }
        MPI_Request request;
        int rc = MPI_Isend(payload.data(), static_cast<int>(payload.size()), MPI_BYTE, 0, kTagBlocks, MPI_COMM_WORLD, &request);
        if (rc == MPI_SUCCESS) rc = wait_without_spinning(request);
        if (rc != MPI_SUCCESS) {
          throw PeerFailure("MPI rank " + std::to_string(rank) + " could not send its blocks to rank 0: MPI error " + mpi_error_text(rc), 0);
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
      // Worker processes return the blocks before the first one that failed in a worker: once
      // they are merged and the stopping rule has not stopped the run, that block is computed
      // here (it throws its error, as it would with one process).
      const bool short_round = processes && ordered.size() < my_end - my_begin;
      auto merge = [&](const sim::ErrorStats& block) {
        acc.merge(block);
        ++done;
        if (config.stopping.automatic && trials_after(done) >= config.stopping.min_trials &&
            worst_relative_half_width(acc, z) <= config.stopping.rel_half_width) {
          reason = "target";
          stop = 1;
        }
        return stop != 0;
      };
      for (const auto& block : ordered) {
        if (merge(block)) break;
      }
      if (!stop && short_round) {
        const std::uint64_t failed = done;
        sim::ErrorStats again = run_block(failed);  // throws the block's error, as one process would
        std::fprintf(stderr,
                     "nfsim: warning: block %llu failed in a chip worker process but not in the main process; "
                     "continuing with the main process's result\n",
                     static_cast<unsigned long long>(failed));
        merge(again);  // the rest of the round is computed again in the next one
      }
      if (!stop && interrupt_requested.load()) {
        reason = "interrupted";
        stop = 1;
      }
      if (progress) progress(trials_after(done));
      // A periodic checkpoint when due; on an interruption at once (before the bounds and the
      // report: mpirun follows its SIGTERM with SIGKILL a second later).
      if (save && done < nblocks && (!stop || reason == "interrupted")) save(done, acc, stop != 0);
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
      int rc = MPI_Ibcast(msg.data(), static_cast<int>(msg.size()), MPI_UINT64_T, 0, MPI_COMM_WORLD, &request);
      if (rank == 0) {
        const std::string why = rc == MPI_SUCCESS ? wait_on_peers(request, size, peer_timeout_s(), env.peer_timeout_s > 0)
                                                  : "MPI error while broadcasting to the ranks: " + mpi_error_text(rc);
        if (!why.empty()) give_up(why);
      } else {
        // The other ranks wait for rank 0 without a timeout: between rounds it alone computes the
        // bounds and writes the report; if it dies, mpirun stops them.
        if (rc == MPI_SUCCESS) rc = wait_without_spinning(request);
        if (rc != MPI_SUCCESS) {
          throw PeerFailure("MPI rank " + std::to_string(rank) + " lost rank 0: MPI error " + mpi_error_text(rc), 0);
        }
      }
      stop = static_cast<int>(msg[0]);
      done = msg[1];
      for (std::size_t i = 0; i < share.size(); ++i) share[i] = msg[2 + i];
    }
#endif
    slowest_round_s = std::max(slowest_round_s, seconds_since(round_start));
    if (stop) break;
  }
  return done;
}

MpiEnvironment mpi_environment() {
  MpiEnvironment e;
  e.peer_timeout_s = seconds_from_environment("NFSIM_MPI_PEER_TIMEOUT", 0, true);
  e.checkpoint_seconds = seconds_from_environment("NFSIM_MPI_CHECKPOINT_SECONDS", 60, false);
  return e;
}

unsigned effective_threads(unsigned asked) {
  if (asked > 0) return asked;
  if (mpi_size() > 1) return 1;
  return std::max(1u, std::thread::hardware_concurrency());
}

int mpi_rank() { return mpi_world().first; }
int mpi_size() { return mpi_world().second; }
bool mpi_initialized() {
#ifdef NFSIM_HAVE_MPI
  int init = 0;
  MPI_Initialized(&init);
  return init != 0;
#else
  return false;
#endif
}

double worst_relative_half_width(const sim::ErrorStats& stats, double z, bool plain) {
  double worst = 0;
  bool any = false;
  for (Eigen::Index n = 0; n < stats.inputs(); ++n) {
    for (Eigen::Index k = 0; k < stats.outputs(); ++k) {
      const sim::ControlVariateStats::Estimate e = plain ? stats.plain_estimate(n, k, z) : stats.estimate(n, k, z);
      if (e.std <= 0) continue;
      any = true;
      worst = std::max(worst, e.std_half_width / e.std);
    }
  }
  return any ? worst : std::numeric_limits<double>::infinity();
}

}  // namespace nfsim::tb
