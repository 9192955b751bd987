// Conv2dLayer, Pool2d and networks with output stages, against naive loops and finite
// differences.
#include <gtest/gtest.h>

#include <algorithm>

#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "core/error.h"
#include "models/layer/conv2d_layer.h"
#include "models/layer/dense_layer.h"
#include "models/layer/pool2d.h"
#include "models/network.h"
#include "models/random_network.h"

namespace nfsim::models {
namespace {

Conv2dParams conv_params(Eigen::Index in_c, Eigen::Index h, Eigen::Index w, Eigen::Index out_c, Eigen::Index kh,
                         Eigen::Index kw, unsigned seed) {
  Conv2dParams p;
  p.in_c = in_c, p.in_h = h, p.in_w = w, p.out_c = out_c, p.kh = kh, p.kw = kw;
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0.0, 1.0);
  p.weights.resize(out_c, 1);  // resized by finish()
  p.bias = Eigen::VectorXd::NullaryExpr(out_c, [&] { return n(rng); });
  return p;
}

void finish(Conv2dParams& p, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0.0, 1.0);
  p.weights = Eigen::MatrixXd::NullaryExpr(p.out_c, p.in_c / p.groups * p.kh * p.kw, [&] { return n(rng); });
}

Eigen::VectorXd random_vector(Eigen::Index n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> d(0.0, 1.0);
  return Eigen::VectorXd::NullaryExpr(n, [&] { return d(rng); });
}

// The ONNX Conv definition, loop by loop.
Eigen::VectorXd naive_conv(const Conv2dParams& p, const Eigen::VectorXd& u) {
  const Eigen::Index oh = (p.in_h + p.pad_t + p.pad_b - (p.kh - 1) * p.dil_h - 1) / p.stride_h + 1;
  const Eigen::Index ow = (p.in_w + p.pad_l + p.pad_r - (p.kw - 1) * p.dil_w - 1) / p.stride_w + 1;
  const Eigen::Index cig = p.in_c / p.groups, cog = p.out_c / p.groups;
  Eigen::VectorXd z(p.out_c * oh * ow);
  for (Eigen::Index o = 0; o < p.out_c; ++o) {
    for (Eigen::Index y = 0; y < oh; ++y) {
      for (Eigen::Index x = 0; x < ow; ++x) {
        double s = p.bias[o];
        for (Eigen::Index c = 0; c < cig; ++c) {
          for (Eigen::Index ky = 0; ky < p.kh; ++ky) {
            for (Eigen::Index kx = 0; kx < p.kw; ++kx) {
              const Eigen::Index iy = y * p.stride_h - p.pad_t + ky * p.dil_h;
              const Eigen::Index ix = x * p.stride_w - p.pad_l + kx * p.dil_w;
              if (iy < 0 || iy >= p.in_h || ix < 0 || ix >= p.in_w) continue;
              const Eigen::Index ci = (o / cog) * cig + c;
              s += p.weights(o, (c * p.kh + ky) * p.kw + kx) * u[(ci * p.in_h + iy) * p.in_w + ix];
            }
          }
        }
        z[(o * oh + y) * ow + x] = s;
      }
    }
  }
  return z;
}

// Stride, asymmetric pads, dilation, groups and depthwise.
std::vector<Conv2dParams> conv_cases() {
  std::vector<Conv2dParams> cases;
  Conv2dParams a = conv_params(1, 6, 5, 3, 3, 3, 1);
  cases.push_back(a);
  Conv2dParams b = conv_params(2, 7, 8, 4, 3, 2, 2);
  b.stride_h = 2, b.stride_w = 3, b.pad_t = 1, b.pad_l = 0, b.pad_b = 2, b.pad_r = 1;
  cases.push_back(b);
  Conv2dParams c = conv_params(4, 9, 9, 6, 3, 3, 3);
  c.dil_h = 2, c.dil_w = 3, c.groups = 2, c.pad_t = c.pad_b = 1;
  cases.push_back(c);
  Conv2dParams d = conv_params(3, 5, 6, 3, 3, 3, 4);  // depthwise
  d.groups = 3, d.pad_t = d.pad_l = d.pad_b = d.pad_r = 1;
  cases.push_back(d);
  Conv2dParams e = conv_params(2, 4, 4, 2, 5, 5, 5);  // taps reading only padding at some positions
  e.pad_t = e.pad_l = e.pad_b = e.pad_r = 3, e.stride_h = e.stride_w = 2;
  cases.push_back(e);
  // An input narrower than the padding: some taps read no input at any position (their valid
  // range starts past the last output; im2col must clamp it, not write past the row).
  Conv2dParams f = conv_params(1, 4, 1, 2, 2, 6, 6);
  f.pad_l = f.pad_r = 3;
  cases.push_back(f);
  for (std::size_t k = 0; k < cases.size(); ++k) {
    finish(cases[k], static_cast<unsigned>(10 + k));
    cases[k].activation = Activation{ActivationKind::tanh};
  }
  return cases;
}

TEST(Conv2dLayer, LinearPartMatchesTheOnnxDefinition) {
  for (const Conv2dParams& p : conv_cases()) {
    const Conv2dLayer layer(p);
    const Eigen::VectorXd u = random_vector(layer.input_size(), 7);
    const Eigen::VectorXd expected = naive_conv(p, u);
    ASSERT_EQ(layer.output_size(), expected.size()) << layer.describe();
    EXPECT_TRUE(layer.linear(u).isApprox(expected, 1e-13)) << layer.describe();
    EXPECT_TRUE(layer.jvp(u).isApprox(expected - layer.bias(), 1e-13)) << layer.describe();
    // A batch of 3 gives the columns one by one (and a chunked batch the same).
    Eigen::MatrixXd us(layer.input_size(), 3), z;
    for (int c = 0; c < 3; ++c) us.col(c) = random_vector(layer.input_size(), 20 + c);
    layer.linear_batch(us, z);
    for (int c = 0; c < 3; ++c) EXPECT_TRUE(z.col(c).isApprox(naive_conv(p, us.col(c)), 1e-13)) << layer.describe();
  }
}

TEST(Conv2dLayer, ReverseProductAndSparseUpdatesMatchTheUnrolledMatrix) {
  for (const Conv2dParams& p : conv_cases()) {
    const Conv2dLayer layer(p);
    const Eigen::Index n_in = layer.input_size(), n_out = layer.output_size();
    Eigen::MatrixXd a(n_out, n_in);
    for (Eigen::Index i = 0; i < n_in; ++i) a.col(i) = layer.jvp(Eigen::VectorXd::Unit(n_in, i));
    const Eigen::MatrixXd g = Eigen::MatrixXd::Random(3, n_out);
    EXPECT_TRUE(layer.vjp(g).isApprox(g * a, 1e-12)) << layer.describe();

    const Eigen::VectorXd u = random_vector(n_in, 3);
    const Eigen::Index idx[] = {0, n_in - 1, n_in / 2, n_in / 3};
    const double du[] = {0.5, -1.5, 2.0, 0.25};
    Eigen::VectorXd z = layer.linear(u), expected = z;
    for (int k = 0; k < 4; ++k) expected += a.col(idx[k]) * du[k];
    layer.add_input_changes(idx, du, 4, z.data());
    EXPECT_TRUE(z.isApprox(expected, 1e-12)) << layer.describe();

    // Every synapse: its change equals rewriting the weight, and its connections are the
    // unrolled matrix's entries holding it.
    Eigen::MatrixXd rebuilt = Eigen::MatrixXd::Zero(n_out, n_in);
    for (std::uint64_t s = 0; s < layer.synapse_count(); ++s) {
      Eigen::VectorXd zs = layer.linear(u);
      layer.add_synapse_change(s, 3.0, u.data(), zs.data());
      Conv2dLayer changed = layer;
      changed.set_synapse(s, 3.0);
      ASSERT_TRUE(zs.isApprox(changed.linear(u), 1e-12)) << layer.describe() << " " << layer.synapse_name(s);
      for (int k = 0; k < layer.connection_count(s); ++k) {
        const Connection c = layer.connection(s, k);
        rebuilt(c.output, c.input) += layer.synapse(s);
      }
    }
    EXPECT_TRUE(rebuilt.isApprox(a, 1e-14)) << layer.describe();
  }
}

// A synapse changed at some output positions only (a replicated tile's share): at those
// positions z changes as if the weight were rewritten, elsewhere not at all, for every share of
// an uneven split (rows cut in the middle).
TEST(Conv2dLayer, SynapseChangeAtSomePositionsOnly) {
  for (const Conv2dParams& p : conv_cases()) {
    const Conv2dLayer layer(p);
    const Eigen::Index positions = layer.crossbar_positions();
    const Eigen::VectorXd u = random_vector(layer.input_size(), 5);
    const Eigen::VectorXd clean = layer.linear(u);
    for (std::uint64_t s = 0; s < layer.synapse_count(); s += 3) {
      Conv2dLayer changed = layer;
      changed.set_synapse(s, layer.synapse(s) - 1.25);
      const Eigen::VectorXd full = changed.linear(u);
      for (Eigen::Index shares : {Eigen::Index{1}, Eigen::Index{3}}) {
        Eigen::VectorXd summed = clean;
        for (Eigen::Index r = 0; r < std::min(shares, positions); ++r) {
          const Eigen::Index b = r * positions / std::min(shares, positions), e = (r + 1) * positions / std::min(shares, positions);
          Eigen::VectorXd z = clean;
          layer.add_synapse_delta(s, -1.25, u.data(), z.data(), b, e - b);
          summed += z - clean;
          for (Eigen::Index o = 0; o < p.out_c; ++o) {
            for (Eigen::Index q = 0; q < positions; ++q) {
              const Eigen::Index i = o * positions + q;
              const double want = q >= b && q < e ? full[i] : clean[i];
              ASSERT_NEAR(z[i], want, 1e-12 * (1 + std::abs(want))) << layer.describe() << " synapse " << s << " share " << b;
            }
          }
        }
        EXPECT_TRUE(summed.isApprox(full, 1e-12)) << layer.describe();
      }
    }
  }
}

TEST(Conv2dLayer, SynapsesAreOnnxWeightIndicesAndCrossbarCells) {
  Conv2dParams p = conv_params(4, 5, 5, 6, 3, 2, 1);
  p.groups = 2;
  finish(p, 2);
  const Conv2dLayer layer(p);
  EXPECT_EQ(layer.kind(), "conv2d");
  EXPECT_EQ(layer.crossbar_matrix().rows(), 6);
  EXPECT_EQ(layer.crossbar_matrix().cols(), 2 * 3 * 2);  // C_in/group x kh x kw
  EXPECT_EQ(layer.crossbar_positions(), 3 * 4);
  EXPECT_EQ(layer.output_shape(), (std::vector<Eigen::Index>{6, 3, 4}));
  // W[o=4, c=1, ky=2, kx=1] is flat index ((4 * 2 + 1) * 3 + 2) * 2 + 1 = 59.
  EXPECT_EQ(layer.synapse_name(59), "W[4,1,2,1]");
  EXPECT_EQ(layer.synapse(59), p.weights(4, 11));
  EXPECT_EQ(layer.synapse_count(), 72u);
  EXPECT_EQ(layer.parameter_count(), 78u);
  EXPECT_EQ(layer.describe(), "6c3x2/g2(identity)");
}

TEST(Conv2dLayer, RefusesKernelsThatDoNotFitAndBadAttributes) {
  const auto message = [](Conv2dParams p) {
    try {
      Conv2dLayer layer(std::move(p), "node 'c1'");
    } catch (const core::InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  Conv2dParams big = conv_params(1, 3, 3, 2, 5, 5, 1);
  finish(big, 1);
  EXPECT_EQ(message(big), "node 'c1': kernel 5x5 (dilation 1x1) does not fit the 3x3 input with pads [0, 0, 0, 0]; "
                          "expected a kernel no larger than the padded input");
  Conv2dParams groups = conv_params(3, 5, 5, 4, 3, 3, 1);
  groups.groups = 2;
  groups.weights = Eigen::MatrixXd::Ones(4, 9);
  EXPECT_NE(message(groups).find("group = 2 does not divide"), std::string::npos) << message(groups);
  Conv2dParams stride = conv_params(1, 5, 5, 1, 3, 3, 1);
  finish(stride, 1);
  stride.stride_w = 0;
  EXPECT_NE(message(stride).find("stride (width) = 0"), std::string::npos) << message(stride);
  Conv2dParams nan = conv_params(1, 5, 5, 1, 3, 3, 1);
  finish(nan, 1);
  nan.weights(0, 4) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_NE(message(nan).find("weight W[0,0,1,1] is nan"), std::string::npos) << message(nan);
}

// Pooling, loop by loop.
Eigen::VectorXd naive_pool(const Pool2dParams& p, const Eigen::VectorXd& y) {
  const Eigen::Index oh = (p.h + p.pad_t + p.pad_b - p.kh) / p.stride_h + 1;
  const Eigen::Index ow = (p.w + p.pad_l + p.pad_r - p.kw) / p.stride_w + 1;
  Eigen::VectorXd u(p.c * oh * ow);
  for (Eigen::Index c = 0; c < p.c; ++c) {
    for (Eigen::Index oy = 0; oy < oh; ++oy) {
      for (Eigen::Index ox = 0; ox < ow; ++ox) {
        double m = -std::numeric_limits<double>::infinity(), sum = 0;
        int inside = 0;
        for (Eigen::Index ky = 0; ky < p.kh; ++ky) {
          for (Eigen::Index kx = 0; kx < p.kw; ++kx) {
            const Eigen::Index iy = oy * p.stride_h - p.pad_t + ky, ix = ox * p.stride_w - p.pad_l + kx;
            if (iy < 0 || iy >= p.h || ix < 0 || ix >= p.w) continue;
            const double v = y[(c * p.h + iy) * p.w + ix];
            m = std::max(m, v);
            sum += v;
            ++inside;
          }
        }
        const double avg = sum / (p.count_include_pad ? static_cast<double>(p.kh * p.kw) : inside);
        u[(c * oh + oy) * ow + ox] = p.kind == Pool2dParams::Kind::max ? m : avg;
      }
    }
  }
  return u;
}

std::vector<Pool2dParams> pool_cases() {
  std::vector<Pool2dParams> cases;
  Pool2dParams a;
  a.c = 2, a.h = 6, a.w = 7, a.kh = a.kw = 2, a.stride_h = a.stride_w = 2;
  cases.push_back(a);
  Pool2dParams b = a;
  b.kh = 3, b.kw = 2, b.stride_h = 1, b.stride_w = 2, b.pad_t = 1, b.pad_b = 2, b.pad_l = 1;  // overlapping windows
  cases.push_back(b);
  for (Pool2dParams p : {a, b}) {
    p.kind = Pool2dParams::Kind::average;
    cases.push_back(p);
    p.count_include_pad = true;
    cases.push_back(p);
  }
  return cases;
}

TEST(Pool2d, MatchesLoopsAndFiniteDifferencesAndListsItsWindows) {
  for (const Pool2dParams& p : pool_cases()) {
    const Pool2d pool(p);
    const Eigen::VectorXd y = random_vector(pool.input_size(), 9);  // no ties
    const Eigen::VectorXd expected = naive_pool(p, y);
    ASSERT_EQ(pool.output_size(), expected.size()) << pool.describe();
    EXPECT_TRUE(pool.forward(y).isApprox(expected, 1e-15)) << pool.describe();
    const Eigen::MatrixXd g = Eigen::MatrixXd::Random(2, pool.output_size());
    const Eigen::MatrixXd j = pool.vjp(g, y);
    const double h = 1e-7;
    for (Eigen::Index i = 0; i < pool.input_size(); ++i) {
      Eigen::VectorXd yp = y, ym = y;
      yp[i] += h;
      ym[i] -= h;
      const Eigen::VectorXd d = (pool.forward(yp) - pool.forward(ym)) / (2 * h);
      EXPECT_TRUE(((g * d) - j.col(i)).norm() < 1e-6) << pool.describe() << " input " << i;
      EXPECT_TRUE((pool.jvp(Eigen::VectorXd::Unit(y.size(), i), y) - d).norm() < 1e-6) << pool.describe();
      // windows_of lists exactly the outputs that read input i.
      Eigen::Index c, y_lo, y_hi, x_lo, x_hi;
      pool.windows_of(i, c, y_lo, y_hi, x_lo, x_hi);
      Eigen::VectorXd bumped = y;
      bumped[i] += 1e3;  // large enough to change every max and average window holding it
      const Eigen::VectorXd diff = pool.forward(bumped) - pool.forward(y);
      for (Eigen::Index q = 0; q < pool.output_size(); ++q) {
        const Eigen::Index per = pool.out_h() * pool.out_w();
        const Eigen::Index qc = q / per, qy = (q % per) / pool.out_w(), qx = q % pool.out_w();
        const bool listed = qc == c && qy >= y_lo && qy < y_hi && qx >= x_lo && qx < x_hi;
        EXPECT_EQ(listed, diff[q] != 0) << pool.describe() << " input " << i << " output " << q;
      }
    }
    // touched_windows: the outputs a set of inputs reaches, each once, ascending; mark back to 0.
    const Eigen::Index set[] = {0, y.size() / 2, y.size() / 2 + 1, y.size() - 1, 0};
    std::vector<char> mark(static_cast<std::size_t>(pool.output_size()), 0);
    std::vector<Eigen::Index> windows;
    pool.touched_windows(set, 5, mark, windows);
    Eigen::VectorXd bumped = y;
    for (Eigen::Index i : set) bumped[i] = 1e3 + 1e3 * static_cast<double>(i);
    const Eigen::VectorXd diff = pool.forward(bumped) - pool.forward(y);
    std::vector<Eigen::Index> changed;
    for (Eigen::Index q = 0; q < pool.output_size(); ++q) {
      if (diff[q] != 0) changed.push_back(q);
    }
    EXPECT_EQ(windows, changed) << pool.describe();
    EXPECT_EQ(std::count(mark.begin(), mark.end(), 1), 0);
  }
}

TEST(Pool2d, RefusesWindowsThatDoNotFit) {
  Pool2dParams p;
  p.c = 1, p.h = 2, p.w = 2, p.kh = p.kw = 3, p.stride_h = p.stride_w = 1;
  try {
    Pool2d pool(p, "node 'pool'");
    FAIL() << "no error";
  } catch (const core::InputError& e) {
    EXPECT_EQ(std::string(e.what()), "node 'pool': window 3x3 does not fit the 2x2 input with pads [0, 0, 0, 0]; "
                                     "expected a window no larger than the padded input");
  }
}

Network small_cnn(unsigned seed) {
  RandomNetworkSpec spec;
  spec.input_shape = {1, 8, 8};
  spec.layers = parse_random_layers("conv:3:3:p=1,maxpool:2,conv:4:3:s=1,avgpool:3:s=1:p=1,dense:5");
  spec.activation = Activation{ActivationKind::tanh};
  spec.sigma = 2.0;
  spec.seed = seed;
  return make_random_network(spec);
}

TEST(Network, PoolingStagesSitBetweenLayersAndTheJacobianGoesThroughThem) {
  const Network net = small_cnn(3);
  EXPECT_EQ(net.num_layers(), 3);
  EXPECT_EQ(net.describe(), "1x8x8-3c3x3/p1(tanh)+maxpool2x2-4c3x3(tanh)+avgpool3x3/1/p1,1,1,1-5(identity)");
  EXPECT_EQ(net.width(1), 3 * 8 * 8);
  EXPECT_EQ(net.staged_width(1), 3 * 4 * 4);
  EXPECT_EQ(net.width(2), 4 * 2 * 2);
  EXPECT_EQ(net.staged_shape(2), (std::vector<Eigen::Index>{4, 2, 2}));
  ASSERT_NE(net.stage(1), nullptr);
  EXPECT_EQ(net.stage(0), nullptr);
  EXPECT_EQ(net.stage(3), nullptr);
  const Eigen::VectorXd x = random_vector(64, 5);
  // By hand through the layers and stages.
  Eigen::VectorXd y1 = net.layer(1).activation().apply(net.layer(1).linear(x));
  Eigen::VectorXd y2 = net.layer(2).activation().apply(net.layer(2).linear(net.stage(1)->forward(y1)));
  Eigen::VectorXd y3 = net.layer(3).activation().apply(net.layer(3).linear(net.stage(2)->forward(y2)));
  EXPECT_TRUE(net.forward(x).isApprox(y3, 1e-14));
  Eigen::MatrixXd xs(64, 2);
  xs << x, random_vector(64, 6);
  EXPECT_TRUE(net.forward_batch(xs).col(0).isApprox(y3, 1e-14));
  const BatchTrace bt = net.trace_batch(xs);
  EXPECT_TRUE(bt.u[1].col(0).isApprox(net.stage(1)->forward(y1), 1e-14));
  // forward_from(l, y_l) applies stage l first.
  EXPECT_TRUE(net.forward_from(1, y1).isApprox(y3, 1e-14));
  EXPECT_TRUE(net.forward_from_batch(1, bt.y[1]).isApprox(net.forward_batch(xs), 1e-14));
  // d y_L / d y_l (before the stage) against central differences, at every layer.
  const ForwardTrace t = net.trace(x);
  for (int l = 0; l <= 2; ++l) {
    const Eigen::MatrixXd j = net.jacobian_wrt_activations(t, l);
    const double h = 1e-6;
    for (Eigen::Index i = 0; i < net.width(l); i += 5) {
      Eigen::VectorXd yp = t.y[l], ym = t.y[l];
      yp[i] += h;
      ym[i] -= h;
      const Eigen::VectorXd fd = (net.forward_from(l, yp) - net.forward_from(l, ym)) / (2 * h);
      EXPECT_LT((j.col(i) - fd).norm(), 1e-6 * (1 + fd.norm())) << "layer " << l << " neuron " << i;
    }
  }
}

TEST(Network, RefusesStagesThatDoNotFitAndPoolingAfterTheOutput) {
  const auto message = [](const std::string& input, const std::string& layers) {
    try {
      RandomNetworkSpec spec;
      spec.input_shape = parse_input_shape(input);
      spec.layers = parse_random_layers(layers);
      make_random_network(spec);
    } catch (const core::InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("1x8x8", "conv:2:3,dense:4,maxpool:2"),
            "random network: the pooling after layer 2 pools a flat vector; expected a C x H x W tensor");
  EXPECT_EQ(message("1x8x8", "conv:2:3,maxpool:2"),
            "random network: a pooling after the output layer; expected the list to end with a conv or dense layer");
  EXPECT_EQ(message("1x4x4", "conv:2:5,dense:3"),
            "random network layer 1: kernel 5x5 (dilation 1x1) does not fit the 4x4 input with pads [0, 0, 0, 0]; "
            "expected a kernel no larger than the padded input");
  EXPECT_EQ(message("1x4x4", "conv:2:3:q=1"),
            "layer 'conv:2:3:q=1': option 'q=1' does not apply to conv; expected s= and p= (conv, pooling), d= and g= "
            "(conv)");
  EXPECT_EQ(message("3x8x8", "conv:2:3:s=0,dense:2"),
            "layer 'conv:2:3:s=0': option 's=0'; expected s=, d= and g= of at least 1");
  EXPECT_EQ(message("1x4", "dense:3"),
            "input shape '1x4' has 2 dimensions; expected C x H x W (e.g. 1x28x28) or a width (e.g. 784)");
}

}  // namespace
}  // namespace nfsim::models
