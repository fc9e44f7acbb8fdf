// The HTML rendering of `latent report`: one self-contained page, inline CSS and
// SVG drawn here (no script, no fonts or files fetched), so it opens offline and
// can be attached to a ticket. Plots: the k-occurrence histogram before and after
// the recommended repair, the eigenvalue spectrum, k-skewness per repair, and
// the cross-space MRR per representation.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "latent/kernels/isa.hpp"
#include "report.hpp"

namespace latent::cli {

std::string html_escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

std::string fixed(double value, int digits) {
  if (!std::isfinite(value)) return "-";
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

std::string scientific(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.3g", value);
  return text;
}

constexpr const char* kBlue = "#3b6ea8";
constexpr const char* kOrange = "#e07b28";

// A plot frame: a W x H SVG with a margin, linear axes and tick labels.
class Plot {
 public:
  Plot(std::string name, std::string title, double x_min, double x_max, double y_min, double y_max)
      : x_min_(x_min), x_max_(x_max), y_min_(y_min), y_max_(y_max) {
    svg_ << "<svg class=\"plot\" data-plot=\"" << name << "\" viewBox=\"0 0 " << kWidth << ' ' << kHeight
         << "\" width=\"" << kWidth << "\" height=\"" << kHeight << "\" role=\"img\" aria-label=\""
         << html_escape(title) << "\">\n<text x=\"" << kWidth / 2 << "\" y=\"16\" class=\"title\">"
         << html_escape(title) << "</text>\n"
         << "<line x1=\"" << kLeft << "\" y1=\"" << bottom() << "\" x2=\"" << right() << "\" y2=\"" << bottom()
         << "\" class=\"axis\"/>\n<line x1=\"" << kLeft << "\" y1=\"" << kTop << "\" x2=\"" << kLeft << "\" y2=\""
         << bottom() << "\" class=\"axis\"/>\n";
  }
  double x(double value) const { return kLeft + (value - x_min_) / span(x_min_, x_max_) * (right() - kLeft); }
  double y(double value) const { return bottom() - (value - y_min_) / span(y_min_, y_max_) * (bottom() - kTop); }
  double bottom() const { return kHeight - 36.0; }
  double right() const { return kWidth - 16.0; }

  void x_tick(double value, const std::string& label) {
    svg_ << "<text x=\"" << x(value) << "\" y=\"" << bottom() + 14 << "\" class=\"tick\">" << html_escape(label)
         << "</text>\n";
  }
  void y_tick(double value, const std::string& label) {
    svg_ << "<line x1=\"" << kLeft << "\" y1=\"" << y(value) << "\" x2=\"" << right() << "\" y2=\"" << y(value)
         << "\" class=\"grid\"/>\n<text x=\"" << kLeft - 4 << "\" y=\"" << y(value) + 4 << "\" class=\"tick ytick\">"
         << html_escape(label) << "</text>\n";
  }
  void axis_labels(const std::string& x_label, const std::string& y_label) {
    svg_ << "<text x=\"" << (kLeft + right()) / 2 << "\" y=\"" << kHeight - 6 << "\" class=\"label\">"
         << html_escape(x_label) << "</text>\n<text transform=\"translate(12," << (kTop + bottom()) / 2
         << ") rotate(-90)\" class=\"label\">" << html_escape(y_label) << "</text>\n";
  }
  void bar(double x0, double x1, double value, const char* colour, const std::string& tooltip) {
    // Bars grow from 0 (or the axis when 0 is off the range), up or down.
    const double base = y(std::min(std::max(0.0, y_min_), y_max_));
    const double end = y(std::min(std::max(value, y_min_), y_max_));
    svg_ << "<rect class=\"bar\" x=\"" << x(x0) << "\" y=\"" << std::min(base, end) << "\" width=\""
         << std::max(x(x1) - x(x0), 0.5) << "\" height=\"" << std::abs(base - end) << "\" fill=\"" << colour
         << "\"><title>" << html_escape(tooltip) << "</title></rect>\n";
  }
  void line(const std::vector<std::pair<double, double>>& points, const char* colour) {
    svg_ << "<polyline class=\"series\" fill=\"none\" stroke-width=\"2\" stroke=\"" << colour << "\" points=\"";
    for (const auto& [px, py] : points) svg_ << x(px) << ',' << y(py) << ' ';
    svg_ << "\"/>\n";
  }
  void legend(int row, const char* colour, const std::string& text) {
    const double top = kTop + 4 + 16.0 * row;
    svg_ << "<rect x=\"" << right() - 236 << "\" y=\"" << top << "\" width=\"12\" height=\"12\" fill=\"" << colour
         << "\"/><text x=\"" << right() - 218 << "\" y=\"" << top + 10 << "\" class=\"legend\">" << html_escape(text)
         << "</text>\n";
  }
  std::string finish() {
    svg_ << "</svg>\n";
    return svg_.str();
  }

 private:
  static double span(double lo, double hi) { return hi > lo ? hi - lo : 1.0; }
  static constexpr int kWidth = 560, kHeight = 300, kLeft = 56, kTop = 28;
  double x_min_, x_max_, y_min_, y_max_;
  std::ostringstream svg_;
};

// "Nice" tick step for a range: 1, 2 or 5 times a power of ten, ~5 ticks.
double tick_step(double range) {
  if (range <= 0) return 1;
  const double raw = range / 5;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0, 10.0})
    if (m * power >= raw) return m * power;
  return 10 * power;
}

std::string compact(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

// Histogram of N_k: one bin per value up to a cap, the tail in the last bin.
std::string occurrence_plot(const SpaceReport& r, const MethodResult& after) {
  const MethodResult& before = r.methods[0];
  std::int64_t largest = 0;
  for (const auto* m : {&before, &after})
    largest = std::max(largest, *std::max_element(m->occurrence.begin(), m->occurrence.end()));
  const std::int64_t cap = std::min<std::int64_t>(largest, 4 * r.k);  // values >= cap share the last bin
  auto counts = [&](const MethodResult& m) {
    std::vector<double> bins(static_cast<std::size_t>(cap + 1), 0.0);
    for (const std::int64_t n : m.occurrence) bins[static_cast<std::size_t>(std::min(n, cap))] += 1;
    return bins;
  };
  const std::vector<double> a = counts(before), b = counts(after);
  const double top = std::max(*std::max_element(a.begin(), a.end()), *std::max_element(b.begin(), b.end()));
  Plot plot("k-occurrence", "k-occurrence N_k (k = " + std::to_string(r.k) + ")", -0.5, static_cast<double>(cap) + 0.5,
            0, top * 1.08);
  for (std::int64_t v = 0; v <= cap; ++v) {
    const std::string label = "N_k " + std::string(v == cap && largest > cap ? ">= " : "= ") + std::to_string(v);
    const auto i = static_cast<std::size_t>(v);
    const auto at = static_cast<double>(v);
    plot.bar(at - 0.4, at, a[i], kBlue, label + ": " + compact(a[i]) + " rows (" + before.name + ")");
    plot.bar(at, at + 0.4, b[i], kOrange, label + ": " + compact(b[i]) + " rows (" + after.name + ")");
  }
  const double x_step = std::max(1.0, tick_step(static_cast<double>(cap)));
  for (double v = 0; v <= static_cast<double>(cap); v += x_step)
    plot.x_tick(v, (v == static_cast<double>(cap) && largest > cap ? ">=" : "") + compact(v));
  const double y_step = tick_step(top);
  for (double v = 0; v <= top * 1.08; v += y_step) plot.y_tick(v, compact(v));
  plot.axis_labels("N_k: number of neighbour lists a row appears in", "rows");
  plot.legend(0, kBlue, "as given (skew " + fixed(before.measures.k_skewness, 2) + ")");
  plot.legend(1, kOrange, after.name + " (skew " + fixed(after.measures.k_skewness, 2) + ")");
  return plot.finish();
}

// Explained variance per component on a log scale, and its running sum.
std::string spectrum_plot(const SpaceReport& r) {
  const std::vector<double>& ratio = r.isotropy.explained_variance_ratio;
  const double floor = 1e-8;
  double lowest = 1;
  for (const double v : ratio) lowest = std::min(lowest, std::max(v, floor));
  const double decades = std::floor(std::log10(lowest));
  const auto count = static_cast<double>(ratio.size());
  Plot plot("spectrum", "eigenvalue spectrum (share of variance per component)", 0, count, decades, 0);
  std::vector<std::pair<double, double>> share, cumulative;
  double sum = 0;
  for (std::size_t i = 0; i < ratio.size(); ++i) {
    sum += ratio[i];
    share.emplace_back(static_cast<double>(i + 1), std::log10(std::max(ratio[i], floor)));
    cumulative.emplace_back(static_cast<double>(i + 1), decades * (1 - std::min(sum, 1.0)));  // 0 (top) = 100 %
  }
  for (double v = 0; v >= decades; v -= std::max(1.0, std::ceil(-decades / 6))) plot.y_tick(v, "1e" + compact(v));
  const double step = tick_step(count);
  for (double v = 0; v <= count; v += step) plot.x_tick(v, compact(v));
  plot.line(share, kBlue);
  plot.line(cumulative, kOrange);
  plot.axis_labels("component (descending eigenvalue)", "share of variance (log10)");
  plot.legend(0, kBlue, "share per component");
  plot.legend(1, kOrange, "cumulative share (0% bottom, 100% top)");
  return plot.finish();
}

// One bar per row of `values` (name, value), e.g. k-skewness per repair.
std::string bar_plot(const std::string& name, const std::string& title, const std::string& y_label,
                     const std::vector<std::pair<std::string, double>>& values, std::size_t highlight) {
  double lo = 0, hi = 0;
  for (const auto& [label, v] : values) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  const double step = tick_step(hi - lo);
  const double axis_lo = std::floor(lo / step) * step, axis_hi = hi * 1.1 + (hi == lo ? 1 : 0);
  Plot plot(name, title, -0.5, static_cast<double>(values.size()) - 0.5, axis_lo, axis_hi);
  for (double v = axis_lo; v <= axis_hi + 1e-12; v += step) plot.y_tick(v, compact(std::abs(v) < 1e-12 ? 0.0 : v));
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double at = static_cast<double>(i);
    plot.bar(at - 0.35, at + 0.35, values[i].second, i == highlight ? kOrange : kBlue,
             values[i].first + ": " + fixed(values[i].second, 4));
    plot.x_tick(at, values[i].first);
  }
  plot.axis_labels("", y_label);
  return plot.finish();
}

constexpr const char* kStyle = R"(
body { font: 15px/1.45 system-ui, sans-serif; color: #222; max-width: 1180px; margin: 24px auto; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 28px; border-bottom: 1px solid #ddd; }
.meta { color: #666; font-size: 13px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 10px 14px; min-width: 170px; }
.card b { display: block; font-size: 20px; }
.recommend { background: #fff5eb; border: 1px solid #e07b28; border-radius: 6px; padding: 10px 14px; }
table { border-collapse: collapse; margin: 8px 0; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
tr.chosen td { background: #fff5eb; font-weight: 600; }
.plots { display: flex; flex-wrap: wrap; gap: 16px; }
svg.plot { border: 1px solid #eee; background: #fff; }
svg .title { font-size: 13px; font-weight: 600; text-anchor: middle; }
svg .tick { font-size: 10px; text-anchor: middle; fill: #444; } svg .ytick { text-anchor: end; }
svg .label { font-size: 11px; text-anchor: middle; fill: #444; } svg .legend { font-size: 11px; }
svg .axis { stroke: #333; } svg .grid { stroke: #eee; }
)";

// What the figures mean, stated on the page itself.
constexpr const char* kFooter =
    "<p class=\"meta\">Definitions: N<sub>k</sub> counts the k-neighbour lists (self excluded) holding a row; "
    "k-skewness is the population skewness of N<sub>k</sub>; robin hood the share of occurrences to move for equal "
    "N<sub>k</sub>; antihubs the rows with N<sub>k</sub> = 0; hub occurrence the share of occurrences on rows with "
    "N<sub>k</sub> &ge; 2k; kNN accuracy the leave-one-out majority vote, ties to the nearest. Cross-space: jaccard "
    "of the top-k cosine neighbourhoods, MRR and top-1 of each row's counterpart, mean cosine of the pairs, linear "
    "CKA of the centred rows. Made by <code>latent report</code>; no script, no network.</p>\n</body></html>\n";

}  // namespace

std::string report_html(const SpaceReport& r) {
  const MethodResult& base = r.methods[0];
  const MethodResult& chosen = r.methods[r.recommended];
  // The histogram compares with the recommendation, or with the strongest repair when none is recommended.
  std::size_t contrast = r.recommended;
  if (contrast == 0) {
    for (std::size_t i = 1; i < r.methods.size(); ++i)
      if (contrast == 0 ||
          std::abs(r.methods[i].measures.k_skewness) < std::abs(r.methods[contrast].measures.k_skewness))
        contrast = i;
  }
  const IsotropyReport& iso = r.isotropy;
  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>latent report: "
       << html_escape(r.path) << "</title>\n<style>" << kStyle << "</style></head>\n<body>\n";
  html << "<h1>Embedding-space report: " << html_escape(r.path) << "</h1>\n<p class=\"meta\">latent "
       << LATENT_VERSION_STRING << " &middot; " << r.rows << " rows &times; " << r.dim << " dims &middot; metric "
       << to_string(r.metric) << ", k = " << r.k << " &middot; kernels "
       << html_escape(std::string(kernels::to_string(kernels::active_isa()))) << " &middot; " << fixed(r.seconds, 2)
       << " s</p>\n";
  html << "<div class=\"cards\">\n"
       << "<div class=\"card\">k-skewness<b>" << fixed(base.measures.k_skewness, 3) << "</b></div>\n"
       << "<div class=\"card\">antihubs<b>" << fixed(100 * base.measures.antihub_occurrence, 1) << "%</b></div>\n"
       << "<div class=\"card\">average cosine<b>" << fixed(iso.average_cosine, 4) << "</b></div>\n"
       << "<div class=\"card\">effective rank<b>" << fixed(iso.effective_rank, 1) << " / " << std::min(r.rows, r.dim)
       << "</b></div>\n";
  if (r.labelled)
    html << "<div class=\"card\">leave-one-out kNN accuracy<b>" << fixed(base.knn_accuracy, 4) << "</b></div>\n";
  html << "</div>\n<p class=\"recommend\"><b>Recommended: " << html_escape(chosen.name) << "</b> &mdash; "
       << html_escape(r.reason) << ".</p>\n";

  html << "<h2>Hubness</h2>\n<p>" << html_escape(r.verdict) << ". Largest hubs:";
  for (const auto& [row, count] : r.hubs) html << " row " << row << " (N<sub>k</sub> = " << count << ")";
  html << ".</p>\n<h2>Repairs</h2>\n<table id=\"methods\">\n<tr><th>repair</th><th class=\"text\">what it does</th>"
       << "<th>k-skewness</th><th>robin hood</th><th>antihubs</th><th>hub occurrence</th><th>max N<sub>k</sub></th>"
       << "<th>kNN accuracy</th><th>seconds</th></tr>\n";
  std::vector<std::pair<std::string, double>> skewness;
  for (std::size_t i = 0; i < r.methods.size(); ++i) {
    const MethodResult& m = r.methods[i];
    skewness.emplace_back(m.name, m.measures.k_skewness);
    html << "<tr" << (i == r.recommended ? " class=\"chosen\"" : "") << "><td>" << html_escape(m.name)
         << "</td><td class=\"text\">" << html_escape(m.description) << "</td><td>" << fixed(m.measures.k_skewness, 3)
         << "</td><td>" << fixed(m.measures.robinhood, 4) << "</td><td>"
         << fixed(100 * m.measures.antihub_occurrence, 1) << "%</td><td>" << fixed(100 * m.measures.hub_occurrence, 1)
         << "%</td><td>" << *std::max_element(m.occurrence.begin(), m.occurrence.end()) << "</td><td>"
         << fixed(m.knn_accuracy, 4) << "</td><td>" << fixed(m.seconds, 2) << "</td></tr>\n";
  }
  html << "</table>\n<div class=\"plots\">\n"
       << occurrence_plot(r, r.methods[contrast])
       << bar_plot("skewness", "k-skewness per repair (0 is balanced)", "k-skewness", skewness, r.recommended)
       << "</div>\n";

  html << "<h2>Spectrum and isotropy</h2>\n<p>Average cosine " << fixed(iso.average_cosine, 4)
       << " (0 for an isotropic space), partition isotropy " << scientific(iso.partition_isotropy)
       << " (1 = isotropic), effective rank " << fixed(iso.effective_rank, 1) << "; " << iso.components_90
       << " components hold 90% of the variance, " << iso.components_99 << " hold 99%.</p>\n<div class=\"plots\">\n"
       << spectrum_plot(r) << "</div>\n";

  const AnalysisSection& an = r.analysis;
  html << "<h2>Collapse and separability</h2>\n<table id=\"analysis\">\n<tr><th class=\"text\">measure</th>"
       << "<th>value</th><th class=\"text\">what it says</th></tr>\n"
       << "<tr><td class=\"text\">RankMe</td><td>" << fixed(an.collapse.rankme, 1)
       << "</td><td class=\"text\">effective rank of the singular values, of at most " << std::min(r.rows, r.dim)
       << "</td></tr>\n<tr><td class=\"text\">active units</td><td>" << an.collapse.active_units
       << "</td><td class=\"text\">dimensions of variance above 0.01, of " << r.dim
       << "</td></tr>\n<tr><td class=\"text\">smallest std</td><td>" << scientific(an.collapse.min_std)
       << "</td><td class=\"text\">a collapsed dimension has std near 0</td></tr>\n"
       << "<tr><td class=\"text\">VICReg variance term</td><td>" << fixed(an.collapse.vicreg_variance, 4)
       << "</td><td class=\"text\">mean of max(0, 1 - std) over dimensions</td></tr>\n"
       << "<tr><td class=\"text\">VICReg covariance term</td><td>" << scientific(an.collapse.vicreg_covariance)
       << "</td><td class=\"text\">squared off-diagonal covariances / d: redundancy between dimensions</td></tr>\n";
  if (r.labelled)
    html << "<tr><td class=\"text\">LiDAR</td><td>" << fixed(an.lidar, 2)
         << "</td><td class=\"text\">effective rank of the class-discriminant matrix (at most classes - 1)</td></tr>\n"
         << "<tr><td class=\"text\">prototype accuracy</td><td>" << fixed(an.prototype_accuracy, 4)
         << "</td><td class=\"text\">share of rows nearest (cosine) to their own class mean</td></tr>\n";
  if (std::isfinite(an.cka))
    html << "<tr><td class=\"text\">linear CKA</td><td>" << fixed(an.cka, 4)
         << "</td><td class=\"text\">similarity to the second space (1 = the same up to rotation and scale)</td></tr>\n"
         << "<tr><td class=\"text\">SVCCA</td><td>" << fixed(an.svcca, 4)
         << "</td><td class=\"text\">mean canonical correlation of the directions holding 99% of each space's "
            "variance</td></tr>\n";
  if (std::isfinite(an.stitching))
    html << "<tr><td class=\"text\">stitching (translated)</td><td>" << fixed(an.stitching, 4)
         << "</td><td class=\"text\">a class-mean head fitted on the second space reads this space's rows mapped by "
            "Procrustes on the anchors; the head on its own space: "
         << fixed(an.stitching_ceiling, 4) << "</td></tr>\n<tr><td class=\"text\">stitching (relative)</td><td>"
         << fixed(an.stitching_relative, 4)
         << "</td><td class=\"text\">the same through relative representations to the anchors</td></tr>\n";
  html << "</table>\n";

  if (!r.comparison.empty()) {
    html << "<h2>Cross-space comparison</h2>\n<p>Rows 0.." << r.compare_rows - 1 << " of " << html_escape(r.path)
         << " and " << html_escape(r.compare_path) << " (" << r.compare_dim << "-d) are the same items; " << r.n_anchors
         << " anchors (" << html_escape(r.anchors_source)
         << "). MRR: mean reciprocal rank of the counterpart among all rows of the other space.</p>\n"
         << "<table id=\"comparison\">\n<tr><th>representation</th><th>jaccard@" << r.k
         << "</th><th>MRR</th><th>top-1</th><th>mean cos</th><th>CKA</th></tr>\n";
    std::vector<std::pair<std::string, double>> mrr;
    for (const auto& [name, s] : r.comparison) {
      mrr.emplace_back(name, std::isfinite(s.mrr) ? s.mrr : 0.0);
      html << "<tr><td>" << html_escape(name) << "</td><td>" << fixed(s.jaccard, 4) << "</td><td>" << fixed(s.mrr, 4)
           << "</td><td>" << fixed(s.top1, 4) << "</td><td>" << fixed(s.mean_cos, 4) << "</td><td>" << fixed(s.cka, 4)
           << "</td></tr>\n";
    }
    html << "</table>\n<div class=\"plots\">\n"
         << bar_plot("mrr", "cross-space MRR per representation", "MRR", mrr, mrr.size()) << "</div>\n";
  }
  html << kFooter;
  return html.str();
}

}  // namespace latent::cli
