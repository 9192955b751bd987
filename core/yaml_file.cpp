#include "core/yaml_file.h"

#include <yaml-cpp/eventhandler.h>

#include <set>
#include <sstream>
#include <vector>

#include "core/error.h"

namespace nfsim::core {
namespace {

int line_of(const YAML::Node& n) { return n.Mark().is_null() ? 0 : n.Mark().line + 1; }

// Depth-first over the tree with an explicit stack (a deeply nested file must not overflow
// ours). An alias is walked again wherever it is used, so nested aliases could multiply the
// work without end ("billion laughs"): the walk is capped.
void check_duplicate_keys(const YAML::Node& root, const std::string& file) {
  constexpr std::size_t kMaxNodes = 10'000'000;
  std::vector<YAML::Node> stack{root};
  std::size_t visited = 0;
  while (!stack.empty()) {
    const YAML::Node n = stack.back();
    stack.pop_back();
    if (++visited > kMaxNodes) {
      throw_input_error({file, 0, ""}, "more than 10^7 nodes once its aliases are expanded", "",
                        "a campaign or topology of ordinary size (fewer nested aliases)");
    }
    if (n.IsMap()) {
      std::set<std::string> keys;
      for (const auto& kv : n) {
        if (kv.first.IsScalar() && !keys.insert(kv.first.Scalar()).second) {
          throw_input_error({file, line_of(kv.first), kv.first.Scalar()}, "key given twice in one mapping",
                            "'" + kv.first.Scalar() + "'", "each key once (the second would be ignored)");
        }
        stack.push_back(kv.second);
      }
    } else if (n.IsSequence()) {
      for (const auto& e : n) stack.push_back(e);
    }
  }
}

}  // namespace

// Takes the parser's events and keeps nothing but where the document started.
class DocumentStarts : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { line_ = mark.line + 1; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
  int line() const { return line_; }

 private:
  int line_ = 0;
};

YAML::Node parse_yaml(const std::string& text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
    // A second document? Asked of the parser one document at a time: YAML::LoadAll loops
    // without end on some malformed inputs (found by fuzzing: tests/fuzz/regressions/).
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocumentStarts starts;
    if (parser.HandleNextDocument(starts) && parser.HandleNextDocument(starts)) {
      throw_input_error({file, starts.line(), ""}, "a second YAML document", "", "one document (no '---' after the first)");
    }
  } catch (const YAML::ParserException& e) {
    throw InputError(file + ":" + std::to_string(e.mark.line + 1) + ": YAML syntax error: " + e.msg);
  }
  if (root) check_duplicate_keys(root, file);
  return root;
}

}  // namespace nfsim::core
