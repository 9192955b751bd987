#pragma once

// Structure checks on report.html (tests only): every inline <svg> is well-formed XML as far as
// a browser needs (tags nest and close, attribute values quoted, entities complete), and no
// number came out as nan or inf. In the CLI tests (NFSIM_SOURCE_DIR set), also that headless
// Chromium renders the page.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <string>
#include <vector>

#include "tests/common/temp_dir.h"

namespace nfsim::test {

// The top-level <svg>...</svg> blocks of a page (nested svg elements stay inside their parent).
inline std::vector<std::string> svg_blocks(const std::string& html) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while ((pos = html.find("<svg", pos)) != std::string::npos) {
    int depth = 0;
    std::size_t i = pos;
    for (;;) {
      const std::size_t open = html.find("<svg", i), close = html.find("</svg>", i);
      if (close == std::string::npos) return out;  // unterminated: the caller's count check fails
      if (open != std::string::npos && open < close) {
        ++depth;
        i = open + 4;
      } else {
        --depth;
        i = close + 6;
        if (depth == 0) break;
      }
    }
    out.push_back(html.substr(pos, i - pos));
    pos = i;
  }
  return out;
}

// "" when `xml` (one svg block) is well-formed, else what is wrong and where.
inline std::string xml_problem(const std::string& xml) {
  std::vector<std::string> stack;
  std::size_t i = 0;
  auto name_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ':'; };
  while (i < xml.size()) {
    const char c = xml[i];
    if (c == '&') {
      const std::size_t semi = xml.find(';', i);
      if (semi == std::string::npos || semi - i > 10) return "bare & at " + std::to_string(i);
      i = semi + 1;
      continue;
    }
    if (c == '>') return "stray > at " + std::to_string(i);
    if (c != '<') {
      ++i;
      continue;
    }
    const bool closing = i + 1 < xml.size() && xml[i + 1] == '/';
    std::size_t j = i + (closing ? 2 : 1);
    const std::size_t name_start = j;
    while (j < xml.size() && name_char(xml[j])) ++j;
    const std::string name = xml.substr(name_start, j - name_start);
    if (name.empty()) return "empty tag name at " + std::to_string(i);
    if (closing) {
      if (j >= xml.size() || xml[j] != '>') return "bad closing tag " + name;
      if (stack.empty() || stack.back() != name) return "</" + name + "> closes " + (stack.empty() ? "nothing" : "<" + stack.back() + ">");
      stack.pop_back();
      i = j + 1;
      continue;
    }
    // Attributes: name='value' or name="value", then > or />.
    for (;;) {
      while (j < xml.size() && std::isspace(static_cast<unsigned char>(xml[j]))) ++j;
      if (j >= xml.size()) return "unterminated <" + name + ">";
      if (xml[j] == '>') {
        stack.push_back(name);
        ++j;
        break;
      }
      if (xml[j] == '/' && j + 1 < xml.size() && xml[j + 1] == '>') {
        j += 2;
        break;
      }
      const std::size_t a = j;
      while (j < xml.size() && name_char(xml[j])) ++j;
      if (j == a || j >= xml.size() || xml[j] != '=') return "bad attribute in <" + name + "> at " + std::to_string(a);
      ++j;
      if (j >= xml.size() || (xml[j] != '\'' && xml[j] != '"')) return "unquoted attribute in <" + name + ">";
      const char q = xml[j];
      const std::size_t end = xml.find(q, j + 1);
      if (end == std::string::npos) return "unterminated attribute in <" + name + ">";
      if (xml.find('<', j + 1) < end) return "< inside an attribute of <" + name + ">";
      j = end + 1;
    }
    i = j;
  }
  if (!stack.empty()) return "<" + stack.back() + "> never closed";
  return "";
}

// The first word "nan" or "inf" (any case, as a whole word) in the text, or "".
inline std::string non_finite_text(const std::string& html) {
  auto word = [&](std::size_t k) { return k < html.size() && std::isalpha(static_cast<unsigned char>(html[k])); };
  std::string lower(html.size(), ' ');
  for (std::size_t k = 0; k < html.size(); ++k) lower[k] = static_cast<char>(std::tolower(static_cast<unsigned char>(html[k])));
  for (const char* w : {"nan", "inf"}) {
    for (std::size_t pos = 0; (pos = lower.find(w, pos)) != std::string::npos; ++pos) {
      if ((pos == 0 || !word(pos - 1)) && !word(pos + 3)) return html.substr(pos > 40 ? pos - 40 : 0, 80);
    }
  }
  return "";
}

// Whether headless Chromium is there to render pages (tests that need it skip without it).
inline bool have_chromium() { return std::system("command -v chromium > /dev/null 2>&1") == 0; }

#ifdef NFSIM_SOURCE_DIR
// Headless Chromium renders the page `html_path` (scripts/render_report.sh) to `png_path`: a
// PNG, and not a blank one.
inline void expect_renders_in_chromium(const std::string& html_path, const std::string& png_path) {
  const std::string cmd = std::string(NFSIM_SOURCE_DIR) + "/scripts/render_report.sh " + html_path + " " + png_path + " > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const std::string png = read_file(png_path);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  EXPECT_GT(png.size(), 30000u) << "a blank page would compress to a few kB";
}
#endif

}  // namespace nfsim::test
