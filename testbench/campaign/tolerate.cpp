#include "testbench/campaign/tolerate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <limits>
#include <memory>

#include "core/error.h"
#include "core/running_stats.h"
#include "core/strings.h"
#include "faults/bound_model.h"
#include "faults/fault_plan.h"
#include "models/bounds/bounds.h"
#include "sim/engine/i_engine.h"
#include "testbench/campaign/finite_check.h"
#include "testbench/campaign/runner.h"

namespace nfsim::tb {
namespace {

// b4 mean and variance per input (columns) and output (rows) for one spec at probability 1.
struct Coefficients {
  Eigen::MatrixXd mean, var;
};

Coefficients coefficients(const models::Network& net, const Eigen::MatrixXd& inputs, faults::FaultSpec spec) {
  spec.probability = 1.0;
  const faults::FaultPlan plan({spec}, net);
  const models::bounds::BoundCalculator calc(net, faults::to_bound_model(plan));
  Coefficients c{Eigen::MatrixXd(net.output_size(), inputs.cols()), Eigen::MatrixXd(net.output_size(), inputs.cols())};
  for (Eigen::Index n = 0; n < inputs.cols(); ++n) {
    const auto b = calc.compute(inputs.col(n), {"b4"}).at("b4");
    c.mean.col(n) = b.mean;
    c.var.col(n) = b.std.cwiseAbs2();
  }
  return c;
}

// Units a spec can fail (0: varying its probability changes nothing).
std::uint64_t unit_count(const models::Network& net, const faults::FaultSpec& spec) {
  if (spec.kind == faults::FaultKind::group_crash) return spec.groups.size();
  std::uint64_t n = 0;
  for (int l : spec.layers) {
    if (spec.acts_on_synapses()) {
      n += static_cast<std::uint64_t>(net.layer(l).synapse_count());
    } else {
      n += static_cast<std::uint64_t>(net.width(l));
    }
  }
  return n;
}

// One search point: the merged statistics of its rounds (round k ran with seed + k).
struct Point {
  double rate = 0;
  int rounds = 0;
  std::uint64_t seed = 0;  // the campaign's for the search; another one for a confirmation
  // The engine of this point, kept between rounds (engines with one session per process are made
  // again for each round instead: they run any block on demand).
  std::unique_ptr<PreparedPoint> prepared;
  std::unique_ptr<sim::IEngine> engine;
  sim::ErrorStats stats;
  double fault_free_accuracy = -1;
  double metric = 0, lower = 0, upper = 0;
  enum Verdict { below, above, undecided } verdict = undecided;
};

const char* verdict_name(Point::Verdict v) {
  return v == Point::below ? "below" : v == Point::above ? "above" : "undecided";
}

}  // namespace

nlohmann::json tolerate(const CampaignConfig& config, const TolerateOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (!(o.epsilon > 0) || !std::isfinite(o.epsilon)) throw core::InputError("--epsilon " + core::format_double(o.epsilon) + ": expected a positive number");
  if (o.metric != "mean_abs" && o.metric != "accuracy_drop") {
    throw core::InputError("--metric '" + o.metric + "': expected mean_abs or accuracy_drop");
  }
  if (!(o.confidence > 0 && o.confidence < 1)) throw core::InputError("--confidence: expected a number in (0, 1)");
  if (!(o.rate_precision > 0) || !std::isfinite(o.rate_precision)) {
    throw core::InputError("--rate-precision " + core::format_double(o.rate_precision) + ": expected a positive number (relative width of the rate interval)");
  }
  // Every point's trials are numbered below 2^32 (a point may take up to 8 times the budget's
  // share in the confirmation): these limits keep them there.
  if (o.step_trials > (std::uint64_t{1} << 24)) {
    throw core::InputError("--trials " + std::to_string(o.step_trials) + ": expected at most 16777216 trials per round");
  }
  if (o.max_trials > (std::uint64_t{1} << 28)) {
    throw core::InputError("--max-trials " + std::to_string(o.max_trials) + ": expected at most 268435456");
  }
  const auto& registry = sim::EngineRegistry::instance();
  // The rate is found by Monte Carlo: the exact engine has no trials.
  if (registry.get(config.engine, config.file + ": engine").capabilities.exact) {
    throw core::InputError(config.file + ": engine '" + config.engine + "': nfsim tolerate checks its rate by Monte Carlo and "
                           "the exact engine has no trials; expected engine: " +
                           registry.names_with([](const sim::EngineCapabilities& c) { return !c.exact; }) +
                           " (--set engine=functional)");
  }
  std::string engine = o.engine.empty() ? std::string("functional") : o.engine == "campaign" ? config.engine : o.engine;
  if (registry.get(engine, "--engine").capabilities.exact) {
    throw core::InputError("--engine " + engine + ": the search needs trials; expected a Monte-Carlo engine: " +
                           registry.names_with([](const sim::EngineCapabilities& c) { return !c.exact; }) + " or campaign");
  }
  if (config.deadline_ns) {
    throw core::InputError(config.file + ": deadline_ns " + core::format_double(*config.deadline_ns) +
                           ": nfsim tolerate searches with the bounds, which do not model deadlines; expected no deadline_ns");
  }
  if (config.mission) {
    throw core::InputError(config.file + ": mission: nfsim tolerate searches one failure probability per spec, not a mission's "
                           "checkpoints; expected no mission (give fit with mission_hours for one time)");
  }
  for (std::size_t s = 0; s < config.faults.size(); ++s) {
    const std::string& pk = config.faults[s].physical_kind;
    if (config.faults[s].is_timing()) {
      throw core::InputError(config.file + ": faults[" + std::to_string(s) + "].kind " + pk +
                             ": nfsim tolerate searches with the bounds, which do not model timing faults; expected a fault "
                             "kind that takes units down");
    }
    if (config.faults[s].onset_ns > 0) {
      throw core::InputError(config.file + ": faults[" + std::to_string(s) + "].onset_ns " + core::format_double(config.faults[s].onset_ns) +
                             ": nfsim tolerate cannot vary a fault that starts during the inference (the bounds do not model onset "
                             "times); expected no onset_ns");
    }
  }
  const PreparedCampaign prepared = prepare_campaign(config);
  const models::Network& net = prepared.network;
  const Eigen::MatrixXd& x = prepared.data.inputs;
  if (o.metric == "accuracy_drop" && prepared.data.labels.empty()) {
    throw core::InputError(config.file + ": inputs.labels is needed for --metric accuracy_drop");
  }
  if (o.spec >= static_cast<int>(prepared.specs.size())) {
    throw core::InputError("--spec " + std::to_string(o.spec) + ": the campaign has " + std::to_string(prepared.specs.size()) + " fault specs");
  }
  if (o.spec >= 0 && unit_count(net, prepared.specs[static_cast<std::size_t>(o.spec)]) == 0) {
    const auto& s = prepared.specs[static_cast<std::size_t>(o.spec)];
    throw core::InputError("--spec " + std::to_string(o.spec) + " (" + s.kind_name() + "): the spec has no unit to fail (" +
                           (s.physical_kind.empty() ? "no neuron or synapse in its layers" : "no " + s.physical_kind + " carries or computes any value of the mapped network") +
                           "), so no rate of it changes the metric; expected a spec with units");
  }
  // ---- The certified rate: b4 is linear in each probability.
  std::vector<Coefficients> coef;
  std::vector<double> base;
  for (std::size_t s = 0; s < prepared.specs.size(); ++s) {
    coef.push_back(coefficients(net, x, prepared.specs[s]));
    base.push_back(prepared.specs[s].probability);
  }
  const bool one = o.spec >= 0;
  auto probability = [&](std::size_t s, double a) {
    if (one) return static_cast<int>(s) == o.spec ? a : base[s];
    return std::min(1.0, a * base[s]);
  };
  double a_max = 1.0;
  if (!one) {
    double pmax = 0;
    for (double b : base) pmax = std::max(pmax, b);
    if (pmax <= 0) throw core::InputError(config.file + ": every fault probability is 0; nothing to scale (use --spec I to vary one spec)");
    a_max = 1.0 / pmax;
  }
  const Eigen::MatrixXd clean = net.forward_batch(x);
  auto predicted = [&](double a) {
    Eigen::MatrixXd mean = Eigen::MatrixXd::Zero(clean.rows(), clean.cols()), var = mean;
    for (std::size_t s = 0; s < coef.size(); ++s) {
      mean += probability(s, a) * coef[s].mean;
      var += probability(s, a) * coef[s].var;
    }
    if (o.metric == "mean_abs") return (mean.cwiseAbs2() + var).cwiseSqrt().maxCoeff();
    double drop = 0;
    for (Eigen::Index n = 0; n < clean.cols(); ++n) {
      Eigen::Index top = 0;
      clean.col(n).maxCoeff(&top);
      if (top != prepared.data.labels[static_cast<std::size_t>(n)]) continue;
      Eigen::Index second = top == 0 ? 1 : 0;
      for (Eigen::Index k = 0; k < clean.rows(); ++k) {
        if (k != top && clean(k, n) > clean(second, n)) second = k;
      }
      const double margin = clean(top, n) - clean(second, n);
      const double mu = mean(top, n) - mean(second, n);
      const double sd = std::sqrt(var(top, n)) + std::sqrt(var(second, n));  // Cauchy-Schwarz
      const double gap = margin + mu;
      drop += gap <= 0 ? 1.0 : (sd * sd) / (sd * sd + gap * gap);  // Cantelli
    }
    return drop / static_cast<double>(clean.cols());
  };
  double certified = 0;
  std::string certified_note;
  if (predicted(0) > o.epsilon) {
    certified_note = "none: the bound predicts " + std::to_string(predicted(0)) + " > epsilon at rate 0 (from the specs held fixed)";
  } else if (predicted(a_max) <= o.epsilon) {
    certified = a_max;
  } else {
    double lo = 0, hi = a_max;
    for (int it = 0; it < 80; ++it) {
      const double mid = lo > 0 ? std::sqrt(lo * hi) : 0.5 * hi;
      (predicted(mid) <= o.epsilon ? lo : hi) = mid;
      if (lo > 0 && hi / lo - 1 < 1e-9) break;
    }
    certified = lo;
  }

  // ---- The Monte-Carlo search.
  const double z = core::normal_quantile_two_sided(o.confidence);
  // Round k of a point runs trials [k * step, (k + 1) * step): trial t draws the same random
  // numbers at every rate (counter-based sampler), so the points share their randomness.
  const std::uint64_t block = config.block_trials;
  const std::uint64_t blocks_per_round = (std::max<std::uint64_t>(1, o.step_trials) + block - 1) / block;
  const std::uint64_t step = blocks_per_round * block;
  // Every point's trials (search and confirmation) are numbered below this: blocks are sized by it.
  const std::uint64_t total_trials = std::uint64_t{1} << 32;
  const unsigned threads = effective_threads(0);
  std::uint64_t spent = 0, budget = o.max_trials;
  std::map<double, Point> points;
  // One more round at pt; its interval at `zz`; `counted`: spent from the search's budget.
  // `zz_lower` (mean_abs only): the quantile of the lower limit, the largest over every input
  // and output, so that one test over all of them keeps its level (Bonferroni).
  auto run_round = [&](Point& pt, double zz = 0, bool counted = true, double zz_lower = 0) {
    if (zz <= 0) zz = z;
    if (zz_lower <= 0) zz_lower = zz;
    if (!pt.engine) {
      CampaignConfig c = config;
      for (std::size_t s = 0; s < c.faults.size(); ++s) c.faults[s].probability = probability(s, pt.rate);
      c.engine = engine;
      c.bounds.clear();
      c.require.clear();
      c.stopping.automatic = false;
      pt.prepared = std::make_unique<PreparedPoint>(prepare_point(c));
      sim::EngineSetup setup;
      setup.model = &pt.prepared->model;
      setup.network = &pt.prepared->network;
      setup.inputs = &pt.prepared->data.inputs;
      setup.labels = pt.prepared->data.labels;
      setup.plan = pt.prepared->plan.get();
      setup.chip = pt.prepared->mapped ? &*pt.prepared->mapped : nullptr;
      setup.chip_key = pt.prepared->chip_key;
      setup.seed = pt.seed;
      setup.block_trials = config.block_trials;
      setup.batch_trials = config.batch_trials;
      pt.engine = pt.prepared->engine->make(setup);
      if (!pt.prepared->data.labels.empty()) pt.fault_free_accuracy = accuracy_of(pt.engine->clean_outputs(), pt.prepared->data.labels);
      if (pt.rounds == 0) pt.stats = sim::ErrorStats(pt.prepared->data.count(), pt.prepared->network.output_size());
    }
    const std::uint64_t start = static_cast<std::uint64_t>(pt.rounds) * blocks_per_round;
    std::string reason;
    sim::IEngine& e = *pt.engine;
    run_blocks([&e, total_trials](std::uint64_t b) { return e.run_block(b, total_trials); }, start, start + blocks_per_round,
               block, total_trials, config, pt.stats, reason, {}, pt.prepared->engine->capabilities.parallel_blocks ? threads : 1);
    if (const auto bad = first_non_finite(pt.stats)) {
      throw core::InputError(config.file + ": the trials at rate " + std::to_string(pt.rate) + " give " + *bad +
                             "; expected finite outputs (docs/faults.md, \"Non-finite numbers\")");
    }
    if (pt.prepared->engine->capabilities.single_session) {
      pt.engine.reset();
      pt.prepared.reset();
    }
    ++pt.rounds;
    if (counted) spent += step;
    if (o.metric == "mean_abs") {
      pt.metric = pt.lower = pt.upper = 0;
      for (Eigen::Index n = 0; n < pt.stats.inputs(); ++n) {
        for (Eigen::Index k = 0; k < pt.stats.outputs(); ++k) {
          const auto& s = pt.stats.abs_delta(n, k);
          const double hw = s.mean_half_width(zz);
          pt.metric = std::max(pt.metric, s.mean());
          pt.upper = std::max(pt.upper, s.mean() + hw);
          pt.lower = std::max(pt.lower, s.mean() - s.mean_half_width(zz_lower));
        }
      }
    } else {
      const auto& acc = pt.stats.accuracy();
      pt.metric = pt.fault_free_accuracy - acc.mean();
      const double hw = acc.mean_half_width(zz);
      pt.lower = pt.metric - hw;
      pt.upper = pt.metric + hw;
    }
    // A point is decided on max_rounds rounds at least (2048 trials by default): with fewer, the
    // skewed per-trial metric makes the normal interval too narrow, and the common random numbers
    // would carry one unlucky stretch of trials into every point (measured: decisions on 256-512
    // trials put 2 of 40 intervals beside the crossing).
    const bool enough = pt.rounds >= o.max_rounds;
    pt.verdict = !enough ? Point::undecided : pt.upper <= o.epsilon ? Point::below : pt.lower >= o.epsilon ? Point::above : Point::undecided;
  };
  // Measures the metric at rate a, adding rounds while its interval contains epsilon (up to
  // max_rounds and the budget). `min_rounds`: rounds it needs at least (the final measurements).
  auto classify = [&](double a, int min_rounds = 1, int max_rounds = -1) -> Point& {
    if (max_rounds < 0) max_rounds = o.max_rounds;
    // A rate within 1e-9 (relative) of a measured one is that point (bisection revisits them).
    auto near = points.lower_bound(a * (1 - 1e-9));
    if (near != points.end() && near->first <= a * (1 + 1e-9)) a = near->first;
    Point& pt = points[a];
    pt.rate = a;
    pt.seed = config.seed;
    while (pt.rounds < min_rounds || (pt.verdict == Point::undecided && pt.rounds < max_rounds)) {
      if (pt.rounds >= 1 && spent + step > budget) break;  // a new point always gets its first round
      run_round(pt);
    }
    return pt;
  };
  auto budget_left = [&] { return spent + step <= budget; };

  std::string status = "ok", stop_reason;
  double lo = -1, hi = -1;  // rates classified below / above epsilon
  // Can the specs held fixed meet epsilon at all?
  bool fixed_nonzero = false;
  for (std::size_t s = 0; s < base.size(); ++s) fixed_nonzero |= one && static_cast<int>(s) != o.spec && base[s] > 0;
  const Point* at_zero = nullptr;
  if (fixed_nonzero) {
    Point& p0 = classify(0.0);
    at_zero = &p0;
    if (p0.verdict == Point::above || (p0.verdict == Point::undecided && p0.metric >= o.epsilon)) status = "unreachable";
  }
  const double floor_rate = 1e-12 * a_max;
  if (status == "ok") {
    const double start = certified > 0 ? certified : 1e-4 * a_max;
    Point::Verdict v = classify(start).verdict;
    if (v == Point::below) lo = start;
    if (v == Point::above) hi = start;
    // Grow until a rate above epsilon (or the search limit).
    if (v != Point::above) {
      double a = start;
      // Growing: a point within noise of epsilon stays undecided (the bisection comes back to it).
      while (a < a_max && budget_left()) {
        a = std::min(a_max, a * 4);
        const Point::Verdict w = classify(a).verdict;
        if (w == Point::below) lo = a;
        if (w == Point::above) {
          hi = a;
          break;
        }
      }
      if (hi < 0 && a >= a_max && lo < a_max) {
        const Point::Verdict w = classify(a_max).verdict;  // the limit gets its full rounds
        if (w == Point::below) lo = a_max;
        if (w == Point::above) hi = a_max;
      }
      if (hi < 0 && lo >= a_max) status = "limit";
      if (hi < 0 && a >= a_max && lo < a_max && points[a_max].verdict == Point::undecided) {
        hi = a_max;  // within noise of epsilon at the search limit: the interval ends there
        stop_reason = "search limit: the metric at the limit is within its interval of epsilon";
      }
    }
    // Shrink until a rate below epsilon.
    if (v != Point::below && status == "ok") {
      double a = start;
      while (lo < 0 && a > floor_rate && budget_left()) {
        a /= 4;
        if (classify(a).verdict == Point::below) lo = a;
      }
      if (lo < 0 && a <= floor_rate) status = "unreachable";
    }
  }
  if (status == "ok" && stop_reason.empty() && (lo < 0 || hi < 0)) stop_reason = "budget: no bracket found within --max-trials";
  // Interpolated crossing of epsilon by the measured metric, on log rate, inside [lo, hi].
  auto crossing = [&] {
    const Point* before = nullptr;
    for (const auto& [a, pt] : points) {
      if (a < lo || a > hi) continue;
      if (pt.metric >= o.epsilon && before) {
        const double t = (o.epsilon - before->metric) / (pt.metric - before->metric);
        return std::clamp(std::exp(std::log(before->rate) + t * (std::log(a) - std::log(before->rate))), lo, hi);
      }
      if (pt.metric < o.epsilon) before = &pt;
    }
    return std::sqrt(lo * hi);
  };
  // Whether the search ends before its next step, with why in stop_reason: the interval is
  // narrow enough, or the budget has no round left (checked by both loops below).
  auto stops = [&] {
    if (hi / lo - 1 <= o.rate_precision) {
      stop_reason = "precision";
      return true;
    }
    if (!budget_left()) {
      stop_reason = "budget";
      return true;
    }
    return false;
  };
  // Bisection on log rate while the midpoints decide within max_rounds.
  bool noisy = false;
  while (status == "ok" && stop_reason.empty() && lo > 0 && hi > 0 && !noisy) {
    if (stops()) break;
    const double mid = std::sqrt(lo * hi);
    const Point::Verdict v = classify(mid).verdict;
    if (v == Point::below) lo = mid;
    if (v == Point::above) hi = mid;
    noisy = v == Point::undecided;
  }
  // Near the rate the metric is within its noise of epsilon: refine in passes. Each pass puts two
  // probes around the interpolated crossing r, at r exp(-h) and r exp(h), and runs each until it
  // is decided or has n trials (alternating rounds). n is what the target width w = ln(1 +
  // precision) needs when the probes sit 1.5 half-widths from epsilon: from the per-trial spread
  // sigma of the metric and its slope s per unit of log rate, n = (1.5 z sigma / (0.475 w s))^2,
  // at most half the remaining budget; then h = 1.5 z sigma / (sqrt(n) s) (= 0.475 w when the
  // budget allows n). A probe still undecided at n gets up to 2n; a pass that decides neither
  // probe widens h by 1.5 on the next one. Until the precision is reached or the budget ends.
  const double target = std::log1p(o.rate_precision);
  auto spread_near = [&] {  // per-trial standard deviation of the metric inside [lo, hi]
    double spread = 0;
    for (const auto& [a, pt] : points) {
      if (a >= lo && a <= hi && pt.rounds > 0) spread = std::max(spread, 0.5 * (pt.upper - pt.lower) * std::sqrt(static_cast<double>(pt.stats.trials())) / z);
    }
    return spread;
  };
  // Least-squares line of the metric on log rate through the points inside [lo, hi] (weighted by
  // their trials): its slope, and the rate at which it crosses epsilon (the pass's centre).
  double fit_rate = -1;
  auto slope_near = [&] {
    double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (const auto& [a, pt] : points) {
      if (a < lo || a > hi || pt.rounds == 0 || !(a > 0)) continue;
      const double w = static_cast<double>(pt.stats.trials()), x = std::log(a);
      sw += w, sx += w * x, sy += w * pt.metric, sxx += w * x * x, sxy += w * x * pt.metric;
    }
    fit_rate = -1;
    const double den = sw * sxx - sx * sx;
    if (sw > 0 && den > 1e-12 * sw * sw) {
      const double b = (sw * sxy - sx * sy) / den, c = (sy - b * sx) / sw;
      if (b > 0) fit_rate = std::exp((o.epsilon - c) / b);
      return b;
    }
    return (points[hi].metric - points[lo].metric) / (std::log(hi) - std::log(lo));
  };
  double widen = 1;
  int idle = 0;
  while (noisy && stop_reason.empty()) {
    if (stops()) break;
    const double slope = slope_near(), sigma = spread_near();
    const double r = (fit_rate > lo && fit_rate < hi) ? fit_rate : crossing();
    const std::uint64_t half_left = std::max<std::uint64_t>(step, (budget - spent) / 2 / step * step);
    std::uint64_t n = half_left;
    double h = 0.475 * target;  // 5% inside the target, so that two decided probes reach it
    if (slope > 0 && sigma > 0) {
      const double want = std::pow(1.5 * z * sigma / (0.475 * target * slope), 2);
      n = std::min<std::uint64_t>(half_left, std::max<std::uint64_t>(step, static_cast<std::uint64_t>(std::ceil(std::min(1e12, want) / static_cast<double>(step))) * step));
      n = std::max<std::uint64_t>(n, static_cast<std::uint64_t>(o.max_rounds) * step);  // decisions need max_rounds rounds
      h = std::max(h, 1.5 * z * sigma / (std::sqrt(static_cast<double>(n)) * slope));
    } else {
      h = std::max(h, 0.25 * std::log(hi / lo));
    }
    h *= widen;
    // A side whose probe would fall outside (lo, hi) is already as close as this budget gets it.
    const bool side1 = r * std::exp(-h) > lo * (1 + 1e-9), side3 = r * std::exp(h) < hi * (1 - 1e-9);
    if (!side1 && !side3) {
      if (widen > 1) {  // the widening overshot: back to the offset the noise asks for
        widen = 1;
        continue;
      }
      stop_reason = "budget";  // only a larger budget than what is left gets the probes closer
      break;
    }
    const std::uint64_t spent_before = spent;
    Point* p1 = side1 ? &classify(r * std::exp(-h), 1, 1) : nullptr;
    Point* p3 = side3 ? &classify(r * std::exp(h), 1, 1) : nullptr;
    auto open = [](const Point* p, std::uint64_t cap) { return p && p->verdict == Point::undecided && p->stats.trials() < cap; };
    auto undecided = [](const Point* p) { return p && p->verdict == Point::undecided; };
    for (const std::uint64_t cap : {n, 2 * n}) {
      while (budget_left()) {
        const bool u1 = open(p1, cap), u3 = open(p3, cap);
        if (!u1 && !u3) break;
        run_round(u1 && (!u3 || p1->rounds <= p3->rounds) ? *p1 : *p3);
      }
      // Past n only a probe still undecided while the other side is settled gets more trials.
      if ((undecided(p1) || !p1) && (undecided(p3) || !p3)) break;
    }
    bool moved = false;
    // Verdicts that contradict each other (the lower probe above, the upper one below) move
    // neither end: noise, or a metric that does not grow with the rate here.
    const bool crossed = p1 && p3 && p1->verdict == Point::above && p3->verdict == Point::below;
    for (const Point* p : {p1, p3}) {
      if (crossed) break;
      if (p && p->verdict == Point::below && p->rate > lo && p->rate < hi) lo = p->rate, moved = true;
      if (p && p->verdict == Point::above && p->rate < hi && p->rate > lo) hi = p->rate, moved = true;
    }
    widen = ((undecided(p1) || !p1) && (undecided(p3) || !p3)) ? widen * 1.5 : 1;
    if (!moved && !budget_left()) stop_reason = "budget";
    // Nothing new measured and nothing moved: the probes are points already decided or undecided.
    idle = (!moved && spent == spent_before) ? idle + 1 : 0;
    if (idle > 8) stop_reason = "noise";
  }
  // The point estimate: where the measured metric crosses epsilon, interpolated on log rate
  // between the neighbouring measured points, inside [lo, hi].
  double estimate = -1;
  if (status == "limit") {
    estimate = lo = hi = a_max;
  } else if (status == "ok" && lo > 0 && hi > 0) {
    estimate = crossing();
  }
  if (status == "ok" && estimate < 0) status = "incomplete";
  auto point_json = [&](const Point& pt) {
    return nlohmann::json{{"rate", pt.rate},       {"trials", pt.stats.trials()}, {"metric", pt.metric},
                          {"lower", pt.lower},     {"upper", pt.upper},           {"verdict", verdict_name(pt.verdict)}};
  };
  // Confirmation (docs/tolerate.md, "Confirmation"). The search chose [lo, hi] after many looks at
  // many points, so the ends' own intervals overstate its confidence (measured: 38 of 40 searches
  // held the crossing at 99%). Each end is measured again on trials the search never saw (another
  // seed): the lower end must have its upper limit at most epsilon, the upper end its lower limit
  // at least epsilon, looking at n, 2n, 4n and 8n trials, n what that needs at its distance from
  // the estimate. An end that fails moves out by sqrt(1 + precision), twice at most, measured
  // afresh each time. Each of these at most 24 tests (2 ends, 3 rates, 4 looks) is wrong with
  // probability at most (1 - confidence) / 24 (one-sided), so the interval holds the crossing
  // with at least the confidence (union bound), when the metric grows with the rate between its
  // ends.
  const Point* lower_end = nullptr;
  const Point* upper_end = nullptr;
  std::vector<std::unique_ptr<Point>> checks;
  nlohmann::json confirmation = nullptr;
  if (status == "ok" && estimate > 0) {
    lower_end = &points[lo];
    upper_end = &points[hi];
    const double alpha = 1 - o.confidence;
    const double zc = core::normal_quantile_two_sided(1 - alpha / 12);  // one-sided alpha / 24 per test
    // mean_abs: the upper end is above when any input and output's lower limit is, so that test is
    // split over all of them.
    const double cells = o.metric == "mean_abs" ? static_cast<double>(x.cols()) * static_cast<double>(net.output_size()) : 1.0;
    const double zc_lower = core::normal_quantile_two_sided(1 - alpha / (12 * cells));
    // The search-limit case: the upper end is the limit itself, within noise of epsilon.
    const bool upper_open = points[hi].verdict != Point::above;
    nlohmann::json attempts = nlohmann::json::array();
    std::uint64_t confirm_trials = 0;
    // The confirmation's own budget: twice the search's (a crossing that needs more is reported
    // unconfirmed, exit 3, rather than run for hours).
    const std::uint64_t confirm_budget = 2 * std::max<std::uint64_t>(o.max_trials, static_cast<std::uint64_t>(o.max_rounds) * step);
    bool out_of_budget = false;
    bool confirmed = true;
    // The trials a measurement at log-distance d from the estimate needs to decide with
    // probability Phi(zc / 2) (0.95 at 99%): its half-width at zc two thirds of the metric's distance s d from
    // epsilon (sigma, s: the per-trial spread and the slope near the crossing, as in the refine).
    const double slope = slope_near(), sigma = spread_near();
    auto trials_for = [&](double d, std::uint64_t fallback) {
      if (!(slope > 0) || !(sigma > 0) || !(d > 0)) return std::max<std::uint64_t>(8 * step, fallback);
      const double want = std::min(1e12, std::pow(1.5 * zc * sigma / (slope * d), 2));
      return std::max<std::uint64_t>(8 * step, static_cast<std::uint64_t>(std::ceil(want / static_cast<double>(step))) * step);
    };
    for (int end = 0; end < 2; ++end) {
      if (end == 1 && upper_open) continue;
      const double at = end == 0 ? lo : hi;
      bool ok = false;
      for (int k = 0; k < 3 && !ok && !out_of_budget; ++k) {
        // Attempt k: half the target width further out each time.
        const double factor = std::pow(1 + o.rate_precision, 0.5 * k);
        const double rate = end == 0 ? at / factor : std::min(a_max, at * factor);
        // At most a 32nd of the confirmation's budget (an attempt's last look is 8n trials).
        const std::uint64_t n = std::min(trials_for(std::abs(std::log(rate / estimate)), 4 * points[at].stats.trials()),
                                         std::max<std::uint64_t>(static_cast<std::uint64_t>(o.max_rounds) * step, confirm_budget / 32 / step * step));
        auto pt = std::make_unique<Point>();
        pt->rate = rate;
        pt->seed = config.seed + 0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(1 + k + 3 * end);
        // Looks at n, 2n, 4n and 8n trials (the planned n rests on a slope the search measured
        // on the points it selected, so it can be short).
        for (int look = 0; look < 4 && !ok; ++look) {
          const std::uint64_t want = n << look;
          if (confirm_trials + want > confirm_budget) {
            out_of_budget = true;
            break;
          }
          while (pt->rounds == 0 || pt->stats.trials() < want) run_round(*pt, zc, false, zc_lower);
          ok = end == 0 ? pt->upper <= o.epsilon : pt->lower >= o.epsilon;
        }
        confirm_trials += pt->stats.trials();
        if (pt->rounds == 0) break;  // out of budget before a first look
        nlohmann::json j = point_json(*pt);
        j["end"] = end == 0 ? "lower" : "upper";
        j["confirmed"] = ok;
        attempts.push_back(j);
        if (ok) {
          (end == 0 ? lo : hi) = rate;
          (end == 0 ? lower_end : upper_end) = pt.get();
        }
        checks.push_back(std::move(pt));
      }
      confirmed = confirmed && ok;
    }
    confirmation = {{"confirmed", confirmed},
                    {"upper_end", upper_open ? "not tested (left at the search limit within noise of epsilon)" : "tested"},
                    {"stop", confirmed ? "confirmed" : out_of_budget ? "budget" : "three failures"},
                    {"budget", confirm_budget},
                    {"level_per_test", 1 - alpha / 24},
                    {"trials", confirm_trials},
                    {"attempts", attempts}};
    if (!confirmed) status = "unconfirmed";
    estimate = std::clamp(estimate, lo, hi);
  }
  auto probabilities_at = [&](double a) {
    nlohmann::json out = nlohmann::json::array();
    for (std::size_t s = 0; s < prepared.specs.size(); ++s) {
      const auto& spec = prepared.specs[s];
      const double ps = probability(s, a);
      nlohmann::json entry = {{"spec", s}, {"kind", spec.kind_name()}, {"probability", ps}, {"varied", !one || static_cast<int>(s) == o.spec}};
      if (spec.mission_hours > 0) {  // given as a FIT rate: the FIT rate that gives ps over the same mission
        entry["mission_hours"] = spec.mission_hours;
        entry["fit"] = ps < 1 ? nlohmann::json(-std::log1p(-ps) / (1e-9 * spec.mission_hours)) : nlohmann::json(nullptr);
      }
      out.push_back(entry);
    }
    return out;
  };
  nlohmann::json est = nullptr;
  if (estimate >= 0) {
    // Outside the budget: 4 to 8 rounds (1024-2048 trials by default) at the estimate itself.
    budget = std::numeric_limits<std::uint64_t>::max();
    if (!lower_end) lower_end = &points[lo];
    if (!upper_end) upper_end = &points[hi];
    const Point& at = classify(estimate, std::min(8, std::max({4, lower_end->rounds, upper_end->rounds})), 0);
    est = {{"label", "Monte-Carlo estimate"},
           {"rate", estimate},
           {"interval", {lo, hi}},
           {"relative_width", hi / lo - 1},
           {"probabilities", probabilities_at(estimate)},
           {"measured", point_json(at)},
           {"measured_at_lower_end", point_json(*lower_end)},
           {"measured_at_upper_end", point_json(*upper_end)},
           {"confirmation", confirmation}};
  }
  nlohmann::json cert = {{"label", "guaranteed lower bound (distribution-free)"},
                         {"rate", certified > 0 ? nlohmann::json(certified) : nlohmann::json(nullptr)},
                         {"predicted_metric", certified > 0 ? nlohmann::json(predicted(certified)) : nlohmann::json(nullptr)}};
  if (!certified_note.empty()) cert["note"] = certified_note;
  if (certified > 0) {
    cert["probabilities"] = probabilities_at(certified);
    if (points.count(certified)) cert["measured"] = point_json(points[certified]);
  }
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& [a, pt] : points) steps.push_back(point_json(pt));
  std::string varied;
  if (one) {
    const auto& s = prepared.specs[static_cast<std::size_t>(o.spec)];
    varied = "probability of spec " + std::to_string(o.spec) + " (" + s.kind_name() + "; the others fixed)";
  } else {
    varied = "scale a of every spec's probability (p_s = min(1, a * p_s0))";
  }
  nlohmann::json out = {
      {"metric", o.metric},
      {"epsilon", o.epsilon},
      {"confidence", o.confidence},
      {"spec", one ? nlohmann::json(o.spec) : nlohmann::json("all")},
      {"varied", varied},
      {"search_limit", a_max},
      {"status", status},
      {"certified", cert},
      {"estimated", est},
      {"ratio", (estimate > 0 && certified > 0) ? nlohmann::json(estimate / certified) : nlohmann::json(nullptr)},
      {"search",
       {{"engine", engine},
        {"trials", spent},
        {"trials_per_round", step},
        {"max_trials", o.max_trials},
        {"rate_precision", o.rate_precision},
        {"stop_reason", (status == "ok" || status == "unconfirmed") ? stop_reason : status},
        {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()},
        {"points", steps}}}};
  if (at_zero) out["measured_at_rate_0"] = point_json(*at_zero);
  return out;
}

namespace {

std::string interval_text(const nlohmann::json& m) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "%.4g [%.4g, %.4g] (%llu trials)", m["metric"].get<double>(), m["lower"].get<double>(),
                m["upper"].get<double>(), static_cast<unsigned long long>(m["trials"].get<std::uint64_t>()));
  return buf;
}

}  // namespace

void print_tolerate(std::FILE* out, const nlohmann::json& r) {
  const std::string metric = r["metric"].get<std::string>();
  const double conf = 100 * r["confidence"].get<double>();
  std::fprintf(out, "metric %s <= %g; varied: %s\n", metric.c_str(), r["epsilon"].get<double>(), r["varied"].get<std::string>().c_str());
  const bool scale = r["spec"].is_string();
  const char* name = scale ? "a" : "p";
  const auto& c = r["certified"];
  if (c["rate"].is_null()) {
    std::fprintf(out, "  certified  (guaranteed lower bound, distribution-free): %s\n", c.value("note", std::string("none")).c_str());
  } else {
    std::fprintf(out, "  certified  %s = %.4g  guaranteed lower bound (distribution-free, b4 to first order in p)\n", name,
                 c["rate"].get<double>());
    std::fprintf(out, "             bound predicts %.4g", c["predicted_metric"].get<double>());
    if (c.contains("measured")) std::fprintf(out, "; measured %s", interval_text(c["measured"]).c_str());
    std::fprintf(out, "\n");
  }
  const auto& e = r["estimated"];
  const std::string status = r["status"].get<std::string>();
  if (!e.is_null()) {
    std::fprintf(out, "  estimated  %s = %.4g  Monte-Carlo estimate, %g%% interval [%.4g, %.4g] (relative width %.3g)%s\n", name,
                 e["rate"].get<double>(), conf, e["interval"][0].get<double>(), e["interval"][1].get<double>(),
                 e["relative_width"].get<double>(), status == "limit" ? " at the search limit: every rate up to it is tolerated" : "");
    std::fprintf(out, "             measured %s at the estimate\n", interval_text(e["measured"]).c_str());
    std::fprintf(out, "             measured %s at the interval's lower end, %s at its upper end\n",
                 interval_text(e["measured_at_lower_end"]).c_str(), interval_text(e["measured_at_upper_end"]).c_str());
    if (e.contains("confirmation") && !e["confirmation"].is_null()) {
      const auto& cf = e["confirmation"];
      std::size_t moved = 0;
      for (const auto& a : cf["attempts"]) moved += a["confirmed"].get<bool>() ? 0 : 1;
      std::fprintf(out, "             ends %s on %llu fresh trials (another seed; each test at %g%% one-sided)%s\n",
                   cf["confirmed"].get<bool>() ? "confirmed" : "NOT confirmed", static_cast<unsigned long long>(cf["trials"].get<std::uint64_t>()),
                   100 * cf["level_per_test"].get<double>(),
                   cf["confirmed"].get<bool>() ? (moved ? "; an end failed and moved out" : "")
                   : cf["stop"] == "budget" ? "; the confirmation's budget ran out: the interval is the search's, unconfirmed"
                                            : "; an end failed three times: the interval is the search's, unconfirmed");
    }
    for (const auto& p : e["probabilities"]) {
      std::string fit;
      if (p.contains("fit") && !p["fit"].is_null()) {
        char buf[96];
        std::snprintf(buf, sizeof buf, ", FIT %.4g over %g h", p["fit"].get<double>(), p["mission_hours"].get<double>());
        fit = buf;
      }
      std::fprintf(out, "             spec %d (%s) p = %.4g%s%s\n", p["spec"].get<int>(), p["kind"].get<std::string>().c_str(),
                   p["probability"].get<double>(), fit.c_str(), p["varied"].get<bool>() ? "" : " (fixed)");
    }
  } else if (status == "unreachable") {
    std::fprintf(out, "  estimated  none: epsilon is not met even at rate 0");
    if (r.contains("measured_at_rate_0")) std::fprintf(out, " (measured %s there)", interval_text(r["measured_at_rate_0"]).c_str());
    std::fprintf(out, "\n");
  } else {
    std::fprintf(out, "  estimated  none: %s\n", r["search"]["stop_reason"].get<std::string>().c_str());
  }
  if (!r["ratio"].is_null()) std::fprintf(out, "  ratio estimated / certified: %.3g\n", r["ratio"].get<double>());
  const auto& s = r["search"];
  std::fprintf(out, "  search: %zu points, %llu trials (%s engine), %.1f s, stopped: %s\n", s["points"].size(),
               static_cast<unsigned long long>(s["trials"].get<std::uint64_t>()), s["engine"].get<std::string>().c_str(),
               s["seconds"].get<double>(), s["stop_reason"].get<std::string>().c_str());
}

}  // namespace nfsim::tb
