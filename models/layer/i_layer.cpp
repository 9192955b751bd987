#include "models/layer/i_layer.h"

#include "core/error.h"

namespace nfsim::models {

void ILayer::add_synapse_delta(std::uint64_t s, double, const double*, double*, Eigen::Index pos_begin,
                               Eigen::Index pos_count) const {
  throw core::InternalError("layer kind " + kind() + ": synapse " + std::to_string(s) + " changed at output positions " +
                            std::to_string(pos_begin) + " + " + std::to_string(pos_count) +
                            ", but the layer has no position ranges (one crossbar position)");
}

}  // namespace nfsim::models
