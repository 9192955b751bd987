#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <Eigen/Dense>
#include <algorithm>
#include <memory>
#include <vector>

#include "sim/crossbar/i_crossbar_model.h"

namespace nfsim::sim {

// One crossbar tile: a block of cells (outputs x inputs) as programmed by its device model
// (programmed_network() does the programming), read through the model's read noise.
// A read takes the tile's input vector and returns the column partial sums after the read
// latency (annotated on `delay`). Fault hooks: one cell, a row (input driver), a column (ADC or
// sense amplifier), the whole tile; clear_faults() restores only what was touched.
//
// TLM-2.0 (docs/chip.md, "TLM-2.0 protocol"): `in` takes the messages that bring the tile its
// input (writes into its input buffer: the tile's rows for a dense layer, the layer's whole input
// feature maps for a conv layer, of which the messages fill the channels its taps read), and `out`
// sends its partial sums. begin_inference() clears the buffer, so a message that never arrives
// leaves zeros.
class Crossbar : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<Crossbar> in;
  tlm_utils::simple_initiator_socket<Crossbar> out;

  // input_values: the size of the input buffer (0: the tile's rows); row_begin: the logical
  // index (crossbar-matrix column) of the tile's first row, to mark which rows a message brought.
  Crossbar(sc_core::sc_module_name name, const Eigen::MatrixXd& block, std::unique_ptr<ICrossbarModel> model,
           int tile_index, sc_core::sc_time read_latency, Eigen::Index input_values = 0, int row_begin = 0);

  // Input buffer to zero, no row delivered.
  void begin_inference();
  const Eigen::VectorXd& input() const { return input_; }
  // Per tile row: whether a message brought it in this inference.
  const std::vector<char>& rows_delivered() const { return rows_delivered_; }
  bool all_rows_delivered() const { return delivered_count_ == rows(); }

  // partial = stored * input (input: rows, partial: cols).
  void read(const Eigen::VectorXd& input, Eigen::VectorXd& partial, sc_core::sc_time& delay);

  // A conv tile's reads of one inference, one per output position, one after another:
  // partial (positions x cols) = patches (positions x rows) * stored^T, with the read latency
  // annotated once per position and the read noise drawn per read.
  void read_positions(const Eigen::Ref<const Eigen::MatrixXd>& patches, Eigen::MatrixXd& partial, sc_core::sc_time& delay);

  // Differential simulation (docs/chip.md, "Differential simulation"): what read() gives on the
  // input `reference_input` with the rows in `changes` ((row, value), each row once) replaced,
  // computed from `reference_partial`, the fault-free read of `reference_input` (read noise off),
  // by the cells' differences: the changed and dead rows' columns and the faulted cells. Falls
  // back to a full read when many rows change. No latency (the chip takes it from the reference);
  // a model with noisy reads cannot be read this way (the chip simulates it fully).
  void read_changed(const Eigen::VectorXd& reference_input, const Eigen::VectorXd& reference_partial,
                    const std::vector<std::pair<int, double>>& changes, Eigen::VectorXd& partial);
  // Whether a fault changes what the tile reads (a cell, row, column or the whole tile).
  bool faulted() const { return dead_ || any_dead_rows_ || any_dead_cols_ || !touched_.empty(); }
  bool noisy_reads() const { return model_->noisy_reads(); }

  void set_cell(int row, int col, double value);  // stuck-at / crash (0) / flipped value
  void crash_row(int row);
  void crash_column(int col);
  void crash_tile();
  // A timing fault: reads take `factor` times the read latency (the largest factor applied wins).
  void slow_down(double factor) { slowdown_ = std::max(slowdown_, factor); }
  void clear_faults();

  int rows() const { return static_cast<int>(stored_.cols()); }
  int cols() const { return static_cast<int>(stored_.rows()); }
  // Off: reads add no noise and do not advance the noise stream (the fault-free reference run).
  void set_read_noise(bool on) { read_noise_ = on; }

 private:
  void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);

  Eigen::VectorXd input_;
  std::vector<char> rows_delivered_;
  int delivered_count_ = 0;
  int row_begin_ = 0;
  std::unique_ptr<ICrossbarModel> model_;
  Eigen::MatrixXd clean_, stored_;  // cols x rows: stored_(j, i) is the cell of output j, input i
  std::vector<std::pair<int, int>> touched_;
  std::vector<char> dead_rows_, dead_cols_;
  bool any_dead_rows_ = false, any_dead_cols_ = false, dead_ = false;
  sc_core::sc_time read_latency_;
  double slowdown_ = 1.0;
  Eigen::VectorXd masked_, noisy_;
  Eigen::MatrixXd masked_patches_;
  Eigen::VectorXd changed_input_;                 // read_changed()'s scratch: the new input
  std::vector<char> changed_row_;                 // read_changed()'s scratch: rows already counted
  std::vector<char> touched_mask_;                 // per cell: in touched_ (each cell listed once)
  std::uint64_t reads_ = 0;
  bool read_noise_ = true;
  int tile_index_ = 0;
};

}  // namespace nfsim::sim
