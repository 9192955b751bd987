#include "sim/neuron/neuron_array.h"

#include "core/error.h"
#include "models/spiking.h"
#include "sim/tlm/protocol.h"

namespace nfsim::sim {

NeuronArray::NeuronArray(sc_core::sc_module_name name, Eigen::VectorXd bias, models::Activation activation,
                         std::unique_ptr<INeuronModel> model, sc_core::sc_time update_latency, int positions,
                         std::unique_ptr<models::Pool2d> stage)
    : sc_core::sc_module(name),
      in("in"),
      out("out"),
      bias_(std::move(bias)),
      positions_(positions),
      stage_(std::move(stage)),
      activation_(activation),
      model_(std::move(model)),
      update_latency_(update_latency) {
  z_ = bias_;
  in.register_b_transport(this, &NeuronArray::b_transport);
}

void NeuronArray::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time&) {
  if (!tlmx::accept(trans, static_cast<std::size_t>(z_.size()))) return;
  const int per_channel = trans.get_extension<tlmx::MessageExtension>()->positions;
  const auto first = static_cast<Eigen::Index>(tlmx::offset_of(trans.get_address()) / sizeof(double));
  const auto values = static_cast<Eigen::Index>(trans.get_data_length() / sizeof(double));
  const auto* data = reinterpret_cast<const double*>(trans.get_data_ptr());
  if (per_channel < 1 || values % per_channel != 0 ||
      first + (values / per_channel - 1) * positions_ + per_channel > z_.size()) {
    trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  // Channel c of the message adds to neurons first + c * positions, ... + per_channel - 1.
  for (Eigen::Index c = 0; c < values / per_channel; ++c) {
    z_.segment(first + c * positions_, per_channel) += Eigen::Map<const Eigen::VectorXd>(data + c * per_channel, per_channel);
  }
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

void NeuronArray::begin() { z_ = bias_; }

void NeuronArray::accumulate(int offset, const double* partial, int count) {
  z_.segment(offset, count) += Eigen::Map<const Eigen::VectorXd>(partial, count);
}

void NeuronArray::accumulate_positions(int channel, int pos_begin, const Eigen::MatrixXd& partial, int column, int count) {
  for (int c = 0; c < count; ++c) {
    z_.segment(static_cast<Eigen::Index>(channel + c) * positions_ + pos_begin, partial.rows()) += partial.col(column + c);
  }
}

void NeuronArray::set_spiking(SpikingDynamics dynamics) {
  if (!model_->spiking()) {
    throw core::InternalError(std::string(name()) + ": neuron model '" + model_->describe() +
                              "' does not spike; set_spiking needs a spiking model");
  }
  spiking_ = std::make_unique<SpikingDynamics>(std::move(dynamics));
  begin_spiking_inference();
}

void NeuronArray::begin_spiking_inference() {
  state_.membrane.setZero(size());
  state_.refractory.assign(static_cast<std::size_t>(size()), 0);
  step_ = 0;
}

void NeuronArray::fire(sc_core::sc_time& delay) {
  delay += update_latency_ * slowdown_;
  if (spiking_) {
    // One time step of the model's dynamics, under the parameter faults. A dead array's neurons
    // still step; what it sends is zero.
    const SpikingDynamics& d = *spiking_;
    const double* threshold = d.threshold.data();
    const double* leak = d.leak.data();
    if (!parameter_faults_.empty()) {
      threshold_now_ = d.threshold;
      leak_now_ = d.leak;
      for (const ParameterFault& p : parameter_faults_) {
        if (p.threshold) {
          threshold_now_[p.index] *= p.factor;
        } else {
          leak_now_[p.index] = std::min(1.0, std::max(0.0, leak_now_[p.index] * p.factor));
        }
      }
      threshold = threshold_now_.data();
      leak = leak_now_.data();
    }
    model_->step(z_, SpikingParameters{threshold, leak, d.subtract, d.refractory}, state_, y_);
    y_model_.resize(0);
    if (dead_) {
      y_.setZero();
    } else {
      // A failed neuron with value v fires the regular train of rate clamp(v, 0, 1).
      for (const auto& [i, v] : overrides_) y_[i] = models::regular_spike(v, step_) ? 1.0 : 0.0;
    }
  } else if (dead_) {
    y_.setZero(size());
    y_model_.resize(0);
  } else {
    model_->fire(z_, activation_, y_model_);
    y_ = y_model_;
    for (const auto& [i, v] : overrides_) y_[i] = v;
  }
  if (stage_) {
    u_.resize(stage_->output_size());
    stage_->forward(y_.data(), u_.data());
  }
}

void NeuronArray::accumulate_difference(int offset, const double* now, const double* before, int count) {
  z_.segment(offset, count) += Eigen::Map<const Eigen::VectorXd>(now, count) - Eigen::Map<const Eigen::VectorXd>(before, count);
}

void NeuronArray::fire_from(const Eigen::VectorXd& y) {
  if (dead_) {
    y_.setZero(size());
  } else {
    y_ = y;
    for (const auto& [i, v] : overrides_) y_[i] = v;
  }
  if (stage_) {
    u_.resize(stage_->output_size());
    stage_->forward(y_.data(), u_.data());
  }
}

void NeuronArray::set_neuron(int index, double value) { overrides_.emplace_back(index, value); }
void NeuronArray::scale_parameter(int index, bool threshold, double factor) {
  // A later fault on the same neuron and parameter replaces an earlier one (the plan's order),
  // as the functional engine's FaultInstance::resolve_duplicates keeps the latest.
  for (ParameterFault& p : parameter_faults_) {
    if (p.index == index && p.threshold == threshold) {
      p.factor = factor;
      return;
    }
  }
  parameter_faults_.push_back({index, threshold, factor});
}
void NeuronArray::crash_array() { dead_ = true; }
void NeuronArray::clear_faults() {
  overrides_.clear();
  parameter_faults_.clear();
  dead_ = false;
  slowdown_ = 1.0;
}

}  // namespace nfsim::sim
