#include "testbench/report/criticality_json.h"

namespace nfsim::tb {

using nlohmann::json;

namespace {

json unit_to_json(const CriticalUnit& u) {
  json e{{"name", u.name}, {"kind", u.kind}, {"spec", u.spec}, {"unit", u.unit}, {"variance", u.variance}};
  const std::pair<const char*, int> coords[] = {{"layer", u.layer},  {"tile", u.tile},     {"core", u.core},
                                                {"array", u.array},  {"router", u.router}, {"row", u.row},
                                                {"column", u.column}};
  for (const auto& [key, value] : coords) {
    if (value >= 0) e[key] = value;
  }
  e["accuracy_drop"] = u.accuracy_drop ? json(*u.accuracy_drop) : json(nullptr);
  e["verified_variance"] = u.verified_variance ? json(*u.verified_variance) : json(nullptr);
  return e;
}

CriticalUnit unit_of(const json& e) {
  CriticalUnit u;
  u.name = e.at("name").get<std::string>();
  u.kind = e.at("kind").get<std::string>();
  u.spec = e.value("spec", -1);
  u.unit = e.value("unit", -1L);
  u.variance = e.at("variance").get<double>();
  u.layer = e.value("layer", -1);
  u.tile = e.value("tile", -1);
  u.core = e.value("core", -1);
  u.array = e.value("array", -1);
  u.router = e.value("router", -1);
  u.row = e.value("row", -1);
  u.column = e.value("column", -1);
  if (e.at("accuracy_drop").is_number()) u.accuracy_drop = e["accuracy_drop"].get<double>();
  if (e.at("verified_variance").is_number()) u.verified_variance = e["verified_variance"].get<double>();
  return u;
}

}  // namespace

json criticality_to_json(const CriticalityReport& c) {
  json top = json::array(), aggregated = json::array();
  for (const CriticalUnit& u : c.top) top.push_back(unit_to_json(u));
  for (const CriticalUnit& u : c.aggregated) {
    json e = unit_to_json(u);
    for (const char* k : {"spec", "unit", "accuracy_drop", "verified_variance"}) e.erase(k);
    aggregated.push_back(e);
  }
  json cores = json::array();
  for (const CoreHeat& h : c.cores)
    cores.push_back({{"core", h.core}, {"x", h.x}, {"y", h.y}, {"variance", h.variance}});
  return {{"metric", c.metric},
          {"units", c.units},
          {"top", top},
          {"aggregated", aggregated},
          {"spearman_top", c.spearman_top ? json(*c.spearman_top) : json(nullptr)},
          {"cores", cores},
          {"mesh_width", c.mesh_width},
          {"mesh_height", c.mesh_height}};
}

CriticalityReport criticality_from_json(const json& j) {
  CriticalityReport c;
  c.metric = j.at("metric").get<std::string>();
  c.units = j.at("units").get<std::size_t>();
  for (const json& e : j.at("top")) c.top.push_back(unit_of(e));
  for (json e : j.value("aggregated", json::array())) {
    e["accuracy_drop"] = nullptr;
    e["verified_variance"] = nullptr;
    c.aggregated.push_back(unit_of(e));
  }
  if (j.at("spearman_top").is_number()) c.spearman_top = j["spearman_top"].get<double>();
  for (const json& h : j.at("cores"))
    c.cores.push_back(
        {h.at("core").get<int>(), h.at("x").get<int>(), h.at("y").get<int>(), h.at("variance").get<double>()});
  c.mesh_width = j.at("mesh_width").get<int>();
  c.mesh_height = j.at("mesh_height").get<int>();
  return c;
}

}  // namespace nfsim::tb
