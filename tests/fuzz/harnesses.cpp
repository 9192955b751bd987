#include "tests/fuzz/harnesses.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "core/error.h"
#include "models/dataset.h"
#include "models/onnx_io.h"
#include "sim/topology/chip_topology.h"
#include "testbench/campaign/campaign_config.h"

namespace nfsim::fuzz {
namespace {

// The readers take paths, as users give them: the bytes go to a file of this process first.
std::string write_temp(const std::uint8_t* data, std::size_t size, const std::string& suffix) {
  static const std::string dir = [] {
    const char* env = std::getenv("TMPDIR");
    return std::string(env && *env ? env : "/tmp");
  }();
  const std::string path = dir + "/nfsim_fuzz_" + std::to_string(::getpid()) + suffix;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) throw std::runtime_error("fuzz harness: cannot write " + path);
  return path;
}

thread_local std::string refusal;

// Runs one reader; InputError (a clear refusal) is an answer, anything else escapes.
template <typename F>
bool attempt(F&& read) {
  try {
    read();
    return true;
  } catch (const core::InputError& e) {
    refusal = e.what();
    return false;
  }
}

bool onnx(const std::uint8_t* data, std::size_t size) {
  return attempt([&] { models::parse_onnx(std::string(reinterpret_cast<const char*>(data), size), "fuzz.onnx"); });
}

bool campaign(const std::uint8_t* data, std::size_t size) {
  // Relative paths in the campaign resolve next to the file (the temp dir: nothing there).
  const std::string path = write_temp(data, size, "_campaign.yaml");
  return attempt([&] { tb::load_campaign_points(path); });
}

bool topology(const std::uint8_t* data, std::size_t size) {
  const std::string path = write_temp(data, size, "_chip.yaml");
  return attempt([&] { sim::load_topology(path); });
}

// A data file is read as samples and as labels, as the campaign's inputs and labels keys would.
bool idx(const std::uint8_t* data, std::size_t size) {
  const std::string path = write_temp(data, size, "_data.idx");
  const bool samples = attempt([&] { models::read_idx_images(path, 100); });
  const bool labels = attempt([&] { models::read_idx_labels(path, 100); });
  return samples || labels;
}

bool npy(const std::uint8_t* data, std::size_t size) {
  const std::string path = write_temp(data, size, "_data.npy");
  const bool samples = attempt([&] { models::read_npy_matrix(path, 100); });
  const bool labels = attempt([&] { models::read_labels(path, 100); });
  return samples || labels;
}

bool csv(const std::uint8_t* data, std::size_t size) {
  const std::string path = write_temp(data, size, "_data.csv");
  const bool samples = attempt([&] { models::read_csv_matrix(path, 100); });
  const bool labels = attempt([&] { models::read_labels(path, 100); });
  return samples || labels;
}

}  // namespace

const std::vector<Target>& targets() {
  static const std::vector<Target> all{{"onnx", onnx}, {"campaign", campaign}, {"topology", topology},
                                       {"idx", idx},   {"npy", npy},           {"csv", csv}};
  return all;
}

const Target& target(const std::string& name) {
  for (const Target& t : targets()) {
    if (t.name == name) return t;
  }
  throw std::invalid_argument("no fuzz target '" + name + "'");
}

bool accepts(const Target& t, const std::uint8_t* data, std::size_t size) { return t.run(data, size); }

const std::string& last_refusal() { return refusal; }

}  // namespace nfsim::fuzz
