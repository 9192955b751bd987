#include "testbench/campaign/prepare.h"

#include <algorithm>

#include "core/error.h"
#include "core/plugin.h"
#include "core/strings.h"
#include "models/onnx_io.h"
#include "models/random_network.h"
#include "models/nir_io.h"
#include "models/spiking.h"
#include "testbench/campaign/requirements.h"
#include "sim/topology/components.h"
#include "sim/topology/physical_units.h"

namespace nfsim::tb {

namespace {

std::string chip_key_of(const PreparedPoint& p) {
  std::string bytes;
  auto add = [&bytes](const void* data, std::size_t n) { bytes.append(static_cast<const char*>(data), n); };
  auto add_matrix = [&add](const Eigen::MatrixXd& m) {
    const Eigen::Index shape[2] = {m.rows(), m.cols()};
    add(shape, sizeof shape);
    add(m.data(), static_cast<std::size_t>(m.size()) * sizeof(double));
  };
  add_matrix(p.data.inputs);
  bytes += p.model.describe();
  for (int l = 1; l <= p.model.num_layers(); ++l) {
    add_matrix(p.model.layer(l).crossbar_matrix());
    add_matrix(p.model.layer(l).bias());
  }
  const sim::ChipTopology& t = p.mapped->topology;
  bytes += p.chip->components.dump() + "|" + t.name + "|" + std::to_string(t.cores) + "|" + std::to_string(t.mesh_width) + "x" +
           std::to_string(t.mesh_height) + "|" + std::to_string(t.crossbar_rows) + "x" + std::to_string(t.crossbar_cols) + "|" +
           core::format_double(t.read_latency_ns) + "|" + std::to_string(t.neuron_array_size) + "|" +
           core::format_double(t.update_latency_ns);
  return core::fnv1a64_hex(bytes);
}

// The chip's neuron-array type against the campaign (docs/spiking.md, "On the chip"): spiking:
// needs spiking arrays (lif, if or a plug-in's spiking type), a rate campaign needs rate arrays,
// and if arrays take no leak. Checked before the engine's capabilities, which say which engine
// models which type.
void check_neuron_arrays(const CampaignConfig& config, const PreparedPoint& p, const sim::INeuronModel& model) {
  const sim::ChipTopology& t = p.mapped->topology;
  const std::string type = "'" + t.neuron_array.type + "' (" + t.file + ")";
  if (config.spiking && !model.spiking()) {
    throw core::InputError(config.file + ": spiking: the chip's neuron arrays are of type " + type +
                           ", which do not spike; expected neuron_array: {type: lif} (or if) in the chip for spiking:");
  }
  if (!config.spiking && model.spiking()) {
    throw core::InputError(config.file + ": chip: the chip's neuron arrays are of type " + type +
                           ", which spike, and the campaign has no spiking: section; expected spiking: (docs/spiking.md) "
                           "for these arrays, or neuron_array: {type: rate} for a rate network");
  }
  if (p.spiking && model.spiking() && !model.leaky()) {
    const std::string leak = first_leak_other_than_one(*p.spiking, p.model.num_layers(), config.file + ": spiking.leak",
                                                       config.model.nir() ? config.model.path : "");
    if (!leak.empty()) {
      throw core::InputError(t.file + ": neuron_array: type '" + t.neuron_array.type + "' has no leak, and " + leak +
                             "; expected neuron_array: {type: lif} for leaky dynamics, or dynamics with leak 1");
    }
  }
}

}  // namespace

PreparedPoint prepare_point(const CampaignConfig& config) {
  PreparedPoint p;
  const sim::EngineRegistry::Entry& engine = sim::EngineRegistry::instance().get(config.engine, config.file + ": engine");
  p.engine = &engine;
  if (engine.capabilities.exact) {
    for (const Requirement& q : config.require) {
      if (q.condition == "min_inside_ci") {
        throw core::InputError(config.file + ": require: " + q.describe() + ": engine '" + config.engine +
                               "' gives exact values, with no interval to fall inside; expected max_median_rel_err, "
                               "min_pearson or max_rank_loss");
      }
    }
  }
  std::optional<models::NirModel> nir;
  if (config.model.nir()) {
    // A spiking network as it is (docs/nir.md): its neurons discretised with spiking.dt.
    nir = models::load_nir(config.model.path, *config.spiking_dt);
    p.model = nir->network;
  } else {
    p.model = load_campaign_model(config.model);
  }
  if (!models::bounds::BoundCalculator::has_paper_bounds(p.model)) {
    // b1, b2 and worst_case are stated for dense networks without pooling (docs/bounds.md,
    // "Convolutional networks"); by default they are left out, asked for they are an error.
    const auto paper = [](const std::string& b) {
      return b == "b1" || b == "b2" || b == "worst_case" || b.rfind("b1_", 0) == 0;
    };
    const std::string why = "is defined here for dense networks without pooling, and the model (" + p.model.describe() +
                            ") has convolutions or pooling; expected b3, b4 or sum_norms";
    if (config.bounds_listed) {
      for (const std::string& b : config.bounds) {
        if (paper(b)) throw core::InputError(config.file + ": bounds: '" + b + "' " + why);
      }
    }
    for (const Requirement& q : config.require) {
      if (paper(q.bound)) throw core::InputError(config.file + ": require: " + q.describe() + ": '" + q.bound + "' " + why);
    }
  }
  p.data = models::load_inputs(config.inputs, p.model.input_size(), p.model.output_size(), p.model.input_shape());
  if (config.spiking) {
    // What the engine and the model cannot do is said before anything about the inputs.
    sim::EngineNeeds spiking_needs;
    spiking_needs.spiking = true;
    spiking_needs.has_chip = config.chip.has_value();
    sim::check_engine_can(engine, spiking_needs);
    models::check_spiking_network(p.model, config.file + ": spiking");
    models::check_spike_rates(p.data.inputs, config.file + ": inputs (" + p.data.source + ")");
  }
  if (nir) {
    // The file's dynamics, with the campaign's step count and input coding.
    p.spiking = nir->run_with(config.spiking->time_steps, config.spiking->coding);
    p.spiking->calibration = "none: " + nir->describe;
    p.rate_model = p.model;
  } else if (config.spiking) {
    // The spiking network is the model converted by data-based normalisation; its relu forward
    // pass is the rate equivalent the bounds and the fault plan are built on (docs/spiking.md).
    models::check_spiking_network(p.model, config.file + ": spiking");
    models::Dataset calibration;
    if (config.spiking_calibration) {
      calibration = models::load_inputs(*config.spiking_calibration, p.model.input_size(), p.model.output_size(), p.model.input_shape());
    }
    const models::Dataset& calib = config.spiking_calibration ? calibration : p.data;
    models::check_spike_rates(calib.inputs, config.file + ": spiking.calibration (" + calib.source + ")");
    models::Conversion conversion = models::convert_to_spiking(p.model, calib.inputs, config.spiking->percentile);
    p.spiking = *config.spiking;
    p.spiking->calibration = (config.spiking_calibration ? "" : "the campaign's inputs: ") + calib.source;
    p.spiking_lambdas = conversion.lambdas;
    p.rate_model = std::move(p.model);
    p.model = std::move(conversion.network);
  }
  check_budgets_fit(config, p.model.output_size());
  std::vector<faults::FaultSpec> specs = config.faults;
  if (config.chip) {
    p.mapped = sim::map_network(p.model, *config.chip);
    check_neuron_arrays(config, p, *sim::make_neuron_model(p.mapped->topology));
    // The components first: a model the engine cannot honour is named before the faults on it.
    sim::check_engine_can(engine, sim::engine_needs(nullptr, &*p.mapped));
    sim::ProgrammingStats stats;
    p.network = sim::programmed_network(p.model, *p.mapped, &stats);
    try {
      specs = sim::expand_physical_faults(config.faults, *p.mapped);
    } catch (const core::InputError& e) {
      throw core::InputError(config.file + ": " + e.what());
    }
    // Lossy routers and links drop the spikes of messages into dense layers; the spikes a
    // convolution's tiles receive are feature maps, whose drops neither engine models.
    for (std::size_t i = 0; i < config.faults.size(); ++i) {
      if (!config.faults[i].drops_spikes()) continue;
      for (int l = 1; l <= p.model.num_layers(); ++l) {
        if (p.model.layer(l).kind() == "dense") continue;
        throw core::InputError(config.file + ": faults[" + std::to_string(i) + "] (" + config.faults[i].kind_name() + "): layer " +
                               std::to_string(l) + " is a " + p.model.layer(l).kind() +
                               " layer; dropped spikes are modelled on the messages into dense layers only; expected a network of "
                               "dense layers with " + config.faults[i].kind_name());
      }
    }
    ChipReport chip;
    chip.name = p.mapped->topology.name;
    chip.file = p.mapped->topology.file;
    chip.cores = p.mapped->topology.cores;
    chip.cores_used = p.mapped->mapping.cores_used;
    chip.tiles = p.mapped->mapping.tiles.size();
    chip.neuron_arrays = p.mapped->mapping.arrays.size();
    chip.crossbar = p.mapped->topology.crossbar.type;
    chip.interconnect = p.mapped->interconnect->describe();
    chip.programming = programming_report(stats, p.model, p.network, &p.data);
    chip.programming_max_abs_output_error = *chip.programming->max_abs_output_error;
    chip.components = sim::component_provenance(*p.mapped);  // types, parameters, describe(), library
    p.chip = chip;
  } else {
    p.network = p.model;
  }
  if (p.spiking) {
    // A fault whose onset is at or after the last step never acts: a mistyped onset, not a plan.
    for (std::size_t i = 0; i < config.faults.size(); ++i) {
      if (config.faults[i].onset_step < p.spiking->time_steps) continue;
      throw core::InputError(config.file + ": faults[" + std::to_string(i) + "].onset_step " + std::to_string(config.faults[i].onset_step) +
                             ": the inference has time steps 0.." + std::to_string(p.spiking->time_steps - 1) +
                             " (spiking.time_steps " + std::to_string(p.spiking->time_steps) + "); expected an onset below " +
                             std::to_string(p.spiking->time_steps));
    }
  }
  if (p.spiking && p.spiking->readout == models::SpikeReadout::membrane) {
    // The output layer does not spike under the membrane readout: no threshold or leak to scale.
    for (std::size_t i = 0; i < config.faults.size(); ++i) {
      const faults::FaultSpec& f = config.faults[i];
      if (f.acts_on_neuron_parameters() && std::find(f.layers.begin(), f.layers.end(), p.model.num_layers()) != f.layers.end()) {
        throw core::InputError(config.file + ": faults[" + std::to_string(i) + "] (" + f.kind_name() + "): layer " +
                               std::to_string(p.model.num_layers()) + " is the output layer, which does not spike under "
                               "the membrane readout; expected hidden layers 1.." + std::to_string(p.model.num_layers() - 1) +
                               ", or spiking.readout: rate");
      }
    }
  }
  apply_protection(config.protection, specs, p.network, p.mapped ? &*p.mapped : nullptr);
  p.plan = std::make_unique<faults::FaultPlan>(specs, p.network);
  sim::EngineNeeds needs = sim::engine_needs(p.plan.get(), p.mapped ? &*p.mapped : nullptr);
  needs.replicas = config.replicas.count;
  needs.control_variate = config.control_variate();
  needs.spiking = config.spiking.has_value();
  needs.timing = needs.timing || config.deadline_ns.has_value() || config.stream_interval_ns.has_value();
  if (config.stream_interval_ns && p.mapped && p.mapped->topology.tlm_interconnect) {
    throw core::InputError(config.file + ": stream: streamed inferences through a foreign TLM-2.0 interconnect module are "
                           "not supported (the chip sends a stream's messages out of time order, which a module with "
                           "arbitration state would misread); expected interconnect: with stream:");
  }
  if (config.stream_interval_ns && p.mapped && p.mapped->interconnect->bandwidth_bytes_per_ns() > 0) {
    throw core::InputError(config.file + ": stream: streamed inferences with link bandwidths (contention between "
                           "overlapping inferences) are not modelled; expected an interconnect without a bandwidth "
                           "(link_bandwidth_bytes_per_ns / bandwidth_bytes_per_ns 0) with stream:");
  }
  sim::check_engine_can(engine, needs);
  // The chip engine records its references (or not) when it elaborates: the mode is the session's.
  if (p.mapped) p.chip_key = chip_key_of(p) + (config.chip_differential ? "" : "-full");
  return p;
}

std::string first_leak_other_than_one(const models::SpikingConfig& s, int layers, const std::string& leak_key,
                                      const std::string& nir_path) {
  const int last = s.readout == models::SpikeReadout::rate ? layers : layers - 1;
  for (int l = 1; l <= last; ++l) {
    const auto ul = static_cast<std::size_t>(l - 1);
    if (ul < s.layer_leaks.size() && s.layer_leaks[ul].size()) {
      for (Eigen::Index j = 0; j < s.layer_leaks[ul].size(); ++j) {
        if (s.layer_leaks[ul][j] != 1.0) {
          return "the NIR model " + nir_path + " gives neuron " + std::to_string(j) + " of layer " + std::to_string(l) +
                 " the leak " + core::format_double(s.layer_leaks[ul][j]);
        }
      }
    } else if (s.neuron == models::SpikingNeuron::lif && s.leak != 1.0) {
      return leak_key + " is " + core::format_double(s.leak) + " (neuron lif)";
    }
  }
  return "";
}

PreparedCampaign prepare_campaign(const CampaignConfig& config) {
  PreparedPoint p = prepare_point(config);
  return {p.network, p.data, p.plan->specs()};
}

models::Network load_campaign_model(const ModelSource& source) {
  if (source.generate) return models::make_random_network(*source.generate);
  if (source.nir()) {
    throw core::InputError(source.path + ": a NIR model is read by nfsim run and nfsim eval with its spiking dynamics "
                           "(spiking: {dt, time_steps}); this command runs rate networks (expected an ONNX model)");
  }
  return models::load_onnx(source.path);
}

models::bounds::BoundSet select_bounds(const models::bounds::BoundSet& all, const std::vector<std::string>& families) {
  models::bounds::BoundSet out;
  for (const auto& [name, value] : all) {
    for (const auto& f : families) {
      const bool match = name == f || (f == "b1" && name.rfind("b1_", 0) == 0) || (f == "sum_norms" && name.rfind("sum_norms_", 0) == 0);
      if (match) out[name] = value;
    }
  }
  return out;
}

ProgrammingReport programming_report(const sim::ProgrammingStats& stats, const models::Network& model,
                                     const models::Network& programmed, const models::Dataset* data) {
  ProgrammingReport r;
  r.weights = stats.weights;
  r.clip_limit = stats.clip_limit;
  r.clipped = stats.clipped;
  r.quantised = stats.quantised;
  r.max_abs_weight_error = stats.max_abs_weight_error;
  r.mean_abs_weight_error = stats.mean_abs_weight_error;
  if (!data) return r;
  const Eigen::MatrixXd before = model.forward_batch(data->inputs), after = programmed.forward_batch(data->inputs);
  r.max_abs_output_error = before.size() ? (after - before).cwiseAbs().maxCoeff() : 0.0;
  if (!data->labels.empty()) {
    r.accuracy_before = accuracy_of(before, data->labels);
    r.accuracy_after = accuracy_of(after, data->labels);
  }
  return r;
}

double accuracy_of(const Eigen::MatrixXd& out, const std::vector<int>& labels) {
  Eigen::Index correct = 0;
  for (Eigen::Index c = 0; c < out.cols(); ++c) {
    Eigen::Index best = 0;
    out.col(c).maxCoeff(&best);
    correct += best == labels[static_cast<std::size_t>(c)];
  }
  return static_cast<double>(correct) / static_cast<double>(out.cols());
}

}  // namespace nfsim::tb
