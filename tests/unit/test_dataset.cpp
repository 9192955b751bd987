#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>

#include "core/error.h"
#include "models/dataset.h"
#include "tests/common/temp_dir.h"

namespace nfsim::models {
namespace {

using test::TempDir;
using test::write_file;

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string idx_images(std::uint32_t n, std::uint32_t rows, std::uint32_t cols, int offset = 0) {
  std::string s("\x00\x00\x08\x03", 4);
  s += be32(n) + be32(rows) + be32(cols);
  for (std::uint32_t i = 0; i < n * rows * cols; ++i) s += static_cast<char>((i + offset) % 256);
  return s;
}

void write_gz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

template <typename Fn>
void expect_input_error(Fn fn, const std::vector<std::string>& fragments) {
  try {
    fn();
    ADD_FAILURE() << "accepted";
  } catch (const core::InputError& e) {
    for (const auto& f : fragments) EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
  }
}

TEST(Idx, RawAndGzippedImagesAndLabels) {
  TempDir dir;
  write_file(dir.file("a-idx3-ubyte"), idx_images(3, 2, 2));
  write_gz(dir.file("a-idx3-ubyte.gz"), idx_images(3, 2, 2));
  for (const char* name : {"a-idx3-ubyte", "a-idx3-ubyte.gz"}) {
    const Eigen::MatrixXd m = read_idx_images(dir.file(name), -1);
    ASSERT_EQ(m.rows(), 4);
    ASSERT_EQ(m.cols(), 3);
    EXPECT_EQ(m(0, 1), 4.0);  // sample 1 starts at byte 4
    EXPECT_EQ(m(3, 2), 11.0);
    EXPECT_EQ(read_idx_images(dir.file(name), 2).cols(), 2);
  }
  std::string labels("\x00\x00\x08\x01", 4);
  labels += be32(3) + std::string("\x07\x00\x09", 3);
  write_gz(dir.file("l-idx1-ubyte.gz"), labels);
  EXPECT_EQ(read_labels(dir.file("l-idx1-ubyte.gz"), -1), (std::vector<int>{7, 0, 9}));
}

TEST(Idx, FashionMnistFromDebian) {
  const Eigen::MatrixXd x = read_idx_images(std::string(NFSIM_FMNIST_DIR) + "/t10k-images-idx3-ubyte.gz", 10);
  EXPECT_EQ(x.rows(), 784);
  EXPECT_EQ(x.cols(), 10);
  EXPECT_LE(x.maxCoeff(), 255.0);
  EXPECT_GT(x.maxCoeff(), 100.0);
  const auto labels = read_labels(std::string(NFSIM_FMNIST_DIR) + "/t10k-labels-idx1-ubyte.gz", 10);
  EXPECT_EQ(labels[0], 9);  // the first test image is an ankle boot
}

TEST(Idx, BadFilesAreRefused) {
  TempDir dir;
  write_file(dir.file("bad-idx3-ubyte"), std::string("\x12\x34\x56\x78", 4) + std::string(20, '\0'));
  expect_input_error([&] { read_idx_images(dir.file("bad-idx3-ubyte"), -1); }, {"bad-idx3-ubyte", "magic number 0x12345678"});
  const std::string good = idx_images(5, 4, 4);
  write_file(dir.file("trunc-idx3-ubyte"), good.substr(0, good.size() - 10));
  expect_input_error([&] { read_idx_images(dir.file("trunc-idx3-ubyte"), -1); }, {"truncated"});
  write_file(dir.file("hdr-idx3-ubyte"), std::string("\x00\x00\x08\x03", 4) + be32(3));
  expect_input_error([&] { read_idx_images(dir.file("hdr-idx3-ubyte"), -1); }, {"truncated", "dimensions"});
  // A header claiming 10^12 values is refused before allocating anything.
  write_file(dir.file("huge-idx3-ubyte"), std::string("\x00\x00\x08\x03", 4) + be32(1000000) + be32(1000) + be32(1000));
  expect_input_error([&] { read_idx_images(dir.file("huge-idx3-ubyte"), -1); }, {"at most"});
  expect_input_error([&] { read_idx_images(dir.file("missing-idx3-ubyte"), -1); }, {"missing-idx3-ubyte", "cannot open"});
  write_file(dir.file("empty-idx3-ubyte"), "");
  expect_input_error([&] { read_idx_images(dir.file("empty-idx3-ubyte"), -1); }, {"truncated"});
}

TEST(Csv, HeaderOptionalAndErrorsNameLineAndColumn) {
  TempDir dir;
  write_file(dir.file("a.csv"), "f0,f1,f2\n1,2,3\n4,5,6\n\n");
  write_file(dir.file("b.csv"), "1,2,3\n4, 5 ,6e0\n");
  // A UTF-8 byte-order mark (spreadsheets write one) does not turn the first row into a header.
  write_file(dir.file("bom.csv"), "\xEF\xBB\xBF" "1,2,3\n4,5,6\n");
  for (const char* n : {"a.csv", "b.csv", "bom.csv"}) {
    const Eigen::MatrixXd m = read_csv_matrix(dir.file(n), -1);
    ASSERT_EQ(m.rows(), 3);
    ASSERT_EQ(m.cols(), 2);
    EXPECT_EQ(m(2, 1), 6.0);
  }
  write_file(dir.file("c.csv"), "1,2,3\n4,x,6\n");
  expect_input_error([&] { read_csv_matrix(dir.file("c.csv"), -1); }, {"c.csv", "line 2", "column 2", "'x'"});
  write_file(dir.file("d.csv"), "1,2,3\n4,5\n");
  expect_input_error([&] { read_csv_matrix(dir.file("d.csv"), -1); }, {"line 2 has 2 columns", "expected 3"});
  write_file(dir.file("e.csv"), "1,nan,3\n");
  expect_input_error([&] { read_csv_matrix(dir.file("e.csv"), -1); }, {"'nan'"});
  write_file(dir.file("f.csv"), "");
  expect_input_error([&] { read_csv_matrix(dir.file("f.csv"), -1); }, {"no data rows"});
}

TEST(Npy, RoundTripAndTypes) {
  TempDir dir;
  Eigen::MatrixXd m(3, 2);
  m << 1, 2, 3, 4, 5, 6.5;
  write_npy(dir.file("m.npy"), m);
  EXPECT_EQ(read_npy_matrix(dir.file("m.npy"), -1), m);
  EXPECT_EQ(read_npy_matrix(dir.file("m.npy"), 1).cols(), 1);
  // float32, 3-D (samples x 1 x 2), hand-made v1 header.
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1, 2), }";
  header += std::string(118 - header.size(), ' ') + "\n";
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size()) + '\0' + header;
  const float vals[4] = {1.5f, -2.0f, 3.0f, 4.0f};
  bytes.append(reinterpret_cast<const char*>(vals), sizeof vals);
  write_file(dir.file("f.npy"), bytes);
  const Eigen::MatrixXd f = read_npy_matrix(dir.file("f.npy"), -1);
  EXPECT_EQ(f, (Eigen::MatrixXd(2, 2) << 1.5, 3.0, -2.0, 4.0).finished());
}

TEST(Npy, BadFilesAreRefused) {
  TempDir dir;
  auto npy = [](const std::string& dict, const std::string& body) {
    std::string header = dict + std::string(118 - dict.size(), ' ') + "\n";
    return std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size()) + '\0' + header + body;
  };
  write_file(dir.file("fortran.npy"), npy("{'descr': '<f8', 'fortran_order': True, 'shape': (1, 1), }", std::string(8, '\0')));
  expect_input_error([&] { read_npy_matrix(dir.file("fortran.npy"), -1); }, {"Fortran order"});
  write_file(dir.file("c16.npy"), npy("{'descr': '<c16', 'fortran_order': False, 'shape': (1, 1), }", std::string(16, '\0')));
  expect_input_error([&] { read_npy_matrix(dir.file("c16.npy"), -1); }, {"'<c16'", "'<f4', '<f8'"});
  write_file(dir.file("trunc.npy"), npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4, 4), }", std::string(8, '\0')));
  expect_input_error([&] { read_npy_matrix(dir.file("trunc.npy"), -1); }, {"truncated"});
  write_file(dir.file("huge.npy"), npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }", ""));
  expect_input_error([&] { read_npy_matrix(dir.file("huge.npy"), -1); }, {"at most"});
  write_file(dir.file("text.npy"), "hello");
  expect_input_error([&] { read_npy_matrix(dir.file("text.npy"), -1); }, {"not an NPY file"});
}

TEST(InputSpec, ParsesEveryFormAndRefusesUnknownNames) {
  InputSpec r = parse_input_spec("random:100:2:0.1:7");
  EXPECT_EQ(r.kind, InputSpec::Kind::random);
  EXPECT_EQ(*r.count, 100);
  EXPECT_EQ(r.scale, 2.0);
  EXPECT_EQ(r.shift, 0.1);
  EXPECT_EQ(r.seed, 7u);
  EXPECT_EQ(parse_input_spec("random:5").scale, 1.0);
  EXPECT_EQ(parse_input_spec("x.npy").kind, InputSpec::Kind::npy);
  EXPECT_EQ(parse_input_spec("x.csv").kind, InputSpec::Kind::csv);
  EXPECT_EQ(parse_input_spec("t10k-images-idx3-ubyte.gz").kind, InputSpec::Kind::idx);
  expect_input_error([] { parse_input_spec("data.bin"); }, {"'data.bin'", "random:COUNT"});
  expect_input_error([] { parse_input_spec("random:0"); }, {"COUNT"});
  expect_input_error([] { parse_input_spec("random:10:abc"); }, {"SCALE", "'abc'"});
}

TEST(LoadInputs, RandomIsSeededAndScaled) {
  InputSpec spec = parse_input_spec("random:2000:2:0.1:7");
  const Dataset a = load_inputs(spec, 10), b = load_inputs(spec, 10);
  EXPECT_EQ(a.inputs, b.inputs);
  EXPECT_EQ(a.inputs.rows(), 10);
  EXPECT_EQ(a.inputs.cols(), 2000);
  EXPECT_NEAR(a.inputs.mean(), 0.1, 0.1);
  spec.seed = 8;
  EXPECT_NE(load_inputs(spec, 10).inputs, a.inputs);
}

TEST(LoadInputs, ChecksFeaturesLabelsAndScales) {
  TempDir dir;
  write_file(dir.file("x.csv"), "1,2\n3,4\n5,6\n");
  write_file(dir.file("y.csv"), "0\n1\n");
  InputSpec spec = parse_input_spec(dir.file("x.csv"));
  expect_input_error([&] { load_inputs(spec, 3); }, {"x.csv", "2 features", "expects 3"});
  spec.scale = 0.5;
  spec.shift = 1.0;
  EXPECT_EQ(load_inputs(spec, 2).inputs(1, 2), 4.0);
  spec.labels_path = dir.file("y.csv");
  expect_input_error([&] { load_inputs(spec, 2); }, {"y.csv", "2 labels", "expected 3"});
  spec.count = 2;
  EXPECT_EQ(load_inputs(spec, 2).labels, (std::vector<int>{0, 1}));
  write_file(dir.file("z.csv"), "0.5\n1\n");
  spec.labels_path = dir.file("z.csv");
  expect_input_error([&] { load_inputs(spec, 2); }, {"label 0", "0.5"});
}

}  // namespace
}  // namespace nfsim::models
