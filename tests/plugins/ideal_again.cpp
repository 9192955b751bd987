// A plug-in that registers crossbar type "ideal", which nfsim has built in: loading it must be
// refused (tests/golden/test_plugins.cpp), not silently replace the built-in.
#include <memory>

#include "sim/crossbar/i_crossbar_model.h"

namespace {

class DoublingCrossbar : public nfsim::sim::ICrossbarModel {
 public:
  double program(double w) const override { return 2 * w; }
  std::string describe() const override { return "doubling"; }
};

const nfsim::sim::CrossbarRegistrar kRegistered{
    {"ideal", "a second 'ideal' (must be refused)", {}, [](const nfsim::core::Params&) {
       return std::make_unique<DoublingCrossbar>();
     }}};

}  // namespace
