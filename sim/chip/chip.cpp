#include "sim/chip/chip.h"

#include <algorithm>

#include "core/error.h"
#include "sim/topology/components.h"

namespace nfsim::sim {
namespace {

sc_core::sc_time ns(double v) { return sc_core::sc_time(v, sc_core::SC_NS); }

}  // namespace

Chip::Chip(sc_core::sc_module_name name, const models::Network& network, const MappedChip& mapped)
    : sc_core::sc_module(name), net_(network), mapped_(mapped) {
  const ChipTopology& t = mapped.topology;
  const Mapping& m = mapped.mapping;
  // The weights as the crossbars store them, programmed once; each tile holds its block.
  programmed_ = sim::programmed_network(net_, mapped);
  for (std::size_t k = 0; k < m.tiles.size(); ++k) {
    const TileMap& tm = m.tiles[k];
    const Eigen::MatrixXd block =
        programmed_.layer(tm.layer).crossbar_matrix().block(tm.col_begin, tm.row_begin, tm.col_count, tm.row_count);
    tiles_.push_back(std::make_unique<Crossbar>(("tile" + std::to_string(k)).c_str(), block, make_crossbar_model(t),
                                                static_cast<int>(k), ns(t.read_latency_ns)));
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
  interconnect_ = std::make_unique<Interconnect>("noc", *mapped.interconnect);
  tile_in_.resize(m.tiles.size());
  tile_out_.resize(m.tiles.size());
  tile_patches_.resize(m.tiles.size());
  tile_partials_.resize(m.tiles.size());
  tile_rows_ok_.resize(m.tiles.size());
  for (std::size_t k = 0; k < m.tiles.size(); ++k) {
    tile_in_[k].setZero(m.tiles[k].row_count);
    tile_rows_ok_[k].assign(static_cast<std::size_t>(m.tiles[k].row_count), 1);
  }
  conv_.assign(static_cast<std::size_t>(net_.num_layers()) + 1, nullptr);
  Eigen::Index groups = 0;
  for (int l = 1; l <= net_.num_layers(); ++l) {
    conv_[l] = dynamic_cast<const models::Conv2dLayer*>(&net_.layer(l));
    if (conv_[l]) groups = std::max(groups, conv_[l]->params().groups);
  }
  group_patches_.resize(static_cast<std::size_t>(groups));
  tile_ready_.resize(m.tiles.size());
  array_ready_.resize(m.arrays.size());
  array_in_.resize(m.arrays.size());
  layer_u_.resize(static_cast<std::size_t>(net_.num_layers()) + 1);
  tiles_of_.resize(static_cast<std::size_t>(net_.num_layers()) + 1);
  arrays_of_.resize(static_cast<std::size_t>(net_.num_layers()) + 1);
  for (int l = 1; l <= net_.num_layers(); ++l) {
    tiles_of_[l] = m.tiles_of(l);
    arrays_of_[l] = m.arrays_of(l);
  }
  for (int l = 0; l <= net_.num_layers(); ++l) layer_u_[l].setZero(net_.staged_width(l));
}

void Chip::infer(const Eigen::VectorXd& input, Eigen::VectorXd& output) {
  const Mapping& m = mapped_.mapping;
  const int L = net_.num_layers();
  const sc_core::sc_time start = sc_core::sc_time_stamp();
  // The thread catches up with the annotated time before each phase, so a phase sees every
  // fault whose onset came before it: tile reads happen when the layer's last input message
  // has arrived, array updates when the last partial sum has arrived.
  auto sync_to = [&](const sc_core::sc_time& offset) {
    const sc_core::sc_time elapsed = sc_core::sc_time_stamp() - start;
    if (offset > elapsed) sc_core::wait(offset - elapsed);
  };
  // Times below are offsets from `start`; the thread catches up once per layer.
  if (const models::Pool2d* stage0 = net_.stage(0)) {
    if (input_overrides_.empty()) {
      stage0->forward(input.data(), layer_u_[0].data());
    } else {
      input_with_faults_ = input;
      for (const auto& [i, v] : input_overrides_) input_with_faults_[i] = v;
      stage0->forward(input_with_faults_.data(), layer_u_[0].data());
    }
  } else {
    layer_u_[0] = input;
    for (const auto& [i, v] : input_overrides_) layer_u_[0][i] = v;
  }
  std::fill(array_ready_.begin(), array_ready_.end(), sc_core::SC_ZERO_TIME);
  sc_core::sc_time host_done = sc_core::SC_ZERO_TIME;
  std::size_t tr = 0;
  for (int l = 1; l <= L; ++l) {
    const models::Conv2dLayer* conv = conv_[l];
    // Inputs of the layer's tiles: from the host (layer 1) or from the previous layer's arrays.
    // A conv tile's message brings the feature maps of its taps' channels; a lost one leaves
    // those taps at 0.
    std::vector<sc_core::sc_time> tile_arrival(m.tiles.size(), sc_core::SC_ZERO_TIME);
    for (; tr < m.transfers.size(); ++tr) {
      const Transfer& t = m.transfers[tr];
      if (t.layer != l || (t.kind != Transfer::Kind::input_to_tile && t.kind != Transfer::Kind::array_to_tile)) break;
      sc_core::sc_time when = t.kind == Transfer::Kind::input_to_tile ? sc_core::SC_ZERO_TIME : array_ready_[t.array];
      const bool delivered = interconnect_->send(t.src_core, t.dst_core, t.bytes, when);
      const int local = t.begin - m.tiles[t.tile].row_begin;
      if (conv) {
        std::fill_n(tile_rows_ok_[t.tile].begin() + local, t.count, static_cast<char>(delivered));
      } else if (delivered) {
        tile_in_[t.tile].segment(local, t.count) = layer_u_[l - 1].segment(t.begin, t.count);
      } else {
        tile_in_[t.tile].segment(local, t.count).setZero();
      }
      tile_arrival[t.tile] = std::max(tile_arrival[t.tile], when);
    }
    sc_core::sc_time reads_start = sc_core::SC_ZERO_TIME;
    for (int k : tiles_of_[l]) reads_start = std::max(reads_start, tile_arrival[k]);
    sync_to(reads_start);
    if (conv) {
      // Each group's feature maps unrolled once (positions x taps); every tile reads its taps at
      // the positions it computes (all of them, or its replica's share).
      for (Eigen::Index g = 0; g < conv->params().groups; ++g) conv->im2col(layer_u_[l - 1].data(), 1, g, group_patches_[g]);
    }
    for (int k : tiles_of_[l]) {
      sc_core::sc_time when = reads_start;
      if (conv) {
        const TileMap& tm = m.tiles[k];
        const Eigen::MatrixXd& patches = group_patches_[tm.col_begin / conv->group_out()];
        std::vector<char>& ok = tile_rows_ok_[k];
        if (std::find(ok.begin(), ok.end(), 0) == ok.end()) {
          tiles_[k]->read_positions(patches.block(tm.pos_begin, tm.row_begin, tm.positions, tm.row_count), tile_partials_[k],
                                    when);
        } else {
          tile_patches_[k] = patches.block(tm.pos_begin, tm.row_begin, tm.positions, tm.row_count);
          for (int r = 0; r < tm.row_count; ++r) {
            if (!ok[static_cast<std::size_t>(r)]) tile_patches_[k].col(r).setZero();
          }
          tiles_[k]->read_positions(tile_patches_[k], tile_partials_[k], when);
        }
        std::fill(ok.begin(), ok.end(), 1);
      } else {
        tiles_[k]->read(tile_in_[k], tile_out_[k], when);
      }
      tile_ready_[k] = when;
    }
    // Partial sums to the arrays, in tile order.
    for (int a : arrays_of_[l]) {
      arrays_[a]->begin();
      array_in_[a] = sc_core::SC_ZERO_TIME;
    }
    for (; tr < m.transfers.size(); ++tr) {
      const Transfer& t = m.transfers[tr];
      if (t.layer != l || t.kind != Transfer::Kind::tile_to_array) break;
      sc_core::sc_time when = tile_ready_[t.tile];
      if (interconnect_->send(t.src_core, t.dst_core, t.bytes, when)) {
        const int channel = t.begin - m.arrays[t.array].begin, column = t.begin - m.tiles[t.tile].col_begin;
        if (conv) {
          arrays_[t.array]->accumulate_positions(channel, m.tiles[t.tile].pos_begin, tile_partials_[t.tile], column, t.count);
        } else {
          arrays_[t.array]->accumulate(channel, tile_out_[t.tile].data() + column, t.count);
        }
      }
      array_in_[t.array] = std::max(array_in_[t.array], when);
    }
    sc_core::sc_time updates_start = sc_core::SC_ZERO_TIME;
    for (int a : arrays_of_[l]) updates_start = std::max(updates_start, array_in_[a]);
    sync_to(updates_start);
    sc_core::sc_time layer_done = sc_core::SC_ZERO_TIME;
    // Values each array row (neuron or channel) sends on: 1, or a channel's (pooled) feature map.
    const Eigen::Index row_values = net_.staged_width(l) / net_.layer(l).crossbar_matrix().rows();
    for (int a : arrays_of_[l]) {
      sc_core::sc_time when = updates_start;
      arrays_[a]->fire(when);
      array_ready_[a] = when;
      layer_u_[l].segment(m.arrays[a].begin * row_values, m.arrays[a].count * row_values) = arrays_[a]->output();
      layer_done = std::max(layer_done, when);
    }
    sync_to(layer_done);
  }
  output.resize(net_.output_size());
  for (; tr < m.transfers.size(); ++tr) {
    const Transfer& t = m.transfers[tr];
    const ArrayMap& am = m.arrays[t.array];
    sc_core::sc_time when = array_ready_[t.array];
    if (interconnect_->send(t.src_core, t.dst_core, t.bytes, when)) {
      output.segment(t.begin * am.positions, t.count * am.positions) = layer_u_[L].segment(t.begin * am.positions, t.count * am.positions);
    } else {
      output.segment(t.begin * am.positions, t.count * am.positions).setZero();
    }
    host_done = std::max(host_done, when);
  }
  sync_to(host_done);
  last_latency_ = sc_core::sc_time_stamp() - start;
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
  interconnect_->clear_faults();
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
      case faults::PhysicalKind::router: interconnect_->fail_router(u.router); break;
    }
    return;
  }
  using faults::FaultKind;
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
  interconnect_->reset_counters();
}

}  // namespace nfsim::sim
