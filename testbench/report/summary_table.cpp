#include "testbench/report/summary_table.h"

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "core/strings.h"

namespace nfsim::tb {

void write_summary_csv(std::ostream& out, const nlohmann::json& report) {
  std::vector<std::string> names;
  const auto& points = report["points"];
  if (!points.empty() && !points[0]["inputs"].empty()) {
    for (const auto& [name, b] : points[0]["inputs"][0]["bounds"].items()) names.push_back(name);
  }
  out << "point,input,output,trials,mean,std,mean_abs,max_abs,mean_ci95_lo,mean_ci95_hi,std_ci95_lo,std_ci95_hi";
  for (const auto& name : names) {
    out << ',' << name << "_mean";
    if (points[0]["inputs"][0]["bounds"][name].contains("std")) out << ',' << name << "_std";
  }
  out << '\n';
  auto num = [](const nlohmann::json& j) { return j.is_number() ? core::format_double(j.get<double>()) : std::string(); };
  for (std::size_t p = 0; p < points.size(); ++p) {
    for (const auto& in : points[p]["inputs"]) {
      const auto& m = in["measured"];
      for (std::size_t k = 0; k < m["mean"].size(); ++k) {
        out << p << ',' << in["index"].get<long>() << ',' << k << ',' << m["trials"].get<std::uint64_t>();
        for (const auto* v : {&m["mean"][k], &m["std"][k], &m["mean_abs"][k], &m["max_abs"][k], &m["ci95"]["mean"]["lo"][k],
                              &m["ci95"]["mean"]["hi"][k], &m["ci95"]["std"]["lo"][k], &m["ci95"]["std"]["hi"][k]}) {
          out << ',' << num(*v);
        }
        for (const auto& name : names) {
          const auto& b = in["bounds"][name];
          out << ',' << num(b["mean"].size() == 1 ? b["mean"][0] : b["mean"][k]);
          if (b.contains("std")) out << ',' << num(b["std"][k]);
        }
        out << '\n';
      }
    }
  }
}

void print_summary(std::FILE* to, const nlohmann::json& report) {
  auto num = [](const nlohmann::json& j) { return j.is_number() ? j.get<double>() : std::numeric_limits<double>::quiet_NaN(); };
  if (report.contains("network")) {
    std::fprintf(to, "network %s, %ld inputs, engine %s, seed %llu\n", report["network"]["description"].get<std::string>().c_str(),
                 report["campaign"].value("input_count", 0L), report["campaign"]["engine"].get<std::string>().c_str(),
                 static_cast<unsigned long long>(report["campaign"]["seed"].get<std::uint64_t>()));
  }
  const auto& points = report["points"];
  auto sweep_label = [](const nlohmann::json& pt) {
    std::string sweep;
    for (const auto& [k, v] : pt["sweep"].items()) sweep += (sweep.empty() ? "" : ",") + k + "=" + v.get<std::string>();
    return sweep.empty() ? std::string("-") : sweep;
  };
  int width = 5;
  for (const auto& pt : points) width = std::max(width, static_cast<int>(std::min<std::size_t>(80, sweep_label(pt).size())));
  std::fprintf(to, "\n%-5s %-*s %9s %-10s %11s %11s %9s %9s %9s %8s\n", "point", width, "sweep", "trials", "stopped", "mean std",
               "b4 std", "b4 r", "b4 medrel", "accuracy", "require");
  for (std::size_t p = 0; p < points.size(); ++p) {
    const auto& pt = points[p];
    const std::string sweep = sweep_label(pt);
    double mstd = 0, bstd = 0;
    std::size_t count = 0;
    for (const auto& in : pt["inputs"]) {
      for (std::size_t k = 0; k < in["measured"]["std"].size(); ++k) {
        mstd += num(in["measured"]["std"][k]);
        if (in["bounds"].contains("b4")) bstd += num(in["bounds"]["b4"]["std"][k]);
        ++count;
      }
    }
    const bool has_b4 = pt["summary"].contains("b4");
    std::string req = "-";
    if (!pt["requirements"].empty()) {
      bool met = true;
      for (const auto& q : pt["requirements"]) met = met && q["met"].get<bool>();
      req = met ? "met" : "NOT met";
    }
    char acc[32] = "-";
    if (pt.contains("accuracy")) std::snprintf(acc, sizeof acc, "%.4f", num(pt["accuracy"]["faulty_mean"]));
    std::fprintf(to, "%-5zu %-*s %9llu %-10s %11.4e %11.4e %9.4f %9.4f %9s %8s\n", p, width, sweep.c_str(),
                 static_cast<unsigned long long>(pt["trials"].get<std::uint64_t>()), pt["stopping"]["reached"].get<std::string>().c_str(),
                 count ? mstd / static_cast<double>(count) : 0.0, has_b4 && count ? bstd / static_cast<double>(count) : std::numeric_limits<double>::quiet_NaN(),
                 has_b4 ? num(pt["summary"]["b4"]["std"]["pearson"]) : std::numeric_limits<double>::quiet_NaN(),
                 has_b4 ? num(pt["summary"]["b4"]["mean"]["median_rel_err"]) : std::numeric_limits<double>::quiet_NaN(), acc, req.c_str());
  }
  if (!points.empty()) {
    const auto& last = points.back();
    std::fprintf(to, "\nbounds at point %zu (across inputs and outputs):\n%-14s %9s %9s %9s %9s %9s\n", points.size() - 1, "bound",
                 "pearson", "rankloss", "med.rel", "std r", "holds");
    for (const auto& [name, v] : last["summary"].items()) {
      std::fprintf(to, "%-14s %9.4f %9.4f %9.4f %9.4f %9s\n", name.c_str(), num(v["mean"]["pearson"]), num(v["mean"]["rank_loss"]),
                   num(v["mean"]["median_rel_err"]), v.contains("std") ? num(v["std"]["pearson"]) : std::numeric_limits<double>::quiet_NaN(),
                   v.contains("fraction_holding") ? core::format_double(v["fraction_holding"].get<double>()).c_str() : "-");
    }
    for (const auto& q : last["requirements"]) {
      std::fprintf(to, "requirement %-40s %s (value %s)\n", q["requirement"].get<std::string>().c_str(), q["met"].get<bool>() ? "met" : "NOT MET",
                   q["value"].dump().c_str());
    }
  }
  if (!report["complete"].get<bool>()) std::fprintf(to, "\nINTERRUPTED: resume with nfsim run --resume <out dir>\n");
}

}  // namespace nfsim::tb
