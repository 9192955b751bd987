#include "sim/chip/chip.h"

#include <algorithm>

#include "core/error.h"
#include "sim/topology/components.h"

namespace nfsim::sim {
namespace {

sc_core::sc_time ns(double v) { return sc_core::sc_time(v, sc_core::SC_NS); }

}  // namespace

Chip::Chip(sc_core::sc_module_name name, const models::Network& network, const MappedChip& mapped)
    : sc_core::sc_module(name), host_out("host_out"), host_in("host_in"), net_(network), mapped_(mapped) {
  const ChipTopology& t = mapped.topology;
  const Mapping& m = mapped.mapping;
  conv_.assign(static_cast<std::size_t>(net_.num_layers()) + 1, nullptr);
  for (int l = 1; l <= net_.num_layers(); ++l) conv_[l] = dynamic_cast<const models::Conv2dLayer*>(&net_.layer(l));
  // The weights as the crossbars store them, programmed once; each tile holds its block. A conv
  // tile's input buffer holds its layer's whole input feature maps (messages fill its channels).
  programmed_ = sim::programmed_network(net_, mapped);
  for (std::size_t k = 0; k < m.tiles.size(); ++k) {
    const TileMap& tm = m.tiles[k];
    const Eigen::MatrixXd block =
        programmed_.layer(tm.layer).crossbar_matrix().block(tm.col_begin, tm.row_begin, tm.col_count, tm.row_count);
    const Eigen::Index input_values = conv_[tm.layer] ? net_.staged_width(tm.layer - 1) : 0;
    tiles_.push_back(std::make_unique<Crossbar>(("tile" + std::to_string(k)).c_str(), block, make_crossbar_model(t),
                                                static_cast<int>(k), ns(t.read_latency_ns), input_values, tm.row_begin));
  }
  for (std::size_t k = 0; k < m.arrays.size(); ++k) {
    const ArrayMap& am = m.arrays[k];
    // The layer's output stage on this array's channels (a pooling window never leaves a channel).
    std::unique_ptr<models::Pool2d> stage;
    if (const models::Pool2d* pool = net_.stage(am.layer)) {
      models::Pool2dParams p = pool->params();
      p.c = am.count;
      stage = std::make_unique<models::Pool2d>(p, "chip: the pooling of array " + std::to_string(k));
    }
    arrays_.push_back(std::make_unique<NeuronArray>(
        ("array" + std::to_string(k)).c_str(), net_.layer(am.layer).bias().segment(am.neuron_begin(), am.neuron_count()),
        net_.layer(am.layer).activation(), make_neuron_model(t), ns(t.update_latency_ns), am.positions, std::move(stage)));
  }
  // Bindings: every sender to the interconnect, the interconnect to every receiver in target-id
  // order (tiles, arrays, host). A foreign module (tlm_interconnect:) is bound the same way.
  auto bind_all = [&](auto& in, auto& out) {
    host_out.bind(in);
    for (auto& tile : tiles_) tile->out.bind(in);
    for (auto& array : arrays_) array->out.bind(in);
    for (auto& tile : tiles_) out.bind(tile->in);
    for (auto& array : arrays_) out.bind(array->in);
    out.bind(host_in);
  };
  if (t.tlm_interconnect) {
    foreign_ = make_tlm_interconnect(t, "noc");
    foreign_name_ = t.file + ": " + t.tlm_interconnect->key + ".type: TLM-2.0 module '" + t.tlm_interconnect->type + "' (" +
                    TlmInterconnectRegistry::instance().library(t.tlm_interconnect->type) + ")";
    bind_all(*foreign_.in, *foreign_.out);
  } else {
    interconnect_ = std::make_unique<Interconnect>("noc", *mapped.interconnect);
    bind_all(interconnect_->in, interconnect_->out);
  }
  host_in.register_b_transport(this, &Chip::host_b_transport);
  message_ = new tlmx::MessageExtension;
  payload_.set_extension(message_);
  payload_.set_command(tlm::TLM_WRITE_COMMAND);
  payload_.set_byte_enable_ptr(nullptr);
  payload_.set_dmi_allowed(false);

  tile_out_.resize(m.tiles.size());
  tile_partials_.resize(m.tiles.size());
  tile_ready_.resize(m.tiles.size());
  tile_arrival_.resize(m.tiles.size());
  array_ready_.resize(m.arrays.size());
  array_in_.resize(m.arrays.size());
  tiles_of_.resize(static_cast<std::size_t>(net_.num_layers()) + 1);
  arrays_of_.resize(static_cast<std::size_t>(net_.num_layers()) + 1);
  for (int l = 1; l <= net_.num_layers(); ++l) {
    tiles_of_[l] = m.tiles_of(l);
    arrays_of_[l] = m.arrays_of(l);
  }
  host_u_.setZero(net_.staged_width(0));
  host_output_.setZero(net_.output_size());
  last_reads_start_.assign(static_cast<std::size_t>(net_.num_layers()) + 1, sc_core::SC_ZERO_TIME);
  last_updates_start_ = last_reads_start_;
}

void Chip::host_b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  if (!tlmx::accept(trans, static_cast<std::size_t>(host_output_.size()))) return;
  if (deadline_ && sc_core::sc_time_stamp() - inference_start_ + delay > inference_offset_ + *deadline_) {
    // Too late: at the deadline the host holds zeros for these outputs.
    deadline_missed_ = true;
    trans.set_response_status(tlm::TLM_OK_RESPONSE);
    return;
  }
  const auto offset = static_cast<Eigen::Index>(tlmx::offset_of(trans.get_address()) / sizeof(double));
  const auto values = static_cast<Eigen::Index>(trans.get_data_length() / sizeof(double));
  host_output_.segment(offset, values) =
      Eigen::Map<const Eigen::VectorXd>(reinterpret_cast<const double*>(trans.get_data_ptr()), values);
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

bool Chip::send(tlm::tlm_initiator_socket<>& from, const char* sender, const Transfer& t, int target, Eigen::Index offset,
                const double* data, Eigen::Index values, int per_channel, sc_core::sc_time& when) {
  const std::size_t bytes = static_cast<std::size_t>(values) * sizeof(double);
  if (bytes != t.bytes) {
    throw core::InternalError("chip: a message of layer " + std::to_string(t.layer) + " carries " + std::to_string(bytes) +
                              " bytes; the mapping says " + std::to_string(t.bytes));
  }
  payload_.set_address(tlmx::address(target, static_cast<std::uint64_t>(offset) * sizeof(double)));
  payload_.set_data_ptr(reinterpret_cast<unsigned char*>(const_cast<double*>(data)));
  payload_.set_data_length(static_cast<unsigned int>(bytes));
  payload_.set_streaming_width(static_cast<unsigned int>(bytes));
  payload_.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  message_->src_core = t.src_core;
  message_->dst_core = t.dst_core;
  message_->first = t.begin;
  message_->count = t.count;
  message_->positions = per_channel;
  message_->delivered = true;
  // Spikes travel as address events: a header word and one word per spike (the payload stays the
  // dense 0/1 values, for the receiver; the interconnect times and counts the wire bytes).
  message_->wire_bytes = 0;
  message_->spikes = carries_spikes(t);
  message_->transfer = message_->spikes && t.neuron_values ? static_cast<int>(&t - mapped_.mapping.transfers.data()) : -1;
  if (message_->spikes) {
    std::size_t spikes = 0;
    for (Eigen::Index i = 0; i < values; ++i) spikes += data[i] != 0.0;
    message_->wire_bytes = 4 * (1 + spikes);
  }
  // The chip keeps times as offsets from the inference's start; TLM's delay is relative to the
  // sender's current time, which the thread has not passed (it syncs only to phase starts).
  const sc_core::sc_time elapsed = sc_core::sc_time_stamp() - inference_start_;
  if (when < elapsed) throw core::InternalError("chip: a message sent before the thread's current time");
  sc_core::sc_time delay = when - elapsed;
  message_->received = false;
  const sc_dt::uint64 address = payload_.get_address();
  const sc_core::sc_time before = sc_core::sc_time_stamp();
  from->b_transport(payload_, delay);
  ++messages_sent_;
  when = elapsed + delay;
  // A foreign module that breaks the protocol is recorded, not thrown: an exception thrown on the
  // simulation thread's coroutine stack confuses AddressSanitizer; the engine stops the job and
  // throws it on the main stack (protocol_error()).
  if (foreign_.module && !check_foreign(sender, address, sc_core::sc_time_stamp() != before)) return false;
  tlmx::check_response(payload_, sender);
  return message_->delivered;
}

bool Chip::check_foreign(const char* sender, std::uint64_t address, bool waited) {
  // The protocol (docs/chip.md, "TLM-2.0 protocol") as a foreign interconnect must follow it:
  // a message is either delivered (a target accepted it) or dropped (delivered = false), the
  // response is OK, and the address is restored.
  std::string problem;
  if (waited) {
    problem = "waited in b_transport on a message from " + std::string(sender) +
              " (the chip's thread runs ahead of simulated time: a module annotates its latency on the delay instead)";
  } else if (!payload_.is_response_ok()) {
    problem = "answered " + payload_.get_response_string() + " to a message from " + sender;
  } else if (payload_.get_address() != address) {
    auto where = [](std::uint64_t a) {
      return "target " + std::to_string(tlmx::target_of(a)) + " offset " + std::to_string(tlmx::offset_of(a));
    };
    problem = "did not restore the address of a message from " + std::string(sender) + " (got " +
              where(payload_.get_address()) + ", sent " + where(address) + ")";
  } else if (message_->delivered && !message_->received) {
    problem = "neither delivered a message from " + std::string(sender) + " to target " +
              std::to_string(tlmx::target_of(address)) + " nor marked it dropped (MessageExtension::delivered = false)";
  } else if (!message_->delivered && message_->received) {
    problem = "marked a message from " + std::string(sender) + " dropped after delivering it";
  }
  if (problem.empty()) return true;
  if (protocol_error_.empty()) {
    protocol_error_ = foreign_name_ + " " + problem +
                      "; expected a module that follows docs/chip.md, \"TLM-2.0 protocol\" (TLM_OK_RESPONSE, the "
                      "address restored, each message delivered to out[target] or dropped)";
  }
  return false;
}

void Chip::begin_stream(sc_core::sc_time interval) {
  streaming_ = true;
  stream_interval_ = interval;
  stream_index_ = 0;
  stream_last_done_ = stream_end_ = sc_core::SC_ZERO_TIME;
  inference_start_ = sc_core::sc_time_stamp();
  tile_free_.assign(tiles_.size(), sc_core::SC_ZERO_TIME);
  array_free_.assign(arrays_.size(), sc_core::SC_ZERO_TIME);
  if (interconnect_) interconnect_->begin_inference();
}

sc_core::sc_time Chip::stream_period() const {
  const ChipTopology& t = mapped_.topology;
  double period_ns = arrays_.empty() ? 0.0 : t.update_latency_ns;
  for (const TileMap& tm : mapped_.mapping.tiles) {
    const double reads = conv_[tm.layer] ? static_cast<double>(tm.positions) : 1.0;
    period_ns = std::max(period_ns, t.read_latency_ns * reads);
  }
  return sc_core::sc_time(period_ns, sc_core::SC_NS);
}

void Chip::end_stream() {
  streaming_ = false;
  const sc_core::sc_time elapsed = sc_core::sc_time_stamp() - inference_start_;
  if (stream_end_ > elapsed) {
    quantum_.set(stream_end_ - elapsed);
    quantum_.sync();
  }
}

std::pair<Eigen::Index, Eigen::Index> Chip::message_span(const Transfer& t) const {
  const models::Conv2dLayer* conv = conv_[t.layer];
  if (!conv) return {t.begin, t.count};
  // A conv tile's rows are taps; a message brings the whole feature maps of their channels.
  const TileMap& tm = mapped_.mapping.tiles[t.tile];
  const auto& p = conv->params();
  const Eigen::Index per_tap = p.kh * p.kw, cig = p.in_c / p.groups, maps = p.in_h * p.in_w;
  const Eigen::Index group = tm.col_begin / conv->group_out();
  const Eigen::Index c0 = group * cig + t.begin / per_tap, c1 = group * cig + (t.begin + t.count - 1) / per_tap;
  return {c0 * maps, (c1 - c0 + 1) * maps};
}

void Chip::host_stage(const Eigen::VectorXd& input) {
  if (spiking_ && !input_overrides_.empty()) {
    // A failed input neuron with value v sends the regular train of rate clamp(v, 0, 1).
    input_with_faults_ = input;
    for (const auto& [i, v] : input_overrides_) input_with_faults_[i] = models::regular_spike(v, step_) ? 1.0 : 0.0;
    if (const models::Pool2d* stage0 = net_.stage(0)) {
      stage0->forward(input_with_faults_.data(), host_u_.data());
    } else {
      host_u_ = input_with_faults_;
    }
    return;
  }
  if (const models::Pool2d* stage0 = net_.stage(0)) {
    if (input_overrides_.empty()) {
      stage0->forward(input.data(), host_u_.data());
    } else {
      input_with_faults_ = input;
      for (const auto& [i, v] : input_overrides_) input_with_faults_[i] = v;
      stage0->forward(input_with_faults_.data(), host_u_.data());
    }
  } else {
    host_u_ = input;
    for (const auto& [i, v] : input_overrides_) host_u_[i] = v;
  }
}

void Chip::read_tile(int k, const Eigen::VectorXd& buffer, const std::vector<char>& delivered, bool all_delivered,
                     sc_core::sc_time& when) {
  const models::Conv2dLayer* conv = conv_[mapped_.mapping.tiles[k].layer];
  if (!conv) {
    tiles_[k]->read(buffer, tile_out_[k], when);
    return;
  }
  // The tile unrolls its copy of the input (its group's taps at the positions it computes) and
  // reads it; taps no message brought read 0 (their channel may have come whole with another
  // message for other taps).
  const TileMap& tm = mapped_.mapping.tiles[k];
  conv->im2col(buffer.data(), 1, tm.col_begin / conv->group_out(), tile_im2col_);
  if (all_delivered) {
    tiles_[k]->read_positions(tile_im2col_.block(tm.pos_begin, tm.row_begin, tm.positions, tm.row_count), tile_partials_[k], when);
    return;
  }
  tile_patches_ = tile_im2col_.block(tm.pos_begin, tm.row_begin, tm.positions, tm.row_count);
  for (int r = 0; r < tm.row_count; ++r) {
    if (!delivered[static_cast<std::size_t>(r)]) tile_patches_.col(r).setZero();
  }
  tiles_[k]->read_positions(tile_patches_, tile_partials_[k], when);
}

void Chip::set_spiking(const models::SpikingConfig* config) {
  if (!config) {
    spiking_.reset();
    for (auto& a : arrays_) a->clear_spiking();
    spikes_sent_.clear();
    return;
  }
  if (config->coding != models::SpikeCoding::regular) {
    throw core::InputError("chip: spiking arrays take regular input trains (input_coding: regular); Bernoulli trains run on "
                           "the functional engine");
  }
  const ChipTopology& topology = mapped_.topology;
  if (!arrays_.empty() && !arrays_.front()->spiking_model()) {
    // Every array has the topology's one type. Campaigns and nfsim eval refuse this first, naming
    // their own files; this is the chip's own guard.
    throw core::InputError(topology.file + ": neuron_array: type '" + topology.neuron_array.type +
                           "' does not spike, and spiking: runs the network on spiking arrays; expected "
                           "neuron_array: {type: lif} (or if)");
  }
  spiking_ = *config;
  const int L = net_.num_layers();
  for (std::size_t k = 0; k < arrays_.size(); ++k) {
    const ArrayMap& am = mapped_.mapping.arrays[k];
    if (am.layer == L && config->readout == models::SpikeReadout::membrane) {
      arrays_[k]->clear_spiking();  // the output layer passes its current on (identity), summed at the host
      continue;
    }
    NeuronArray::SpikingDynamics d;
    const auto per_layer = [&](const std::vector<Eigen::VectorXd>& v, double fallback) {
      const auto ul = static_cast<std::size_t>(am.layer - 1);
      if (ul < v.size() && v[ul].size()) return Eigen::VectorXd(v[ul].segment(am.neuron_begin(), am.neuron_count()));
      return Eigen::VectorXd(Eigen::VectorXd::Constant(am.neuron_count(), fallback));
    };
    d.threshold = per_layer(config->layer_thresholds, config->threshold);
    d.leak = per_layer(config->layer_leaks, config->neuron == models::SpikingNeuron::lif ? config->leak : 1.0);
    d.subtract = config->reset == models::SpikeReset::subtract;
    d.refractory = config->refractory_steps;
    arrays_[k]->set_spiking(std::move(d));
  }
  spikes_sent_.assign(static_cast<std::size_t>(L), 0);
}

bool Chip::carries_spikes(const Transfer& t) const {
  if (!spiking_) return false;
  if (t.kind == Transfer::Kind::input_to_tile) return net_.stage(0) == nullptr;
  if (t.kind == Transfer::Kind::array_to_tile) return net_.stage(t.layer - 1) == nullptr;
  return false;
}

void Chip::infer(const Eigen::VectorXd& input, Eigen::VectorXd& output) {
  if (!spiking_) {
    infer_pass(input, output);
    return;
  }
  // T passes, one per time step; the arrays keep their membranes from step to step.
  const int T = spiking_->time_steps;
  const std::uint64_t inferences_before = inferences_;
  for (auto& a : arrays_) {
    if (a->spiking()) a->begin_spiking_inference();
  }
  output.setZero(net_.output_size());
  sc_core::sc_time latency = sc_core::SC_ZERO_TIME;
  spike_input_.resize(input.size());
  for (int t = 0; t < T; ++t) {
    step_ = t;
    if (step_hook_) step_hook_(t);
    for (auto& a : arrays_) a->set_step(t);
    if (interconnect_) interconnect_->set_step(t);
    for (Eigen::Index i = 0; i < input.size(); ++i) spike_input_[i] = models::regular_spike(input[i], t) ? 1.0 : 0.0;
    infer_pass(spike_input_, step_output_);
    output += step_output_;
    latency += last_latency_;
    // Spike counts for the report: the input trains and the hidden arrays' spikes, before any
    // pooling stage (what the functional engine counts).
    spikes_sent_[0] += static_cast<std::uint64_t>(spike_input_.sum() + 0.5);
    for (std::size_t k = 0; k < arrays_.size(); ++k) {
      const int l = mapped_.mapping.arrays[k].layer;
      if (l < net_.num_layers() && arrays_[k]->spiking()) {
        spikes_sent_[static_cast<std::size_t>(l)] += static_cast<std::uint64_t>(arrays_[k]->neuron_outputs().sum() + 0.5);
      }
    }
  }
  output /= static_cast<double>(T);
  last_latency_ = latency;
  inferences_ = inferences_before + 1;
}

void Chip::infer_pass(const Eigen::VectorXd& input, Eigen::VectorXd& output) {
  const Mapping& m = mapped_.mapping;
  const int L = net_.num_layers();
  // Single inferences start now; a stream's from the stream's start, input n at n * interval.
  if (!streaming_) inference_start_ = sc_core::sc_time_stamp();
  const sc_core::sc_time start = inference_start_;
  const sc_core::sc_time arrival = streaming_ ? stream_interval_ * static_cast<double>(stream_index_++) : sc_core::SC_ZERO_TIME;
  inference_offset_ = arrival;
  // The thread catches up with the annotated time before each phase, so a phase sees every
  // fault whose onset came before it: tile reads happen when the layer's last input message
  // has arrived, array updates when the last partial sum has arrived.
  auto sync_to = [&](const sc_core::sc_time& offset) {
    if (streaming_) return;  // a stream is one quantum (end_stream() catches up)
    const sc_core::sc_time elapsed = sc_core::sc_time_stamp() - start;
    if (offset > elapsed) {
      quantum_.set(offset - elapsed);
      quantum_.sync();
    }
  };
  // Times below are offsets from `start`; the thread catches up once per phase.
  host_stage(input);
  host_output_.setZero();
  deadline_missed_ = false;
  if (interconnect_ && !streaming_) interconnect_->begin_inference();
  std::fill(array_ready_.begin(), array_ready_.end(), sc_core::SC_ZERO_TIME);
  sc_core::sc_time host_done = arrival;
  std::size_t tr = 0;
  // The transfers of one phase (consecutive in the mapping while `in_phase` holds), in order of
  // their ready times, mapping order among equals: the order they compete for links in.
  auto phase = [&](auto in_phase, auto ready) -> const std::vector<std::size_t>& {
    phase_order_.clear();
    for (; tr < m.transfers.size() && in_phase(m.transfers[tr]); ++tr) phase_order_.push_back(tr);
    std::stable_sort(phase_order_.begin(), phase_order_.end(),
                     [&](std::size_t a, std::size_t b) { return ready(m.transfers[a]) < ready(m.transfers[b]); });
    return phase_order_;
  };
  for (int l = 1; l <= L; ++l) {
    const models::Conv2dLayer* conv = conv_[l];
    const Eigen::Index prev_values = values_per_row(l - 1);
    for (int k : tiles_of_[l]) {
      tiles_[k]->begin_inference();
      tile_arrival_[k] = sc_core::SC_ZERO_TIME;
    }
    // Inputs of the layer's tiles: from the host (layer 1) or from the previous layer's arrays.
    // A dense tile's message brings the inputs of its rows; a conv tile's the feature maps of the
    // channels its taps read (whole channels, into the tile's copy of the layer's input).
    const auto inputs = [l](const Transfer& t) {
      return t.layer == l && (t.kind == Transfer::Kind::input_to_tile || t.kind == Transfer::Kind::array_to_tile);
    };
    const auto input_ready = [&](const Transfer& t) {
      return t.kind == Transfer::Kind::input_to_tile ? arrival : array_ready_[t.array];
    };
    for (std::size_t i : phase(inputs, input_ready)) {
      const Transfer& t = m.transfers[i];
      const TileMap& tm = m.tiles[t.tile];
      const bool from_host = t.kind == Transfer::Kind::input_to_tile;
      // The values of the layer's input u_{l-1} the message carries, and where they go in the
      // tile's buffer (a dense tile's rows; a conv tile's copy of the whole input).
      const auto [first, values] = message_span(t);
      const Eigen::Index dst = conv ? first : t.begin - tm.row_begin;
      sc_core::sc_time when = input_ready(t);
      if (from_host) {
        send(host_out, "the host", t, t.tile, dst, host_u_.data() + first, values, 1, when);
      } else {
        const Eigen::Index own = m.arrays[t.array].begin * prev_values;  // the array's first value in u_{l-1}
        send(arrays_[t.array]->out, arrays_[t.array]->name(), t, t.tile, dst, arrays_[t.array]->output().data() + (first - own),
             values, 1, when);
      }
      tile_arrival_[t.tile] = std::max(tile_arrival_[t.tile], when);
    }
    sc_core::sc_time reads_start = arrival;
    for (int k : tiles_of_[l]) {
      reads_start = std::max(reads_start, tile_arrival_[k]);
      if (streaming_) reads_start = std::max(reads_start, tile_free_[k]);  // done with the previous input
    }
    sync_to(reads_start);
    last_reads_start_[l] = reads_start;
    for (int k : tiles_of_[l]) {
      sc_core::sc_time when = reads_start;
      read_tile(k, tiles_[k]->input(), tiles_[k]->rows_delivered(), tiles_[k]->all_rows_delivered(), when);
      tile_ready_[k] = when;
      if (streaming_) tile_free_[k] = when;
    }
    // Partial sums to the arrays, in tile order: rows (channels) [t.begin, t.begin + count) of
    // the tile's columns, at the positions the tile computes.
    for (int a : arrays_of_[l]) {
      arrays_[a]->begin();
      array_in_[a] = sc_core::SC_ZERO_TIME;
    }
    const auto partial_sums = [l](const Transfer& t) { return t.layer == l && t.kind == Transfer::Kind::tile_to_array; };
    const auto tile_ready = [&](const Transfer& t) { return tile_ready_[t.tile]; };
    for (std::size_t i : phase(partial_sums, tile_ready)) {
      const Transfer& t = m.transfers[i];
      const TileMap& tm = m.tiles[t.tile];
      const ArrayMap& am = m.arrays[t.array];
      const int column = t.begin - tm.col_begin;
      sc_core::sc_time when = tile_ready_[t.tile];
      const Eigen::Index dst = static_cast<Eigen::Index>(t.begin - am.begin) * am.positions + tm.pos_begin;
      if (conv) {
        send(tiles_[t.tile]->out, tiles_[t.tile]->name(), t, array_target(t.array), dst, tile_partials_[t.tile].col(column).data(),
             static_cast<Eigen::Index>(t.count) * tm.positions, tm.positions, when);
      } else {
        send(tiles_[t.tile]->out, tiles_[t.tile]->name(), t, array_target(t.array), dst, tile_out_[t.tile].data() + column,
             t.count, 1, when);
      }
      array_in_[t.array] = std::max(array_in_[t.array], when);
    }
    sc_core::sc_time updates_start = arrival;
    for (int a : arrays_of_[l]) {
      updates_start = std::max(updates_start, array_in_[a]);
      if (streaming_) updates_start = std::max(updates_start, array_free_[a]);
    }
    sync_to(updates_start);
    last_updates_start_[l] = updates_start;
    for (int a : arrays_of_[l]) {
      sc_core::sc_time when = updates_start;
      arrays_[a]->fire(when);
      array_ready_[a] = when;
      if (streaming_) array_free_[a] = when;
    }
    // No sync to the updates' end: the arrays' messages leave from there, which the thread has
    // not passed; the next layer's reads (or the host) wait for them.
  }
  // The output layer's arrays send their values to the host.
  const auto to_host = [](const Transfer& t) { return t.kind == Transfer::Kind::array_to_host; };
  const auto array_ready = [&](const Transfer& t) { return array_ready_[t.array]; };
  for (std::size_t i : phase(to_host, array_ready)) {
    const Transfer& t = m.transfers[i];
    const ArrayMap& am = m.arrays[t.array];
    sc_core::sc_time when = array_ready_[t.array];
    send(arrays_[t.array]->out, arrays_[t.array]->name(), t, host_target(), static_cast<Eigen::Index>(t.begin) * am.positions,
         arrays_[t.array]->output().data() + static_cast<Eigen::Index>(t.begin - am.begin) * am.positions,
         static_cast<Eigen::Index>(t.count) * am.positions, 1, when);
    host_done = std::max(host_done, when);
  }
  if (tr != m.transfers.size()) throw core::InternalError("chip: the mapping's transfers are not in phase order");
  sync_to(host_done);
  output = host_output_;
  if (streaming_) {
    last_latency_ = host_done - arrival;
    stream_last_done_ = host_done;
    stream_end_ = std::max(stream_end_, host_done);
  } else {
    last_latency_ = sc_core::sc_time_stamp() - start;
  }
  ++inferences_;
}

void Chip::set_fault_plan(const faults::FaultPlan& plan) {
  plan_ = &plan;
  physical_.assign(plan.size(), {});
  for (std::size_t s = 0; s < plan.size(); ++s) {
    const faults::FaultSpec& spec = plan.specs()[s];
    if (spec.physical_kind.empty()) continue;
    physical_[s] = physical_units(faults::parse_physical_kind(spec.physical_kind), spec.layers, mapped_.mapping, *mapped_.interconnect);
    if (physical_[s].size() != spec.groups.size()) {
      throw core::InternalError("chip: physical fault units disagree with the expanded plan");
    }
  }
}

void Chip::clear_faults() {
  for (auto& t : tiles_) t->clear_faults();
  for (auto& a : arrays_) a->clear_faults();
  if (interconnect_) interconnect_->clear_faults();
  input_overrides_.clear();
}

void Chip::set_neuron(int layer, int index, double value) {
  if (layer == 0) {
    input_overrides_.emplace_back(index, value);
    return;
  }
  for (int a : arrays_of_[layer]) {
    const ArrayMap& am = mapped_.mapping.arrays[a];
    if (am.holds_neuron(index)) {
      arrays_[a]->set_neuron(index - am.neuron_begin(), value);
      return;
    }
  }
  throw core::InternalError("chip: neuron (" + std::to_string(layer) + ", " + std::to_string(index) + ") is not mapped");
}

void Chip::set_synapse(int layer, int row, int col, double value) {
  // A logical synapse fault is the weight's: every copy of a replicated tile holds it.
  bool found = false;
  for (int k : tiles_of_[layer]) {
    const TileMap& tm = mapped_.mapping.tiles[k];
    if (col >= tm.row_begin && col < tm.row_begin + tm.row_count && row >= tm.col_begin && row < tm.col_begin + tm.col_count) {
      tiles_[k]->set_cell(col - tm.row_begin, row - tm.col_begin, value);
      found = true;
    }
  }
  if (found) return;
  throw core::InternalError("chip: synapse (" + std::to_string(layer) + ", " + std::to_string(row) + ", " + std::to_string(col) +
                            ") is not mapped");
}

void Chip::apply_fault(std::size_t s, std::uint64_t unit) {
  const faults::FaultSpec& spec = plan_->specs()[s];
  if (!spec.physical_kind.empty()) {
    const PhysicalUnit& u = physical_[s][unit];
    switch (u.kind) {
      case faults::PhysicalKind::crossbar_row: tiles_[u.tile]->crash_row(u.index); break;
      case faults::PhysicalKind::crossbar_column: tiles_[u.tile]->crash_column(u.index); break;
      case faults::PhysicalKind::crossbar_tile: tiles_[u.tile]->crash_tile(); break;
      case faults::PhysicalKind::neuron_array: arrays_[u.array]->crash_array(); break;
      case faults::PhysicalKind::router:
        if (!interconnect_) throw core::InternalError("chip: a router fault on a foreign interconnect");
        interconnect_->fail_router(u.router);
        break;
      case faults::PhysicalKind::slow_tile: tiles_[u.tile]->slow_down(spec.factor); break;
      case faults::PhysicalKind::slow_array: arrays_[u.array]->slow_down(spec.factor); break;
      case faults::PhysicalKind::slow_link:
        if (!interconnect_) throw core::InternalError("chip: a link fault on a foreign interconnect");
        interconnect_->slow_link(u.router, u.index, spec.factor);
        break;
      case faults::PhysicalKind::lossy_router:
      case faults::PhysicalKind::lossy_link:
        if (!interconnect_) throw core::InternalError("chip: a lossy router or link on a foreign interconnect");
        if (!spiking_) throw core::InternalError("chip: a " + spec.kind_name() + " fault on rate arrays");
        interconnect_->lose_spikes(u.router, u.kind == faults::PhysicalKind::lossy_link ? u.index : -1, s, unit, spec.drop_probability);
        break;
    }
    return;
  }
  using faults::FaultKind;
  if (spec.acts_on_neuron_parameters()) {
    if (!spiking_) throw core::InternalError("chip: a " + spec.kind_name() + " fault on rate arrays");
    int layer = 0;
    std::uint64_t pos = 0;
    plan_->locate(s, unit, layer, pos);
    for (int a : arrays_of_[layer]) {
      const ArrayMap& am = mapped_.mapping.arrays[a];
      if (am.holds_neuron(static_cast<int>(pos))) {
        arrays_[a]->scale_parameter(static_cast<int>(pos) - am.neuron_begin(), spec.kind == FaultKind::threshold_deviation, spec.factor);
        return;
      }
    }
    throw core::InternalError("chip: neuron (" + std::to_string(layer) + ", " + std::to_string(pos) + ") is not mapped");
  }
  if (spec.kind == FaultKind::group_crash) {
    for (const auto& n : spec.groups[unit].neurons) set_neuron(n.layer, n.index, 0.0);
    for (const auto& w : spec.groups[unit].synapses) set_synapse(w.layer, w.row, w.col, 0.0);
    return;
  }
  const faults::FaultPlan::UnitFault f = plan_->unit_fault(s, unit, programmed_);
  if (f.neuron) {
    set_neuron(f.layer, f.index, f.value);
  } else {
    const models::ILayer& layer = programmed_.layer(f.layer);
    set_synapse(f.layer, static_cast<int>(layer.synapse_row(f.synapse)), static_cast<int>(layer.synapse_col(f.synapse)),
                f.value);
  }
}

void Chip::set_read_noise(bool on) {
  for (auto& tile : tiles_) tile->set_read_noise(on);
}

void Chip::reset_counters() {
  inferences_ = 0;
  messages_sent_ = 0;
  std::fill(spikes_sent_.begin(), spikes_sent_.end(), 0);
  if (interconnect_) interconnect_->reset_counters();
}

}  // namespace nfsim::sim
