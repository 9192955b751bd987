// Faults of an MPI run itself: a rank that dies or hangs mid-run ends the run with one clear line
// and a consistent checkpoint that `nfsim run --resume` completes to the numbers of an
// uninterrupted run (the test hooks NFSIM_TEST_DIE_AFTER_BLOCKS / NFSIM_TEST_HANG_AFTER_BLOCKS
// kill or hang a rank once it has computed that many blocks).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/common/cli_run.h"
#include "tests/common/temp_dir.h"

namespace nfsim::test {
namespace {

const std::string kCampaign = std::string(NFSIM_SOURCE_DIR) + "/examples/campaigns/paper_random.yaml";
// 1563 blocks of 64 trials: the faulty rank stops long before the end.
const std::string kArgs = " run " + kCampaign + " --set inputs.count=3 --trials 100000 --set block_trials=64 ";
constexpr std::uint64_t kBlocks = 1563;
// As the other MPI tests.
const std::string kMpiEnv = "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 ";
// mpirun follows the SIGTERM it sends the surviving ranks with a SIGKILL after
// odls_base_sigkill_timeout (1 s by default); 5 s keeps a loaded machine from killing rank 0
// before it has printed its line.
const std::string kSlowSigkill = "OMPI_MCA_odls_base_sigkill_timeout=5 ";

bool have_mpirun() { return std::system("command -v mpirun > /dev/null 2>&1") == 0; }

// `env mpirun -np N nfsim ARGS`, stdout and stderr in DIR/mpi.out and DIR/mpi.err.
CliRun mpirun(const std::string& env, int np, const std::string& args, const TempDir& dir) {
  return run_captured(kMpiEnv + env + " timeout -k 5 300 mpirun -np " + std::to_string(np) + " " + NFSIM_EXE + " " + args, dir, "mpi");
}

nlohmann::json report_without_timing(const std::string& dir) {
  nlohmann::json j = nlohmann::json::parse(read_file(dir + "/report.json"));
  j.erase("timing");
  return j;
}

// What an interrupted run must leave: checkpoint.json naming a statistics file beside it, with
// some but not all of the blocks merged.
void expect_consistent_checkpoint(const std::string& dir) {
  ASSERT_TRUE(file_exists(dir + "/checkpoint.json"));
  const nlohmann::json cp = nlohmann::json::parse(read_file(dir + "/checkpoint.json"));
  const std::string stats = cp["stats_file"].get<std::string>();
  EXPECT_TRUE(stats == "checkpoint.stats" || stats == "checkpoint.alt.stats") << stats;
  EXPECT_TRUE(file_exists(dir + "/" + stats));
  EXPECT_GT(cp["blocks_done"].get<std::uint64_t>(), 0u);
  EXPECT_LT(cp["blocks_done"].get<std::uint64_t>(), kBlocks);
}

// A rank killed mid-run (SIGKILL): mpirun stops the job and sends rank 0 SIGTERM while it waits
// for that rank's blocks; rank 0 saves the blocks merged so far, names the rank, the checkpoint
// and the resume command. The resumed run (one process) equals an uninterrupted one.
TEST(MpiFailure, DeadRankEndsTheRunWithACheckpointThatResumes) {
  if (!have_mpirun()) GTEST_SKIP() << "mpirun not installed";
  TempDir dir;
  ASSERT_EQ(nfsim(kArgs.substr(1) + "--out " + dir.file("full"), dir).code, 0);
  const std::string cut = dir.file("cut");
  const CliRun r = mpirun(kSlowSigkill + "NFSIM_TEST_DIE_AFTER_BLOCKS=40", 2, kArgs + "--out " + cut, dir);
  // mpirun's own exit code is the dead rank's status (137) when it stopped the job first, else
  // rank 0's 4: never a success.
  EXPECT_TRUE(r.code == 137 || r.code == 4) << r.code << "\n" << r.err;
  const std::string line = "nfsim run: error: interrupted by SIGTERM while waiting for blocks from MPI rank 1 of 2";
  EXPECT_NE(r.err.find(line), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(cut + "/checkpoint.json keeps the "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("resume with: nfsim run --resume " + cut + "\n"), std::string::npos) << r.err;
  expect_consistent_checkpoint(cut);
  EXPECT_FALSE(file_exists(cut + "/report.json"));  // no report of a run that did not finish a round

  const CliRun resumed = nfsim("run --resume " + cut, dir);
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(report_without_timing(cut).dump(), report_without_timing(dir.file("full")).dump());
  EXPECT_FALSE(file_exists(cut + "/checkpoint.json"));
  EXPECT_FALSE(file_exists(cut + "/checkpoint.stats"));
  EXPECT_FALSE(file_exists(cut + "/checkpoint.alt.stats"));
}

// A rank that hangs: rank 0 waits NFSIM_MPI_PEER_TIMEOUT seconds, saves, names the rank and
// aborts the job with exit code 4. The run resumes on another rank count (3) to the same numbers.
TEST(MpiFailure, HungRankTimesOutWithExitCode4AndResumesOnOtherRankCounts) {
  if (!have_mpirun()) GTEST_SKIP() << "mpirun not installed";
  TempDir dir;
  ASSERT_EQ(nfsim(kArgs.substr(1) + "--out " + dir.file("full"), dir).code, 0);
  const std::string cut = dir.file("cut");
  const CliRun r = mpirun("NFSIM_MPI_PEER_TIMEOUT=5 NFSIM_TEST_HANG_AFTER_BLOCKS=40", 2, kArgs + "--out " + cut, dir);
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_NE(r.err.find("nfsim run: error: MPI rank 1 of 2 sent no blocks for 5 s (NFSIM_MPI_PEER_TIMEOUT): it died or hangs; " + cut +
                       "/checkpoint.json keeps the "),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("resume with: nfsim run --resume " + cut + "\n"), std::string::npos) << r.err;
  expect_consistent_checkpoint(cut);

  const CliRun resumed = mpirun("", 3, "run --resume " + cut, dir);
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(report_without_timing(cut).dump(), report_without_timing(dir.file("full")).dump());
  EXPECT_FALSE(file_exists(cut + "/checkpoint.json"));
}

// Rank 0 itself killed: nothing is saved at the end, but its periodic checkpoints (here after
// every round, NFSIM_MPI_CHECKPOINT_SECONDS=0, so the statistics file alternates) leave a
// consistent pair that resumes to the numbers of an uninterrupted run.
TEST(MpiFailure, KilledRankZeroLeavesItsLastPeriodicCheckpoint) {
  if (!have_mpirun()) GTEST_SKIP() << "mpirun not installed";
  TempDir dir;
  ASSERT_EQ(nfsim(kArgs.substr(1) + "--out " + dir.file("full"), dir).code, 0);
  const std::string cut = dir.file("cut");
  const CliRun r = mpirun("NFSIM_MPI_CHECKPOINT_SECONDS=0 NFSIM_TEST_FAULTY_RANK=0 NFSIM_TEST_DIE_AFTER_BLOCKS=40", 2,
                          kArgs + "--out " + cut, dir);
  EXPECT_NE(r.code, 0) << r.err;
  expect_consistent_checkpoint(cut);
  // Only the file checkpoint.json names is left: the other one of the pair was removed.
  const std::string stats = nlohmann::json::parse(read_file(cut + "/checkpoint.json"))["stats_file"].get<std::string>();
  EXPECT_FALSE(file_exists(cut + "/" + std::string(stats == "checkpoint.stats" ? "checkpoint.alt.stats" : "checkpoint.stats")));

  const CliRun resumed = nfsim("run --resume " + cut, dir);
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(report_without_timing(cut).dump(), report_without_timing(dir.file("full")).dump());
}

// A malformed NFSIM_MPI_* variable is refused before anything is written (exit 2, naming it).
TEST(MpiFailure, MalformedEnvironmentIsRefused) {
  TempDir dir;
  for (const std::string setting : {"NFSIM_MPI_PEER_TIMEOUT=abc", "NFSIM_MPI_PEER_TIMEOUT=0", "NFSIM_MPI_CHECKPOINT_SECONDS=-1"}) {
    const std::string out = dir.file("out"), err = dir.file("err");
    const std::string cmd = setting + " " + NFSIM_EXE + kArgs + "--out " + out + " > /dev/null 2> " + err;
    const int status = std::system(cmd.c_str());
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 2) << setting;
    const std::string name = setting.substr(0, setting.find('='));
    EXPECT_NE(read_file(err).find("environment variable " + setting.substr(0, name.size()) + "='" + setting.substr(name.size() + 1) + "'"),
              std::string::npos)
        << read_file(err);
    EXPECT_FALSE(std::filesystem::exists(out)) << setting;
  }
}

}  // namespace
}  // namespace nfsim::test
