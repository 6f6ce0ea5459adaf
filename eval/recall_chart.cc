#include "eval/recall_chart.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

namespace kasten::eval {

namespace {

constexpr double kWidth = 720;
constexpr double kHeight = 440;
constexpr double kLeft = 70;
constexpr double kRight = 200;  // legend column
constexpr double kTop = 50;
constexpr double kBottom = 60;
constexpr const char* kColors[] = {"#555555", "#1f77b4", "#d62728", "#2ca02c",
                                   "#9467bd", "#ff7f0e", "#8c564b", "#e377c2"};

std::string xml_escape(const std::string& text) {
    std::string out;
    for (char c : text) {
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
                out.push_back(c);
        }
    }
    return out;
}

}  // namespace

std::string render_recall_chart(const std::string& title, const std::string& y_label,
                                const std::vector<ChartSeries>& series) {
    std::set<int> ks;
    for (const auto& s : series) {
        for (const auto& p : s.points) ks.insert(p.first);
    }
    const std::vector<int> xs(ks.begin(), ks.end());
    const double plot_w = kWidth - kLeft - kRight;
    const double plot_h = kHeight - kTop - kBottom;
    auto x_of = [&](int k) {
        auto it = std::find(xs.begin(), xs.end(), k);
        double i = static_cast<double>(it - xs.begin());
        return xs.size() <= 1 ? kLeft + plot_w / 2 : kLeft + plot_w * i / static_cast<double>(xs.size() - 1);
    };
    auto y_of = [&](double v) { return kTop + plot_h * (1 - std::clamp(v, 0.0, 1.0)); };

    std::string svg = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
        "font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
        "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        "<text x=\"{2}\" y=\"28\" font-size=\"16\" font-weight=\"bold\">{3}</text>\n",
        kWidth, kHeight, kLeft, xml_escape(title));
    for (int g = 0; g <= 5; ++g) {
        double v = g * 0.2;
        double y = y_of(v);
        svg += fmt::format(
            "<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#dddddd\"/>\n"
            "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5:.1f}</text>\n",
            kLeft, y, kLeft + plot_w, kLeft - 8, y + 4, v);
    }
    for (int k : xs) {
        double x = x_of(k);
        svg += fmt::format(
            "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#eeeeee\"/>\n"
            "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
            x, kTop, kTop + plot_h, kTop + plot_h + 18, k);
    }
    svg += fmt::format(
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"black\"/>\n"
        "<line x1=\"{0}\" y1=\"{2}\" x2=\"{3}\" y2=\"{2}\" stroke=\"black\"/>\n"
        "<text x=\"{4:.1f}\" y=\"{5}\" text-anchor=\"middle\">k</text>\n"
        "<text transform=\"translate(20 {6:.1f}) rotate(-90)\" text-anchor=\"middle\">{7}</text>\n",
        kLeft, kTop, kTop + plot_h, kLeft + plot_w, kLeft + plot_w / 2, kTop + plot_h + 40, kTop + plot_h / 2,
        xml_escape(y_label));
    for (size_t i = 0; i < series.size(); ++i) {
        const auto& s = series[i];
        const size_t slot = s.color >= 0 ? static_cast<size_t>(s.color) : i;
        const char* color = kColors[slot % (sizeof(kColors) / sizeof(kColors[0]))];
        std::string points;
        for (const auto& p : s.points) {
            if (!points.empty()) points += ' ';
            points += fmt::format("{:.1f},{:.1f}", x_of(p.first), y_of(p.second));
        }
        svg += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{} points=\"{}\"/>\n", color,
                           s.dashed ? " stroke-dasharray=\"6 4\"" : "", points);
        for (const auto& p : s.points) {
            svg += fmt::format(
                "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"><title>{} @{}: {:.3f}</title>"
                "</circle>\n",
                x_of(p.first), y_of(p.second), color, xml_escape(s.name), p.first, p.second);
        }
        double ly = kTop + 10 + 20 * static_cast<double>(i);
        double lx = kWidth - kRight + 20;
        svg += fmt::format(
            "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"{3}\" stroke-width=\"2\"{4}/>\n"
            "<text x=\"{5:.1f}\" y=\"{6:.1f}\">{7}</text>\n",
            lx, ly, lx + 24, color, s.dashed ? " stroke-dasharray=\"6 4\"" : "", lx + 30, ly + 4, xml_escape(s.name));
    }
    svg += "</svg>\n";
    return svg;
}

}  // namespace kasten::eval
