// nfsim: the command-line tool. Thin: parses the command, calls the libraries, maps errors to
// exit codes (0 ok, 2 bad input or usage, 1 internal error).
#include <boost/program_options/errors.hpp>
#include <mpi.h>

#include <csignal>
#include <cstdio>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <string>
#include <vector>

#include "apps/nfsim/commands.h"
#include "core/error.h"
#include "core/plugin.h"
#include "models/layer/gemm.h"
#include "testbench/campaign/runner.h"
#include "testbench/report/point_report.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitInternal = 1;
constexpr int kExitBadInput = 2;

struct Command {
  int (*run)(const std::vector<std::string>&);
  const char* summary;
};

const std::map<std::string, Command>& commands() {
  static const std::map<std::string, Command> table{
      {"info", {nfsim::app::cmd_info, "print a model's layers, shapes, activations and parameter count"}},
      {"eval", {nfsim::app::cmd_eval, "run the fault-free model on inputs; outputs as CSV on stdout"}},
      {"gen-network", {nfsim::app::cmd_gen_network, "generate a random network (the paper's recipe) as ONNX"}},
      {"bounds", {nfsim::app::cmd_bounds, "analytic error bounds (b1-b4, worst case) of a model under a fault plan"}},
      {"run", {nfsim::app::cmd_run, "run a fault-injection campaign (YAML): Monte Carlo, bounds, verdicts, report"}},
      {"harden", {nfsim::app::cmd_harden, "units whose TMR lowers the error most, or the replica certificate, checked by Monte Carlo"}},
      {"tolerate", {nfsim::app::cmd_tolerate, "largest failure probability the bounds tolerate for an error budget, checked by Monte Carlo"}},
      {"criticality", {nfsim::app::cmd_criticality, "rank the units (neurons, synapses, tiles, rows, routers) by their share of the error, verified by Monte Carlo"}},
      {"map", {nfsim::app::cmd_map, "place a network on a chip topology; print placement and utilisation"}},
      {"list", {nfsim::app::cmd_list, "list registered crossbar, neuron, interconnect and mapper types and fault kinds"}},
  };
  return table;
}

void print_usage(std::FILE* to) {
  std::fprintf(to,
               "nfsim - neuromorphic-hardware fault-injection simulator\n\n"
               "Usage: nfsim <command> [options]   (nfsim <command> --help for its options)\n\nCommands:\n");
  for (const auto& [name, cmd] : commands()) std::fprintf(to, "  %-12s %s\n", name.c_str(), cmd.summary);
  std::fprintf(to, "\nExit codes: 0 ok, 2 bad input or usage, 1 internal error; nfsim run also: 3 a campaign\n"
                   "requirement is not met, 4 interrupted (resume with nfsim run --resume DIR).\n"
                   "Global option: --plugin LIB.so loads component types from a shared library (see docs/plugins.md).\n");
}

// Prints "nfsim[ CMD]: LABEL: MESSAGE" on stderr as one readable line: control characters from
// the input (a NUL, a CR, a newline inside a bad value) are escaped, and a message that quotes a
// huge bad value (a 100 MB CSV field, a 10^7-digit number) keeps its start and end only.
void report(const std::string& command, const char* label, const std::string& message) {
  constexpr std::size_t kMaxMessage = 4000, kHead = 2000, kTail = 1000;
  std::string shown = message;
  if (shown.size() > kMaxMessage) {
    shown = shown.substr(0, kHead) + " ... [" + std::to_string(shown.size() - kHead - kTail) + " characters left out] ... " +
            shown.substr(shown.size() - kTail);
  }
  const std::string line = nfsim::core::escape_control_characters(shown);
  std::fprintf(stderr, "nfsim%s%s: %s%s%s\n", command.empty() ? "" : " ", command.c_str(), label, *label ? ": " : "", line.c_str());
}

// Loads --plugin libraries (anywhere on the command line): their static initialisers register
// crossbar, neuron, interconnect or mapper types. Returns the arguments without them.
std::vector<std::string> load_plugins(int argc, char* argv[]) {
  std::vector<std::string> rest;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    std::string path;
    if (a == "--plugin") {
      if (i + 1 >= argc) throw nfsim::core::UsageError("--plugin needs a path to a shared library");
      path = argv[++i];
    } else if (a.rfind("--plugin=", 0) == 0) {
      path = a.substr(9);
    } else {
      rest.push_back(a);
      continue;
    }
    nfsim::core::load_plugin(path, "--plugin");
  }
  return rest;
}

extern "C" void on_signal(int sig) {
  nfsim::tb::interrupt_signal.store(sig);
  nfsim::tb::interrupt_requested.store(true);
}

int run_nfsim(int argc_in, char* argv_in[]) {
  std::vector<std::string> args;
  try {
    args = load_plugins(argc_in, argv_in);
  } catch (const nfsim::core::InputError& e) {
    report("", "error", e.what());
    return kExitBadInput;
  }
  std::vector<char*> argv_vec;
  for (auto& a : args) argv_vec.push_back(a.data());
  const int argc = static_cast<int>(argv_vec.size());
  char** argv = argv_vec.data();
  if (argc < 2) {
    print_usage(stderr);
    return kExitBadInput;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(stdout);
    return kExitOk;
  }
  if (name == "--version") {
    std::printf("nfsim %s\n", nfsim::tb::kNfsimVersion);
    // The one dependency whose choice of kernel shows in the last bits of results (conv layers).
    std::printf("conv GEMM: %s\n", nfsim::models::blas_description().c_str());
    return kExitOk;
  }
  const auto it = commands().find(name);
  if (it == commands().end()) {
    std::string names;
    for (const auto& [n, c] : commands()) names += (names.empty() ? "" : ", ") + n;
    std::fprintf(stderr, "nfsim: unknown command '%s'; expected one of %s (see nfsim --help)\n", name.c_str(),
                 names.c_str());
    return kExitBadInput;
  }
  int rc = kExitInternal;
  try {
    rc = it->second.run(std::vector<std::string>(argv + 2, argv + argc));
  } catch (const boost::program_options::error& e) {
    report(name, "", std::string(e.what()) + " (see nfsim " + name + " --help)");
    return kExitBadInput;
  } catch (const nfsim::core::InputError& e) {
    report(name, "error", e.what());
    return kExitBadInput;
  } catch (const std::exception& e) {
    report(name, "internal error", e.what());
    return kExitInternal;
  }
  // Output on a full disk or a closed pipe is lost: say so instead of exiting 0.
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    const int err = errno;
    report(name, "error", std::string("cannot write standard output (") + (err ? std::strerror(err) : "write error") +
                              "); expected a writable output (is the disk full or the pipe closed?)");
    return kExitBadInput;
  }
  return rc;
}

}  // namespace

// nfsim has its own main(): libsystemc's main() would print the SystemC banner before sc_main
// runs. The SystemC kernel initialises itself on first use, so the chip is elaborated and run
// from the commands directly.
int main(int argc, char* argv[]) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  // SIGINT/SIGTERM: finish the current block, write a resumable report (nfsim run).
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  // Under mpirun (OpenMPI sets OMPI_COMM_WORLD_SIZE), split the trials over the ranks; started
  // directly, run as one process without initialising MPI.
  const bool under_mpirun = std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMI_SIZE");
  if (under_mpirun) {
    MPI_Init(&argc, &argv);
    // A rank that fails is reported to rank 0 (which saves a checkpoint and names the rank)
    // rather than aborting the job inside MPI.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  }
  const int rc = run_nfsim(argc, argv);
  if (under_mpirun) {
    if (rc == kExitBadInput || rc == kExitInternal) {
      int size = 1;
      MPI_Comm_size(MPI_COMM_WORLD, &size);
      if (size > 1) MPI_Abort(MPI_COMM_WORLD, rc);
    }
    MPI_Finalize();
  }
  return rc;
}

// libsystemc.so references sc_main; with our own main() it is only reached if SystemC's main is.
extern "C" int sc_main(int argc, char* argv[]) { return run_nfsim(argc, argv); }
