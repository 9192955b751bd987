#pragma once
// The fuzz harnesses: each feeds bytes to one of nfsim's input readers, the way a user's file
// reaches it. A reader may refuse the bytes (core::InputError: the clear exit-2 error users see);
// anything else that escapes (another exception, a crash, a sanitizer report, a hang, an
// allocation beyond the limit) is a bug. libFuzzer drives them (tests/fuzz/fuzz_target.cpp,
// `make fuzz`); the unit suite replays the committed corpus and every past crash through the
// same functions (tests/unit/test_fuzz_replay.cpp).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace nfsim::fuzz {

// True when some reader of the target accepted the bytes; InputError is caught, all else escapes.
using Harness = bool (*)(const std::uint8_t* data, std::size_t size);

struct Target {
  std::string name;  // also the corpus folder: tests/fuzz/corpus/<name>, tests/fuzz/regressions/<name>
  Harness run;
};

// onnx, campaign, topology, idx, npy, csv, onnx_attrs (attribute mutation on a valid model).
const std::vector<Target>& targets();
const Target& target(const std::string& name);

// Runs one input through a harness; returns false when every reader refused it with InputError
// (last_refusal() has the message). Any other exception propagates.
bool accepts(const Target& t, const std::uint8_t* data, std::size_t size);
const std::string& last_refusal();

}  // namespace nfsim::fuzz
