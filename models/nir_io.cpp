#include "models/nir_io.h"

#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/strings.h"
#include "models/layer/conv2d_layer.h"
#include "models/layer/dense_layer.h"
#include "models/layer/pool2d.h"

namespace nfsim::models {
namespace {

// ---------------------------------------------------------------------------------------------
// HDF5 access (the C library; docs/nir.md gives the layout).

// An HDF5 identifier closed by `close` when it goes out of scope.
class Hid {
 public:
  Hid(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  ~Hid() {
    if (id_ >= 0) close_(id_);
  }
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

// Silences HDF5's own error printing while a file is read (our messages say what went wrong).
class QuietHdf5 {
 public:
  QuietHdf5() {
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietHdf5() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }
  QuietHdf5(const QuietHdf5&) = delete;
  QuietHdf5& operator=(const QuietHdf5&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

std::string shape_text(const std::vector<hsize_t>& dims) {
  std::vector<std::string> d;
  for (auto v : dims) d.push_back(std::to_string(v));
  return "[" + core::join(d, ", ") + "]";
}

std::string shape_text(const std::vector<Eigen::Index>& dims) {
  std::vector<std::string> d;
  for (auto v : dims) d.push_back(std::to_string(v));
  return "[" + core::join(d, ", ") + "]";
}

std::string num(double v) {
  std::ostringstream s;
  s.precision(10);
  s << v;
  return s.str();
}

Eigen::Index product(const std::vector<Eigen::Index>& shape) {
  Eigen::Index n = 1;
  for (auto d : shape) n *= d;
  return n;
}

bool has_link(hid_t loc, const std::string& name) { return H5Lexists(loc, name.c_str(), H5P_DEFAULT) > 0; }

// The kind of object `name` in `loc` is: H5I_GROUP, H5I_DATASET, or H5I_BADID when absent.
H5I_type_t object_kind(hid_t loc, const std::string& name) {
  if (!has_link(loc, name)) return H5I_BADID;
  Hid obj(H5Oopen(loc, name.c_str(), H5P_DEFAULT), H5Oclose);
  if (!obj.ok()) return H5I_BADID;
  return H5Iget_type(obj.get());
}

// The names of a group's members, in name order.
std::vector<std::string> member_names(hid_t group) {
  H5G_info_t info;
  std::vector<std::string> out;
  if (H5Gget_info(group, &info) < 0) return out;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t len = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (len < 0) continue;
    std::string name(static_cast<std::size_t>(len) + 1, '\0');
    H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(), H5P_DEFAULT);
    name.resize(static_cast<std::size_t>(len));
    out.push_back(name);
  }
  return out;
}

struct Numeric {
  std::vector<hsize_t> dims;  // empty: a scalar
  std::vector<double> values;
  std::size_t size() const { return values.size(); }
};

// Reads dataset `name` of group `loc`; `where` ("f.nir: node 'fc1'") prefixes messages.
class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }

  [[noreturn]] void fail(const std::string& what) const { throw core::InputError(path_ + ": " + what); }

  // The dataset's HDF5 type class, or H5T_NO_CLASS when there is no such dataset.
  H5T_class_t dataset_class(hid_t loc, const std::string& name) const {
    if (object_kind(loc, name) != H5I_DATASET) return H5T_NO_CLASS;
    Hid ds(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), H5Dclose);
    Hid type(H5Dget_type(ds.get()), H5Tclose);
    return H5Tget_class(type.get());
  }

  std::vector<hsize_t> dims_of(hid_t ds) const {
    Hid space(H5Dget_space(ds), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space.get());
    std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
    if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    return dims;
  }

  // Requires the dataset to exist (`where` + ": dataset 'x' is missing").
  Hid open_dataset(hid_t loc, const std::string& name, const std::string& where, const std::string& expected) const {
    const H5I_type_t kind = object_kind(loc, name);
    if (kind == H5I_BADID) fail(where + ": dataset '" + name + "' is missing; expected " + expected);
    if (kind != H5I_DATASET) fail(where + ": '" + name + "' is a group; expected a dataset holding " + expected);
    const hid_t ds = H5Dopen2(loc, name.c_str(), H5P_DEFAULT);
    if (ds < 0) fail(where + ": dataset '" + name + "' cannot be opened; expected " + expected);
    return Hid(ds, H5Dclose);
  }

  // Numbers (integer or float, any width), widened to double; all finite.
  Numeric numeric(hid_t loc, const std::string& name, const std::string& where, const std::string& expected) const {
    Hid ds = open_dataset(loc, name, where, expected);
    Hid type(H5Dget_type(ds.get()), H5Tclose);
    const H5T_class_t cls = H5Tget_class(type.get());
    if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
      fail(where + ": dataset '" + name + "' holds " + class_name(cls) + "; expected " + expected);
    }
    Numeric out;
    out.dims = dims_of(ds.get());
    std::size_t count = 1;
    for (auto d : out.dims) count *= static_cast<std::size_t>(d);
    out.values.resize(count);
    if (count > 0 && H5Dread(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.values.data()) < 0) {
      fail(where + ": dataset '" + name + "' cannot be read as numbers; expected " + expected);
    }
    for (std::size_t i = 0; i < count; ++i) {
      if (!std::isfinite(out.values[i])) {
        fail(where + ": dataset '" + name + "' holds " + num(out.values[i]) + " at index " + std::to_string(i) +
             "; expected finite numbers");
      }
    }
    return out;
  }

  // Strings (variable or fixed length), in row-major order, with their shape.
  std::vector<std::string> strings(hid_t loc, const std::string& name, const std::string& where,
                                   const std::string& expected, std::vector<hsize_t>* dims_out = nullptr) const {
    Hid ds = open_dataset(loc, name, where, expected);
    Hid ftype(H5Dget_type(ds.get()), H5Tclose);
    if (H5Tget_class(ftype.get()) != H5T_STRING) {
      fail(where + ": dataset '" + name + "' holds " + class_name(H5Tget_class(ftype.get())) + "; expected " + expected);
    }
    const std::vector<hsize_t> dims = dims_of(ds.get());
    if (dims_out) *dims_out = dims;
    std::size_t count = 1;
    for (auto d : dims) count *= static_cast<std::size_t>(d);
    std::vector<std::string> out;
    if (count == 0) return out;
    Hid mtype(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_cset(mtype.get(), H5Tget_cset(ftype.get()));
    if (H5Tis_variable_str(ftype.get()) > 0) {
      H5Tset_size(mtype.get(), H5T_VARIABLE);
      std::vector<char*> buf(count, nullptr);
      if (H5Dread(ds.get(), mtype.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0) {
        fail(where + ": dataset '" + name + "' cannot be read as strings; expected " + expected);
      }
      for (char* s : buf) out.emplace_back(s ? s : "");
      Hid space(H5Dget_space(ds.get()), H5Sclose);
      H5Dvlen_reclaim(mtype.get(), space.get(), H5P_DEFAULT, buf.data());
    } else {
      const std::size_t size = H5Tget_size(ftype.get());
      H5Tset_size(mtype.get(), size);
      std::vector<char> buf(count * size);
      if (H5Dread(ds.get(), mtype.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0) {
        fail(where + ": dataset '" + name + "' cannot be read as strings; expected " + expected);
      }
      for (std::size_t i = 0; i < count; ++i) {
        const char* s = buf.data() + i * size;
        out.emplace_back(s, strnlen(s, size));
      }
    }
    return out;
  }

  std::string scalar_string(hid_t loc, const std::string& name, const std::string& where, const std::string& expected) const {
    const std::vector<std::string> s = strings(loc, name, where, expected);
    if (s.size() != 1) fail(where + ": dataset '" + name + "' holds " + std::to_string(s.size()) + " strings; expected " + expected);
    return s[0];
  }

 private:
  static std::string class_name(H5T_class_t c) {
    switch (c) {
      case H5T_INTEGER: return "integers";
      case H5T_FLOAT: return "floating-point numbers";
      case H5T_STRING: return "strings";
      case H5T_COMPOUND: return "compound values";
      case H5T_ENUM: return "enumerated values (e.g. booleans)";
      case H5T_ARRAY: return "arrays";
      case H5T_VLEN: return "variable-length sequences";
      default: return "values of HDF5 type class " + std::to_string(static_cast<int>(c));
    }
  }

  std::string path_;
};

// ---------------------------------------------------------------------------------------------
// The chain of NIR nodes mapped onto layers.

// A linear node (Affine, Linear, Conv2d), possibly already merged with its neuron node.
struct BuiltLayer {
  std::optional<Conv2dParams> conv;  // a convolution's geometry; weights and bias below
  Eigen::MatrixXd weights;           // dense: outputs x inputs; conv: C_out x taps
  Eigen::VectorXd bias;              // dense: n outputs; conv: C_out
  Eigen::Index positions = 1;        // conv: output positions per channel
  std::vector<Eigen::Index> out_shape;
  std::string linear_node, neuron_node, neuron_type;
  Eigen::VectorXd thresholds, leaks;  // per neuron; empty until a neuron node is merged
  Eigen::Index outputs() const { return conv ? conv->out_c * positions : weights.rows(); }
};

class NirBuilder {
 public:
  NirBuilder(const Reader& r, double dt) : r_(r), dt_(dt) {}

  std::string where(const std::string& node) const { return "node '" + node + "'"; }
  [[noreturn]] void fail(const std::string& node, const std::string& what) const { r_.fail(where(node) + ": " + what); }

  void input(const std::string& node, hid_t g) {
    const Numeric s = r_.numeric(g, "shape", where(node), "the input shape (positive integers)");
    std::vector<Eigen::Index> shape;
    for (std::size_t i = 0; i < s.size(); ++i) shape.push_back(as_int(node, "shape", s.values[i], 1));
    if (shape.empty()) fail(node, "dataset 'shape' is empty; expected the input shape (positive integers)");
    shape_ = shape;
    if (shape.size() == 3) input_shape_ = shape;
    describe_.push_back("input" + shape_text(shape));
  }

  void linear(const std::string& node, const std::string& type, hid_t g) {
    if (pending_) {
      fail(node, type + " follows linear node '" + pending_->linear_node +
                     "' directly; expected a neuron node (LIF, IF, Threshold) between two linear nodes");
    }
    BuiltLayer b;
    b.linear_node = node;
    const Eigen::Index n_in = product(shape_);
    if (type == "Conv2d") {
      conv(node, g, b);
    } else {
      const Numeric w = r_.numeric(g, "weight", where(node), "the weight matrix (outputs x inputs)");
      if (w.dims.size() != 2 || static_cast<Eigen::Index>(w.dims[1]) != n_in || w.dims[0] == 0) {
        fail(node, "dataset 'weight' has shape " + shape_text(w.dims) + "; expected [outputs, " + std::to_string(n_in) +
                       "] (" + std::to_string(n_in) + " inputs from '" + prev_ + "')");
      }
      const Eigen::Index rows = static_cast<Eigen::Index>(w.dims[0]);
      b.weights = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(w.values.data(), rows, n_in);
      if (type == "Affine") {
        const Numeric bias = r_.numeric(g, "bias", where(node), "the bias vector (" + std::to_string(rows) + " values)");
        if (bias.size() != static_cast<std::size_t>(rows) || bias.dims.size() > 1) {
          fail(node, "dataset 'bias' has shape " + shape_text(bias.dims) + "; expected [" + std::to_string(rows) + "]");
        }
        b.bias = Eigen::Map<const Eigen::VectorXd>(bias.values.data(), rows);
      } else {
        b.bias = Eigen::VectorXd::Zero(rows);
      }
      b.out_shape = {rows};
    }
    // What sits between the previous neurons and this node: a sum pooling (nfsim averages: the
    // window size moves here) and a Scale of this node's inputs.
    if (in_scale_) scale_columns(b, *in_scale_);
    if (col_factor_ != 1.0) b.weights *= col_factor_;
    in_scale_.reset();
    col_factor_ = 1.0;
    shape_ = b.out_shape;
    pending_ = std::move(b);
  }

  void neuron(const std::string& node, const std::string& type, hid_t g) {
    if (!pending_) {
      fail(node, type + " follows '" + prev_ + "', not a linear node; expected Affine, Linear or Conv2d before each neuron node");
    }
    const Eigen::Index n = pending_->outputs();
    Eigen::VectorXd gain(n), add(n), leak(n), thr(n);
    if (type == "Threshold") {
      thr = param(node, g, "threshold", n);
      gain.setOnes();
      add.setZero();
      leak.setZero();
    } else {
      const Eigen::VectorXd r = param(node, g, "r", n);
      thr = param(node, g, "v_threshold", n);
      if (has_link(g, "v_reset")) {
        const Eigen::VectorXd reset = param(node, g, "v_reset", n);
        for (Eigen::Index j = 0; j < n; ++j) {
          if (reset[j] != 0.0) {
            fail(node, "dataset 'v_reset' is " + num(reset[j]) + " at neuron " + std::to_string(j) +
                           "; expected 0 (nfsim resets the membrane to zero after a spike)");
          }
        }
      }
      if (type == "IF") {
        gain = dt_ * r;
        add.setZero();
        leak.setOnes();
      } else {  // LIF
        const Eigen::VectorXd tau = param(node, g, "tau", n);
        const Eigen::VectorXd v_leak = param(node, g, "v_leak", n);
        for (Eigen::Index j = 0; j < n; ++j) {
          if (!(tau[j] > 0.0)) {
            fail(node, "dataset 'tau' is " + num(tau[j]) + " at neuron " + std::to_string(j) + "; expected a positive time constant");
          }
          leak[j] = 1.0 - dt_ / tau[j];
          if (leak[j] < 0.0) {
            fail(node, "tau = " + num(tau[j]) + " at neuron " + std::to_string(j) + " with dt = " + num(dt_) +
                           " gives leak 1 - dt/tau = " + num(leak[j]) + "; expected dt <= tau (leak in [0, 1])");
          }
          gain[j] = dt_ * r[j] / tau[j];
          add[j] = dt_ / tau[j] * v_leak[j];
        }
      }
    }
    scale_rows(node, *pending_, gain, "the gain dt*r/tau");
    add_to_bias(node, *pending_, add);
    pending_->neuron_node = node;
    pending_->neuron_type = type;
    pending_->thresholds = thr;
    pending_->leaks = leak;
    describe_.push_back(pending_->linear_node + "+" + node + "(" + type + ")");
    layers_.push_back(std::move(*pending_));
    pending_.reset();
  }

  void scale(const std::string& node, hid_t g) {
    const Eigen::Index n = product(shape_);
    const Eigen::VectorXd s = param(node, g, "scale", n);
    if (pending_) {
      scale_rows(node, *pending_, s, "dataset 'scale'");
    } else {
      in_scale_ = in_scale_ ? Eigen::VectorXd(in_scale_->cwiseProduct(s)) : s;
      in_scale_node_ = node;
    }
  }

  void sum_pool(const std::string& node, hid_t g) {
    if (pending_) {
      fail(node, "SumPool2d reads the currents of linear node '" + pending_->linear_node +
                     "'; expected it after a neuron node or Input (nfsim pools spikes)");
    }
    if (shape_.size() != 3) fail(node, "SumPool2d reads shape " + shape_text(shape_) + "; expected [C, H, W]");
    const std::size_t stage = layers_.size();
    if (stages_.size() > stage && stages_[stage]) fail(node, "a second pooling after '" + prev_ + "'; expected one pooling between two layers");
    const auto k = pair(node, g, "kernel_size", 1);
    const auto s = pair(node, g, "stride", 1);
    const auto p = pair(node, g, "padding", 0);
    Pool2dParams pp;
    pp.kind = Pool2dParams::Kind::average;
    pp.c = shape_[0];
    pp.h = shape_[1];
    pp.w = shape_[2];
    pp.kh = k.first;
    pp.kw = k.second;
    pp.stride_h = s.first;
    pp.stride_w = s.second;
    pp.pad_t = pp.pad_b = p.first;
    pp.pad_l = pp.pad_r = p.second;
    pp.count_include_pad = true;  // the average over the whole window: the sum / (kh kw)
    auto pool = std::make_shared<const Pool2d>(pp, r_.path() + ": " + where(node));
    stages_.resize(stage + 1);
    stages_[stage] = pool;
    col_factor_ *= static_cast<double>(pp.kh * pp.kw);
    shape_ = pool->output_shape();
    describe_.push_back("sumpool" + std::to_string(pp.kh) + "x" + std::to_string(pp.kw));
  }

  void flatten() { shape_ = {product(shape_)}; }

  void output(const std::string& node, hid_t g) {
    output_node_ = node;
    if (!pending_ && stages_.size() > layers_.size() && stages_[layers_.size()]) {
      fail(node, "Output follows a pooling; expected Output after the last linear or neuron node");
    }
    if (pending_) {
      readout_ = SpikeReadout::membrane;
      describe_.push_back(pending_->linear_node);
      layers_.push_back(std::move(*pending_));
      pending_.reset();
    } else if (!layers_.empty() && layers_.back().neuron_node.size()) {
      readout_ = SpikeReadout::rate;
    } else {
      fail(node, "Output follows '" + prev_ + "'; expected a linear node (Affine, Linear, Conv2d) before it");
    }
    if (r_.dataset_class(g, "shape") == H5T_INTEGER) {
      const Numeric s = r_.numeric(g, "shape", where(node), "the output shape");
      double count = 1;
      for (double v : s.values) count *= v;
      if (count != static_cast<double>(product(shape_))) {
        fail(node, "dataset 'shape' is " + shape_text(s.dims) + " holding " + num(count) + " elements; expected " +
                       std::to_string(product(shape_)) + " (the output of '" + prev_ + "')");
      }
    }
  }

  void check_scale_consumed(const std::string& node, const std::string& type) const {
    if (in_scale_ && type != "Affine" && type != "Linear" && type != "Conv2d" && type != "Flatten") {
      r_.fail(where(in_scale_node_) + ": Scale is followed by " + type + " '" + node +
              "'; expected a linear node (Affine, Linear, Conv2d) right after a Scale that is not after one");
    }
  }

  void set_prev(const std::string& node) { prev_ = node; }

  NirModel finish(std::size_t node_count) {
    NirModel m;
    std::vector<std::unique_ptr<ILayer>> layers;
    const std::size_t L = layers_.size();
    bool all_if = true;
    for (std::size_t i = 0; i < L; ++i) {
      BuiltLayer& b = layers_[i];
      Activation act;
      act.kind = i + 1 < L ? ActivationKind::relu : ActivationKind::identity;
      const std::string lw = r_.path() + ": " + where(b.linear_node);
      if (b.conv) {
        Conv2dParams p = *b.conv;
        p.weights = b.weights;
        p.bias = b.bias;
        p.activation = act;
        layers.push_back(std::make_unique<Conv2dLayer>(std::move(p), lw));
      } else {
        layers.push_back(std::make_unique<DenseLayer>(DenseParams{b.weights, b.bias, act}, lw));
      }
      if (b.neuron_node.size()) {
        m.spiking.layer_thresholds.push_back(b.thresholds);
        m.spiking.layer_leaks.push_back(b.leaks);
        if ((b.leaks.array() != 1.0).any()) all_if = false;
      }
    }
    stages_.resize(L);
    m.network = Network(std::move(layers), stages_, false, input_shape_);
    check_spiking_network(m.network, r_.path());
    m.spiking.neuron = all_if ? SpikingNeuron::if_neuron : SpikingNeuron::lif;
    m.spiking.reset = SpikeReset::zero;
    m.spiking.coding = SpikeCoding::regular;
    m.spiking.readout = readout_;
    m.spiking.refractory_steps = 0;
    std::ostringstream d;
    d << "NIR graph (" << node_count << " nodes, dt = " << num(dt_) << "): ";
    for (std::size_t i = 0; i < describe_.size(); ++i) d << (i ? " -> " : "") << describe_[i];
    d << " -> " << output_node_ << "; readout " << to_string(readout_);
    m.describe = d.str();
    return m;
  }

 private:
  Eigen::Index as_int_checked(const std::string& node, const std::string& name, double v, Eigen::Index min) const {
    if (v != std::floor(v) || v < static_cast<double>(min) || v > 1e9) {
      fail(node, "dataset '" + name + "' holds " + num(v) + "; expected an integer >= " + std::to_string(min));
    }
    return static_cast<Eigen::Index>(v);
  }

  Eigen::Index as_int(const std::string& node, const char* name, double v, Eigen::Index min) const {
    return as_int_checked(node, name, v, min);
  }

  // A per-neuron parameter: a scalar (any shape holding one value) or one value per neuron.
  Eigen::VectorXd param(const std::string& node, hid_t g, const std::string& name, Eigen::Index n) const {
    const Numeric v = r_.numeric(g, name, where(node), "a scalar or " + std::to_string(n) + " values (one per neuron)");
    if (v.size() == 1) return Eigen::VectorXd::Constant(n, v.values[0]);
    if (static_cast<Eigen::Index>(v.size()) != n) {
      fail(node, "dataset '" + name + "' has shape " + shape_text(v.dims) + " (" + std::to_string(v.size()) +
                     " values); expected a scalar or " + std::to_string(n) + " values, one per neuron of shape " +
                     shape_text(shape_));
    }
    return Eigen::Map<const Eigen::VectorXd>(v.values.data(), n);
  }

  // An (h, w) pair from a scalar or two values.
  std::pair<Eigen::Index, Eigen::Index> pair(const std::string& node, hid_t g, const std::string& name, Eigen::Index min) const {
    const Numeric v = r_.numeric(g, name, where(node), "an integer or two (height, width)");
    if (v.size() == 1) {
      const Eigen::Index a = as_int_checked(node, name, v.values[0], min);
      return {a, a};
    }
    if (v.size() != 2) fail(node, "dataset '" + name + "' has shape " + shape_text(v.dims) + "; expected an integer or two (height, width)");
    return {as_int_checked(node, name, v.values[0], min), as_int_checked(node, name, v.values[1], min)};
  }

  void conv(const std::string& node, hid_t g, BuiltLayer& b) {
    const Numeric w = r_.numeric(g, "weight", where(node), "the kernel [C_out, C_in/groups, kH, kW]");
    if (w.dims.size() != 4 || w.size() == 0) {
      fail(node, "dataset 'weight' has shape " + shape_text(w.dims) + "; expected [C_out, C_in/groups, kH, kW]");
    }
    Conv2dParams p;
    p.out_c = static_cast<Eigen::Index>(w.dims[0]);
    const Eigen::Index cin_g = static_cast<Eigen::Index>(w.dims[1]);
    p.kh = static_cast<Eigen::Index>(w.dims[2]);
    p.kw = static_cast<Eigen::Index>(w.dims[3]);
    const Numeric groups = r_.numeric(g, "groups", where(node), "the number of groups");
    if (groups.size() != 1) fail(node, "dataset 'groups' has shape " + shape_text(groups.dims) + "; expected one integer");
    p.groups = as_int_checked(node, "groups", groups.values[0], 1);
    p.in_c = cin_g * p.groups;
    // The input's height and width: the node's input_shape, else the shape flowing in.
    if (has_link(g, "input_shape")) {
      const Numeric is = r_.numeric(g, "input_shape", where(node), "the input's (height, width)");
      if (is.size() != 2) fail(node, "dataset 'input_shape' has shape " + shape_text(is.dims) + "; expected two values (height, width)");
      p.in_h = as_int_checked(node, "input_shape", is.values[0], 1);
      p.in_w = as_int_checked(node, "input_shape", is.values[1], 1);
    } else if (shape_.size() == 3) {
      p.in_h = shape_[1];
      p.in_w = shape_[2];
    } else {
      fail(node, "has no dataset 'input_shape' and reads shape " + shape_text(shape_) + "; expected one of them to give the input's height and width");
    }
    const std::vector<Eigen::Index> in_shape{p.in_c, p.in_h, p.in_w};
    if ((shape_.size() == 3 && shape_ != in_shape) || product(shape_) != product(in_shape)) {
      fail(node, "reads shape " + shape_text(in_shape) + " (C_in from 'weight', height and width from 'input_shape'); '" + prev_ +
                     "' gives " + shape_text(shape_));
    }
    const auto stride = pair(node, g, "stride", 1);
    const auto dil = pair(node, g, "dilation", 1);
    p.stride_h = stride.first;
    p.stride_w = stride.second;
    p.dil_h = dil.first;
    p.dil_w = dil.second;
    if (r_.dataset_class(g, "padding") == H5T_STRING) {
      const std::string pad = r_.scalar_string(g, "padding", where(node), "'same', 'valid' or integers");
      if (pad == "same") {
        if (p.stride_h != 1 || p.stride_w != 1) fail(node, "padding 'same' with stride " + std::to_string(p.stride_h) + "x" + std::to_string(p.stride_w) + "; expected stride 1");
        const Eigen::Index th = p.dil_h * (p.kh - 1), tw = p.dil_w * (p.kw - 1);
        p.pad_t = th / 2;
        p.pad_b = th - p.pad_t;
        p.pad_l = tw / 2;
        p.pad_r = tw - p.pad_l;
      } else if (pad != "valid") {
        fail(node, "dataset 'padding' is '" + pad + "'; expected 'same', 'valid' or integers");
      }
    } else {
      const auto pad = pair(node, g, "padding", 0);
      p.pad_t = p.pad_b = pad.first;
      p.pad_l = p.pad_r = pad.second;
    }
    const Eigen::Index taps = cin_g * p.kh * p.kw;
    p.weights = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(w.values.data(), p.out_c, taps);
    const Numeric bias = r_.numeric(g, "bias", where(node), "the bias (" + std::to_string(p.out_c) + " values)");
    if (bias.size() != static_cast<std::size_t>(p.out_c) || bias.dims.size() > 1) {
      fail(node, "dataset 'bias' has shape " + shape_text(bias.dims) + "; expected [" + std::to_string(p.out_c) + "]");
    }
    p.bias = Eigen::Map<const Eigen::VectorXd>(bias.values.data(), p.out_c);
    const Conv2dLayer check(p, r_.path() + ": " + where(node));  // validates the geometry
    b.conv = p;
    b.weights = p.weights;
    b.bias = p.bias;
    b.positions = check.out_h() * check.out_w();
    b.out_shape = check.output_shape();
    if (input_shape_.empty() && layers_.empty()) input_shape_ = in_shape;
  }

  // A per-neuron factor as a per-row one: a convolution's neurons share their channel's weights,
  // so the factor must be the same at every position of a channel.
  Eigen::VectorXd per_row(const std::string& node, const BuiltLayer& b, const Eigen::VectorXd& f, const std::string& what) const {
    if (!b.conv) return f;
    const Eigen::Index P = b.positions;
    Eigen::VectorXd rows(b.conv->out_c);
    for (Eigen::Index o = 0; o < b.conv->out_c; ++o) {
      rows[o] = f[o * P];
      for (Eigen::Index q = 1; q < P; ++q) {
        if (f[o * P + q] != rows[o]) {
          fail(node, what + " differs within channel " + std::to_string(o) + " of convolution '" + b.linear_node + "' (" +
                         num(rows[o]) + " at position 0, " + num(f[o * P + q]) + " at position " + std::to_string(q) +
                         "); expected one value per channel (a convolution's neurons share their channel's weights)");
        }
      }
    }
    return rows;
  }

  void scale_rows(const std::string& node, BuiltLayer& b, const Eigen::VectorXd& f, const std::string& what) const {
    const Eigen::VectorXd rows = per_row(node, b, f, what);
    b.weights = rows.asDiagonal() * b.weights;
    b.bias = b.bias.cwiseProduct(rows);
  }

  void add_to_bias(const std::string& node, BuiltLayer& b, const Eigen::VectorXd& add) const {
    b.bias += per_row(node, b, add, "the constant (dt/tau) v_leak");
  }

  // Multiplies input i's weights by s[i] (a convolution: one value per input channel).
  void scale_columns(BuiltLayer& b, const Eigen::VectorXd& s) const {
    if (!b.conv) {
      b.weights = b.weights * s.asDiagonal();
      return;
    }
    const Conv2dParams& p = *b.conv;
    const Eigen::Index hw = p.in_h * p.in_w, kk = p.kh * p.kw, cin_g = p.in_c / p.groups, og = p.out_c / p.groups;
    for (Eigen::Index c = 0; c < p.in_c; ++c) {
      for (Eigen::Index q = 1; q < hw; ++q) {
        if (s[c * hw + q] != s[c * hw]) {
          r_.fail(where(in_scale_node_) + ": the scale differs within input channel " + std::to_string(c) + " of convolution '" +
                  b.linear_node + "'; expected one value per channel");
        }
      }
    }
    for (Eigen::Index o = 0; o < p.out_c; ++o) {
      const Eigen::Index grp = o / og;
      for (Eigen::Index cl = 0; cl < cin_g; ++cl) b.weights.row(o).segment(cl * kk, kk) *= s[(grp * cin_g + cl) * hw];
    }
  }

  const Reader& r_;
  double dt_;
  std::vector<Eigen::Index> shape_, input_shape_;
  std::optional<BuiltLayer> pending_;
  std::vector<BuiltLayer> layers_;
  std::vector<std::shared_ptr<const Pool2d>> stages_;
  std::optional<Eigen::VectorXd> in_scale_;
  std::string in_scale_node_, prev_ = "the input";
  double col_factor_ = 1.0;
  std::string output_node_;
  SpikeReadout readout_ = SpikeReadout::membrane;
  std::vector<std::string> describe_;  // the chain for NirModel::describe
};

const char* kSupported = "Input, Output, Affine, Linear, Conv2d, LIF, IF, Threshold, SumPool2d, Flatten, Scale";

}  // namespace

NirModel load_nir(const std::string& path, double dt) {
  if (!(dt > 0.0) || !std::isfinite(dt)) {
    throw core::InputError(path + ": time step dt = " + num(dt) + "; expected a positive number (seconds, as the file's time constants)");
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw core::InputError(path + ": cannot open: no such file; expected a NIR (HDF5) file");
  QuietHdf5 quiet;
  if (H5Fis_hdf5(path.c_str()) <= 0) throw core::InputError(path + ": not an HDF5 file; expected a NIR file (HDF5)");
  Hid file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.ok()) throw core::InputError(path + ": cannot open as HDF5; expected a NIR file");
  const Reader r(path);
  if (object_kind(file.get(), "node") != H5I_GROUP) r.fail("group 'node' is missing; expected the NIR layout (a group 'node' holding the graph)");
  Hid graph(H5Gopen2(file.get(), "node", H5P_DEFAULT), H5Gclose);
  const std::string gtype = r.scalar_string(graph.get(), "type", "group 'node'", "the string 'NIRGraph'");
  if (gtype != "NIRGraph") r.fail("group 'node': dataset 'type' is '" + gtype + "'; expected 'NIRGraph'");
  if (object_kind(graph.get(), "nodes") != H5I_GROUP) r.fail("group 'node/nodes' is missing; expected one group per node");
  Hid nodes(H5Gopen2(graph.get(), "nodes", H5P_DEFAULT), H5Gclose);
  const std::vector<std::string> names = member_names(nodes.get());
  if (names.empty()) r.fail("group 'node/nodes' is empty; expected the graph's nodes");

  std::map<std::string, std::string> type;
  for (const std::string& n : names) {
    if (object_kind(nodes.get(), n) != H5I_GROUP) r.fail("node '" + n + "' is a dataset; expected a group holding the node");
    Hid g(H5Gopen2(nodes.get(), n.c_str(), H5P_DEFAULT), H5Gclose);
    type[n] = r.scalar_string(g.get(), "type", "node '" + n + "'", "the node's type name");
  }

  // The edges: one chain Input -> ... -> Output through every node.
  std::vector<hsize_t> edims;
  const std::vector<std::string> flat =
      r.strings(graph.get(), "edges", "group 'node'", "the edges (an N x 2 array of node names)", &edims);
  if (!flat.empty() && (edims.size() != 2 || edims[1] != 2)) {
    r.fail("group 'node': dataset 'edges' has shape " + shape_text(edims) + "; expected [N, 2] (source, target)");
  }
  std::map<std::string, std::vector<std::string>> out_edges, in_edges;
  for (std::size_t e = 0; e + 1 < flat.size(); e += 2) {
    for (const std::string* end : {&flat[e], &flat[e + 1]}) {
      if (!type.count(*end)) {
        r.fail("edge '" + flat[e] + "' -> '" + flat[e + 1] + "' names node '" + *end + "', which is not in group 'node/nodes'");
      }
    }
    out_edges[flat[e]].push_back(flat[e + 1]);
    in_edges[flat[e + 1]].push_back(flat[e]);
  }
  const std::string chain = "; expected a chain Input -> ... -> Output (one path through every node)";
  std::vector<std::string> starts;
  for (const std::string& n : names) {
    const auto& outs = out_edges[n];
    const auto& ins = in_edges[n];
    if (outs.size() > 1) r.fail("node '" + n + "' has " + std::to_string(outs.size()) + " outgoing edges (to '" + core::join(outs, "', '") + "')" + chain);
    if (ins.size() > 1) r.fail("node '" + n + "' has " + std::to_string(ins.size()) + " incoming edges (from '" + core::join(ins, "', '") + "')" + chain);
    if (ins.empty()) starts.push_back(n);
  }
  if (starts.size() != 1) {
    r.fail(starts.empty() ? "every node has an incoming edge (a cycle)" + chain
                          : "nodes '" + core::join(starts, "', '") + "' have no incoming edge" + chain);
  }
  std::vector<std::string> order{starts[0]};
  while (!out_edges[order.back()].empty() && order.size() <= names.size()) order.push_back(out_edges[order.back()][0]);
  if (order.size() != names.size()) {
    for (const std::string& n : names) {
      if (std::find(order.begin(), order.end(), n) == order.end()) {
        r.fail("node '" + n + "' is not on the path from '" + order.front() + "' to '" + order.back() + "'" + chain);
      }
    }
  }
  if (type[order.front()] != "Input") r.fail("node '" + order.front() + "' starts the chain but is a " + type[order.front()] + "; expected Input");
  if (type[order.back()] != "Output") r.fail("node '" + order.back() + "' ends the chain but is a " + type[order.back()] + "; expected Output");

  NirBuilder b(r, dt);
  for (std::size_t i = 0; i < order.size(); ++i) {
    const std::string& n = order[i];
    const std::string& t = type[n];
    Hid g(H5Gopen2(nodes.get(), n.c_str(), H5P_DEFAULT), H5Gclose);
    b.check_scale_consumed(n, t);
    if ((t == "Input" && i != 0) || (t == "Output" && i + 1 != order.size())) {
      r.fail("node '" + n + "' is an " + t + " inside the chain; expected Input first and Output last");
    }
    if (t == "Input") {
      b.input(n, g.get());
    } else if (t == "Output") {
      b.output(n, g.get());
    } else if (t == "Affine" || t == "Linear" || t == "Conv2d") {
      b.linear(n, t, g.get());
    } else if (t == "LIF" || t == "IF" || t == "Threshold") {
      b.neuron(n, t, g.get());
    } else if (t == "SumPool2d") {
      b.sum_pool(n, g.get());
    } else if (t == "Flatten") {
      b.flatten();
    } else if (t == "Scale") {
      b.scale(n, g.get());
    } else if (t == "CubaLIF" || t == "CubaLI" || t == "LI" || t == "I") {
      const bool cuba = t == "CubaLIF" || t == "CubaLI";
      r.fail("node '" + n + "' is a " + t +
             (cuba ? " (a synaptic current state per neuron besides the membrane)" : " (a non-spiking integrator)") +
             ", which nfsim does not support; expected one of " + kSupported);
    } else if (t == "NIRGraph") {
      r.fail("node '" + n + "' is a nested NIRGraph; expected a flat graph of " + std::string(kSupported));
    } else {
      r.fail("node '" + n + "' has type '" + t + "'; expected one of " + kSupported);
    }
    b.set_prev(n);
  }
  return b.finish(names.size());
}

}  // namespace nfsim::models
