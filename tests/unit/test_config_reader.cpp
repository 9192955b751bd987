// core::YamlReader, the one typed YAML reader, and core::Params, the component parameters read
// through it: located errors, did-you-mean, paths relative to the file, and a component type
// that declares a key the topology reads for every type is refused.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "core/error.h"
#include "core/registry.h"
#include "core/yaml_file.h"
#include "core/yaml_reader.h"

namespace nfsim::core {
namespace {

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(YamlReader, TypedValuesWithLocatedErrors) {
  const YAML::Node root = parse_yaml("a: 3\nb: [1, 2]\nc: x.onnx\nd: 1e16\n", "f.yaml");
  const YamlReader r("f.yaml", "/data", {{"a", "--set a=3"}});
  EXPECT_EQ(r.integer(root["a"], "a", 0, 10), 3);
  EXPECT_EQ(r.path(root["c"], "c"), "/data/x.onnx");
  EXPECT_EQ(error_of([&] { r.number(root["b"], "b"); }),
            "f.yaml:2: key 'b': wrong type: got a list; expected a number");
  EXPECT_EQ(error_of([&] { r.number_in(root["d"], "d", 0, 1e9); }),
            "f.yaml:4: key 'd': out of range: got '1e16'; expected a number in [0, 1e+09]");
  // A value set by an override is named by it, not by a line of the file.
  EXPECT_EQ(error_of([&] { r.integer(root["a"], "a", 5, 10); }),
            "f.yaml (--set a=3): key 'a': not a valid integer: got '3'; expected an integer in [5, 10]");
  const YAML::Node map = parse_yaml("size: 1\ncolour: red\n", "g.yaml");
  EXPECT_EQ(error_of([&] {
              YamlReader("g.yaml", "").check_keys(map, "", {"color", "size"});
            }),
            "g.yaml:2: key 'colour': unknown key (did you mean 'color'?): got 'colour'; expected one of color, size");
}

TEST(Params, DefaultsTypesAndTheTopologysSharedKeys) {
  const std::vector<ParamSpec> specs{{"gain", "double", "", "0.5", "ratio"}, {"seed", "int", "", "1", "seed"}};
  const YAML::Node node = parse_yaml("type: x\nrows: 4\ngain: 2\n", "t.yaml");
  const Params p("x", specs, node, "t.yaml", "chip.crossbar", {"type", "rows"});
  EXPECT_EQ(p.number("gain"), 2.0);
  EXPECT_EQ(p.integer("seed"), 1);  // the default
  EXPECT_EQ(p.value_text("seed"), "1");
  const std::string typo = error_of([] {
    Params("x", {{"gain", "double", "", "0.5", "ratio"}}, parse_yaml("gian: 2\n", "t.yaml"), "t.yaml", "chip.crossbar");
  });
  EXPECT_NE(typo.find("t.yaml:1: key 'chip.crossbar.gian': unknown parameter of 'x' (did you mean 'gain'?)"),
            std::string::npos)
      << typo;
  // A type declaring `rows` would never see its value (the topology reads rows for every crossbar).
  const std::string shadowed = error_of([&] {
    Params("x", {{"rows", "int", "", "4", "rows"}}, node, "t.yaml", "chip.crossbar", {"type", "rows"});
  });
  EXPECT_NE(shadowed.find("type 'x' declares parameter 'rows', which the topology reads for every type"),
            std::string::npos)
      << shadowed;
}

}  // namespace
}  // namespace nfsim::core
