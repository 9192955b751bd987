#include <gtest/gtest.h>
#include <onnx/checker.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"
#include "models/dataset.h"
#include "models/layer/dense_layer.h"
#include "models/onnx_check.h"
#include "models/onnx_io.h"
#include "models/random_network.h"
#include "tests/common/onnx_builder.h"
#include "tests/common/temp_dir.h"

namespace nfsim::models {
namespace {

using test::Attr;
using test::OnnxBuilder;
using test::Storage;

// Expects parse_onnx to throw an InputError whose message contains every fragment.
void expect_rejected(const std::string& bytes, const std::vector<std::string>& fragments) {
  try {
    parse_onnx(bytes, "model.onnx");
    ADD_FAILURE() << "model was accepted";
  } catch (const core::InputError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("model.onnx: ", 0), 0u) << msg;
    for (const auto& f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << "missing '" << f << "' in: " << msg;
  }
}

// 3 -> 2 dense layer via Gemm with W (2x3, transB=1) and b.
OnnxBuilder gemm_model(int opset = 13, Storage storage = Storage::raw_f32) {
  OnnxBuilder b(opset);
  b.input("x", {0, 3})
      .initializer("W", {2, 3}, {1, 2, 3, 4, 5, 6}, storage)
      .initializer("b", {2}, {0.5, -0.5}, storage)
      .node("Gemm", {"x", "W", "b"}, {"z"}, {Attr::Int("transB", 1)}, "fc")
      .node("Relu", {"z"}, {"y"})
      .output("y");
  if (storage == Storage::raw_f64 || storage == Storage::typed_f64) {
    // ONNX wants the data in the weights' element type.
    auto* g = b.model().mutable_graph();
    g->mutable_input(0)->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::DOUBLE);
    g->mutable_output(0)->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::DOUBLE);
  }
  return b;
}

TEST(OnnxImport, GemmWithTransBAndAllStorageForms) {
  for (Storage s : {Storage::raw_f32, Storage::raw_f64, Storage::typed_f32, Storage::typed_f64}) {
    const Network net = parse_onnx(gemm_model(13, s).bytes(), "m");
    ASSERT_EQ(net.num_layers(), 1);
    EXPECT_EQ(as_dense(net.layer(1), "test").weights(), (Eigen::MatrixXd(2, 3) << 1, 2, 3, 4, 5, 6).finished());
    EXPECT_EQ(net.layer(1).bias(), Eigen::Vector2d(0.5, -0.5));
    EXPECT_EQ(net.layer(1).activation().kind, ActivationKind::relu);
  }
}

TEST(OnnxImport, OpsetsSevenToSeventeenAcceptedOthersRefused) {
  for (int opset : {7, 9, 11, 13, 17}) EXPECT_NO_THROW(parse_onnx(gemm_model(opset).bytes(), "m")) << opset;
  expect_rejected(gemm_model(18).bytes(), {"opset 18", "7..17"});
  expect_rejected(gemm_model(6).bytes(), {"opset 6"});
}

TEST(OnnxImport, GemmWithoutTransposeAlphaBeta) {
  OnnxBuilder b;
  b.input("x", {0, 2})
      .initializer("B", {2, 3}, {1, 2, 3, 4, 5, 6})  // x @ B: W = B^T
      .initializer("C", {1, 3}, {1, 1, 1})
      .node("Gemm", {"x", "B", "C"}, {"y"}, {Attr::Float("alpha", 2.0f), Attr::Float("beta", 0.5f)})
      .output("y");
  const Network net = parse_onnx(b.bytes(), "m");
  EXPECT_EQ(as_dense(net.layer(1), "test").weights(), (Eigen::MatrixXd(3, 2) << 2, 8, 4, 10, 6, 12).finished());
  EXPECT_EQ(net.layer(1).bias(), Eigen::Vector3d(0.5, 0.5, 0.5));
  EXPECT_EQ(net.layer(1).activation().kind, ActivationKind::identity);
}

TEST(OnnxImport, MatMulAddScalarScalesAndShapeNoOps) {
  OnnxBuilder b(12);  // Constant's value_float needs opset 12
  b.input("img", {0, 1, 2, 2})
      .initializer("half", {}, {0.5})
      .initializer("B1", {4, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1})
      .initializer("b1", {3}, {0.1, 0.2, 0.3})
      .initializer("four", {}, {4.0})
      .initializer("B2", {3, 2}, {1, -1, 2, -2, 3, -3})
      .initializer("shape", {2}, {-1, 4}, Storage::raw_i64)
      .node("Mul", {"img", "half"}, {"scaled"})  // folded into the next weights
      .node("Reshape", {"scaled", "shape"}, {"flat"})
      .node("MatMul", {"flat", "B1"}, {"mm"})
      .node("Add", {"mm", "b1"}, {"z1"})
      .node("Mul", {"z1", "four"}, {"z1s"})  // becomes sigmoid's input scale
      .node("Sigmoid", {"z1s"}, {"y1"})
      .node("Dropout", {"y1"}, {"d1"})
      .node("Identity", {"d1"}, {"i1"})
      .node("Gemm", {"i1", "B2"}, {"z2"})
      .node("Constant", {}, {"two"}, {}, "const_two");
  b.model().mutable_graph()->mutable_node(9)->add_attribute()->set_name("value_float");
  b.model().mutable_graph()->mutable_node(9)->mutable_attribute(0)->set_type(onnx::AttributeProto::FLOAT);
  b.model().mutable_graph()->mutable_node(9)->mutable_attribute(0)->set_f(2.0f);
  b.node("Div", {"z2", "two"}, {"z2d"}).node("Softplus", {"z2d"}, {"y2"}).node("Softmax", {"y2"}, {"p"}, {Attr::Int("axis", 1)}).output("p");
  const Network net = parse_onnx(b.bytes(), "m");
  ASSERT_EQ(net.num_layers(), 2);
  EXPECT_TRUE(net.softmax_output());
  EXPECT_EQ(net.input_size(), 4);
  EXPECT_EQ(net.layer(1).activation().kind, ActivationKind::sigmoid);
  EXPECT_DOUBLE_EQ(net.layer(1).activation().scale, 4.0);
  EXPECT_DOUBLE_EQ(net.layer(2).activation().scale, 0.5);
  EXPECT_EQ(net.layer(2).activation().kind, ActivationKind::softplus);
  // Check the function against a hand evaluation.
  Eigen::Vector4d x(1.0, -2.0, 0.5, 3.0);
  const Eigen::Vector4d xs = 0.5 * x;
  Eigen::Vector3d z1(xs[0] + xs[3] + 0.1, xs[1] + xs[3] + 0.2, xs[2] + xs[3] + 0.3);
  Eigen::Vector3d y1 = (1.0 / (1.0 + (-4.0 * z1.array()).exp())).matrix();
  Eigen::Vector2d z2(y1[0] + 2 * y1[1] + 3 * y1[2], -(y1[0] + 2 * y1[1] + 3 * y1[2]));
  Eigen::Vector2d y2 = (1.0 + (0.5 * z2.array()).exp()).log().matrix();
  EXPECT_TRUE(net.forward(x).isApprox(y2, 1e-6)) << net.forward(x).transpose() << " vs " << y2.transpose();
}

TEST(OnnxImport, AddAfterScaleIsExact) {
  OnnxBuilder b;
  b.input("x", {0, 1})
      .initializer("W", {1, 1}, {2.0})
      .initializer("s", {}, {3.0})
      .initializer("c", {1}, {1.5})
      .node("MatMul", {"x", "W"}, {"a"})
      .node("Mul", {"a", "s"}, {"b"})
      .node("Add", {"b", "c"}, {"z"})
      .node("Tanh", {"z"}, {"y"})
      .output("y");
  const Network net = parse_onnx(b.bytes(), "m");
  EXPECT_NEAR(net.forward(Eigen::VectorXd::Constant(1, 0.2))[0], std::tanh(3 * 2 * 0.2 + 1.5), 1e-15);
}

TEST(OnnxImport, UnsupportedOperatorNamesNodeOpAndSupportedList) {
  OnnxBuilder b;
  b.input("x", {0, 3}).node("Erf", {"x"}, {"y"}, {}, "erf1").output("y");
  expect_rejected(b.bytes(), {"node 'erf1'", "(Erf)", "not supported", "Gemm", "Conv", "Softplus"});
}

TEST(OnnxImport, MismatchedShapesNameTheNode) {
  OnnxBuilder b;
  b.input("x", {0, 3})
      .initializer("W1", {2, 3}, {1, 2, 3, 4, 5, 6})
      .initializer("W2", {1, 5}, {1, 1, 1, 1, 1})
      .node("Gemm", {"x", "W1"}, {"h"}, {Attr::Int("transB", 1)}, "fc1")
      .node("Gemm", {"h", "W2"}, {"y"}, {Attr::Int("transB", 1)}, "fc2")
      .output("y");
  expect_rejected(b.bytes(), {"node 'fc2'", "5 inputs", "2 features"});
  OnnxBuilder c;
  c.input("x", {0, 4}).initializer("W", {2, 3}, {1, 2, 3, 4, 5, 6}).node("Gemm", {"x", "W"}, {"y"}, {Attr::Int("transB", 1)}, "fc").output("y");
  expect_rejected(c.bytes(), {"node 'fc'", "3 inputs", "4 features"});
  OnnxBuilder d = gemm_model();
  d.model().mutable_graph()->mutable_initializer(1)->clear_dims();
  d.model().mutable_graph()->mutable_initializer(1)->add_dims(3);
  expect_rejected(d.bytes(), {"initializer 'b'", "raw_data holds 8 bytes", "expected 12"});
}

TEST(OnnxImport, NaNWeightIsRefused) {
  OnnxBuilder b;
  b.input("x", {0, 2})
      .initializer("W", {1, 2}, {1.0, std::nan("")})
      .node("Gemm", {"x", "W"}, {"y"}, {Attr::Int("transB", 1)})
      .output("y");
  expect_rejected(b.bytes(), {"layer 1", "W[0,1]", "nan", "finite"});
}

TEST(OnnxImport, BrokenFilesAreRefused) {
  const std::string good = gemm_model().bytes();
  expect_rejected(good.substr(0, good.size() / 2), {"not a valid ONNX model"});
  expect_rejected("", {"no ai.onnx opset_import"});
  expect_rejected("this is not protobuf at all, just text", {"not a valid ONNX model"});
  try {
    load_onnx("/nonexistent/model.onnx");
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.onnx"), std::string::npos);
  }
}

TEST(OnnxImport, StructuralErrors) {
  OnnxBuilder branch;  // y = relu(x W) + x is not a chain
  branch.input("x", {0, 2})
      .initializer("W", {2, 2}, {1, 0, 0, 1})
      .node("MatMul", {"x", "W"}, {"a"})
      .node("Relu", {"a"}, {"r"})
      .node("Add", {"r", "x"}, {"y"}, {}, "skip")
      .output("y");
  expect_rejected(branch.bytes(), {"node 'skip'", "single chain"});
  OnnxBuilder act_first;
  act_first.input("x", {0, 2}).node("Relu", {"x"}, {"y"}, {}, "r").output("y");
  expect_rejected(act_first.bytes(), {"node 'r'", "not applied to a Conv, Gemm or MatMul output"});
  OnnxBuilder vec_mul;
  vec_mul.input("x", {0, 2})
      .initializer("W", {2, 2}, {1, 0, 0, 1})
      .initializer("v", {2}, {1, 2})
      .node("MatMul", {"x", "W"}, {"a"})
      .node("Mul", {"a", "v"}, {"y"}, {}, "m")
      .output("y");
  expect_rejected(vec_mul.bytes(), {"node 'm'", "expected a scalar"});
  OnnxBuilder data_weights;
  data_weights.input("x", {0, 2}).input("W", {2, 2}).node("MatMul", {"x", "W"}, {"y"}, {}, "mm").output("y");
  expect_rejected(data_weights.bytes(), {"2 non-constant inputs"});
}

TEST(OnnxExport, RoundTripsExactlyForEveryActivation) {
  for (const auto& name : activation_names()) {
    RandomNetworkSpec spec{{7, 6, 5, 3}, Activation{parse_activation_kind(name), 2.5, 0.3}, Activation{}, 3.0, 0.1, 4};
    const Network net = make_random_network(spec);
    const std::string bytes = serialize_onnx(net);
    onnx::ModelProto model;
    ASSERT_TRUE(model.ParseFromString(bytes));
    EXPECT_NO_THROW(onnx::checker::check_model(model));
    const Network back = parse_onnx(bytes, "m");
    ASSERT_EQ(back.num_layers(), net.num_layers());
    for (int l = 1; l <= net.num_layers(); ++l) {
      EXPECT_EQ(as_dense(back.layer(l), "test").weights(), as_dense(net.layer(l), "test").weights()) << name;
      EXPECT_EQ(back.layer(l).bias(), net.layer(l).bias()) << name;
      EXPECT_EQ(back.layer(l).activation().kind, net.layer(l).activation().kind) << name;
      EXPECT_EQ(back.layer(l).activation().scale, net.layer(l).activation().scale) << name;
      if (net.layer(l).activation().kind == ActivationKind::leaky_relu) {
        EXPECT_FLOAT_EQ(static_cast<float>(back.layer(l).activation().alpha), 0.3f);
      }
    }
  }
}

TEST(OnnxExport, Float32AndSoftmaxAndOldOpset) {
  RandomNetworkSpec spec{{5, 4, 3}, Activation{ActivationKind::tanh}, Activation{}, 1.0, 0.0, 2};
  const Network base = make_random_network(spec);
  const Network net = dense_network(dense_params(base, "test"), true);
  test::TempDir dir;
  for (int opset : {9, 13, 17}) {
    const std::string path = dir.file("net" + std::to_string(opset) + ".onnx");
    save_onnx(net, path, {OnnxDType::float32, opset});
    onnx::checker::check_model(path);
    const Network back = load_onnx(path);
    EXPECT_TRUE(back.softmax_output());
    EXPECT_EQ(as_dense(back.layer(1), "test").weights(),
              as_dense(net.layer(1), "test").weights().cast<float>().cast<double>());
  }
  EXPECT_THROW(serialize_onnx(net, {OnnxDType::float64, 20}), core::InputError);
}

// A network exported by torch.onnx.export (scripts/make_torch_fixture.py) reproduces PyTorch's
// outputs on 100 Fashion-MNIST test images.
TEST(OnnxImport, PyTorchExportMatchesPyTorchOutputs) {
  const Eigen::MatrixXd expected = read_npy_matrix(std::string(NFSIM_FIXTURES_DIR) + "/torch_mlp_expected.npy", -1);
  const Eigen::MatrixXd expected_logits =
      read_npy_matrix(std::string(NFSIM_FIXTURES_DIR) + "/torch_mlp_expected_logits.npy", -1);
  InputSpec spec;
  spec.kind = InputSpec::Kind::idx;
  spec.path = std::string(NFSIM_FMNIST_DIR) + "/t10k-images-idx3-ubyte.gz";
  spec.count = 100;
  spec.scale = 1.0 / 255.0;
  for (const char* file : {"torch_mlp_opset9.onnx", "torch_mlp_opset17.onnx"}) {
    const Network net = load_onnx(std::string(NFSIM_FIXTURES_DIR) + "/" + file);
    EXPECT_EQ(net.describe(), "784-64(relu)-32(tanh(scale=0.5))-32(leaky_relu(alpha=0.1))-10(identity)+softmax") << file;
    const Dataset data = load_inputs(spec, net.input_size());
    ASSERT_EQ(data.count(), 100);
    const Eigen::MatrixXd out = net.output_batch(data.inputs);
    const Eigen::MatrixXd logits = net.forward_batch(data.inputs);
    ASSERT_EQ(out.rows(), expected.rows());
    for (Eigen::Index i = 0; i < out.size(); ++i) {
      EXPECT_NEAR(out.data()[i], expected.data()[i], 1e-5 * std::abs(expected.data()[i]) + 1e-12) << file << " " << i;
      EXPECT_NEAR(logits.data()[i], expected_logits.data()[i], 1e-5 * std::abs(expected_logits.data()[i]) + 1e-12);
    }
  }
}

// --- strict reading (issue 13) -------------------------------------------------------------------

// The network of scripts/make_bad_onnx.py, valid: x [N, 3] -> Gemm fc -> Relu act -> Gemm fc2 ->
// Softmax sm -> p. `edit` breaks one thing before the bytes are made.
std::string strict_base(const std::function<void(onnx::GraphProto&)>& edit = {}) {
  OnnxBuilder b;
  b.input("x", {0, 3})
      .initializer("W", {2, 3}, {0.1, 0.2, 0.3, -0.1, -0.2, -0.3})
      .initializer("b", {2}, {0.5, -0.5})
      .initializer("W2", {2, 2}, {1, 0, 0, 1})
      .node("Gemm", {"x", "W", "b"}, {"z"}, {Attr::Int("transB", 1)}, "fc")
      .node("Relu", {"z"}, {"h"}, {}, "act")
      .node("Gemm", {"h", "W2"}, {"z2"}, {Attr::Int("transB", 1)}, "fc2")
      .node("Softmax", {"z2"}, {"p"}, {Attr::Int("axis", 1)}, "sm")
      .output("p");
  if (edit) edit(*b.model().mutable_graph());
  return b.bytes();
}

onnx::AttributeProto& attribute_of(onnx::GraphProto& g, int node, const std::string& name) {
  for (auto& a : *g.mutable_node(node)->mutable_attribute()) {
    if (a.name() == name) return a;
  }
  return *g.mutable_node(node)->add_attribute();
}

TEST(OnnxStrict, TheValidBaseIsAcceptedWithConcreteOrSymbolicOutputShapes) {
  EXPECT_EQ(parse_onnx(strict_base(), "m").num_layers(), 2);
  const Network net = parse_onnx(strict_base([](onnx::GraphProto& g) {
                                   auto* shape = g.mutable_output(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
                                   shape->mutable_dim(1)->set_dim_value(2);  // [N, 2]: what Softmax makes
                                 }),
                                 "m");
  EXPECT_EQ(net.output_size(), 2);
}

TEST(OnnxStrict, AttributeValuesOutsideTheirDomainNameNodeAttributeValueAndAllowed) {
  expect_rejected(strict_base([](onnx::GraphProto& g) { attribute_of(g, 0, "transB").set_i(2); }),
                  {"node 'fc' (Gemm)", "attribute 'transB' = 2", "expected 0 or 1"});
  expect_rejected(strict_base([](onnx::GraphProto& g) {
                    auto& a = attribute_of(g, 2, "transA");
                    a.set_name("transA");
                    a.set_type(onnx::AttributeProto::INT);
                    a.set_i(1);
                  }),
                  {"node 'fc2' (Gemm)", "attribute 'transA' = 1", "not supported"});
  expect_rejected(strict_base([](onnx::GraphProto& g) {
                    auto& a = attribute_of(g, 0, "beta");
                    a.set_name("beta");
                    a.set_type(onnx::AttributeProto::FLOAT);
                    a.set_f(-INFINITY);
                  }),
                  {"node 'fc' (Gemm)", "attribute 'beta' = -inf", "finite"});
  expect_rejected(strict_base([](onnx::GraphProto& g) { attribute_of(g, 3, "axis").set_i(-3); }),
                  {"node 'sm' (Softmax)", "attribute 'axis' = -3", "outside -2..1"});
}

TEST(OnnxStrict, AttributesAreCheckedAgainstTheSchemaOfTheModelsOpset) {
  // Unknown, mistyped and repeated attributes.
  expect_rejected(strict_base([](onnx::GraphProto& g) { attribute_of(g, 1, "alpha").set_name("alpha"); }),
                  {"node 'act' (Relu)", "attribute 'alpha'", "not an attribute of Relu-13", "no attributes"});
  expect_rejected(strict_base([](onnx::GraphProto& g) {
                    auto& a = attribute_of(g, 0, "transB");
                    a.set_type(onnx::AttributeProto::FLOAT);
                    a.set_f(1.0f);
                  }),
                  {"node 'fc' (Gemm)", "attribute 'transB'", "has type FLOAT (1)", "expects INT"});
  expect_rejected(strict_base([](onnx::GraphProto& g) { *g.mutable_node(0)->add_attribute() = g.node(0).attribute(0); }),
                  {"node 'fc' (Gemm)", "attribute 'transB'", "given twice"});
  // Input and output counts.
  expect_rejected(strict_base([](onnx::GraphProto& g) { g.mutable_node(1)->add_input("b"); }),
                  {"node 'act' (Relu)", "has 2 inputs", "Relu-13 takes 1"});
  expect_rejected(strict_base([](onnx::GraphProto& g) { g.mutable_node(2)->add_output("extra"); }),
                  {"node 'fc2' (Gemm)", "has 2 outputs", "takes 1"});
}

TEST(OnnxStrict, TheSchemaFollowsTheOpset) {
  // Softmax's axis default moved from 1 to -1 in opset 13, Dropout's ratio from attribute to
  // input in opset 12, LeakyRelu's schema dates from opset 6: each model is read by its own opset.
  OnnxBuilder old(10);
  old.input("x", {0, 3})
      .initializer("W", {2, 3}, {1, 2, 3, 4, 5, 6})
      .initializer("b", {2}, {0, 0})
      .node("Gemm", {"x", "W", "b"}, {"z"}, {Attr::Int("transB", 1)}, "fc")  // C is optional only from opset 11
      .node("Dropout", {"z"}, {"d"}, {Attr::Float("ratio", 0.5f)}, "drop")
      .node("Softmax", {"d"}, {"p"}, {}, "sm")
      .output("p");
  EXPECT_TRUE(parse_onnx(old.bytes(), "m").softmax_output());
  OnnxBuilder now(13);
  now.input("x", {0, 3})
      .initializer("W", {2, 3}, {1, 2, 3, 4, 5, 6})
      .node("Gemm", {"x", "W"}, {"z"}, {Attr::Int("transB", 1)}, "fc")
      .node("Dropout", {"z"}, {"d"}, {Attr::Float("ratio", 0.5f)}, "drop")
      .output("d");
  expect_rejected(now.bytes(), {"node 'drop' (Dropout)", "attribute 'ratio'", "not an attribute of Dropout-13"});
  OnnxBuilder no_bias(9);
  no_bias.input("x", {0, 3})
      .initializer("W", {2, 3}, {1, 2, 3, 4, 5, 6})
      .node("Gemm", {"x", "W"}, {"z"}, {Attr::Int("transB", 1)}, "fc")
      .output("z");
  expect_rejected(no_bias.bytes(), {"node 'fc' (Gemm)", "has 2 inputs", "Gemm-9 takes 3"});
}

TEST(OnnxStrict, DropoutIsReadAsIdentityOnlyInInferenceMode) {
  for (const bool training : {false, true}) {
    const std::string bytes = strict_base([&](onnx::GraphProto& g) {
      auto* t = g.add_initializer();
      t->set_name("train");
      t->set_data_type(onnx::TensorProto::BOOL);
      t->add_int32_data(training ? 1 : 0);
      auto* drop = g.add_node();
      drop->set_op_type("Dropout");
      drop->set_name("drop");
      drop->add_input("h");
      drop->add_input("");
      drop->add_input("train");
      drop->add_output("hd");
      // Dropout between act and fc2: move it into place (nodes must stay in order).
      for (int i = g.node_size() - 1; i > 2; --i) g.mutable_node()->SwapElements(i, i - 1);
      g.mutable_node(3)->set_input(0, "hd");
    });
    if (training) {
      expect_rejected(bytes, {"node 'drop' (Dropout)", "'training_mode' ('train') is 1", "inference mode"});
    } else {
      EXPECT_EQ(parse_onnx(bytes, "m").num_layers(), 2);
    }
  }
}

TEST(OnnxStrict, RequiredAttributesAndOperatorsOutsideTheOpset) {
  // None of the ops nfsim interprets has a required attribute: the check is shown on Cast ('to').
  onnx::NodeProto cast;
  cast.set_op_type("Cast");
  cast.set_name("c");
  cast.add_input("x");
  cast.add_output("y");
  try {
    onnx_check::check_node_schema(cast, 13, "m.onnx");
    ADD_FAILURE() << "a Cast without 'to' was accepted";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("m.onnx: node 'c' (Cast): required attribute 'to' is missing"), std::string::npos)
        << e.what();
  }
  auto* to = cast.add_attribute();
  to->set_name("to");
  to->set_type(onnx::AttributeProto::INT);
  to->set_i(onnx::TensorProto::FLOAT);
  EXPECT_NO_THROW(onnx_check::check_node_schema(cast, 13, "m.onnx"));
  cast.set_op_type("CastLike");  // since opset 15
  try {
    onnx_check::check_node_schema(cast, 13, "m.onnx");
    ADD_FAILURE() << "CastLike in opset 13 was accepted";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not defined in opset 13"), std::string::npos) << e.what();
  }
}

TEST(OnnxStrict, DeclaredShapesMustAgreeWithInferredOnes) {
  expect_rejected(strict_base([](onnx::GraphProto& g) {
                    g.mutable_output(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(1)->set_dim_value(3);
                  }),
                  {"graph output 'p'", "declared float [N, 3]", "node 'sm' (Softmax)", "makes float [N, 2]", "dimension 1"});
  expect_rejected(strict_base([](onnx::GraphProto& g) {
                    auto* v = g.add_value_info();
                    v->set_name("z");
                    v->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
                    v->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_param("N");
                  }),
                  {"value 'z'", "node 'fc' (Gemm)", "rank differs"});
  // A value_info that agrees is fine.
  EXPECT_NO_THROW(parse_onnx(strict_base([](onnx::GraphProto& g) {
                               auto* v = g.add_value_info();
                               v->set_name("h");
                               auto* tt = v->mutable_type()->mutable_tensor_type();
                               tt->set_elem_type(onnx::TensorProto::FLOAT);
                               tt->mutable_shape()->add_dim()->set_dim_param("N");
                               tt->mutable_shape()->add_dim()->set_dim_value(2);
                             }),
                             "m"));
}

TEST(OnnxStrict, CheckerErrorsAreRefused) {
  expect_rejected(strict_base([](onnx::GraphProto& g) {
                    g.mutable_node(2)->set_output(0, "h");  // fc2 writes h again
                    g.mutable_node(3)->set_input(0, "h");
                  }),
                  {"onnx::checker", "'h'", "SSA"});
}

// Every model of tests/fixtures/onnx_bad (scripts/make_bad_onnx.py) is refused with the fragments
// expected.txt gives for it, and expected.txt lists every model there.
TEST(OnnxStrict, BadCorpusIsRefusedWithTheExpectedMessages) {
  const std::filesystem::path dir = std::filesystem::path(NFSIM_FIXTURES_DIR) / "onnx_bad";
  std::ifstream in(dir / "expected.txt");
  ASSERT_TRUE(in) << dir / "expected.txt";
  std::set<std::string> listed;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string file, fragment;
    std::getline(fields, file, '\t');
    std::vector<std::string> fragments;
    while (std::getline(fields, fragment, '\t')) fragments.push_back(fragment);
    EXPECT_GE(fragments.size(), 2u) << line;
    listed.insert(file);
    try {
      load_onnx((dir / file).string());
      ADD_FAILURE() << file << " was accepted";
    } catch (const core::InputError& e) {
      const std::string msg = e.what();
      for (const auto& f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << file << ": missing '" << f << "' in: " << msg;
    }
  }
  EXPECT_GE(listed.size(), 30u);
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".onnx") EXPECT_TRUE(listed.count(e.path().filename().string())) << e.path() << " not in expected.txt";
  }
}

}  // namespace
}  // namespace nfsim::models
