// Plug-ins as a third party uses them, through the nfsim executable: the example crossbar and
// neuron-array plug-ins (built with the light nfsim::plugin target) load from --plugin and from a
// `plugins:` key, appear with their parameters in `nfsim map` and report.json, survive --resume
// without --plugin; a name registered twice, a library that registers nothing and an empty path
// are refused with exit code 2.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/common/cli_run.h"
#include "tests/common/temp_dir.h"

namespace nfsim::test {
namespace {

const std::string kStuckOn = NFSIM_STUCK_ON_PLUGIN;
const std::string kSaturating = NFSIM_SATURATING_PLUGIN;
const std::string kIdealAgain = NFSIM_IDEAL_AGAIN_PLUGIN;

std::string canonical(const std::string& path) { return std::filesystem::canonical(path).string(); }

// A tiny network, a chip with both plug-ins' types, and a campaign on it.
void write_chip_files(const TempDir& dir, const std::string& engine, const std::string& trials) {
  std::filesystem::create_directories(dir.file("lib"));
  std::filesystem::copy_file(kStuckOn, dir.file("lib/libstuck_on.so"));
  std::filesystem::copy_file(kSaturating, dir.file("lib/libsaturating.so"));
  write_file(dir.file("chip.yaml"),
             "plugins: [lib/libstuck_on.so, lib/libsaturating.so]\n"
             "chip:\n  cores: {count: 4, layout: {type: mesh, width: 2, height: 2}}\n"
             "  crossbar: {type: stuck_on, rows: 8, cols: 8, fraction: 0.25, on_value: 0.5, seed: 3}\n"
             "  neuron_array: {type: saturating, size: 8, limit: 2}\n"
             "  interconnect: {type: mesh, hop_latency_ns: 5}\n");
  write_file(dir.file("c.yaml"),
             "plugins: [lib/libstuck_on.so, lib/libsaturating.so]\n"
             "model: {generate: {widths: [6, 5, 3], seed: 2}}\n"
             "chip: chip.yaml\n"
             "inputs: {type: random, count: 2}\n"
             "faults: [{kind: neuron_crash, layers: [1], probability: 0.1}]\n"
             "engine: " +
                 engine + "\ntrials: " + trials + "\nbounds: [b4]\n");
}

TEST(Plugins, TypeRegisteredTwiceIsRefusedNamingBothLibraries) {
  TempDir dir;
  const CliRun builtin = nfsim("--plugin " + kIdealAgain + " list", dir);
  EXPECT_EQ(builtin.code, 2) << builtin.out;
  EXPECT_NE(builtin.err.find("crossbar type 'ideal' is registered twice: by built-in and by " + canonical(kIdealAgain)),
            std::string::npos)
      << builtin.err;
  // The same type from two libraries (a copy of the plug-in under another name).
  std::filesystem::copy_file(kStuckOn, dir.file("libcopy.so"));
  const CliRun twice = nfsim("--plugin " + kStuckOn + " --plugin " + dir.file("libcopy.so") + " list", dir);
  EXPECT_EQ(twice.code, 2);
  EXPECT_NE(twice.err.find("crossbar type 'stuck_on' is registered twice: by " + canonical(kStuckOn) + " and by " +
                           canonical(dir.file("libcopy.so"))),
            std::string::npos)
      << twice.err;
  // The same file twice is one library.
  EXPECT_EQ(nfsim("--plugin " + kStuckOn + " --plugin " + kStuckOn + " list", dir).code, 0);
}

TEST(Plugins, LibraryThatRegistersNothingAndEmptyPathAreRefused) {
  TempDir dir;
  const std::string libm = "/lib/x86_64-linux-gnu/libm.so.6";
  if (file_exists(libm)) {
    const CliRun r = nfsim("--plugin " + libm + " list", dir);
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("--plugin '" + libm + "': registers no component type"), std::string::npos) << r.err;
  }
  const CliRun empty = nfsim("--plugin '' list", dir);
  EXPECT_EQ(empty.code, 2);
  EXPECT_NE(empty.err.find("empty path"), std::string::npos) << empty.err;
}

TEST(Plugins, BareFileNameInTheCurrentDirectoryLoads) {
  TempDir dir;
  std::filesystem::copy_file(kStuckOn, dir.file("libmy_crossbar.so"));
  const std::string cmd =
      "cd " + dir.path() + " && " + std::string(NFSIM_EXE) + " --plugin libmy_crossbar.so list > list.txt 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << read_file(dir.file("list.txt"));
  const std::string out = read_file(dir.file("list.txt"));
  EXPECT_NE(out.find("stuck_on"), std::string::npos) << out;
  EXPECT_NE(out.find("[plug-in " + canonical(dir.file("libmy_crossbar.so")) + "]"), std::string::npos) << out;
}

TEST(Plugins, PluginsKeyLoadsThemAndMapAndReportShowProvenance) {
  TempDir dir;
  write_chip_files(dir, "chip", "20");
  ASSERT_EQ(nfsim("gen-network --widths 6,5,3 --seed 2 --out " + dir.file("m.onnx"), dir).code, 0);
  const CliRun map = nfsim("map " + dir.file("m.onnx") + " --chip " + dir.file("chip.yaml"), dir);
  ASSERT_EQ(map.code, 0) << map.err;
  const std::string stuck = canonical(dir.file("lib/libstuck_on.so"));
  EXPECT_NE(map.out.find("crossbar      stuck_on (" + stuck + ") fraction=0.25 on_value=0.5 seed=3"), std::string::npos)
      << map.out;
  EXPECT_NE(map.out.find("saturating(limit 2)"), std::string::npos) << map.out;
  EXPECT_NE(map.out.find("plug-in lib/libstuck_on.so: " + stuck), std::string::npos) << map.out;

  const CliRun run = nfsim("run " + dir.file("c.yaml") + " --out " + dir.file("out"), dir);
  ASSERT_EQ(run.code, 0) << run.err;
  const nlohmann::json report = nlohmann::json::parse(read_file(dir.file("out/report.json")));
  ASSERT_EQ(report["plugins"].size(), 2u);
  EXPECT_EQ(report["plugins"][0]["resolved_path"], stuck);
  EXPECT_EQ(report["plugins"][0]["registered"], nlohmann::json::array({"crossbar stuck_on"}));
  EXPECT_EQ(report["plugins"][0]["fnv1a64"].get<std::string>().size(), 16u);
  EXPECT_EQ(report["plugins"][1]["registered"], nlohmann::json::array({"neuron saturating"}));
  const nlohmann::json& components = report["points"][0]["chip"]["components"];
  EXPECT_EQ(components["crossbar"]["type"], "stuck_on");
  EXPECT_EQ(components["crossbar"]["library"], stuck);
  EXPECT_EQ(components["crossbar"]["parameters"]["fraction"], 0.25);
  EXPECT_EQ(components["crossbar"]["parameters"]["seed"], 3);
  EXPECT_EQ(components["crossbar"]["topology"]["rows"], 8);
  EXPECT_EQ(components["neuron_array"]["type"], "saturating");
  EXPECT_EQ(components["neuron_array"]["parameters"]["limit"], 2.0);
  EXPECT_EQ(components["neuron_array"]["describe"], "saturating(limit 2)");
  EXPECT_EQ(components["interconnect"]["library"], "built-in");
  EXPECT_EQ(components["mapping"]["type"], "greedy");
}

// --resume loads the --plugin libraries of the interrupted run from its checkpoint.
TEST(Plugins, ResumeNeedsNoPluginFlag) {
  TempDir dir;
  std::filesystem::copy_file(kStuckOn, dir.file("libstuck_on.so"));
  write_file(dir.file("chip.yaml"),
             "chip:\n  cores: {count: 4}\n  crossbar: {type: stuck_on, rows: 8, cols: 8, fraction: 0.25}\n"
             "  neuron_array: {size: 8}\n");
  write_file(dir.file("c.yaml"),
             "model: {generate: {widths: [6, 5, 3], seed: 2}}\nchip: chip.yaml\ninputs: {type: random, count: 2}\n"
             "faults: [{kind: neuron_crash, layers: [1], probability: 0.1}]\ntrials: 10000000\nbounds: [b4]\n");
  const std::string plugin = "--plugin " + dir.file("libstuck_on.so") + " ";
  ASSERT_EQ(nfsim(plugin + "run " + dir.file("c.yaml") + " --out " + dir.file("full"), dir).code, 0);
  const std::string cmd = std::string(NFSIM_EXE) + " " + plugin + "run " + dir.file("c.yaml") + " --out " +
                          dir.file("cut") + " > " + dir.file("cut.log") +
                          " 2>&1 & pid=$!; sleep 0.5; kill -INT $pid; wait $pid; echo $? > " + dir.file("rc");
  ASSERT_EQ(std::system(("bash -c '" + cmd + "'").c_str()), 0);
  ASSERT_EQ(read_file(dir.file("rc")), "4\n") << read_file(dir.file("cut.log"));
  const nlohmann::json checkpoint = nlohmann::json::parse(read_file(dir.file("cut/checkpoint.json")));
  EXPECT_EQ(checkpoint["plugins"], nlohmann::json::array({canonical(dir.file("libstuck_on.so"))}));
  const CliRun resumed = nfsim("run --resume " + dir.file("cut"), dir);
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  nlohmann::json a = nlohmann::json::parse(read_file(dir.file("full/report.json")));
  nlohmann::json b = nlohmann::json::parse(read_file(dir.file("cut/report.json")));
  a.erase("timing");
  b.erase("timing");
  EXPECT_EQ(a["plugins"][0]["origin"], "--plugin");
  EXPECT_EQ(b["plugins"][0]["origin"], "--plugin (from " + dir.file("cut") + "/checkpoint.json)");
  a.erase("plugins");
  b.erase("plugins");
  EXPECT_EQ(a.dump(), b.dump());
}

// The four examples of docs/plugins.md, compiled from the document (tests/CMakeLists.txt): one
// type per interface, loaded together, selected by a topology and run on the chip engine.
TEST(Plugins, DocumentedExamplesBuildLoadAndRun) {
  TempDir dir;
  ASSERT_EQ(NFSIM_DOC_PLUGIN_COUNT, 4);
  std::string flags;
  for (const std::string& lib : {std::string(NFSIM_DOC_PLUGINS)}) {
    std::size_t start = 0;
    while (start <= lib.size()) {
      const std::size_t end = std::min(lib.find(':', start), lib.size());
      flags += "--plugin " + lib.substr(start, end - start) + " ";
      start = end + 1;
    }
  }
  const CliRun list = nfsim(flags + "list", dir);
  ASSERT_EQ(list.code, 0) << list.err;
  for (const char* type : {"drift", "quantised_output", "ring", "layer_per_core"})
    EXPECT_NE(list.out.find(type), std::string::npos) << type;
  write_file(dir.file("chip.yaml"),
             "chip:\n  cores: {count: 3}\n  crossbar: {type: drift, rows: 4, cols: 4, gain: 0.5}\n"
             "  neuron_array: {type: quantised_output, size: 4, step: 0.25}\n"
             "  interconnect: {type: ring}\n  mapping: {type: layer_per_core}\n");
  write_file(dir.file("c.yaml"),
             "model: {generate: {widths: [6, 5, 3], seed: 2}}\nchip: chip.yaml\ninputs: {type: random, count: 2}\n"
             "faults: [{kind: router, probability: 0.1}]\nengine: chip\ntrials: 20\nbounds: [b4]\n");
  const CliRun run = nfsim(flags + "run " + dir.file("c.yaml") + " --out " + dir.file("out"), dir);
  ASSERT_EQ(run.code, 0) << run.err;
  const nlohmann::json report = nlohmann::json::parse(read_file(dir.file("out/report.json")));
  const nlohmann::json& c = report["points"][0]["chip"]["components"];
  EXPECT_EQ(c["crossbar"]["describe"], "drift(gain 0.5)");
  EXPECT_EQ(c["neuron_array"]["parameters"]["step"], 0.25);
  EXPECT_EQ(c["interconnect"]["describe"], "ring(3 routers)");
  EXPECT_EQ(c["mapping"]["type"], "layer_per_core");
  EXPECT_EQ(report["points"][0]["chip"]["cores_used"], 2);
  EXPECT_EQ(report["plugins"].size(), 4u);
}

}  // namespace
}  // namespace nfsim::test
