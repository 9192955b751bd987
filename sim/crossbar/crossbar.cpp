#include "sim/crossbar/crossbar.h"

#include <algorithm>

#include "sim/tlm/protocol.h"

namespace nfsim::sim {

Crossbar::Crossbar(sc_core::sc_module_name name, const Eigen::MatrixXd& block, std::unique_ptr<ICrossbarModel> model,
                   int tile_index, sc_core::sc_time read_latency, Eigen::Index input_values, int row_begin)
    : sc_core::sc_module(name),
      in("in"),
      out("out"),
      row_begin_(row_begin),
      model_(std::move(model)),
      read_latency_(read_latency),
      tile_index_(tile_index) {
  clean_ = block;
  stored_ = clean_;
  dead_rows_.assign(static_cast<std::size_t>(block.cols()), 0);
  dead_cols_.assign(static_cast<std::size_t>(block.rows()), 0);
  input_.setZero(input_values > 0 ? input_values : block.cols());
  rows_delivered_.assign(static_cast<std::size_t>(block.cols()), 0);
  in.register_b_transport(this, &Crossbar::b_transport);
}

void Crossbar::begin_inference() {
  input_.setZero();
  std::fill(rows_delivered_.begin(), rows_delivered_.end(), 0);
  delivered_count_ = 0;
}

void Crossbar::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time&) {
  if (!tlmx::accept(trans, static_cast<std::size_t>(input_.size()))) return;
  const auto* ext = trans.get_extension<tlmx::MessageExtension>();
  const auto offset = static_cast<Eigen::Index>(tlmx::offset_of(trans.get_address()) / sizeof(double));
  const auto values = static_cast<Eigen::Index>(trans.get_data_length() / sizeof(double));
  input_.segment(offset, values) = Eigen::Map<const Eigen::VectorXd>(reinterpret_cast<const double*>(trans.get_data_ptr()), values);
  const int lo = std::max(0, ext->first - row_begin_), hi = std::min(rows(), ext->first + ext->count - row_begin_);
  for (int r = lo; r < hi; ++r) {
    if (!rows_delivered_[static_cast<std::size_t>(r)]) {
      rows_delivered_[static_cast<std::size_t>(r)] = 1;
      ++delivered_count_;
    }
  }
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

void Crossbar::read(const Eigen::VectorXd& input, Eigen::VectorXd& partial, sc_core::sc_time& delay) {
  const std::uint64_t read_index = read_noise_ ? reads_++ : 0;
  delay += read_latency_ * slowdown_;
  if (dead_) {
    partial.setZero(cols());
    return;
  }
  if (any_dead_rows_) {
    masked_ = input;
    for (int r = 0; r < rows(); ++r) {
      if (dead_rows_[static_cast<std::size_t>(r)]) masked_[r] = 0.0;
    }
    partial.noalias() = stored_ * masked_;
  } else {
    partial.noalias() = stored_ * input;
  }
  if (read_noise_ && model_->noisy_reads()) model_->perturb_read(partial, tile_index_, read_index);
  if (any_dead_cols_) {
    for (int c = 0; c < cols(); ++c) {
      if (dead_cols_[static_cast<std::size_t>(c)]) partial[c] = 0.0;
    }
  }
}

void Crossbar::read_positions(const Eigen::Ref<const Eigen::MatrixXd>& patches, Eigen::MatrixXd& partial,
                              sc_core::sc_time& delay) {
  const Eigen::Index positions = patches.rows();
  const std::uint64_t first_read = reads_;
  if (read_noise_) reads_ += static_cast<std::uint64_t>(positions);
  delay += read_latency_ * (static_cast<double>(positions) * slowdown_);
  if (dead_) {
    partial.setZero(positions, cols());
    return;
  }
  if (any_dead_rows_) {
    masked_patches_ = patches;
    for (int r = 0; r < rows(); ++r) {
      if (dead_rows_[static_cast<std::size_t>(r)]) masked_patches_.col(r).setZero();
    }
    partial.noalias() = masked_patches_ * stored_.transpose();
  } else {
    partial.noalias() = patches * stored_.transpose();
  }
  if (read_noise_ && model_->noisy_reads()) {
    for (Eigen::Index p = 0; p < positions; ++p) {
      noisy_ = partial.row(p).transpose();
      model_->perturb_read(noisy_, tile_index_, first_read + static_cast<std::uint64_t>(p));
      partial.row(p) = noisy_.transpose();
    }
  }
  if (any_dead_cols_) {
    for (int c = 0; c < cols(); ++c) {
      if (dead_cols_[static_cast<std::size_t>(c)]) partial.col(c).setZero();
    }
  }
}

void Crossbar::read_changed(const Eigen::VectorXd& reference_input, const Eigen::VectorXd& reference_partial,
                            const std::vector<std::pair<int, double>>& changes, Eigen::VectorXd& partial) {
  if (dead_) {
    partial.setZero(cols());
    return;
  }
  // A full read costs rows x cols; each changed row costs cols: past an eighth of the rows, read.
  if (changes.size() * 8 > static_cast<std::size_t>(rows())) {
    changed_input_ = reference_input;
    for (const auto& [r, v] : changes) changed_input_[r] = v;
    sc_core::sc_time ignored;
    const bool noise = read_noise_;
    read_noise_ = false;
    read(changed_input_, partial, ignored);
    read_noise_ = noise;
    return;
  }
  // partial = stored * x' - clean * x + clean * x, with x' the new input (0 on dead rows): the
  // rows whose input or liveness changed contribute their whole column's difference; the other
  // faulted cells their own.
  partial = reference_partial;
  changed_row_.assign(static_cast<std::size_t>(rows()), 0);
  auto row_delta = [&](int r, double now) {
    partial.noalias() += stored_.col(r) * now - clean_.col(r) * reference_input[r];
    changed_row_[static_cast<std::size_t>(r)] = 1;
  };
  for (const auto& [r, v] : changes) row_delta(r, dead_rows_[static_cast<std::size_t>(r)] ? 0.0 : v);
  if (any_dead_rows_) {
    for (int r = 0; r < rows(); ++r) {
      if (dead_rows_[static_cast<std::size_t>(r)] && !changed_row_[static_cast<std::size_t>(r)]) row_delta(r, 0.0);
    }
  }
  for (const auto& [c, r] : touched_) {  // each cell once (set_cell keeps them unique)
    if (!changed_row_[static_cast<std::size_t>(r)]) partial[c] += (stored_(c, r) - clean_(c, r)) * reference_input[r];
  }
  if (any_dead_cols_) {
    for (int c = 0; c < cols(); ++c) {
      if (dead_cols_[static_cast<std::size_t>(c)]) partial[c] = 0.0;
    }
  }
}

void Crossbar::set_cell(int row, int col, double value) {
  stored_(col, row) = value;
  if (touched_mask_.empty()) touched_mask_.assign(static_cast<std::size_t>(stored_.size()), 0);
  char& seen = touched_mask_[static_cast<std::size_t>(row) * static_cast<std::size_t>(cols()) + static_cast<std::size_t>(col)];
  if (!seen) {
    seen = 1;
    touched_.emplace_back(col, row);
  }
}

void Crossbar::crash_row(int row) {
  dead_rows_[static_cast<std::size_t>(row)] = 1;
  any_dead_rows_ = true;
}

void Crossbar::crash_column(int col) {
  dead_cols_[static_cast<std::size_t>(col)] = 1;
  any_dead_cols_ = true;
}

void Crossbar::crash_tile() { dead_ = true; }

void Crossbar::clear_faults() {
  for (const auto& [c, r] : touched_) {
    stored_(c, r) = clean_(c, r);
    touched_mask_[static_cast<std::size_t>(r) * static_cast<std::size_t>(cols()) + static_cast<std::size_t>(c)] = 0;
  }
  touched_.clear();
  if (any_dead_rows_) std::fill(dead_rows_.begin(), dead_rows_.end(), 0);
  if (any_dead_cols_) std::fill(dead_cols_.begin(), dead_cols_.end(), 0);
  any_dead_rows_ = any_dead_cols_ = dead_ = false;
  slowdown_ = 1.0;
}

}  // namespace nfsim::sim
