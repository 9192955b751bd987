#pragma once

#include <string>

#include "models/network.h"
#include "models/spiking.h"

namespace nfsim::models {

// A spiking network imported from a NIR file (Neuromorphic Intermediate Representation, HDF5;
// docs/nir.md): the chain of linear nodes (Affine, Linear, Conv2d) and neuron nodes (LIF, IF,
// Threshold) as a Network whose hidden layers are relu and whose last layer is the identity (its
// rate equivalent), and the SpikingConfig that gives each neuron its threshold and leak.
struct NirModel {
  Network network;
  // reset zero, regular coding, readout membrane (the last linear node feeds Output) or rate (a
  // neuron node does), layer_thresholds / layer_leaks per neuron. time_steps is the caller's.
  SpikingConfig spiking;
  // "NIR graph (8 nodes, dt = 0.001): input[16] -> fc1+lif1 -> fc2+lif2 -> output"
  std::string describe;
  // The file's dynamics run for `time_steps` steps per inference with `coding` input trains.
  SpikingConfig run_with(int time_steps, SpikeCoding coding) const {
    SpikingConfig c = spiking;
    c.time_steps = time_steps;
    c.coding = coding;
    return c;
  }
};

// Reads the NIR file at `path` and discretises its continuous-time neurons with time step `dt`
// by forward Euler (docs/nir.md): LIF tau dv/dt = (v_leak - v) + r I becomes
// v <- (1 - dt/tau) v + (dt r/tau) I + (dt/tau) v_leak, the gain dt r/tau folded into the
// preceding linear node's rows and the constant into its bias; IF dv/dt = r I becomes
// v <- v + dt r I; Threshold is memoryless (leak 0). Throws InputError naming the file, the node
// (or dataset), the bad value and what was expected, for anything it cannot represent exactly.
// Not to be called from two threads at once: Debian's serial HDF5 library is not thread-safe.
NirModel load_nir(const std::string& path, double dt);

}  // namespace nfsim::models
