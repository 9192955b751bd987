#!/usr/bin/python3
"""Writes the corpus of ONNX models with wrong attributes, arities and shapes that nfsim refuses.

Run with Debian's interpreter (it has python3-onnx):
    /usr/bin/python3 scripts/make_bad_onnx.py            writes the corpus
    /usr/bin/python3 scripts/make_bad_onnx.py --cases    also prints the kCases block for
                                                         tests/cli/test_bad_input.cpp

Every model is the same small valid network with one thing broken:

    x [N, 3] -> Gemm 'fc' (W [2, 3], b [2], transB=1) -> Relu 'act' -> Gemm 'fc2' (W2 [2, 2])
             -> Softmax 'sm' (axis=1) -> p [N, 2]                                    (opset 13)

The convolutional cases (issue 15) break this one instead:

    x [N, 1, 5, 5] -> Conv 'conv' (W [2, 1, 3, 3], B [2]) -> Relu 'act' -> MaxPool 'pool' (2x2, stride 2)
                   -> Flatten 'flat' -> Gemm 'fc' (W [2, 2]) -> p [N, 2]                     (opset 13)

Outputs (small, committed) in tests/fixtures/onnx_bad/: one <stem>.onnx per case and
expected.txt, one line per model: the file name, then (tab-separated) the fragments nfsim's
message must contain; the node (name and op type) and the attribute or value come first.
tests/unit/test_onnx.cpp (OnnxStrict.BadCorpus*) reads expected.txt, and every model is also a
case 'onnx_bad_<stem>' of tests/cli/test_bad_input.cpp with a row in docs/bad-input.md.
"""
import math
import os
import sys

from onnx import AttributeProto, TensorProto, helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "onnx_bad")


def base(opset=13):
    """The valid network as (nodes, initializers, value_info, output) lists to break."""
    inits = [
        helper.make_tensor("W", TensorProto.FLOAT, [2, 3], [0.1, 0.2, 0.3, -0.1, -0.2, -0.3]),
        helper.make_tensor("b", TensorProto.FLOAT, [2], [0.5, -0.5]),
        helper.make_tensor("W2", TensorProto.FLOAT, [2, 2], [1.0, 0.0, 0.0, 1.0]),
    ]
    nodes = [
        helper.make_node("Gemm", ["x", "W", "b"], ["z"], name="fc", transB=1),
        helper.make_node("Relu", ["z"], ["h"], name="act"),
        helper.make_node("Gemm", ["h", "W2"], ["z2"], name="fc2", transB=1),
        helper.make_node("Softmax", ["z2"], ["p"], name="sm", axis=1),
    ]
    return {
        "opset": opset,
        "nodes": nodes,
        "inits": inits,
        "value_info": [],
        "input": helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3]),
        "output": helper.make_tensor_value_info("p", TensorProto.FLOAT, ["N", 2]),
        "ir_version": 7,
    }


def conv_base(opset=13):
    """The valid convolutional network, in the form of base()."""
    inits = [
        helper.make_tensor("CW", TensorProto.FLOAT, [2, 1, 3, 3], [0.1 * ((i % 7) - 3) for i in range(18)]),
        helper.make_tensor("CB", TensorProto.FLOAT, [2], [0.5, -0.5]),
        helper.make_tensor("W", TensorProto.FLOAT, [2, 2], [1.0, 0.5, -0.5, 1.0]),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "CW", "CB"], ["z"], name="conv"),
        helper.make_node("Relu", ["z"], ["h"], name="act"),
        helper.make_node("MaxPool", ["h"], ["u"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["u"], ["f"], name="flat", axis=1),
        helper.make_node("Gemm", ["f", "W"], ["p"], name="fc", transB=1),
    ]
    return {
        "opset": opset,
        "nodes": nodes,
        "inits": inits,
        "value_info": [],
        "input": helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 5, 5]),
        "output": helper.make_tensor_value_info("p", TensorProto.FLOAT, ["N", 2]),
        "ir_version": 7,
    }


def build(m):
    graph = helper.make_graph(m["nodes"], "bad", [m["input"]], [m["output"]], m["inits"], value_info=m["value_info"])
    model = helper.make_model(graph, producer_name="nfsim make_bad_onnx.py",
                              opset_imports=[helper.make_opsetid("", m["opset"])])
    model.ir_version = m["ir_version"]
    return model


def node(m, name):
    return next(n for n in m["nodes"] if n.name == name)


def attr(m, node_name, name):
    return next(a for a in node(m, node_name).attribute if a.name == name)


def add_attr(m, node_name, proto):
    node(m, node_name).attribute.append(proto)


def raw_attr(name, type_, **fields):
    """An AttributeProto with exactly the type and fields given (helper.make_attribute infers them)."""
    a = AttributeProto()
    a.name = name
    a.type = type_
    for k, v in fields.items():
        if isinstance(v, list):
            getattr(a, k).extend(v)
        else:
            setattr(a, k, v)
    return a


def set_int(m, node_name, name, value):
    attr(m, node_name, name).i = value


CASES = []


def case(stem, fragments, make_base=base):
    def register(fn):
        CASES.append((stem, fn, fragments, make_base))
        return fn
    return register


def conv_case(stem, fragments):
    return case(stem, fragments, conv_base)


def insert_after(m, name, new):
    m["nodes"].insert([n.name for n in m["nodes"]].index(name) + 1, new)


def set_init(m, name, dims, values):
    m["inits"] = [t for t in m["inits"] if t.name != name] + [helper.make_tensor(name, TensorProto.FLOAT, dims, values)]


FC = "node 'fc' (Gemm)"
FC2 = "node 'fc2' (Gemm)"
ACT = "node 'act' (Relu)"
SM = "node 'sm' (Softmax)"

# --- Gemm attributes ---------------------------------------------------------------------------


@case("gemm_unknown_attribute", [FC, "attribute 'foo'", "not an attribute of Gemm-13", "alpha, beta, transA, transB"])
def _(m):
    add_attr(m, "fc", helper.make_attribute("foo", 1))


@case("gemm_transb_2", [FC, "attribute 'transB' = 2", "expected 0 or 1"])
def _(m):
    set_int(m, "fc", "transB", 2)


@case("gemm_transb_negative", [FC, "attribute 'transB' = -1", "expected 0 or 1"])
def _(m):
    set_int(m, "fc", "transB", -1)


@case("gemm_transa_1", [FC, "attribute 'transA' = 1", "not supported", "transA = 0"])
def _(m):
    add_attr(m, "fc", helper.make_attribute("transA", 1))


@case("gemm_transa_7", [FC, "attribute 'transA' = 7", "expected 0 or 1"])
def _(m):
    add_attr(m, "fc", helper.make_attribute("transA", 7))


@case("gemm_transb_float", [FC, "attribute 'transB'", "has type FLOAT (1)", "expects INT"])
def _(m):
    node(m, "fc").ClearField("attribute")
    add_attr(m, "fc", raw_attr("transB", AttributeProto.FLOAT, f=1.0))


@case("gemm_transb_no_type", [FC, "attribute 'transB'", "UNDEFINED (no type)", "expects INT"])
def _(m):
    node(m, "fc").ClearField("attribute")
    add_attr(m, "fc", raw_attr("transB", AttributeProto.UNDEFINED, i=1))


@case("gemm_transb_twice", [FC, "attribute 'transB'", "given twice"])
def _(m):
    add_attr(m, "fc", helper.make_attribute("transB", 0))


@case("gemm_transb_ints", [FC, "attribute 'transB'", "has type INTS ([1, 1])", "expects INT"])
def _(m):
    node(m, "fc").ClearField("attribute")
    add_attr(m, "fc", raw_attr("transB", AttributeProto.INTS, ints=[1, 1]))


@case("gemm_alpha_string", [FC, "attribute 'alpha'", "has type STRING ('two')", "expects FLOAT"])
def _(m):
    add_attr(m, "fc", helper.make_attribute("alpha", "two"))


@case("gemm_alpha_int", [FC, "attribute 'alpha'", "has type INT (2)", "expects FLOAT"])
def _(m):
    add_attr(m, "fc", helper.make_attribute("alpha", 2))


@case("gemm_alpha_inf", [FC, "attribute 'alpha' = inf", "expected a finite number"])
def _(m):
    add_attr(m, "fc", helper.make_attribute("alpha", math.inf))


@case("gemm_beta_nan", [FC, "attribute 'beta' = nan", "expected a finite number"])
def _(m):
    add_attr(m, "fc", helper.make_attribute("beta", math.nan))


@case("gemm_attribute_reference", [FC, "attribute 'transB'", "refers to 'tb'", "belong in functions"])
def _(m):
    node(m, "fc").ClearField("attribute")
    add_attr(m, "fc", raw_attr("transB", AttributeProto.INT, ref_attr_name="tb"))


@case("gemm_broadcast_attribute", [FC, "attribute 'broadcast'", "not an attribute of Gemm-13"])
def _(m):  # Gemm's 'broadcast' went away in opset 7
    add_attr(m, "fc", helper.make_attribute("broadcast", 1))


# --- other ops' attributes -----------------------------------------------------------------------


@case("relu_unknown_attribute", [ACT, "attribute 'alpha'", "not an attribute of Relu-", "no attributes"])
def _(m):
    add_attr(m, "act", helper.make_attribute("alpha", 0.1))


@case("leakyrelu_alpha_int", ["node 'act' (LeakyRelu)", "attribute 'alpha'", "has type INT (1)", "expects FLOAT"])
def _(m):
    n = node(m, "act")
    n.op_type = "LeakyRelu"
    add_attr(m, "act", helper.make_attribute("alpha", 1))


@case("leakyrelu_alpha_nan", ["node 'act' (LeakyRelu)", "attribute 'alpha' = nan", "expected a finite number"])
def _(m):
    node(m, "act").op_type = "LeakyRelu"
    add_attr(m, "act", helper.make_attribute("alpha", math.nan))


@case("sigmoid_unknown_attribute", ["node 'act' (Sigmoid)", "attribute 'slope'", "not an attribute of Sigmoid-"])
def _(m):
    node(m, "act").op_type = "Sigmoid"
    add_attr(m, "act", helper.make_attribute("slope", 2.0))


@case("matmul_transb_attribute", ["node 'mm' (MatMul)", "attribute 'transB'", "not an attribute of MatMul-13"])
def _(m):
    m["inits"][0] = helper.make_tensor("W", TensorProto.FLOAT, [3, 2], [0.1, -0.1, 0.2, -0.2, 0.3, -0.3])
    m["nodes"][0] = helper.make_node("MatMul", ["x", "W"], ["z"], name="mm", transB=1)


@case("add_broadcast_attribute", ["node 'bias' (Add)", "attribute 'broadcast'", "not an attribute of Add-13"])
def _(m):  # opset 6's broadcast flag in an opset-13 model
    m["inits"][0] = helper.make_tensor("W", TensorProto.FLOAT, [3, 2], [0.1, -0.1, 0.2, -0.2, 0.3, -0.3])
    m["nodes"][0:1] = [helper.make_node("MatMul", ["x", "W"], ["mz"], name="mm"),
                       helper.make_node("Add", ["mz", "b"], ["z"], name="bias", broadcast=1)]


@case("softmax_axis_5", [SM, "attribute 'axis' = 5", "outside -2..1"])
def _(m):
    set_int(m, "sm", "axis", 5)


@case("softmax_axis_0", [SM, "attribute 'axis' = 0", "expected the feature axis (1 or -1)"])
def _(m):
    set_int(m, "sm", "axis", 0)


@case("softmax_axis_float", [SM, "attribute 'axis'", "has type FLOAT (1)", "expects INT"])
def _(m):
    node(m, "sm").ClearField("attribute")
    add_attr(m, "sm", raw_attr("axis", AttributeProto.FLOAT, f=1.0))


@case("flatten_axis_3", ["node 'flat' (Flatten)", "attribute 'axis' = 3", "outside -2..2"])
def _(m):
    m["nodes"].insert(0, helper.make_node("Flatten", ["x0"], ["x"], name="flat", axis=3))
    m["input"] = helper.make_tensor_value_info("x0", TensorProto.FLOAT, ["N", 3])


@case("flatten_axis_0", ["node 'flat' (Flatten)", "attribute 'axis' = 0", "expected 1"])
def _(m):
    m["nodes"].insert(0, helper.make_node("Flatten", ["x0"], ["x"], name="flat", axis=0))
    m["input"] = helper.make_tensor_value_info("x0", TensorProto.FLOAT, ["N", 3])


@case("dropout_ratio_attribute", ["node 'drop' (Dropout)", "attribute 'ratio'", "not an attribute of Dropout-13", "seed"])
def _(m):  # from opset 12 the ratio is an input
    m["nodes"].insert(2, helper.make_node("Dropout", ["h"], ["hd"], name="drop", ratio=0.5))
    node(m, "fc2").input[0] = "hd"


@case("dropout_training_mode_true", ["node 'drop' (Dropout)", "input 'training_mode' ('train') is 1", "inference mode"])
def _(m):  # an active dropout is not the identity nfsim would read it as
    m["inits"].append(helper.make_tensor("train", TensorProto.BOOL, [], [True]))
    m["nodes"].insert(2, helper.make_node("Dropout", ["h", "", "train"], ["hd"], name="drop"))
    node(m, "fc2").input[0] = "hd"


@case("reshape_allowzero_2", ["node 'rs' (Reshape)", "attribute 'allowzero' = 2", "expected 0 or 1"])
def _(m):
    m["opset"] = 14
    m["inits"].append(helper.make_tensor("shape", TensorProto.INT64, [2], [-1, 3]))
    m["nodes"].insert(0, helper.make_node("Reshape", ["x0", "shape"], ["x"], name="rs", allowzero=2))
    m["input"] = helper.make_tensor_value_info("x0", TensorProto.FLOAT, ["N", 3])


@case("constant_two_values", ["node 'two' (Constant)", "has 2 attributes", "exactly one value attribute"])
def _(m):
    m["nodes"].insert(3, helper.make_node("Constant", [], ["k"], name="two", value_float=2.0, value_int=2))
    m["nodes"].insert(4, helper.make_node("Mul", ["z2", "k"], ["z2k"], name="scale"))
    node(m, "sm").input[0] = "z2k"


@case("constant_unknown_attribute", ["node 'two' (Constant)", "attribute 'value_double'", "not an attribute of Constant-13"])
def _(m):
    m["nodes"].insert(3, helper.make_node("Constant", [], ["k"], name="two", value_double=2.0))
    m["nodes"].insert(4, helper.make_node("Mul", ["z2", "k"], ["z2k"], name="scale"))
    node(m, "sm").input[0] = "z2k"


@case("constant_value_float_opset11", ["node 'two' (Constant)", "attribute 'value_float'", "not an attribute of Constant-11"])
def _(m):  # value_float arrived in opset 12
    m["opset"] = 11
    m["ir_version"] = 6
    m["nodes"].insert(3, helper.make_node("Constant", [], ["k"], name="two", value_float=2.0))
    m["nodes"].insert(4, helper.make_node("Mul", ["z2", "k"], ["z2k"], name="scale"))
    node(m, "sm").input[0] = "z2k"


# --- input and output counts -------------------------------------------------------------------


@case("relu_two_inputs", [ACT, "has 2 inputs", "Relu-", "takes 1"])
def _(m):
    node(m, "act").input.append("b")


@case("relu_two_outputs", [ACT, "has 2 outputs", "takes 1"])
def _(m):
    node(m, "act").output.append("h_extra")


@case("gemm_one_input", [FC2, "has 1 input;", "Gemm-13 takes 2..3"])
def _(m):
    del node(m, "fc2").input[1]


@case("gemm_four_inputs", [FC, "has 4 inputs", "Gemm-13 takes 2..3"])
def _(m):
    node(m, "fc").input.append("b")


@case("softmax_no_output", [SM, "has 0 outputs", "takes 1"])
def _(m):
    del node(m, "sm").output[:]


# --- initializer shapes, declared shapes, the checker ----------------------------------------------


@case("gemm_weights_3d", [FC, "weights B have shape [2, 3, 1]", "2-D matrix"])
def _(m):
    m["inits"][0] = helper.make_tensor("W", TensorProto.FLOAT, [2, 3, 1], [0.1, 0.2, 0.3, -0.1, -0.2, -0.3])


@case("gemm_bias_wrong_length", [FC, "bias has shape [3]", "expected [2]"])
def _(m):
    m["inits"][1] = helper.make_tensor("b", TensorProto.FLOAT, [3], [0.5, -0.5, 0.0])


@case("output_shape_disagrees", ["graph output 'p'", "declared float [N, 5]", SM, "makes float [N, 2]", "dimension 1"])
def _(m):
    m["output"] = helper.make_tensor_value_info("p", TensorProto.FLOAT, ["N", 5])


@case("output_rank_disagrees", ["graph output 'p'", "declared float [N]", SM, "rank differs"])
def _(m):
    m["output"] = helper.make_tensor_value_info("p", TensorProto.FLOAT, ["N"])


@case("output_type_disagrees", ["graph output 'p'", "declared double", SM, "element type differs"])
def _(m):
    m["output"] = helper.make_tensor_value_info("p", TensorProto.DOUBLE, ["N", 2])


@case("value_info_disagrees", ["value 'h'", "declared float [N, 7]", ACT, "makes float [N, 2]"])
def _(m):
    m["value_info"] = [helper.make_tensor_value_info("h", TensorProto.FLOAT, ["N", 7])]


@case("input_type_disagrees", ["shape inference fails", "node name: fc", "Gemm"])
def _(m):  # float64 data into float32 weights
    m["input"] = helper.make_tensor_value_info("x", TensorProto.DOUBLE, ["N", 3])


@case("output_name_reused", ["onnx::checker", "'h'", "SSA"])
def _(m):  # fc2 writes 'h' again: no longer single static assignment
    node(m, "fc2").output[0] = "h"
    node(m, "sm").input[0] = "h"


# --- convolutional networks (issue 15) ---------------------------------------------------------

CONV = "node 'conv' (Conv)"
POOL = "node 'pool' (MaxPool)"


@conv_case("conv_kernel_too_big", [CONV, "kernel 7x7", "does not fit the 5x5 input", "pads [0, 0, 0, 0]"])
def _(m):
    set_init(m, "CW", [2, 1, 7, 7], [0.01] * 98)


@conv_case("conv_channels_mismatch", [CONV, "read 1 input channels", "the input has 3", "matching channels"])
def _(m):
    m["input"] = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 5, 5])


@conv_case("conv_3d", [CONV, "weights have shape [2, 1, 3, 3, 3]", "expected a 2-D convolution", "3-D"])
def _(m):
    m["input"] = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 5, 5, 5])
    set_init(m, "CW", [2, 1, 3, 3, 3], [0.01] * 54)


@conv_case("conv_1d", [CONV, "weights have shape [2, 1, 3]", "expected a 2-D convolution", "1-D"])
def _(m):
    m["input"] = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 5])
    set_init(m, "CW", [2, 1, 3], [0.01] * 6)


@conv_case("conv_group_not_dividing", [CONV, "attribute 'group' = 2", "does not divide the 3 input channels",
                                       "expected a divisor of both"])
def _(m):
    m["input"] = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 5, 5])
    add_attr(m, "conv", helper.make_attribute("group", 2))


@conv_case("conv_auto_pad_with_pads", [CONV, "attribute 'auto_pad' = 'SAME_UPPER' together with 'pads' = [1, 1, 1, 1]",
                                       "expected one of them"])
def _(m):
    add_attr(m, "conv", helper.make_attribute("auto_pad", "SAME_UPPER"))
    add_attr(m, "conv", helper.make_attribute("pads", [1, 1, 1, 1]))


@conv_case("conv_dilation_0", [CONV, "attribute 'dilations' = [0, 0]", "expected values >= 1"])
def _(m):
    add_attr(m, "conv", helper.make_attribute("dilations", [0, 0]))


@conv_case("maxpool_ceil_mode", [POOL, "attribute 'ceil_mode' = 1", "not supported", "expected 0"])
def _(m):
    add_attr(m, "pool", helper.make_attribute("ceil_mode", 1))


@conv_case("maxpool_indices_output", [POOL, "second output 'Indices' ('idx')", "expected the pooled values only"])
def _(m):
    node(m, "pool").output.append("idx")


@conv_case("bn_training_mode", ["node 'bn' (BatchNormalization)", "attribute 'training_mode' = 1", "expected 0"])
def _(m):
    m["opset"] = 14
    m["inits"] += [helper.make_tensor(n, TensorProto.FLOAT, [2], v)
                   for n, v in [("g", [1, 1]), ("be", [0, 0]), ("mu", [0, 0]), ("var", [1, 1])]]
    node(m, "act").input[0] = "n"
    insert_after(m, "conv", helper.make_node("BatchNormalization", ["z", "g", "be", "mu", "var"], ["n"], name="bn",
                                             training_mode=1))


@conv_case("bn_after_activation", ["node 'bn' (BatchNormalization)", "does not directly follow a Conv, Gemm or MatMul",
                                   "before the activation"])
def _(m):
    m["inits"] += [helper.make_tensor(n, TensorProto.FLOAT, [2], v)
                   for n, v in [("g", [1, 1]), ("be", [0, 0]), ("mu", [0, 0]), ("var", [1, 1])]]
    node(m, "pool").input[0] = "n"
    insert_after(m, "act", helper.make_node("BatchNormalization", ["h", "g", "be", "mu", "var"], ["n"], name="bn"))


@conv_case("pad_reflect", ["node 'pad' (Pad)", "attribute 'mode' = 'reflect'", "expected 'constant'"])
def _(m):
    m["inits"].append(helper.make_tensor("pads", TensorProto.INT64, [8], [0, 0, 1, 1, 0, 0, 1, 1]))
    node(m, "conv").input[0] = "xp"
    m["nodes"].insert(0, helper.make_node("Pad", ["x", "pads"], ["xp"], name="pad", mode="reflect"))


@conv_case("avgpool_before_tanh", ["node 'pool' (AveragePool)", "node 'act' (Tanh)",
                                   "expected the activation before the average pooling"])
def _(m):
    m["nodes"][1:3] = [helper.make_node("AveragePool", ["z"], ["h"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
                       helper.make_node("Tanh", ["h"], ["u"], name="act")]


@conv_case("pool_after_last_layer", [POOL, "pools the output of the last layer ('conv')",
                                     "expected a Conv, Gemm or MatMul after every pooling"])
def _(m):
    m["nodes"] = [n for n in m["nodes"] if n.name != "fc"]
    node(m, "flat").output[0] = "p"


@conv_case("residual_add", ["node 'res' (Add)", "combines 2 computed values {h, z}", "residual", "supported operators"])
def _(m):
    node(m, "pool").input[0] = "r"
    insert_after(m, "act", helper.make_node("Add", ["h", "z"], ["r"], name="res"))


@conv_case("concat", ["node 'cat' (Concat)", "not supported", "supported operators: Gemm"])
def _(m):
    node(m, "pool").input[0] = "c"
    insert_after(m, "act", helper.make_node("Concat", ["h", "z"], ["c"], name="cat", axis=1))


@conv_case("dynamic_height_width", [CONV, "static shape [N, C, H, W]", "[N, 1, H, W]", "only the batch may be symbolic"])
def _(m):
    m["input"] = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, "H", "W"])


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".onnx") or f == "expected.txt":
            os.remove(os.path.join(OUT, f))
    lines = []
    for stem, fn, fragments, make_base in CASES:
        m = make_base()
        fn(m)
        with open(os.path.join(OUT, stem + ".onnx"), "wb") as f:
            f.write(build(m).SerializeToString())
        lines.append("\t".join([stem + ".onnx"] + fragments))
    with open(os.path.join(OUT, "expected.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"make_bad_onnx.py: {len(CASES)} models and expected.txt in {os.path.relpath(OUT, ROOT)}", file=sys.stderr)
    if "--cases" in sys.argv[1:]:
        for stem, _, fragments, _ in CASES:
            frags = ", ".join('"' + fr.replace("\\", "\\\\").replace('"', '\\"') + '"' for fr in [stem + ".onnx"] + fragments)
            print(f'    {{"onnx_bad_{stem}", "info $D/onnx_bad/{stem}.onnx", {{{frags}}}}},')


if __name__ == "__main__":
    main()
