#include "models/random_network.h"

#include <cmath>

#include "core/error.h"
#include "core/rng.h"
#include "models/layer/conv2d_layer.h"
#include "models/layer/dense_layer.h"
#include "models/layer/pool2d.h"

namespace nfsim::models {

namespace {

Eigen::Index parse_count(const std::string& entry, const std::string& text, const char* what) {
  std::size_t used = 0;
  long long v = -1;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || v < 0 || v > 1'000'000) {
    throw core::InputError("layer '" + entry + "': " + what + " '" + text + "'; expected an integer in [0, 1000000]");
  }
  return static_cast<Eigen::Index>(v);
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(sep, start);
    parts.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return parts;
}

// W and b of one layer from its own two streams, so adding a layer does not change the others.
void draw(const RandomNetworkSpec& spec, int l, double fan_in, double fan_out, Eigen::MatrixXd& w,
          Eigen::VectorXd& b) {
  core::RandomStream w_rng(spec.seed, 2 * static_cast<std::uint64_t>(l));
  core::RandomStream b_rng(spec.seed, 2 * static_cast<std::uint64_t>(l) + 1);
  for (Eigen::Index j = 0; j < w.rows(); ++j) {
    for (Eigen::Index i = 0; i < w.cols(); ++i) w(j, i) = spec.mu + (spec.sigma / fan_in) * w_rng.normal();
  }
  for (Eigen::Index j = 0; j < b.size(); ++j) b[j] = spec.mu + (spec.sigma / fan_out) * b_rng.normal();
}

Network make_random_cnn(const RandomNetworkSpec& spec) {
  std::vector<Eigen::Index> shape = spec.input_shape;
  if (shape.size() != 1 && shape.size() != 3) {
    throw core::InputError("random network: the input shape has " + std::to_string(shape.size()) +
                           " dimensions; expected C x H x W or a width");
  }
  std::vector<std::unique_ptr<ILayer>> layers;
  std::vector<std::shared_ptr<const Pool2d>> stages(spec.layers.size() + 1);
  int weighted = 0;
  for (const RandomLayerSpec& ls : spec.layers) if (ls.kind == RandomLayerSpec::Kind::conv || ls.kind == RandomLayerSpec::Kind::dense) ++weighted;
  if (weighted == 0) throw core::InputError("random network: the layer list has no conv or dense layer; expected at least one");
  int l = 0;
  // The same 2 GiB cap on weights as for dense networks, checked before allocating.
  const auto check_size = [](const std::string& where, double weights) {
    if (weights > double(1u << 28)) {
      throw core::InputError(where + ": " + std::to_string(static_cast<long long>(weights)) +
                             " weights; expected at most 268435456 (2 GiB)");
    }
  };
  for (std::size_t k = 0; k < spec.layers.size(); ++k) {
    const RandomLayerSpec& ls = spec.layers[k];
    const std::string where = "random network layer " + std::to_string(l + 1);
    Eigen::Index width = 1;
    for (Eigen::Index d : shape) width *= d;
    if (ls.kind == RandomLayerSpec::Kind::dense) check_size(where, double(width) * double(ls.size));
    if (ls.kind == RandomLayerSpec::Kind::conv) check_size(where, double(shape[0]) * double(ls.size) * double(ls.kernel) * double(ls.kernel));
    switch (ls.kind) {
      case RandomLayerSpec::Kind::conv: {
        if (shape.size() != 3) throw core::InputError(where + ": a conv layer after a dense layer; expected conv layers first");
        ++l;
        Conv2dParams p;
        p.in_c = shape[0], p.in_h = shape[1], p.in_w = shape[2];
        p.out_c = ls.size, p.kh = p.kw = ls.kernel;
        p.stride_h = p.stride_w = ls.stride == 0 ? 1 : ls.stride;
        p.pad_t = p.pad_l = p.pad_b = p.pad_r = ls.pad;
        p.dil_h = p.dil_w = ls.dilation;
        p.groups = ls.groups;
        const Eigen::Index fan_in = ls.groups > 0 && p.in_c % ls.groups == 0 ? p.in_c / ls.groups * ls.kernel * ls.kernel : 1;
        p.weights.resize(p.out_c, std::max<Eigen::Index>(1, fan_in));
        p.bias.resize(p.out_c);
        draw(spec, l, static_cast<double>(fan_in), static_cast<double>(p.out_c), p.weights, p.bias);
        p.activation = l == weighted ? spec.output_activation : spec.activation;
        auto layer = std::make_unique<Conv2dLayer>(std::move(p), where);
        shape = layer->output_shape();
        layers.push_back(std::move(layer));
        break;
      }
      case RandomLayerSpec::Kind::dense: {
        ++l;
        DenseParams p;
        p.weights.resize(ls.size, width);
        p.bias.resize(ls.size);
        draw(spec, l, static_cast<double>(width), static_cast<double>(ls.size), p.weights, p.bias);
        p.activation = l == weighted ? spec.output_activation : spec.activation;
        layers.push_back(std::make_unique<DenseLayer>(std::move(p), where));
        shape = {ls.size};
        break;
      }
      default: {
        const std::string pool_where = "random network: the pooling after layer " + std::to_string(l);
        if (shape.size() != 3) throw core::InputError(pool_where + " pools a flat vector; expected a C x H x W tensor");
        if (stages[static_cast<std::size_t>(l)]) throw core::InputError(pool_where + " follows another pooling; expected one pooling per layer");
        Pool2dParams p;
        p.c = shape[0], p.h = shape[1], p.w = shape[2];
        p.kind = ls.kind == RandomLayerSpec::Kind::maxpool ? Pool2dParams::Kind::max : Pool2dParams::Kind::average;
        if (ls.kind == RandomLayerSpec::Kind::global_avgpool) {
          p.kh = p.stride_h = p.h;
          p.kw = p.stride_w = p.w;
        } else {
          p.kh = p.kw = ls.size;
          p.stride_h = p.stride_w = ls.stride == 0 ? ls.size : ls.stride;
          p.pad_t = p.pad_l = p.pad_b = p.pad_r = ls.pad;
        }
        auto stage = std::make_shared<const Pool2d>(p, pool_where);
        shape = stage->output_shape();
        stages[static_cast<std::size_t>(l)] = std::move(stage);
        break;
      }
    }
  }
  if (stages[static_cast<std::size_t>(l)]) {
    throw core::InputError("random network: a pooling after the output layer; expected the list to end with a conv or dense layer");
  }
  stages.resize(layers.size());
  return Network(std::move(layers), std::move(stages), false, spec.input_shape);
}

}  // namespace

std::vector<Eigen::Index> parse_input_shape(const std::string& text) {
  std::vector<Eigen::Index> shape;
  for (const std::string& d : split(text, 'x')) {
    const Eigen::Index v = parse_count("input", d, "dimension");
    if (v < 1) throw core::InputError("input shape '" + text + "': a dimension is 0; expected C x H x W or a width, each >= 1");
    shape.push_back(v);
  }
  if (shape.size() != 1 && shape.size() != 3) {
    throw core::InputError("input shape '" + text + "' has " + std::to_string(shape.size()) +
                           " dimensions; expected C x H x W (e.g. 1x28x28) or a width (e.g. 784)");
  }
  return shape;
}

std::vector<RandomLayerSpec> parse_random_layers(const std::string& text) {
  std::vector<RandomLayerSpec> out;
  for (const std::string& entry : split(text, ',')) {
    const std::vector<std::string> f = split(entry, ':');
    RandomLayerSpec ls;
    std::size_t sizes = 0;
    if (f[0] == "conv") {
      ls.kind = RandomLayerSpec::Kind::conv;
      sizes = 2;
    } else if (f[0] == "dense") {
      ls.kind = RandomLayerSpec::Kind::dense;
      sizes = 1;
    } else if (f[0] == "maxpool" || f[0] == "avgpool") {
      ls.kind = f[0] == "maxpool" ? RandomLayerSpec::Kind::maxpool : RandomLayerSpec::Kind::avgpool;
      sizes = 1;
    } else if (f[0] == "gap") {
      ls.kind = RandomLayerSpec::Kind::global_avgpool;
    } else {
      throw core::InputError("layer '" + entry + "': unknown kind '" + f[0] +
                             "'; expected conv:C:K, dense:N, maxpool:K, avgpool:K or gap");
    }
    if (f.size() < 1 + sizes) {
      throw core::InputError("layer '" + entry + "': missing sizes; expected conv:C:K, dense:N, maxpool:K, avgpool:K or gap");
    }
    if (ls.kind == RandomLayerSpec::Kind::conv) {
      ls.size = parse_count(entry, f[1], "channels");
      ls.kernel = parse_count(entry, f[2], "kernel");
    } else if (sizes == 1) {
      ls.size = parse_count(entry, f[1], "size");
    }
    for (std::size_t k = 1 + sizes; k < f.size(); ++k) {
      const std::string& opt = f[k];
      if (opt.size() < 3 || opt[1] != '=') {
        throw core::InputError("layer '" + entry + "': option '" + opt + "'; expected s=N, p=N, d=N or g=N");
      }
      const Eigen::Index v = parse_count(entry, opt.substr(2), "option value");
      const char key = opt[0];
      if (key != 'p' && v < 1) {
        throw core::InputError("layer '" + entry + "': option '" + opt + "'; expected s=, d= and g= of at least 1");
      }
      const bool conv = ls.kind == RandomLayerSpec::Kind::conv;
      if (key == 's' && ls.kind != RandomLayerSpec::Kind::dense && ls.kind != RandomLayerSpec::Kind::global_avgpool) {
        ls.stride = v;
      } else if (key == 'p' && (conv || ls.kind == RandomLayerSpec::Kind::maxpool || ls.kind == RandomLayerSpec::Kind::avgpool)) {
        ls.pad = v;
      } else if (key == 'd' && conv) {
        ls.dilation = v;
      } else if (key == 'g' && conv) {
        ls.groups = v;
      } else {
        throw core::InputError("layer '" + entry + "': option '" + opt + "' does not apply to " + f[0] +
                               "; expected s= and p= (conv, pooling), d= and g= (conv)");
      }
    }
    out.push_back(ls);
  }
  return out;
}

Network make_random_network(const RandomNetworkSpec& spec) {
  if (!spec.layers.empty()) {
    if (!std::isfinite(spec.sigma) || spec.sigma < 0) {
      throw core::InputError("random network: sigma = " + std::to_string(spec.sigma) + "; expected a finite value >= 0");
    }
    if (!std::isfinite(spec.mu)) throw core::InputError("random network: mu must be finite");
    return make_random_cnn(spec);
  }
  if (spec.widths.size() < 2) {
    throw core::InputError("random network: widths has " + std::to_string(spec.widths.size()) +
                           " entries; expected at least 2 (inputs and outputs)");
  }
  for (std::size_t i = 0; i < spec.widths.size(); ++i) {
    if (spec.widths[i] < 1 || spec.widths[i] > 1'000'000) {
      throw core::InputError("random network: widths[" + std::to_string(i) + "] = " + std::to_string(spec.widths[i]) +
                             "; expected an integer in [1, 1000000]");
    }
  }
  double parameters = 0;
  for (std::size_t l = 1; l < spec.widths.size(); ++l) {
    parameters += (static_cast<double>(spec.widths[l - 1]) + 1.0) * static_cast<double>(spec.widths[l]);
  }
  constexpr double kMaxParameters = 1u << 28;
  if (parameters > kMaxParameters) {
    throw core::InputError("random network: widths give " + std::to_string(static_cast<long long>(parameters)) +
                           " parameters; expected at most 268435456 (2 GiB of weights)");
  }
  if (!std::isfinite(spec.sigma) || spec.sigma < 0) {
    throw core::InputError("random network: sigma = " + std::to_string(spec.sigma) + "; expected a finite value >= 0");
  }
  if (!std::isfinite(spec.mu)) throw core::InputError("random network: mu must be finite");

  std::vector<DenseParams> layers;
  const int num_layers = static_cast<int>(spec.widths.size()) - 1;
  for (int l = 1; l <= num_layers; ++l) {
    const int n_in = spec.widths[l - 1], n_out = spec.widths[l];
    // One stream per layer and tensor, so adding a layer does not change the earlier ones.
    core::RandomStream w_rng(spec.seed, 2 * static_cast<std::uint64_t>(l));
    core::RandomStream b_rng(spec.seed, 2 * static_cast<std::uint64_t>(l) + 1);
    DenseParams layer;
    layer.weights.resize(n_out, n_in);
    for (int j = 0; j < n_out; ++j) {
      for (int i = 0; i < n_in; ++i) layer.weights(j, i) = spec.mu + (spec.sigma / n_in) * w_rng.normal();
    }
    layer.bias.resize(n_out);
    for (int j = 0; j < n_out; ++j) layer.bias[j] = spec.mu + (spec.sigma / n_out) * b_rng.normal();
    layer.activation = l == num_layers ? spec.output_activation : spec.activation;
    layers.push_back(std::move(layer));
  }
  return dense_network(std::move(layers));
}

}  // namespace nfsim::models
