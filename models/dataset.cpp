#include "models/dataset.h"

#include <zlib.h>

#include <cerrno>
#include <cmath>
#include <limits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/input_file.h"
#include "core/rng.h"
#include "core/strings.h"

namespace nfsim::models {
namespace {

// The most values one dataset may hold in memory (2 GiB of doubles). Headers claiming more are
// refused before anything is allocated.
constexpr std::int64_t kMaxElements = std::int64_t{1} << 28;
constexpr std::uint64_t kRandomInputStream = 0x1A7C0001;

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw core::InputError(path + ": " + what); }

void check_readable(const std::string& path) {
  // Any size: binary data files are bounded by their headers (kMaxElements), not their bytes.
  core::check_input_file(path, "a readable data file", std::numeric_limits<std::uintmax_t>::max());
}

std::int64_t take_count(std::int64_t available, std::int64_t max_count) {
  return max_count < 0 ? available : std::min(available, max_count);
}

void check_size(const std::string& path, std::int64_t samples, std::int64_t features) {
  if (features <= 0) fail(path, "samples have " + std::to_string(features) + " features; expected at least 1");
  if (samples > 0 && features > kMaxElements / samples) {
    fail(path, "holds " + std::to_string(samples) + " x " + std::to_string(features) +
                   " values; at most " + std::to_string(kMaxElements) + " are supported (use a smaller count)");
  }
}

void check_finite(const std::string& path, const Eigen::MatrixXd& m) {
  for (Eigen::Index c = 0; c < m.cols(); ++c) {
    for (Eigen::Index r = 0; r < m.rows(); ++r) {
      if (!std::isfinite(m(r, c))) {
        fail(path, "sample " + std::to_string(c) + ", feature " + std::to_string(r) + " is " +
                       core::format_double(m(r, c)) + "; expected a finite number");
      }
    }
  }
}

// Reads a gzip-compressed or plain file (zlib reads both) as a byte stream.
class GzReader {
 public:
  explicit GzReader(const std::string& path) : path_(path) {
    check_readable(path);
    file_ = gzopen(path.c_str(), "rb");
    if (!file_) fail(path, "cannot open for reading");
  }
  ~GzReader() {
    if (file_) gzclose(file_);
  }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  // For an uncompressed file: throws unless the file holds `bytes` of data after a header of
  // `header` bytes (what the header claims), before anything is allocated for them.
  void check_holds(std::uintmax_t bytes, std::uintmax_t header, const std::string& what) {
    if (!gzdirect(file_)) return;  // compressed: the reader's memory grows with the data read
    std::error_code ec;
    const std::uintmax_t size = std::filesystem::file_size(path_, ec);
    if (ec || size < header) return;
    if (size - header < bytes) {
      fail(path_, "file is truncated: its header claims " + what + " (" + std::to_string(bytes) + " bytes), the file holds " +
                      std::to_string(size - header) + " bytes of data");
    }
  }

  // Reads exactly `n` bytes or throws naming what was being read.
  void read(void* out, std::size_t n, const std::string& what) {
    auto* p = static_cast<unsigned char*>(out);
    while (n > 0) {
      const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n, 1u << 30));
      const int got = gzread(file_, p, chunk);
      if (got < 0) {
        int err = 0;
        fail(path_, std::string("read error (") + gzerror(file_, &err) + ") while reading " + what);
      }
      if (got == 0) fail(path_, "file is truncated while reading " + what);
      p += got;
      n -= static_cast<std::size_t>(got);
    }
  }

 private:
  std::string path_;
  gzFile file_ = nullptr;
};

struct IdxHeader {
  int type = 0;
  std::vector<std::int64_t> dims;
};

std::size_t idx_element_size(int type) {
  switch (type) {
    case 0x08: case 0x09: return 1;
    case 0x0B: return 2;
    case 0x0C: case 0x0D: return 4;
    case 0x0E: return 8;
    default: return 0;
  }
}

IdxHeader read_idx_header(GzReader& in, const std::string& path) {
  unsigned char magic[4];
  in.read(magic, 4, "the IDX magic number");
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%02X%02X%02X%02X", magic[0], magic[1], magic[2], magic[3]);
  if (magic[0] != 0 || magic[1] != 0 || idx_element_size(magic[2]) == 0 || magic[3] == 0) {
    fail(path, std::string("not an IDX file: magic number ") + hex +
                   "; expected 0x0000TTNN (type TT in 08, 09, 0B, 0C, 0D, 0E; NN dimensions)");
  }
  IdxHeader h;
  h.type = magic[2];
  for (int d = 0; d < magic[3]; ++d) {
    unsigned char b[4];
    in.read(b, 4, "the IDX dimensions");
    h.dims.push_back((std::int64_t{b[0]} << 24) | (b[1] << 16) | (b[2] << 8) | b[3]);
  }
  return h;
}

double idx_value(const unsigned char* p, int type) {
  switch (type) {
    case 0x08: return p[0];
    case 0x09: return static_cast<signed char>(p[0]);
    case 0x0B: return static_cast<std::int16_t>((p[0] << 8) | p[1]);
    case 0x0C: return static_cast<std::int32_t>((std::uint32_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3]);
    case 0x0D: {
      const std::uint32_t u = (std::uint32_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
      float f;
      std::memcpy(&f, &u, 4);
      return f;
    }
    default: {
      std::uint64_t u = 0;
      for (int i = 0; i < 8; ++i) u = (u << 8) | p[i];
      double d;
      std::memcpy(&d, &u, 8);
      return d;
    }
  }
}

// Reads `samples` x `features` big-endian values into columns, in chunks so that a truncated
// file fails having allocated only what it really held.
Eigen::MatrixXd read_idx_body(GzReader& in, const IdxHeader& h, std::int64_t samples, std::int64_t features) {
  const std::size_t elem = idx_element_size(h.type);
  // Memory grows with the data actually read (a header claiming more than the file holds fails
  // at its end, having allocated no more than the file's own size), geometrically: no quadratic
  // copying. Uncompressed files were already checked against their size (read_idx_images).
  std::vector<double> values;
  values.reserve(static_cast<std::size_t>(std::min<std::int64_t>(samples * features, std::int64_t{1} << 20)));
  const std::int64_t chunk_samples = std::max<std::int64_t>(1, (1 << 20) / (features * static_cast<std::int64_t>(elem)));
  std::vector<unsigned char> buf;
  for (std::int64_t start = 0; start < samples; start += chunk_samples) {
    const std::int64_t n = std::min(chunk_samples, samples - start);
    buf.resize(static_cast<std::size_t>(n * features) * elem);
    in.read(buf.data(), buf.size(), "samples " + std::to_string(start) + ".." + std::to_string(start + n - 1));
    for (std::size_t i = 0; i < buf.size(); i += elem) values.push_back(idx_value(&buf[i], h.type));
  }
  return Eigen::Map<const Eigen::MatrixXd>(values.data(), features, samples);
}

std::string read_text_file(const std::string& path) {
  std::string text = core::read_input_file(path, "a readable text data file", core::kMaxTextFileBytes);
  // A UTF-8 byte-order mark (spreadsheets write one) is not part of the first field.
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);
  return text;
}

struct NpyArray {
  std::string descr;
  std::vector<std::int64_t> shape;
  std::size_t data_offset = 0;
};

NpyArray parse_npy_header(const std::string& bytes, const std::string& path) {
  static const std::string kMagic = "\x93NUMPY";
  if (bytes.size() < 10 || bytes.compare(0, 6, kMagic) != 0) {
    fail(path, "not an NPY file (missing the \\x93NUMPY magic); expected a NumPy .npy file");
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail(path, "truncated NPY header");
    for (int i = 0; i < 4; ++i) header_len |= std::size_t{static_cast<unsigned char>(bytes[8 + i])} << (8 * i);
    offset = 12;
  } else {
    fail(path, "NPY format version " + std::to_string(major) + "; expected 1, 2 or 3");
  }
  if (bytes.size() < offset + header_len) fail(path, "truncated NPY header");
  const std::string header = bytes.substr(offset, header_len);
  NpyArray a;
  a.data_offset = offset + header_len;
  auto value_of = [&](const std::string& key) {
    const auto k = header.find("'" + key + "'");
    if (k == std::string::npos) fail(path, "NPY header lacks '" + key + "': " + core::trim(header));
    // A key given twice would be read as its first value while numpy reads its last.
    if (header.find("'" + key + "'", k + 1) != std::string::npos) {
      fail(path, "NPY header gives '" + key + "' twice: " + core::trim(header) + "; expected each key once");
    }
    const auto colon = header.find(':', k);
    if (colon == std::string::npos) fail(path, "malformed NPY header: " + core::trim(header));
    return core::trim(header.substr(colon + 1));
  };
  const std::string descr = value_of("descr");
  if (descr.size() < 2 || descr[0] != '\'') fail(path, "malformed NPY descr in header: " + core::trim(header));
  a.descr = descr.substr(1, descr.find('\'', 1) - 1);
  const std::string fortran = value_of("fortran_order");
  if (fortran.rfind("True", 0) == 0) {
    fail(path, "NPY array is in Fortran order; expected C order (numpy.ascontiguousarray)");
  }
  if (fortran.rfind("False", 0) != 0) {
    fail(path, "malformed NPY header: fortran_order is '" + core::trim(fortran.substr(0, fortran.find_first_of(",}"))) +
                   "'; expected True or False");
  }
  const std::string shape_text = value_of("shape");
  if (shape_text.empty() || shape_text[0] != '(') fail(path, "malformed NPY shape in header: " + core::trim(header));
  const std::string inner = shape_text.substr(1, shape_text.find(')') - 1);
  for (const auto& part : core::split(inner, ',')) {
    const std::string t = core::trim(part);
    if (t.empty()) continue;
    a.shape.push_back(core::parse_int(t, path + ": NPY shape entry", 0, std::int64_t{1} << 40));
  }
  return a;
}

Eigen::MatrixXd npy_to_columns(const std::string& bytes, const NpyArray& a, const std::string& path,
                               std::int64_t max_count) {
  std::size_t elem = 0;
  if (a.descr == "<f8") {
    elem = 8;
  } else if (a.descr == "<f4") {
    elem = 4;
  } else if (a.descr == "<i8") {
    elem = 8;
  } else if (a.descr == "<i4") {
    elem = 4;
  } else if (a.descr == "|u1") {
    elem = 1;
  } else {
    fail(path, "NPY dtype '" + a.descr + "'; expected '<f4', '<f8', '<i4', '<i8' or '|u1' (little-endian)");
  }
  if (a.shape.empty()) fail(path, "NPY array is a scalar; expected shape (samples, features...)");
  const std::int64_t available = a.shape[0];
  std::int64_t features = 1;
  for (std::size_t d = 1; d < a.shape.size(); ++d) {
    if (a.shape[d] == 0 || features > kMaxElements / std::max<std::int64_t>(a.shape[d], 1)) {
      fail(path, "NPY shape entry " + std::to_string(a.shape[d]) + " is out of range; expected 1 or more features, at most " +
                     std::to_string(kMaxElements) + " values per sample");
    }
    features *= a.shape[d];
  }
  check_size(path, available, features);
  const std::uint64_t need = static_cast<std::uint64_t>(available) * features * elem;
  if (bytes.size() - a.data_offset < need) {
    fail(path, "NPY data is truncated: " + std::to_string(bytes.size() - a.data_offset) + " bytes; expected " +
                   std::to_string(need) + " for the shape in the header");
  }
  const std::int64_t n = take_count(available, max_count);
  Eigen::MatrixXd out(features, n);
  const char* base = bytes.data() + a.data_offset;
  for (std::int64_t s = 0; s < n; ++s) {
    for (std::int64_t f = 0; f < features; ++f) {
      const char* p = base + static_cast<std::size_t>(s * features + f) * elem;
      double v = 0;
      if (a.descr == "<f8") { double d; std::memcpy(&d, p, 8); v = d; }
      else if (a.descr == "<f4") { float d; std::memcpy(&d, p, 4); v = d; }
      else if (a.descr == "<i8") { std::int64_t d; std::memcpy(&d, p, 8); v = static_cast<double>(d); }
      else if (a.descr == "<i4") { std::int32_t d; std::memcpy(&d, p, 4); v = d; }
      else { v = static_cast<unsigned char>(*p); }
      out(f, s) = v;
    }
  }
  return out;
}

std::vector<int> to_labels(const Eigen::MatrixXd& m, const std::string& path) {
  if (m.rows() != 1) fail(path, "labels have " + std::to_string(m.rows()) + " columns; expected 1");
  std::vector<int> labels(static_cast<std::size_t>(m.cols()));
  for (Eigen::Index i = 0; i < m.cols(); ++i) {
    const double v = m(0, i);
    if (v != std::floor(v) || v < 0 || v > 1e9) {
      fail(path, "label " + std::to_string(i) + " is " + core::format_double(v) + "; expected a non-negative integer");
    }
    labels[static_cast<std::size_t>(i)] = static_cast<int>(v);
  }
  return labels;
}

bool is_idx_name(const std::string& p) {
  return core::ends_with(p, "-ubyte") || core::ends_with(p, "-ubyte.gz") || core::ends_with(p, ".idx") ||
         core::ends_with(p, ".idx.gz");
}

}  // namespace

namespace {

// read_idx_images, also giving the shape of one sample (the dimensions after the first).
Eigen::MatrixXd read_idx_images_shaped(const std::string& path, std::int64_t max_count,
                                       std::vector<std::int64_t>* sample_dims) {
  GzReader in(path);
  const IdxHeader h = read_idx_header(in, path);
  if (sample_dims && h.dims.size() >= 2) sample_dims->assign(h.dims.begin() + 1, h.dims.end());
  if (h.dims.size() < 2) {
    fail(path, "IDX file has " + std::to_string(h.dims.size()) + " dimension(s); expected samples x features "
               "(2 or more, e.g. an idx3 image file; labels are read with --labels)");
  }
  std::int64_t features = 1;
  for (std::size_t d = 1; d < h.dims.size(); ++d) {
    if (h.dims[d] == 0 || features > kMaxElements / h.dims[d]) {
      fail(path, "IDX dimension " + std::to_string(d) + " is " + std::to_string(h.dims[d]) +
                     "; expected samples of 1 to " + std::to_string(kMaxElements) + " values in all");
    }
    features *= h.dims[d];
  }
  const std::int64_t n = take_count(h.dims[0], max_count);
  check_size(path, n, features);
  in.check_holds(static_cast<std::uintmax_t>(n * features) * idx_element_size(h.type), 4 + 4 * h.dims.size(),
                 std::to_string(n) + " samples of " + std::to_string(features) + " values");
  return read_idx_body(in, h, n, features);
}

Eigen::MatrixXd read_npy_shaped(const std::string& path, std::int64_t max_count, std::vector<std::int64_t>* sample_dims) {
  // The whole array is read at once: at most kMaxElements 8-byte values plus a header.
  const std::string bytes = core::read_input_file(path, "a NumPy .npy file", static_cast<std::uintmax_t>(kMaxElements) * 8 + (1u << 20));
  const NpyArray a = parse_npy_header(bytes, path);
  if (sample_dims && !a.shape.empty()) sample_dims->assign(a.shape.begin() + 1, a.shape.end());
  return npy_to_columns(bytes, a, path, max_count);
}

std::string tuple_text(const std::vector<std::int64_t>& dims) {
  std::vector<std::string> parts;
  for (auto d : dims) parts.push_back(std::to_string(d));
  return "(" + core::join(parts, ", ") + (dims.size() == 1 ? ",)" : ")");
}

// Image inputs: the file's sample shape must be the model's C x H x W in C order (NCHW), or
// (H, W) for one channel, or (NPY) already flat; any other shape with the same size (NHWC, say)
// would be read in the wrong order.
void check_sample_shape(const std::string& path, bool npy, const std::vector<std::int64_t>& dims,
                        const std::vector<Eigen::Index>& shape) {
  const std::int64_t c = shape[0], h = shape[1], w = shape[2];
  const bool ok = dims == std::vector<std::int64_t>{c, h, w} || (c == 1 && dims == std::vector<std::int64_t>{h, w}) ||
                  (npy && dims == std::vector<std::int64_t>{c * h * w});
  if (ok) return;
  const std::string model = std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
  std::string expected = npy ? "NPY (N, " + std::to_string(c) + ", " + std::to_string(h) + ", " + std::to_string(w) + ")"
                             : "IDX images N x " + std::to_string(c) + " x " + std::to_string(h) + " x " + std::to_string(w);
  if (c == 1) expected += npy ? ", (N, " + std::to_string(h) + ", " + std::to_string(w) + ")"
                              : " or N x " + std::to_string(h) + " x " + std::to_string(w);
  if (npy) expected += " or (N, " + std::to_string(c * h * w) + ")";
  fail(path, "samples have shape " + tuple_text(dims) + "; the model reads " + model +
                 " images (C x H x W, channels first); expected " + expected);
}

}  // namespace

Eigen::MatrixXd read_idx_images(const std::string& path, std::int64_t max_count) {
  return read_idx_images_shaped(path, max_count, nullptr);
}

std::vector<int> read_idx_labels(const std::string& path, std::int64_t max_count) {
  GzReader in(path);
  const IdxHeader h = read_idx_header(in, path);
  if (h.dims.size() != 1) {
    fail(path, "IDX label file has " + std::to_string(h.dims.size()) + " dimensions; expected 1 (an idx1 file)");
  }
  const std::int64_t n = take_count(h.dims[0], max_count);
  check_size(path, n, 1);
  in.check_holds(static_cast<std::uintmax_t>(n) * idx_element_size(h.type), 8, std::to_string(n) + " labels");
  return to_labels(read_idx_body(in, h, n, 1), path);
}

// Parses in place, cell by cell, into one flat array (sample-major, which is the column-major
// layout of the features x samples result): memory stays near 9x the file, where splitting
// lines into strings took 30x.
Eigen::MatrixXd read_csv_matrix(const std::string& path, std::int64_t max_count) {
  std::string text = read_text_file(path);
  std::vector<double> values;
  std::size_t columns = 0, samples = 0;
  bool header_seen = false;
  int line_no = 0;
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    ++line_no;
    const std::size_t next = end + 1;
    if (end < text.size()) text[end] = '\0';  // strtod must not run on into the next line
    std::size_t first = pos;
    while (first < end && is_space(text[first])) ++first;
    if (first == end) {
      pos = next;
      continue;
    }
    if (max_count >= 0 && static_cast<std::int64_t>(samples) >= max_count) break;
    std::size_t cells = 0, c = pos;
    bool header = false;
    while (true) {
      const std::size_t comma = static_cast<std::size_t>(std::find(text.begin() + static_cast<std::ptrdiff_t>(c),
                                                                   text.begin() + static_cast<std::ptrdiff_t>(end), ',') -
                                                         text.begin());
      std::size_t a = c, b = comma;
      while (a < b && is_space(text[a])) ++a;
      while (b > a && is_space(text[b - 1])) --b;
      char* stop = nullptr;
      const double v = a < b ? std::strtod(text.c_str() + a, &stop) : 0.0;
      const bool numeric = a < b && stop == text.c_str() + b;
      if (!numeric && samples == 0 && !header_seen && cells == 0) {
        header = true;  // a first line that does not start with a number is a header row
      }
      if (!header && (!numeric || !std::isfinite(v))) {
        fail(path, "line " + std::to_string(line_no) + ", column " + std::to_string(cells + 1) + ": '" + text.substr(a, b - a) +
                       "' is not a finite number");
      }
      if (!header) values.push_back(v);
      ++cells;
      if (comma == end) break;
      c = comma + 1;
    }
    if (header) {
      header_seen = true;
      columns = cells;
      pos = next;
      continue;
    }
    if (columns == 0) columns = cells;
    if (cells != columns) {
      fail(path, "line " + std::to_string(line_no) + " has " + std::to_string(cells) + " columns; expected " +
                     std::to_string(columns) + " like the first line");
    }
    check_size(path, static_cast<std::int64_t>(samples) + 1, static_cast<std::int64_t>(columns));
    ++samples;
    pos = next;
  }
  if (samples == 0) fail(path, "no data rows; expected one sample per line, comma-separated");
  return Eigen::Map<const Eigen::MatrixXd>(values.data(), static_cast<Eigen::Index>(columns), static_cast<Eigen::Index>(samples));
}

Eigen::MatrixXd read_npy_matrix(const std::string& path, std::int64_t max_count) {
  return read_npy_shaped(path, max_count, nullptr);
}

std::vector<int> read_labels(const std::string& path, std::int64_t max_count) {
  if (is_idx_name(path)) return read_idx_labels(path, max_count);
  if (core::ends_with(path, ".npy")) return to_labels(read_npy_matrix(path, max_count), path);
  if (core::ends_with(path, ".csv")) return to_labels(read_csv_matrix(path, max_count), path);
  fail(path, "cannot tell the label file's format from its name; expected *-idx1-ubyte[.gz], *.npy or *.csv");
}

Eigen::MatrixXd random_inputs(Eigen::Index features, std::int64_t count, double scale, double shift,
                              std::uint64_t seed) {
  if (count < 1) throw core::InputError("random inputs: count " + std::to_string(count) + "; expected >= 1");
  check_size("random inputs", count, features);
  core::RandomStream rng(seed, kRandomInputStream);
  Eigen::MatrixXd out(features, count);
  for (std::int64_t s = 0; s < count; ++s) {
    for (Eigen::Index f = 0; f < features; ++f) out(f, s) = scale * rng.normal() + shift;
  }
  return out;
}

InputSpec parse_input_spec(const std::string& text) {
  InputSpec spec;
  static const std::string kForms =
      "a path ending in .npy, .csv, -idx3-ubyte[.gz] or .idx[.gz], or random:COUNT[:SCALE[:SHIFT[:SEED]]]";
  if (text.rfind("random:", 0) == 0) {
    const auto parts = core::split(text.substr(7), ':');
    if (parts.size() > 4) throw core::InputError("input spec '" + text + "': too many fields; expected " + kForms);
    spec.kind = InputSpec::Kind::random;
    spec.count = core::parse_int(parts[0], "input spec '" + text + "' COUNT", 1, kMaxElements);
    if (parts.size() > 1) spec.scale = core::parse_double(parts[1], "input spec '" + text + "' SCALE");
    if (parts.size() > 2) spec.shift = core::parse_double(parts[2], "input spec '" + text + "' SHIFT");
    if (parts.size() > 3) {
      spec.seed = static_cast<std::uint64_t>(core::parse_int(parts[3], "input spec '" + text + "' SEED", 0,
                                                             std::numeric_limits<long long>::max()));
    }
    return spec;
  }
  spec.path = text;
  if (core::ends_with(text, ".npy")) {
    spec.kind = InputSpec::Kind::npy;
  } else if (core::ends_with(text, ".csv")) {
    spec.kind = InputSpec::Kind::csv;
  } else if (is_idx_name(text)) {
    spec.kind = InputSpec::Kind::idx;
  } else {
    throw core::InputError("input spec '" + text + "': cannot tell the format from the name; expected " + kForms);
  }
  return spec;
}

Dataset load_inputs(const InputSpec& spec, Eigen::Index features, Eigen::Index classes,
                    const std::vector<Eigen::Index>& shape) {
  Dataset d;
  std::vector<std::int64_t> sample_dims;  // one sample's shape in the file (IDX, NPY)
  const std::int64_t max_count = spec.count ? *spec.count : -1;
  if (spec.count && *spec.count < 1) {
    throw core::InputError("input count " + std::to_string(*spec.count) + "; expected >= 1");
  }
  if (!std::isfinite(spec.scale)) throw core::InputError("input scale " + core::format_double(spec.scale) + "; expected a finite number");
  if (!std::isfinite(spec.shift)) throw core::InputError("input shift " + core::format_double(spec.shift) + "; expected a finite number");
  switch (spec.kind) {
    case InputSpec::Kind::random:
      if (!spec.count) throw core::InputError("random inputs need a count");
      d.inputs = random_inputs(features, *spec.count, spec.scale, spec.shift, spec.seed);
      d.source = "random:" + std::to_string(*spec.count) + ":" + core::format_double(spec.scale) + ":" +
                 core::format_double(spec.shift) + ":" + std::to_string(spec.seed);
      if (!d.inputs.allFinite()) {
        fail(d.source, "scale " + core::format_double(spec.scale) + " and shift " + core::format_double(spec.shift) +
                           " overflow the random inputs; expected values that keep them finite");
      }
      break;
    case InputSpec::Kind::idx: d.inputs = read_idx_images_shaped(spec.path, max_count, &sample_dims); break;
    case InputSpec::Kind::csv: d.inputs = read_csv_matrix(spec.path, max_count); break;
    case InputSpec::Kind::npy: d.inputs = read_npy_shaped(spec.path, max_count, &sample_dims); break;
  }
  if (shape.size() == 3 && !sample_dims.empty()) {
    check_sample_shape(spec.path, spec.kind == InputSpec::Kind::npy, sample_dims, shape);
  }
  if (spec.kind != InputSpec::Kind::random) {
    d.source = spec.path;
    check_finite(spec.path, d.inputs);
    if (spec.scale != 1.0 || spec.shift != 0.0) {
      d.inputs = (d.inputs.array() * spec.scale + spec.shift).matrix();
      if (!d.inputs.allFinite()) {
        fail(spec.path, "scale " + core::format_double(spec.scale) + " and shift " + core::format_double(spec.shift) +
                            " overflow the inputs; expected values that keep them finite");
      }
    }
  }
  if (d.count() == 0) fail(d.source, "holds no samples; expected at least one input");
  if (d.inputs.rows() != features) {
    fail(d.source, "samples have " + std::to_string(d.inputs.rows()) + " features; the model expects " +
                       std::to_string(features));
  }
  if (!spec.labels_path.empty()) {
    // With a count on a file, the labels are cut like the inputs; otherwise (no count, or random
    // inputs, whose count is all there is) they must match exactly: one more label is read to
    // tell "too many" from "just right".
    const bool cut = spec.count && spec.kind != InputSpec::Kind::random;
    d.labels = read_labels(spec.labels_path, cut ? d.count() : d.count() + 1);
    if (static_cast<Eigen::Index>(d.labels.size()) != d.count()) {
      fail(spec.labels_path, "has " + std::to_string(d.labels.size()) + " labels; expected " +
                                 std::to_string(d.count()) + " (one per input)");
    }
    for (std::size_t i = 0; i < d.labels.size() && classes > 0; ++i) {
      if (d.labels[i] < 0 || d.labels[i] >= classes) {
        fail(spec.labels_path, "label " + std::to_string(i) + " is " + std::to_string(d.labels[i]) + "; expected a class 0.." +
                                   std::to_string(classes - 1) + " (the model has " + std::to_string(classes) + " outputs)");
      }
    }
  }
  return d;
}

void write_npy(const std::string& path, const Eigen::MatrixXd& samples_as_columns) {
  std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (" +
                       std::to_string(samples_as_columns.cols()) + ", " + std::to_string(samples_as_columns.rows()) +
                       "), }";
  const std::size_t total = 10 + header.size() + 1;
  header += std::string((64 - total % 64) % 64, ' ') + "\n";
  core::write_file_atomically(path, [&](std::ostream& out) {
    out.write("\x93NUMPY\x01\x00", 8);
    const auto len = static_cast<std::uint16_t>(header.size());
    out.put(static_cast<char>(len & 0xFF));
    out.put(static_cast<char>(len >> 8));
    out << header;
    const Eigen::MatrixXd& m = samples_as_columns;  // column-major: each column (sample) is contiguous
    out.write(reinterpret_cast<const char*>(m.data()), static_cast<std::streamsize>(m.size() * sizeof(double)));
  });
}

}  // namespace nfsim::models
