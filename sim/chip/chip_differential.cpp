// Differential (concurrent) fault simulation of the chip: docs/chip.md, "Differential simulation".
// A fault-free inference of each input is simulated once and recorded (Chip::Reference); an
// inference whose faults change values only then re-simulates only the modules those faults reach:
// a tile whose cells or input values changed reads the difference (Crossbar::read_changed; a conv
// tile reads its changed input in full), an array whose partial sums or neurons changed updates
// again, and the change travels on as the values that differ from the reference. Times, traffic
// and latency are the reference's: value faults do not move them (which is why an inference with
// a unit that acts through time is simulated fully; the engine decides, chip_engine.cpp).
#include <algorithm>

#include "core/error.h"
#include "sim/chip/chip.h"

namespace nfsim::sim {

std::size_t Chip::Reference::bytes() const {
  std::size_t doubles = 0;
  for (const auto& v : u) doubles += static_cast<std::size_t>(v.size());
  for (const auto& v : tile_input) doubles += static_cast<std::size_t>(v.size());
  for (const auto& v : tile_out) doubles += static_cast<std::size_t>(v.size());
  for (const auto& m : tile_partials) doubles += static_cast<std::size_t>(m.size());
  for (const auto& v : array_z) doubles += static_cast<std::size_t>(v.size());
  for (const auto& v : array_y) doubles += static_cast<std::size_t>(v.size());
  return doubles * sizeof(double) + traffic.link_busy.size() * sizeof(sc_core::sc_time) +
         (reads_start.size() + updates_start.size()) * sizeof(sc_core::sc_time) + sizeof(Reference);
}

Eigen::Index Chip::values_per_row(int l) const {
  return l == 0 ? 1 : net_.staged_width(l) / net_.layer(l).crossbar_matrix().rows();
}

std::string Chip::differential_obstacle() const {
  if (spiking_) return "spiking arrays (their membranes carry state from one time step to the next)";
  if (!interconnect_) return "a foreign TLM-2.0 interconnect module (tlm_interconnect:), whose timing nfsim cannot replay";
  for (const auto& tile : tiles_) {
    if (tile->noisy_reads()) return "a crossbar model with read noise (every read differs, so no tile keeps its reference)";
  }
  return {};
}

void Chip::build_differential_maps() {
  const Mapping& m = mapped_.mapping;
  tile_receives_.assign(m.tiles.size(), {});
  for (std::size_t k = 0; k < m.tiles.size(); ++k) {
    tile_receives_[k].assign(static_cast<std::size_t>(net_.staged_width(m.tiles[k].layer - 1)), 0);
  }
  array_sources_.assign(m.arrays.size(), {});
  for (std::size_t i = 0; i < m.transfers.size(); ++i) {
    const Transfer& t = m.transfers[i];
    if (t.kind == Transfer::Kind::tile_to_array) {
      array_sources_[static_cast<std::size_t>(t.array)].push_back(i);
      continue;
    }
    if (t.kind != Transfer::Kind::input_to_tile && t.kind != Transfer::Kind::array_to_tile) continue;
    // The values of u_{l-1} the message brings, as Chip::infer sends them.
    const auto [first, values] = message_span(t);
    auto& receives = tile_receives_[static_cast<std::size_t>(t.tile)];
    std::fill(receives.begin() + first, receives.begin() + first + values, 1);
  }
  ref_rows_delivered_.assign(m.tiles.size(), {});
  ref_all_delivered_.assign(m.tiles.size(), 0);
  for (std::size_t k = 0; k < m.tiles.size(); ++k) {
    ref_rows_delivered_[k] = tiles_[k]->rows_delivered();
    ref_all_delivered_[k] = tiles_[k]->all_rows_delivered();
  }
  tile_dirty_.assign(m.tiles.size(), 0);
}

void Chip::infer_reference(const Eigen::VectorXd& input, Eigen::VectorXd& output, Reference& ref) {
  const Mapping& m = mapped_.mapping;
  const int L = net_.num_layers();
  if (!differential_obstacle().empty()) throw core::InternalError("chip: a reference of a chip that cannot be replayed");
  const std::uint64_t messages_before = messages_sent_;
  const Interconnect::Traffic traffic_before = interconnect_->traffic();
  infer(input, output);
  if (tile_receives_.empty()) build_differential_maps();
  ref.messages = messages_sent_ - messages_before;
  ref.traffic = Interconnect::difference(interconnect_->traffic(), traffic_before);
  ref.latency = last_latency_;
  ref.reads_start = last_reads_start_;
  ref.updates_start = last_updates_start_;
  ref.u.assign(static_cast<std::size_t>(L) + 1, {});
  ref.u[0] = host_u_;
  for (int l = 1; l <= L; ++l) {
    ref.u[l].setZero(net_.staged_width(l));
    for (int a : arrays_of_[l]) {
      const Eigen::VectorXd& out = arrays_[a]->output();
      ref.u[l].segment(m.arrays[a].begin * values_per_row(l), out.size()) = out;
    }
  }
  if (ref.u[L].size() != output.size() || ref.u[L] != output) {
    throw core::InternalError("chip: the host's output is not what the output layer's arrays hold");
  }
  ref.array_z.resize(m.arrays.size());
  ref.array_y.resize(m.arrays.size());
  for (std::size_t a = 0; a < m.arrays.size(); ++a) {
    ref.array_z[a] = arrays_[a]->z();
    ref.array_y[a] = arrays_[a]->model_output();
  }
  ref.tile_input.resize(m.tiles.size());
  ref.tile_out.resize(m.tiles.size());
  ref.tile_partials.resize(m.tiles.size());
  for (std::size_t k = 0; k < m.tiles.size(); ++k) {
    ref.tile_input[k] = tiles_[k]->input();
    if (tiles_[k]->rows_delivered() != ref_rows_delivered_[k]) {
      throw core::InternalError("chip: a fault-free inference delivered other rows than the first");
    }
    if (conv_[m.tiles[k].layer]) {
      ref.tile_partials[k] = tile_partials_[k];
    } else {
      ref.tile_out[k] = tile_out_[k];
    }
  }
}

void Chip::infer_differential(const Reference& ref, const Eigen::VectorXd& input, Eigen::VectorXd& output,
                              const std::function<void(const sc_core::sc_time&)>& faults_until) {
  const Mapping& m = mapped_.mapping;
  const int L = net_.num_layers();
  // The host: layer-0 neuron faults (applied at the inference's start, as the full simulation's
  // host computes its message then) change some of layer 1's inputs.
  const Eigen::VectorXd* u = &ref.u[0];
  changed_.clear();
  if (!input_overrides_.empty()) {
    host_stage(input);
    for (Eigen::Index i = 0; i < host_u_.size(); ++i) {
      if (host_u_[i] != ref.u[0][i]) changed_.push_back(i);
    }
    u = &host_u_;
  }
  int scratch = 0;
  for (int l = 1; l <= L; ++l) {
    const models::Conv2dLayer* conv = conv_[l];
    faults_until(ref.reads_start[l]);
    for (int k : tiles_of_[l]) {
      const TileMap& tm = m.tiles[k];
      const auto& receives = tile_receives_[k];
      bool input_changed = false;
      for (Eigen::Index i : changed_) input_changed = input_changed || receives[static_cast<std::size_t>(i)];
      tile_dirty_[k] = input_changed || tiles_[k]->faulted();
      if (!tile_dirty_[k]) continue;
      sc_core::sc_time ignored;  // times are the reference's
      if (conv) {
        conv_buffer_ = ref.tile_input[k];
        for (Eigen::Index i : changed_) {
          if (receives[static_cast<std::size_t>(i)]) conv_buffer_[i] = (*u)[i];
        }
        read_tile(k, conv_buffer_, ref_rows_delivered_[k], ref_all_delivered_[k], ignored);
      } else {
        row_changes_.clear();
        for (Eigen::Index i : changed_) {
          if (receives[static_cast<std::size_t>(i)]) row_changes_.emplace_back(static_cast<int>(i - tm.row_begin), (*u)[i]);
        }
        tiles_[k]->read_changed(ref.tile_input[k], ref.tile_out[k], row_changes_, tile_out_[k]);
      }
    }
    faults_until(ref.updates_start[l]);
    next_changed_.clear();
    Eigen::VectorXd* next = nullptr;  // u_l with this inference's changes, when it has any
    for (int a : arrays_of_[l]) {
      bool inputs_changed = false;
      for (std::size_t i : array_sources_[a]) inputs_changed = inputs_changed || tile_dirty_[m.transfers[i].tile];
      if (!inputs_changed && !arrays_[a]->faulted()) continue;
      const ArrayMap& am = m.arrays[a];
      sc_core::sc_time ignored;
      if (!inputs_changed) {
        // Its partial sums are the reference's: so are the model's outputs; only faults change them.
        arrays_[a]->fire_from(ref.array_y[a]);
      } else if (!conv) {
        // The reference's pre-activations plus what the tiles that read again changed.
        arrays_[a]->set_z(ref.array_z[a]);
        for (std::size_t i : array_sources_[a]) {
          const Transfer& t = m.transfers[i];
          if (!tile_dirty_[t.tile]) continue;
          const int column = t.begin - m.tiles[t.tile].col_begin;
          arrays_[a]->accumulate_difference(t.begin - am.begin, tile_out_[t.tile].data() + column,
                                            ref.tile_out[t.tile].data() + column, t.count);
        }
        arrays_[a]->fire(ignored);
      } else {
        // A conv array's partial sums again, in mapping order (the full simulation adds them in
        // send order: the same sums up to rounding), from the tiles that read again or their
        // references.
        arrays_[a]->begin();
        for (std::size_t i : array_sources_[a]) {
          const Transfer& t = m.transfers[i];
          const TileMap& tm = m.tiles[t.tile];
          const Eigen::MatrixXd& partials = tile_dirty_[t.tile] ? tile_partials_[t.tile] : ref.tile_partials[t.tile];
          arrays_[a]->accumulate_positions(t.begin - am.begin, tm.pos_begin, partials, t.begin - tm.col_begin, t.count);
        }
        arrays_[a]->fire(ignored);
      }
      const Eigen::VectorXd& out = arrays_[a]->output();
      const Eigen::Index own = am.begin * values_per_row(l), size = out.size();
      const double* now = out.data();
      const double* before = ref.u[l].data() + own;
      for (Eigen::Index j = 0; j < size; ++j) {
        if (now[j] == before[j]) continue;
        if (!next) {
          next = &u_scratch_[scratch];
          *next = ref.u[l];
        }
        next->data()[own + j] = now[j];
        next_changed_.push_back(own + j);
      }
    }
    std::swap(changed_, next_changed_);
    u = next ? next : &ref.u[l];
    scratch ^= 1;
  }
  faults_until(ref.latency);
  output = *u;
  host_output_ = output;
  last_latency_ = ref.latency;
  deadline_missed_ = false;
  messages_sent_ += ref.messages;
  interconnect_->add_traffic(ref.traffic);
  ++inferences_;
}

}  // namespace nfsim::sim
