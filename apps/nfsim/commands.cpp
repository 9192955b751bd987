#include "apps/nfsim/commands.h"

#include <boost/program_options.hpp>
#include <mpi.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <unistd.h>
#include <fstream>
#include <algorithm>
#include <iostream>
#include <exception>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/input_file.h"
#include "core/plugin.h"
#include "core/strings.h"
#include "models/dataset.h"
#include "models/layer/dense_layer.h"
#include "models/onnx_io.h"
#include "models/random_network.h"
#include "models/nir_io.h"
#include "models/spiking.h"
#include "sim/functional/spiking_engine.h"
#include "sim/chip/chip_engine.h"
#include "core/running_stats.h"
#include "faults/bound_model.h"
#include "faults/fault_plan.h"
#include "models/bounds/bounds.h"
#include "sim/crossbar/i_crossbar_model.h"
#include "sim/engine/i_engine.h"
#include "sim/interconnect/i_interconnect_model.h"
#include "sim/neuron/i_neuron_model.h"
#include "sim/topology/chip_topology.h"
#include "sim/topology/components.h"
#include "sim/topology/mapping.h"
#include "sim/topology/physical_units.h"
#include "testbench/campaign/campaign_config.h"
#include "testbench/report/bounds_table.h"
#include "testbench/campaign/checkpoint.h"
#include "testbench/campaign/finite_check.h"
#include "testbench/campaign/output_dir.h"
#include "testbench/campaign/prepare.h"
#include "testbench/campaign/runner.h"
#include "testbench/campaign/tolerate.h"
#include "testbench/campaign/harden.h"
#include "testbench/report/csv_table.h"
#include "testbench/scoreboard/scoreboard.h"

namespace po = boost::program_options;

namespace nfsim::app {
namespace {

// Parses `args` against `options` (+ positionals); prints help and returns false on --help.
bool parse(const std::string& usage, const std::vector<std::string>& args, po::options_description& options,
           const po::positional_options_description& positional, po::variables_map& vm) {
  options.add_options()("help,h", "show this help");
  po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
  if (vm.count("help")) {
    std::cout << usage << "\n\n" << options << "\n";
    return false;
  }
  po::notify(vm);
  return true;
}

// The inputs of --inputs (or another SPEC option, with its own count option: --calibration,
// --calibration-count), scaled and shifted by --scale and --shift; --labels for --inputs only.
models::Dataset load_dataset(const po::variables_map& vm, const models::Network& net, const char* option = "inputs",
                             const char* count_option = "count") {
  models::InputSpec spec = models::parse_input_spec(vm[option].as<std::string>());
  if (vm.count(count_option)) {
    const long long n = vm[count_option].as<long long>();
    if (n < 1) throw core::InputError(std::string("--") + count_option + " " + std::to_string(n) + ": expected an integer >= 1");
    spec.count = n;
  }
  if (vm.count("scale")) spec.scale = vm["scale"].as<double>();
  if (vm.count("shift")) spec.shift = vm["shift"].as<double>();
  if (std::string(option) == "inputs" && vm.count("labels")) {
    spec.labels_path = vm["labels"].as<std::string>();
    if (spec.labels_path.empty()) {
      throw core::InputError("--labels '': empty path; expected a labels file (*-idx1-ubyte[.gz], .npy or .csv)");
    }
  }
  return models::load_inputs(spec, net.input_size(), net.output_size(), net.input_shape());
}

// The value of a trial-count option such as --trials: an integer in [1, 2^32].
std::uint64_t count_option(const po::variables_map& vm, const char* name) {
  const long long t = vm[name].as<long long>();
  if (t < 1 || t > (1ll << 32)) {
    throw core::InputError(std::string("--") + name + " " + std::to_string(t) + ": expected an integer in [1, 4294967296]");
  }
  return static_cast<std::uint64_t>(t);
}

}  // namespace

std::vector<std::string> set_overrides(const po::variables_map& vm) {
  if (!vm.count("set")) return {};
  return vm["set"].as<std::vector<std::string>>();
}

int cmd_info(const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()("model", po::value<std::string>()->required(), "ONNX model file");
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm;
  if (!parse("Usage: nfsim info MODEL\n\nPrints the layers of an ONNX model as nfsim imports them: shapes,\n"
             "activations (with input scale) and parameter counts.",
             args, options, pos, vm)) {
    return 0;
  }
  const std::string path = vm["model"].as<std::string>();
  const models::Network net = models::load_onnx(path);
  std::printf("model:      %s\n", path.c_str());
  std::printf("network:    %s\n", net.describe().c_str());
  std::printf("inputs:     %ld\n", static_cast<long>(net.input_size()));
  std::printf("outputs:    %ld%s\n", static_cast<long>(net.output_size()),
              net.softmax_output() ? " (followed by softmax; bounds use the pre-softmax outputs)" : "");
  std::printf("parameters: %zu\n\n", net.parameter_count());
  if (!net.has_stages() && net.input_shape().size() != 3) {
    std::printf("%-6s %8s %8s %10s  %s\n", "layer", "inputs", "outputs", "params", "activation");
    for (int l = 1; l <= net.num_layers(); ++l) {
      const auto& layer = net.layer(l);
      std::printf("%-6d %8ld %8ld %10ld  %s\n", l, static_cast<long>(layer.input_size()),
                  static_cast<long>(layer.output_size()), static_cast<long>(layer.parameter_count()),
                  layer.activation().describe().c_str());
    }
    return 0;
  }
  // An image network: each layer's kind and tensor shapes, then its output stage (the pooling
  // done in its neuron arrays; layer 0's is done at the host).
  auto shape = [](const std::vector<Eigen::Index>& s) {
    std::vector<std::string> parts;
    for (auto v : s) parts.push_back(std::to_string(v));
    return core::join(parts, "x");
  };
  std::printf("%-6s %-8s %-12s %-12s %10s  %-22s %s\n", "layer", "kind", "input", "output", "params", "activation",
              "stage");
  std::printf("%-6d %-8s %-12s %-12s %10s  %-22s %s\n", 0, "input", "", shape(net.shape(0)).c_str(), "", "",
              net.stage(0) ? (net.stage(0)->describe() + " -> " + shape(net.staged_shape(0))).c_str() : "-");
  for (int l = 1; l <= net.num_layers(); ++l) {
    const auto& layer = net.layer(l);
    const std::string stage = net.stage(l) ? net.stage(l)->describe() + " -> " + shape(net.staged_shape(l)) : "-";
    std::printf("%-6d %-8s %-12s %-12s %10ld  %-22s %s\n", l, layer.kind().c_str(), shape(net.staged_shape(l - 1)).c_str(),
                shape(net.shape(l)).c_str(), static_cast<long>(layer.parameter_count()),
                layer.activation().describe().c_str(), stage.c_str());
  }
  return 0;
}

namespace {

// nfsim eval's --precision: 1..17 significant digits.
int eval_precision(const po::variables_map& vm) {
  const int precision = vm["precision"].as<int>();
  if (precision < 1 || precision > 17) throw core::InputError("--precision " + std::to_string(precision) + ": expected 1..17");
  return precision;
}

// nfsim eval's CSV (index, out0, out1, ...; one row per input) to --out, atomically, or to stdout.
void write_eval_csv(const po::variables_map& vm, const Eigen::MatrixXd& out, int precision) {
  const auto names = tb::numbered_names("out", out.rows());
  if (vm.count("out")) {
    core::write_file_atomically(vm["out"].as<std::string>(),
                                [&](std::ostream& os) { tb::write_columns_csv(os, out, names, precision); });
  } else {
    std::ostringstream os;
    tb::write_columns_csv(os, out, names, precision);
    std::cout << os.str() << std::flush;
  }
}

// `nfsim eval --spiking T`: the converted network's spiking outputs (docs/spiking.md).
int eval_spiking(const po::variables_map& vm) {
  models::SpikingConfig c;
  c.time_steps = vm["spiking"].as<int>();
  if (c.time_steps < 1 || c.time_steps > 100000) {
    throw core::InputError("--spiking " + std::to_string(c.time_steps) + ": expected a time-step count in [1, 100000]");
  }
  auto choose = [&](const char* flag, const std::vector<std::string>& names) -> std::size_t {
    const std::string v = vm[flag].as<std::string>();
    const auto it = std::find(names.begin(), names.end(), v);
    if (it == names.end()) throw core::InputError(std::string("--") + flag + " '" + v + "': expected " + core::join(names, " or "));
    return static_cast<std::size_t>(it - names.begin());
  };
  c.neuron = choose("neuron", {"if", "lif"}) == 0 ? models::SpikingNeuron::if_neuron : models::SpikingNeuron::lif;
  c.reset = choose("reset", {"subtract", "zero"}) == 0 ? models::SpikeReset::subtract : models::SpikeReset::zero;
  c.coding = choose("input-coding", {"regular", "bernoulli"}) == 0 ? models::SpikeCoding::regular : models::SpikeCoding::bernoulli;
  c.readout = choose("readout", {"membrane", "rate"}) == 0 ? models::SpikeReadout::membrane : models::SpikeReadout::rate;
  if (vm.count("leak")) {
    c.leak = vm["leak"].as<double>();
    if (c.neuron != models::SpikingNeuron::lif) throw core::InputError("--leak: applies to --neuron lif only (an if neuron has no leak)");
    if (!(c.leak > 0 && c.leak <= 1)) throw core::InputError("--leak " + core::format_double(c.leak) + ": expected a factor in (0, 1]");
  }
  c.refractory_steps = vm["refractory-steps"].as<int>();
  if (c.refractory_steps < 0) throw core::InputError("--refractory-steps " + std::to_string(c.refractory_steps) + ": expected >= 0");
  c.percentile = vm["percentile"].as<double>();
  const int precision = eval_precision(vm);
  const long long seed = vm["seed"].as<long long>();
  if (seed < 0) throw core::InputError("--seed " + std::to_string(seed) + ": expected an integer >= 0");
  if (vm.count("out")) core::check_output_file(vm["out"].as<std::string>());
  const std::string model_path = vm["model"].as<std::string>();
  const bool nir = model_path.size() >= 4 && model_path.compare(model_path.size() - 4, 4, ".nir") == 0;
  std::optional<models::NirModel> nir_model;
  if (nir) {
    // A spiking network as it is: no conversion (docs/nir.md).
    if (!vm.count("dt")) throw core::InputError("--dt: missing for the NIR model " + model_path + "; expected its time step in seconds, e.g. --dt 0.001");
    const double dt = vm["dt"].as<double>();
    if (!(dt > 0 && dt <= 1e3)) throw core::InputError("--dt " + core::format_double(dt) + ": expected a time step in (0, 1000] seconds");
    for (const char* flag : {"calibration", "calibration-count", "leak"}) {
      if (vm.count(flag)) throw core::InputError(std::string("--") + flag + ": does not apply to a NIR model (the file gives its weights and neurons)");
    }
    for (const char* flag : {"neuron", "reset", "readout", "percentile", "refractory-steps"}) {
      if (!vm[flag].defaulted()) throw core::InputError(std::string("--") + flag + ": does not apply to a NIR model (the file gives its neurons and readout)");
    }
    nir_model = models::load_nir(model_path, dt);
  } else if (vm.count("dt")) {
    throw core::InputError("--dt: applies to NIR models only (" + model_path + " is converted, with no time constants)");
  }
  const models::Network net = nir ? nir_model->network : models::load_onnx(model_path);
  models::check_spiking_network(net, model_path);
  const models::Dataset data = load_dataset(vm, net);
  models::Dataset calibration;
  if (vm.count("calibration")) {
    calibration = load_dataset(vm, net, "calibration", "calibration-count");
  } else if (vm.count("calibration-count")) {
    throw core::InputError("--calibration-count: needs --calibration");
  }
  const models::Dataset& calib = vm.count("calibration") ? calibration : data;
  models::check_spike_rates(data.inputs, "--inputs " + data.source);
  if (vm.count("calibration")) models::check_spike_rates(calibration.inputs, "--calibration " + calibration.source);
  models::Conversion conversion;
  if (nir) {
    c = nir_model->run_with(c.time_steps, c.coding);
    conversion.network = net;
    conversion.lambdas.assign(static_cast<std::size_t>(net.num_layers() + 1), 1.0);
  } else {
    conversion = models::convert_to_spiking(net, calib.inputs, c.percentile);
  }
  const sim::SpikingModel model(conversion.network, c, static_cast<std::uint64_t>(seed));
  const Eigen::Index N = data.inputs.cols();
  Eigen::MatrixXd out(net.output_size(), N);
  std::vector<double> spikes(static_cast<std::size_t>(net.num_layers()), 0.0);
  std::string engine = "functional";
  if (vm.count("chip")) {
    // The converted network mapped onto the chip and run on its spiking arrays, fault-free.
    if (c.coding != models::SpikeCoding::regular) {
      throw core::InputError("--chip: the chip's spiking arrays take regular input trains; expected --input-coding regular");
    }
    const sim::ChipTopology topology = sim::load_topology(vm["chip"].as<std::string>());
    const std::unique_ptr<sim::INeuronModel> neurons = sim::make_neuron_model(topology);
    if (!neurons->spiking()) {
      throw core::InputError(vm["chip"].as<std::string>() + ": neuron_array: type '" + topology.neuron_array.type +
                             "' does not spike; --spiking runs on spiking arrays: expected neuron_array: {type: lif} (or if)");
    }
    if (!neurons->leaky()) {
      const std::string leak = tb::first_leak_other_than_one(c, net.num_layers(), "--leak", model_path);
      if (!leak.empty()) {
        throw core::InputError(vm["chip"].as<std::string>() + ": neuron_array: type '" + topology.neuron_array.type +
                               "' has no leak, and " + leak + "; expected neuron_array: {type: lif} for leaky dynamics");
      }
    }
    const sim::MappedChip chip = sim::map_network(conversion.network, topology);
    const faults::FaultPlan none({}, conversion.network);
    sim::ChipEngineOptions options;
    options.spiking = &c;
    sim::ChipEngine chip_engine(conversion.network, data.inputs, chip, none, options);
    out = chip_engine.reference_outputs();
    engine = "chip (" + topology.name + ", " + vm["chip"].as<std::string>() + ")";
  }
  sim::SpikeTrace trace;
  for (Eigen::Index n = 0; n < N; ++n) {
    model.run_clean(data.inputs.col(n).data(), 0, static_cast<std::uint32_t>(n), trace);
    if (!vm.count("chip")) out.col(n) = trace.output;
    for (std::size_t l = 0; l < spikes.size(); ++l) spikes[l] += trace.spikes[l].cast<double>().sum() / static_cast<double>(N);
  }
  tb::check_fault_free_outputs(conversion.network, data.inputs, out, data.source);
  write_eval_csv(vm, out, precision);
  if (nir) {
    std::fprintf(stderr, "spiking: %s, T = %d, %s input; engine %s\n", nir_model->describe.c_str(), c.time_steps,
                 models::to_string(c.coding), engine.c_str());
  } else {
    std::fprintf(stderr, "spiking: %s; calibrated on %s (percentile %s); engine %s\n", c.describe().c_str(), calib.source.c_str(),
                 core::format_double(c.percentile).c_str(), engine.c_str());
  }
  std::vector<std::string> per_layer;
  for (double v : spikes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    per_layer.push_back(buf);
  }
  std::fprintf(stderr, "spikes per inference, layers 0..%d: %s\n", net.num_layers() - 1, core::join(per_layer, ", ").c_str());
  if (!data.labels.empty()) {
    std::fprintf(stderr, "rate equivalent accuracy: %.6f\n", tb::accuracy_of(conversion.network.forward_batch(data.inputs), data.labels));
    std::fprintf(stderr, "accuracy: %.6f\n", tb::accuracy_of(out, data.labels));
  }
  return 0;
}

}  // namespace

int cmd_eval(const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()                                                                    //
      ("model", po::value<std::string>()->required(), "ONNX model file")                  //
      ("inputs", po::value<std::string>()->required(),
       "input SPEC: a .npy, .csv or *-idx3-ubyte[.gz] file, or random:COUNT[:SCALE[:SHIFT[:SEED]]]")  //
      ("labels", po::value<std::string>(), "labels file (*-idx1-ubyte[.gz], .npy or .csv): prints accuracy on stderr")  //
      ("count", po::value<long long>(), "use at most N inputs from the file")  //
      ("scale", po::value<double>(), "multiply every file input value by S (e.g. 0.00392156862745098 = 1/255)")  //
      ("shift", po::value<double>(), "then add this to every file input value")  //
      ("logits", po::bool_switch(), "print the pre-softmax outputs even if the model ends in a softmax")  //
      ("precision", po::value<int>()->default_value(9), "significant digits in the CSV")  //
      ("out", po::value<std::string>(), "write the CSV to this file (atomically) instead of stdout");
  po::options_description spiking("Spiking (docs/spiking.md)");
  spiking.add_options()  //
      ("spiking", po::value<int>(), "run the network converted to integrate-and-fire arrays for T time steps per input")  //
      ("calibration", po::value<std::string>(),
       "input SPEC the conversion normalises each layer on (default: --inputs); --scale and --shift apply to it too")  //
      ("calibration-count", po::value<long long>(), "use at most N calibration inputs")  //
      ("percentile", po::value<double>()->default_value(99.9), "normalise each hidden layer by this percentile of its activations")  //
      ("neuron", po::value<std::string>()->default_value("if"), "if (no leak) or lif")  //
      ("leak", po::value<double>(), "lif: the share of the membrane kept each step, in (0, 1]")  //
      ("reset", po::value<std::string>()->default_value("subtract"), "after a spike: subtract (the threshold) or zero")  //
      ("refractory-steps", po::value<int>()->default_value(0), "steps after a spike without integrating or firing")  //
      ("input-coding", po::value<std::string>()->default_value("regular"), "regular or bernoulli spike trains from the inputs")  //
      ("readout", po::value<std::string>()->default_value("membrane"), "membrane (integrated output current / T) or rate (spike count / T)")  //
      ("seed", po::value<long long>()->default_value(1), "seed of the Bernoulli input spikes")  //
      ("dt", po::value<double>(), "a NIR model's time step in seconds (its neurons discretised with it; docs/nir.md)")  //
      ("chip", po::value<std::string>(),
       "run on the SystemC chip engine with this topology file (spiking arrays; regular input trains) instead of the "
       "functional engine");
  options.add(spiking);
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm;
  if (!parse("Usage: nfsim eval MODEL --inputs SPEC [--labels PATH] [--count N] [--scale S]\n"
             "       nfsim eval MODEL --inputs SPEC --labels PATH --spiking T [--calibration SPEC]\n"
             "       nfsim eval MODEL.nir --inputs SPEC --spiking T --dt SECONDS\n\n"
             "Runs the fault-free network on the inputs and prints its outputs as CSV: a header row\n"
             "(index,out0,out1,...) then one row per input. With --labels, prints 'accuracy: <fraction>'\n"
             "(argmax of the outputs against the labels) on stderr. With --spiking T, the network is\n"
             "converted to integrate-and-fire arrays (data-based normalisation on the calibration inputs)\n"
             "and each input runs T time steps; the outputs are the output layer's readout, and stderr\n"
             "also gives the rate equivalent's accuracy and the spikes per inference. With --chip, the\n"
             "spiking arrays of that SystemC chip run it (the spikes per inference are the functional model's).",
             args, options, pos, vm)) {
    return 0;
  }
  if (vm.count("spiking")) return eval_spiking(vm);
  const std::string path = vm["model"].as<std::string>();
  if (path.size() >= 4 && path.compare(path.size() - 4, 4, ".nir") == 0) {
    throw core::InputError(path + ": a NIR model is a spiking network; expected --spiking T --dt SECONDS");
  }
  const int precision = eval_precision(vm);
  if (vm.count("out")) core::check_output_file(vm["out"].as<std::string>());
  const models::Network net = models::load_onnx(vm["model"].as<std::string>());
  const models::Dataset data = load_dataset(vm, net);
  const Eigen::MatrixXd out = vm["logits"].as<bool>() ? net.forward_batch(data.inputs) : net.output_batch(data.inputs);
  tb::check_fault_free_outputs(net, data.inputs, out, data.source);  // no inf or NaN in the CSV
  write_eval_csv(vm, out, precision);
  if (!data.labels.empty()) std::fprintf(stderr, "accuracy: %.6f\n", tb::accuracy_of(out, data.labels));
  return 0;
}

int cmd_gen_network(const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()                                                                            //
      ("widths", po::value<std::string>(), "layer widths n_0,n_1,...,n_L (n_0 = inputs) of a dense network")  //
      ("input", po::value<std::string>(), "with --layers: the input shape CxHxW (e.g. 1x28x28) or a width")  //
      ("layers", po::value<std::string>(),
       "instead of --widths: a layer list, comma-separated: conv:C:K[:s=S][:p=P][:d=D][:g=G] (C output channels, "
       "K x K kernel, stride, pad, dilation, groups), maxpool:K[:s=S], avgpool:K[:s=S], gap (global average), "
       "dense:N; a pooling pools the layer before it (or the input)")  //
      ("activation", po::value<std::string>()->default_value("relu"),
       "hidden-layer activation: identity, relu, leaky_relu, sigmoid, tanh, softplus")  //
      ("output-activation", po::value<std::string>()->default_value("identity"), "output-layer activation")  //
      ("activation-scale", po::value<double>()->default_value(1.0),
       "input scale of the hidden activation: phi(scale * z), e.g. 4 for the paper's sigmoid(4Kz)")  //
      ("sigma", po::value<double>()->default_value(1.0), "W_l ~ N(mu, (sigma/n_{l-1})^2), b_l ~ N(mu, (sigma/n_l)^2)")  //
      ("mu", po::value<double>()->default_value(0.0), "mean of weights and biases")  //
      ("seed", po::value<long long>()->default_value(1), "random seed (>= 0)")  //
      ("softmax", po::bool_switch(), "end the model with a softmax")  //
      ("dtype", po::value<std::string>()->default_value("float64"),
       "ONNX tensor type: float64 (bit-exact weights) or float32")  //
      ("out", po::value<std::string>()->required(), "output ONNX file (written atomically)");
  po::variables_map vm;
  if (!parse("Usage: nfsim gen-network --widths 20,20,20,1 --activation relu --sigma 3 --mu 0.1 --seed 1 "
             "--out net.onnx\n"
             "       nfsim gen-network --input 1x28x28 --layers conv:8:3:p=1,maxpool:2,conv:16:3:s=2,gap,dense:10 "
             "--out cnn.onnx\n\n"
             "Generates a random network as in the paper and writes it as ONNX: a dense one from --widths, or\n"
             "a convolutional one from --input and --layers (conv weights N(mu, (sigma/fan_in)^2), fan_in =\n"
             "C_in/groups*K*K).",
             args, options, {}, vm)) {
    return 0;
  }
  models::RandomNetworkSpec spec;
  if (vm.count("widths") == vm.count("layers")) {
    throw core::InputError(vm.count("widths") ? "--widths and --layers: expected one of them, not both"
                                              : "expected --widths (a dense network) or --input and --layers (a convolutional one)");
  }
  if (vm.count("widths")) {
    if (vm.count("input")) throw core::InputError("--input goes with --layers; --widths gives the input width as n_0");
    for (const auto& w : core::split(vm["widths"].as<std::string>(), ',')) {
      spec.widths.push_back(static_cast<int>(core::parse_int(w, "--widths entry", 1, 1'000'000)));
    }
  } else {
    if (!vm.count("input")) throw core::InputError("--layers needs --input CxHxW (e.g. 1x28x28) or a width");
    spec.input_shape = models::parse_input_shape(vm["input"].as<std::string>());
    spec.layers = models::parse_random_layers(vm["layers"].as<std::string>());
  }
  spec.activation.kind = models::parse_activation_kind(vm["activation"].as<std::string>());
  spec.activation.scale = vm["activation-scale"].as<double>();
  spec.output_activation.kind = models::parse_activation_kind(vm["output-activation"].as<std::string>());
  spec.sigma = vm["sigma"].as<double>();
  spec.mu = vm["mu"].as<double>();
  if (vm["seed"].as<long long>() < 0) throw core::InputError("--seed " + std::to_string(vm["seed"].as<long long>()) + ": expected an integer >= 0");
  spec.seed = static_cast<std::uint64_t>(vm["seed"].as<long long>());
  models::OnnxExportOptions export_options;
  const std::string dtype = vm["dtype"].as<std::string>();
  if (dtype == "float32") {
    export_options.dtype = models::OnnxDType::float32;
  } else if (dtype != "float64") {
    throw core::InputError("--dtype '" + dtype + "': expected float64 or float32");
  }
  core::check_output_file(vm["out"].as<std::string>());
  models::Network net = models::make_random_network(spec);
  if (vm["softmax"].as<bool>() && !net.has_stages() && net.input_shape().size() != 3) {
    net = models::dense_network(models::dense_params(net, "--softmax"), true);
  } else if (vm["softmax"].as<bool>()) {
    std::vector<std::unique_ptr<models::ILayer>> layers;
    std::vector<std::shared_ptr<const models::Pool2d>> stages;
    for (int l = 1; l <= net.num_layers(); ++l) layers.push_back(net.layer(l).clone());
    for (int l = 0; l < net.num_layers(); ++l) {
      stages.push_back(net.stage(l) ? std::make_shared<const models::Pool2d>(*net.stage(l)) : nullptr);
    }
    net = models::Network(std::move(layers), std::move(stages), true, net.input_shape());
  }
  const std::string out = vm["out"].as<std::string>();
  models::save_onnx(net, out, export_options);
  std::fprintf(stderr, "wrote %s: %s, %zu parameters\n", out.c_str(), net.describe().c_str(), net.parameter_count());
  return 0;
}

int cmd_bounds(const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()                                                   //
      ("model", po::value<std::string>()->required(), "ONNX model file")  //
      ("inputs", po::value<std::string>()->required(),
       "input SPEC: a .npy, .csv or *-idx3-ubyte[.gz] file, or random:COUNT[:SCALE[:SHIFT[:SEED]]]")  //
      ("count", po::value<long long>(), "use at most N inputs from the file")                          //
      ("scale", po::value<double>(), "multiply every file input value by S")                            //
      ("shift", po::value<double>(), "then add this to every file input value")                         //
      ("fault", po::value<std::vector<std::string>>()->required(),
       "fault SPEC (repeatable): KIND:layers=L[,L..]:p=P[:persistence=transient|permanent][:value=V]"
       "[:bit=B][:format=TOTAL.FRAC]; KIND is neuron_crash, synapse_crash, neuron_stuck_at, "
       "synapse_stuck_at or weight_bit_flip")  //
      ("bounds", po::value<std::string>()->default_value("b1,b2,b3,b4,worst_case,sum_norms"),
       "bound families to compute, comma-separated")  //
      ("out", po::value<std::string>()->default_value("bounds.json"), "JSON output file (written atomically)");
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm;
  if (!parse("Usage: nfsim bounds MODEL --inputs SPEC --fault SPEC [--fault SPEC...] [--out bounds.json]\n\n"
             "Computes the analytic error bounds of docs/bounds.md for each input (summed over the\n"
             "fault specs and their layers), prints a table and writes them, with the network's\n"
             "fault-tolerance profile, as JSON. b1, b2 and worst_case exist only for neuron crashes.",
             args, options, pos, vm)) {
    return 0;
  }
  core::check_output_file(vm["out"].as<std::string>());
  const models::Network net = models::load_onnx(vm["model"].as<std::string>());
  const models::Dataset data = load_dataset(vm, net);
  std::vector<faults::FaultSpec> specs;
  for (const auto& f : vm["fault"].as<std::vector<std::string>>()) specs.push_back(faults::parse_fault_spec(f));
  const faults::FaultPlan plan(specs, net);
  const std::vector<std::string> families = core::split(vm["bounds"].as<std::string>(), ',');
  const tb::BoundsTable table = tb::compute_bounds_table(net, data, plan, families);
  tb::check_bounds_table(table, net, data, specs, families);  // no inf or NaN in the table or the JSON
  tb::print_bounds_table(stdout, table);
  const nlohmann::json out = tb::bounds_json(table, vm["model"].as<std::string>(), net, data, plan);
  const std::string path = vm["out"].as<std::string>();
  const std::string text = out.dump(1) + "\n";
  core::write_file_atomically(path, [&](std::ostream& os) { os << text; });
  std::fprintf(stderr, "wrote %s\n", path.c_str());
  return 0;
}

namespace {

// Progress on stderr, only when stderr is a terminal: trials done, trials/s, ETA.
struct Progress {
  bool enabled = isatty(fileno(stderr)) && tb::mpi_rank() == 0;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now(), last;
  void operator()(std::size_t point, std::size_t points, std::uint64_t done, std::uint64_t total) {
    if (!enabled) return;
    const auto now = std::chrono::steady_clock::now();
    if (done < total && now - last < std::chrono::milliseconds(200)) return;
    last = now;
    const double secs = std::chrono::duration<double>(now - start).count();
    const double rate = secs > 0 ? static_cast<double>(done) / secs : 0.0;
    const double eta = rate > 0 ? static_cast<double>(total - std::min(done, total)) / rate : 0.0;
    std::fprintf(stderr, "\rpoint %zu/%zu: %llu/%llu trials, %.0f trials/s, ETA %.0f s   ", point + 1, points,
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total), rate, eta);
    if (done >= total) {
      std::fprintf(stderr, "\n");
      start = now;
    }
  }
};

}  // namespace

int cmd_run(const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()                                                                       //
      ("campaign", po::value<std::string>(), "campaign YAML file")                            //
      ("set", po::value<std::vector<std::string>>()->composing(),
       "override a campaign key before validation, e.g. --set faults[0].probability=0.05 (repeatable)")  //
      ("engine", po::value<std::string>(), "engine (overrides the file): exact (every fault subset, tiny plans), functional (Eigen, "
                                           "fast) or chip (SystemC, timed; needs chip:); `nfsim list` shows what each honours")  //
      ("vcd", po::value<std::string>(), "chip engine: write a VCD trace (inference, busy, outputs, active faults) here")  //
      ("trials", po::value<std::string>(), "number of trials, or auto (overrides the file)")               //
      ("seed", po::value<long long>(), "random seed >= 0 (overrides the file)")                      //
      ("out", po::value<std::string>(), "output directory (default: results/<campaign name>)")  //
      ("resume", po::value<std::string>(), "continue the interrupted run whose output directory is DIR")  //
      ("threads", po::value<long long>(), "functional engine threads, or chip engine worker processes (each its own "
                                          "SystemC kernel) (default: every core; 1 per rank under mpirun, where the ranks "
                                          "are the chip's workers); the numbers do not depend on it")  //
      ("trial-outputs", po::value<long long>(), "also write the faulty outputs of the first N trials of each point to "
                                                "DIR/trial_outputs_<point>.csv (to compare engines trial by trial)");
  po::positional_options_description pos;
  pos.add("campaign", 1);
  po::variables_map vm;
  if (!parse("Usage: nfsim run CAMPAIGN.yaml [--set key=value]... [--engine exact|functional|chip] [--trials N|auto] [--seed S] [--threads T] [--out DIR]\n"
             "       nfsim run --resume DIR\n\n"
             "Runs a fault-injection campaign (every sweep point): Monte Carlo of the faulty network or chip on the\n"
             "campaign's inputs, the analytic bounds, their verdicts and the campaign's requirements. Writes\n"
             "DIR/report.json (schema: docs/report.md), DIR/summary.csv (and DIR/faults.jsonl: the faults drawn, units named with coordinates)\n"
             "and prints a summary table. Same seed, same numbers. SIGINT/SIGTERM finish the current block, write\n"
             "the report with complete: false and a checkpoint; --resume DIR continues to the same final numbers\n"
             "(it loads the run's --plugin libraries again from the checkpoint: give no --plugin).\n"
             "Under mpirun the trials are split over the ranks with bit-identical results; rank 0 keeps a checkpoint\n"
             "(every NFSIM_MPI_CHECKPOINT_SECONDS, default 60), and a rank that dies or sends nothing for\n"
             "NFSIM_MPI_PEER_TIMEOUT seconds ends the run with a checkpoint and a line naming it (docs/report.md).\n\n"
             "Exit codes: 0 done and every requirement met, 3 a requirement not met, 4 interrupted or an MPI rank lost (resumable),\n"
             "2 bad input, 1 internal error.",
             args, options, pos, vm)) {
    return 0;
  }
  tb::RunOptions run_options;
  std::string file, shown_file, absolute_file;
  std::vector<std::string> overrides;
  std::string out_dir;
  if (vm.count("resume")) {
    if (vm.count("campaign") || vm.count("set") || vm.count("trials") || vm.count("seed") || vm.count("engine")) {
      throw core::UsageError("--resume DIR takes the campaign and its overrides from DIR/checkpoint.json; give no campaign or overrides");
    }
    if (vm.count("out")) throw core::UsageError("--resume DIR writes its report into DIR; give no --out");
    out_dir = vm["resume"].as<std::string>();
    const tb::ResumeSource source = tb::read_resume_source(out_dir);  // loads the run's --plugin libraries too
    file = absolute_file = source.campaign_file_absolute;
    shown_file = source.campaign_file;
    // Resumed where the run started, the file is read under the name it was given, so the paths
    // it names (model, inputs, chip) are reported as the first run wrote them, not made absolute.
    std::error_code same_ec;
    if (std::filesystem::equivalent(shown_file, absolute_file, same_ec)) file = shown_file;
    overrides = source.overrides;
    run_options.resume = true;
  } else {
    if (!vm.count("campaign")) throw core::UsageError("the option '--campaign' is required but missing");
    file = vm["campaign"].as<std::string>();
    overrides = set_overrides(vm);
    if (vm.count("engine")) overrides.push_back("--engine=" + vm["engine"].as<std::string>());
    if (vm.count("trials")) overrides.push_back("--trials=" + vm["trials"].as<std::string>());
    if (vm.count("seed")) {
      if (vm["seed"].as<long long>() < 0) throw core::InputError("--seed " + std::to_string(vm["seed"].as<long long>()) + ": expected an integer >= 0");
      overrides.push_back("--seed=" + std::to_string(vm["seed"].as<long long>()));
    }
    if (vm.count("out")) {
      out_dir = vm["out"].as<std::string>();
    } else {
      std::string stem = file.substr(file.find_last_of('/') + 1);
      stem = stem.substr(0, stem.find_last_of('.'));
      out_dir = "results/" + stem;
    }
  }
  std::vector<tb::CampaignConfig> points = tb::load_campaign_points(file, overrides);
  if (!shown_file.empty()) {
    for (auto& p : points) p.file = shown_file;  // the report names the file as the first run did
    file = shown_file;
  }
  const tb::CampaignConfig& config = points.front();
  if (vm.count("vcd")) {
    if (!sim::EngineRegistry::instance().get(config.engine, "--engine").capabilities.onset_times) {
      const std::string timed = sim::EngineRegistry::instance().names_with([](const sim::EngineCapabilities& c) { return c.onset_times; });
      throw core::InputError("--vcd needs the " + timed + " engine (simulated time; --engine " + timed + ")");
    }
    run_options.vcd_path = vm["vcd"].as<std::string>();
    if (run_options.vcd_path.empty()) throw core::InputError("--vcd: empty path; expected a file name for the VCD trace");
    for (const auto& p : points) {
      if (p.stream_interval_ns) {
        throw core::InputError("--vcd: " + file + " streams its inputs (stream:), whose inferences overlap in time; the "
                               "trace shows one inference at a time; expected --vcd without stream:");
      }
    }
  }
  run_options.out_dir = out_dir;
  if (vm.count("trial-outputs")) {
    const long long n = vm["trial-outputs"].as<long long>();
    if (n < 0 || n > 100000) throw core::InputError("--trial-outputs " + std::to_string(n) + ": expected 0..100000");
    run_options.trial_outputs = static_cast<std::uint64_t>(n);
  }
  if (vm.count("threads")) {
    const long long t = vm["threads"].as<long long>();
    if (t < 1 || t > 1024) throw core::InputError("--threads: expected an integer from 1 to 1024, got " + std::to_string(t));
    run_options.threads = static_cast<unsigned>(t);
  }
  tb::mpi_environment();  // NFSIM_MPI_* variables are checked before anything is written
  // Every option is valid: only now does the output directory appear. The report files are
  // staged and moved into it at the end, so a run that fails leaves it as it was.
  std::optional<tb::OutputDirGuard> guard;
  if (tb::mpi_rank() == 0) {
    guard.emplace(out_dir, run_options.vcd_path);
    run_options.report_dir = guard->staging_dir();
    run_options.vcd_path = guard->staged_path(run_options.vcd_path);  // a trace in DIR is staged like the report
  }
  run_options.fault_log_path = (run_options.report_dir.empty() ? out_dir : run_options.report_dir) + "/faults.jsonl";
  run_options.campaign_file = file;
  run_options.campaign_file_absolute = std::filesystem::absolute(run_options.resume ? absolute_file : file).string();
  run_options.overrides = overrides;
  Progress progress;
  run_options.progress = [&](std::size_t p, std::size_t n, std::uint64_t d, std::uint64_t t) { progress(p, n, d, t); };
  std::optional<tb::CampaignOutcome> ran;
  try {
    ran.emplace(tb::run_campaign_points(points, run_options));
  } catch (const tb::PeerFailure& f) {
    // Caught here, inside the output directory's guard: the checkpoint stays. The other ranks
    // may be dead or hung, so MPI is not finalised: after a signal (mpirun is stopping the job,
    // and kills what is left a second later) the process ends at once; after a timeout or an
    // MPI error, MPI_Abort stops the job with exit code 4. (When a rank died, mpirun's own exit
    // code is that rank's status.)
    std::fflush(stdout);
    std::fprintf(stderr, "nfsim run: error: %s; resume with: nfsim run --resume %s\n", core::escape_control_characters(f.what()).c_str(),
                 out_dir.c_str());
    std::fflush(stderr);
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (initialised && tb::interrupt_requested.load()) std::_Exit(4);
    if (initialised) MPI_Abort(MPI_COMM_WORLD, 4);
    return 4;
  }
  const tb::CampaignOutcome& outcome = *ran;
  if (!outcome.is_root) return 0;
  guard->commit();
  if (outcome.complete) tb::remove_checkpoint(out_dir);  // the report it led to is in place
  tb::print_summary(stdout, outcome.report, out_dir);
  std::printf("wrote %s/report.json, report.html, summary.csv and faults.jsonl\n", out_dir.c_str());
  if (!outcome.complete) return 4;
  return outcome.requirements_met ? 0 : 3;
}

int cmd_tolerate(const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()                                                         //
      ("campaign", po::value<std::string>()->required(), "campaign YAML file")  //
      ("epsilon", po::value<double>()->required(), "the largest acceptable metric value")  //
      ("metric", po::value<std::string>()->default_value("mean_abs"),
       "mean_abs (max over inputs and outputs of E|Delta|) or accuracy_drop (needs labels)")  //
      ("confidence", po::value<double>()->default_value(0.99, "0.99"),
       "confidence of every measured interval (the metric's at each rate, and so the rate's)")  //
      ("spec", po::value<int>(), "vary only this fault spec's probability (index in faults:); default: scale all together")  //
      ("trials", po::value<long long>()->default_value(256), "Monte-Carlo trials per round at one search point")  //
      ("max-trials", po::value<long long>()->default_value(200000), "trial budget of the whole search")  //
      ("rate-precision", po::value<double>()->default_value(0.05, "0.05"),
       "stop when the rate interval's relative width (hi / lo - 1) is at most this")  //
      ("engine", po::value<std::string>()->default_value("functional"),
       "engine of the search (a Monte-Carlo engine), or 'campaign' for the campaign's")  //
      ("set", po::value<std::vector<std::string>>()->composing(), "override a campaign key (repeatable)")  //
      ("out", po::value<std::string>(), "also write the result as JSON to this file");
  po::positional_options_description pos;
  pos.add("campaign", 1);
  po::variables_map vm;
  if (!parse("Usage: nfsim tolerate CAMPAIGN.yaml --epsilon E [--metric mean_abs|accuracy_drop] [--spec I] [--confidence 0.99]\n"
             "                      [--rate-precision 0.05] [--trials 256] [--max-trials 200000] [--out result.json]\n\n"
             "The largest failure rate (the campaign's probabilities scaled together, or one spec's probability) at which\n"
             "the metric stays at most E, two ways: the certified rate (the b4 bound inverted through a distribution-free\n"
             "inequality: a guaranteed lower bound, often far below the truth) and the estimated rate (a Monte-Carlo\n"
             "search on log p from the certified rate, common random numbers, with a confidence interval on the rate\n"
             "itself), their ratio and the measured metric at each. Exit 3 when even rate 0 cannot meet E (the specs\n"
             "held fixed exceed it) or the budget ends before a bracket is found. See docs/tolerate.md.",
             args, options, pos, vm)) {
    return 0;
  }
  const tb::CampaignConfig config = tb::load_single_point(vm["campaign"].as<std::string>(), set_overrides(vm), "tolerate");
  tb::TolerateOptions o;
  o.epsilon = vm["epsilon"].as<double>();
  o.metric = vm["metric"].as<std::string>();
  o.confidence = vm["confidence"].as<double>();
  if (vm.count("spec")) {
    o.spec = vm["spec"].as<int>();
    if (o.spec < 0) throw core::InputError("--spec " + std::to_string(o.spec) + ": expected an index >= 0");
  }
  o.step_trials = count_option(vm, "trials");
  o.max_trials = count_option(vm, "max-trials");
  o.rate_precision = vm["rate-precision"].as<double>();
  o.engine = vm["engine"].as<std::string>();
  if (vm.count("out")) core::check_output_file(vm["out"].as<std::string>());
  const nlohmann::json result = tb::tolerate(config, o);
  tb::print_tolerate(stdout, result);
  if (vm.count("out")) {
    const std::string text = result.dump(1) + "\n";
    core::write_file_atomically(vm["out"].as<std::string>(), [&](std::ostream& os) { os << text; });
  }
  const std::string status = result["status"].get<std::string>();
  if (status == "unreachable" || status == "incomplete" || status == "unconfirmed") {
    std::fprintf(stderr, "nfsim tolerate: %s\n",
                 status == "unreachable"  ? "epsilon cannot be met even at rate 0 (the specs held fixed exceed it); exit 3"
                 : status == "incomplete" ? "the search budget (--max-trials) ended before a rate above and below epsilon was found; exit 3"
                                          : "the rate interval's ends could not be confirmed on fresh trials (an end failed three times, "
                                            "or the confirmation's budget, 2 x --max-trials, ran out); the interval is the search's, "
                                            "unconfirmed; exit 3");
    return 3;
  }
  return 0;
}

int cmd_harden(const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()                                                         //
      ("campaign", po::value<std::string>()->required(), "campaign YAML file")  //
      ("budget", po::value<long long>(), "protect this many units with TMR (the ones that lower the metric most)")  //
      ("metric", po::value<std::string>()->default_value("variance"),
       "variance (mean over inputs of the summed output variance of Delta) or accuracy_drop (needs labels)")  //
      ("replicas", po::bool_switch(), "instead: the seed paper's certificate for R replicas with a median (Algorithm 1)")  //
      ("epsilon", po::value<double>(), "--replicas: a replica fails when |Delta_k| > epsilon")  //
      ("delta", po::value<double>()->default_value(0.01, "0.01"), "--replicas: the failure probability to certify")  //
      ("trials", po::value<long long>(), "Monte-Carlo trials of each check (default: the campaign's)")  //
      ("confidence", po::value<double>()->default_value(0.95, "0.95"), "confidence of the printed intervals")  //
      ("set", po::value<std::vector<std::string>>()->composing(), "override a campaign key (repeatable)");
  po::positional_options_description pos;
  pos.add("campaign", 1);
  po::variables_map vm;
  if (!parse("Usage: nfsim harden CAMPAIGN.yaml --budget N [--metric variance|accuracy_drop] [--trials T]\n"
             "       nfsim harden CAMPAIGN.yaml --replicas --epsilon E [--delta D] [--trials T]\n\n"
             "--budget: ranks every unit of the campaign's fault specs by how much triple modular redundancy on it\n"
             "(fails only when 2 of 3 replicas fail: q = 3p^2 - 2p^3, voter fault-free) lowers the predicted metric,\n"
             "to first order: (p(1-p) - q(1-q)) |e_u|^2 for the variance, (p - q) times the accuracy lost when u\n"
             "alone fails for accuracy_drop, e_u the unit's single-fault effect on the outputs. It protects the best\n"
             "N, then runs the campaign before and after by Monte Carlo with the same seed on the first 20 inputs and\n"
             "prints the predicted and measured metric with intervals (batch means over blocks), and the\n"
             "protection: entry to paste into the campaign.\n"
             "--replicas: the certificate of Algorithm 1 of arXiv 1902.01686 (v2): from b4's mean and std, c = max\n"
             "Var/(eps - |mean|)^2 over inputs and outputs; if c < 1/3 the paper takes R = ceil(2 ln(1/delta)/ln 3)\n"
             "replicas; nfsim also gives the median's failure bound P(Binomial(R, c) >= R/2) at that R and the\n"
             "smallest R for which it is below delta, then measures the failure rate (|Delta_k| > eps, worst input\n"
             "and output) of one replica and of the median of R by Monte Carlo. See docs/harden.md.",
             args, options, pos, vm)) {
    return 0;
  }
  std::optional<std::uint64_t> trials;
  if (vm.count("trials")) trials = count_option(vm, "trials");
  const double confidence = vm["confidence"].as<double>();
  if (!(confidence > 0 && confidence < 1)) throw core::InputError("--confidence " + core::format_double(confidence) + ": expected a number in (0, 1)");
  const bool replicas = vm["replicas"].as<bool>();
  if (replicas == (vm.count("budget") > 0)) {
    throw core::InputError(std::string(replicas ? "--replicas with --budget" : "neither --budget nor --replicas") +
                           ": expected one of them (--budget N ranks units for TMR; --replicas certifies Algorithm 1)");
  }
  const tb::CampaignConfig config = tb::load_single_point(vm["campaign"].as<std::string>(), set_overrides(vm), "harden");
  auto interval = [](const tb::Estimate& e) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "%.6g [%.6g, %.6g]", e.value, e.low, e.high);
    return std::string(buf);
  };
  if (replicas) {
    if (!vm.count("epsilon")) throw core::InputError("--replicas: --epsilon missing; expected the error a replica may not exceed");
    tb::CertificateOptions o;
    o.epsilon = vm["epsilon"].as<double>();
    o.delta = vm["delta"].as<double>();
    o.trials = trials;
    o.confidence = confidence;
    const tb::CertificateResult r = tb::replica_certificate(config, o);
    std::printf("Algorithm 1 (median of R replicas), epsilon %g, delta %g, first %lld inputs\n", o.epsilon, o.delta,
                static_cast<long long>(r.inputs));
    std::printf("  per replica: Var/(eps - |mean|)^2 = %.6g (b4, input %lld output %lld): %s 1/3\n", r.chebyshev,
                static_cast<long long>(r.worst_input), static_cast<long long>(r.worst_output), r.condition ? "below" : "NOT below");
    std::printf("  paper's R = ceil(2 ln(1/delta) / ln 3) = %u; certified median failure bound there P(Bin(R, c) >= R/2) = %.6g%s\n",
                r.r_paper, r.tail_at_r_paper, r.tail_at_r_paper <= o.delta ? "" : " (above delta: the paper's R is not enough at this c)");
    if (r.r_binomial > 0) {
      std::printf("  smallest R with a bound below delta: %u\n", r.r_binomial);
    } else {
      std::printf("  smallest R with a bound below delta: none up to 1000 (c >= 1/2 or too close)\n");
    }
    std::printf("  Monte Carlo (%llu trials, worst input and output, %g%% Wilson limits):\n", static_cast<unsigned long long>(r.trials),
                100 * confidence);
    std::printf("    one replica    failure rate %.6g (upper %.6g)\n", r.rate_single, r.rate_single_upper);
    std::printf("    median of %-4u failure rate %.6g [%.6g, %.6g]\n", r.r_paper, r.rate_median, r.rate_median_lower, r.rate_median_upper);
    std::printf("  certificate %s (the bounds are first order in p: b4's mean and std, not a guarantee about the network)\n",
                r.holds ? "holds: the measured rate is within the certified bound" : "CONTRADICTED by Monte Carlo");
    return 0;
  }
  tb::HardenOptions o;
  const long long budget = vm["budget"].as<long long>();
  if (budget < 1) throw core::InputError("--budget " + std::to_string(budget) + ": expected an integer >= 1");
  o.budget = static_cast<std::uint64_t>(budget);
  o.metric = vm["metric"].as<std::string>();
  o.trials = trials;
  o.confidence = confidence;
  const tb::HardenResult r = tb::harden(config, o);
  std::printf("harden: TMR on %zu of %zu units (q = 3p^2 - 2p^3, voter fault-free), metric %s, first %lld inputs\n", r.chosen.size(),
              r.candidates, r.metric.c_str(), static_cast<long long>(r.inputs));
  for (const auto& h : r.chosen) std::printf("  %-64s p %.4g -> q %.4g, predicted reduction %.6g\n", h.name.c_str(), h.p, h.q, h.reduction);
  std::printf("  predicted (first order)  before %.6g  after %.6g  reduction %.6g\n", r.predicted_before, r.predicted_after,
              r.predicted_before - r.predicted_after);
  std::printf("  measured (%llu trials, %g%% intervals over %llu blocks, same seed)\n", static_cast<unsigned long long>(r.trials),
              100 * confidence, static_cast<unsigned long long>(r.blocks));
  std::printf("    before     %s\n    after      %s\n    reduction  %s\n", interval(r.measured_before).c_str(),
              interval(r.measured_after).c_str(), interval(r.measured_reduction).c_str());
  std::printf("%s", r.protection_yaml.c_str());
  return 0;
}

int cmd_map(const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()                                                    //
      ("model", po::value<std::string>()->required(), "ONNX model file")   //
      ("chip", po::value<std::string>()->required(), "chip topology YAML file")  //
      ("inputs", po::value<std::string>(),
       "input SPEC (as for eval): also print the largest output change programming causes on these inputs")  //
      ("labels", po::value<std::string>(), "labels file: also print the fault-free accuracy before and after programming")  //
      ("count", po::value<long long>(), "use at most N inputs from the file")  //
      ("scale", po::value<double>(), "multiply every file input value by S")  //
      ("shift", po::value<double>(), "then add this to every file input value");
  po::positional_options_description pos;
  pos.add("model", 1);
  po::variables_map vm;
  if (!parse("Usage: nfsim map MODEL --chip CHIP.yaml [--inputs SPEC [--labels PATH]]\n\n"
             "Maps the network onto the chip and prints the placement of every layer (crossbar tiles and\n"
             "neuron arrays, with their cores) and the utilisation. A network that does not fit is an error\n"
             "saying what it needs and what the chip has. The programming: line says how many weights the\n"
             "crossbar model clipped or quantised and by how much; with --inputs, the largest output change\n"
             "that causes, and with --labels the fault-free accuracy before and after programming.",
             args, options, pos, vm)) {
    return 0;
  }
  for (const char* needs_inputs : {"labels", "count", "scale", "shift"}) {
    if (vm.count(needs_inputs) && !vm.count("inputs")) {
      throw core::UsageError(std::string("--") + needs_inputs + " applies to --inputs; expected --inputs SPEC too");
    }
  }
  const models::Network net = models::load_onnx(vm["model"].as<std::string>());
  const sim::ChipTopology topology = sim::load_topology(vm["chip"].as<std::string>());
  const sim::MappedChip chip = sim::map_network(net, topology);
  std::optional<models::Dataset> data;
  if (vm.count("inputs")) data = load_dataset(vm, net);
  sim::ProgrammingStats stats;
  const models::Network programmed = sim::programmed_network(net, chip, &stats);
  std::printf("network %s\n%s", net.describe().c_str(), chip.mapping.describe(net, topology).c_str());
  std::printf("interconnect: %s; %zu messages per inference\n", chip.interconnect->describe().c_str(),
              chip.mapping.transfers.size());
  // Provenance: which types were resolved (built in or from which plug-in), with every parameter.
  const nlohmann::json components = sim::component_provenance(chip);
  std::printf("components:\n");
  for (const auto& [section, c] : components.items()) {
    std::string params;
    for (const auto& [k, v] : c["parameters"].items()) params += " " + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
    if (c.contains("topology")) {
      for (const auto& [k, v] : c["topology"].items()) params += " " + k + "=" + v.dump();
    }
    std::printf("  %-13s %s (%s)%s\n", section.c_str(), c["type"].get<std::string>().c_str(), c["library"].get<std::string>().c_str(),
                params.c_str());
    if (c.contains("describe")) std::printf("  %-13s %s\n", "", c["describe"].get<std::string>().c_str());
  }
  std::printf("%s\n", tb::describe_programming(tb::programming_report(stats, net, programmed, data ? &*data : nullptr)).c_str());
  for (const auto& p : sim::plugin_provenance()) {
    std::printf("plug-in %s: %s (%s), fnv1a64 %s, registers %s\n", p["path"].get<std::string>().c_str(),
                p["resolved_path"].get<std::string>().c_str(), p["origin"].get<std::string>().c_str(),
                p["fnv1a64"].get<std::string>().c_str(), core::join(p["registered"].get<std::vector<std::string>>(), ", ").c_str());
  }
  return 0;
}

namespace {

template <typename Registry>
void print_registry(const char* title, const Registry& registry) {
  std::printf("%s\n", title);
  for (const auto* e : registry.entries()) {
    const std::string library = registry.library(e->name);
    std::printf("  %-12s %s%s\n", e->name.c_str(), e->description.c_str(), library == "built-in" ? "" : (" [plug-in " + library + "]").c_str());
    for (const auto& p : e->params) {
      std::printf("      %-18s %-7s %-6s default %-8s %s\n", p.name.c_str(), p.type.c_str(), p.unit.empty() ? "-" : p.unit.c_str(),
                  p.default_value.empty() ? "(required)" : p.default_value.c_str(), p.meaning.c_str());
    }
  }
}

}  // namespace

int cmd_list(const std::vector<std::string>& args) {
  po::options_description options("Options");
  po::variables_map vm;
  if (!parse("Usage: nfsim list\n\nPrints every registered engine with what it honours, and every component type (built in or from\n--plugin libraries)\n"
             "with its parameters: name, type, unit, default and meaning. A topology file selects a type\n"
             "with `type: NAME` in its section.",
             args, options, {}, vm)) {
    return 0;
  }
  print_registry("crossbar types (chip.crossbar.type; every type also takes rows, cols, read_latency_ns):",
                 sim::CrossbarRegistry::instance());
  print_registry("neuron-array types (chip.neuron_array.type; every type also takes size, update_latency_ns):",
                 sim::NeuronRegistry::instance());
  print_registry("interconnect types (chip.interconnect.type):", sim::InterconnectRegistry::instance());
  print_registry("TLM-2.0 interconnect modules (chip.tlm_interconnect.type, from plug-ins; docs/chip.md):",
                 sim::TlmInterconnectRegistry::instance());
  print_registry("mapper types (chip.mapping.type):", sim::MapperRegistry::instance());
  std::printf("engines (engine:; what each honours, checked before any trial):\n");
  for (const auto* e : sim::EngineRegistry::instance().entries()) {
    std::printf("  %-10s %s\n  %-10s honours: %s\n", e->name.c_str(), e->description.c_str(), "",
                sim::describe_capabilities(e->capabilities).c_str());
  }
  std::printf("fault kinds (faults[].kind):\n  logical:  %s\n  physical: %s\n", core::join(faults::fault_kind_names(), ", ").c_str(),
              core::join(faults::physical_kind_names(), ", ").c_str());
  return 0;
}

}  // namespace nfsim::app
