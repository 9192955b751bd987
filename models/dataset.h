#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nfsim::models {

// A set of inputs, one column per sample (features x count), with optional integer labels.
struct Dataset {
  Eigen::MatrixXd inputs;
  std::vector<int> labels;  // empty when unlabelled
  std::string source;       // file or generator, for reports and messages

  Eigen::Index count() const { return inputs.cols(); }
};

// What to load. A spec string is a path whose format follows its name (`.npy`, `.csv`,
// `*-idx3-ubyte[.gz]`, `*.idx[.gz]`) or `random:COUNT[:SCALE[:SHIFT[:SEED]]]`.
struct InputSpec {
  enum class Kind { idx, csv, npy, random };
  Kind kind = Kind::random;
  std::string path;                  // file formats
  std::optional<std::int64_t> count; // at most this many samples (files); required for random
  double scale = 1.0;                // files: every value is multiplied by it (1/255 for pixels);
                                     // random: scale * N(0, 1) + shift
  double shift = 0.0;
  std::uint64_t seed = 1;
  std::string labels_path;           // optional: IDX1, CSV (one column) or NPY of integers
};

// Parses the CLI form; throws InputError naming the spec and the accepted forms.
InputSpec parse_input_spec(const std::string& text);

// Loads the spec. `features` is the network's input size, used by random inputs and to check
// files (a mismatch is an InputError naming the file, what it has and what the model expects).
// With `classes` > 0, every label must be a class index 0..classes-1 (the model's outputs).
// `shape` is the network's input shape (Network::input_shape()); for images ({C, H, W}) an NPY
// file's samples must be (C, H, W), (H, W) when C = 1, or flat (C*H*W), and IDX images H x W
// with C = 1 (or C x H x W): another layout of the same size (NHWC) is refused, naming both.
Dataset load_inputs(const InputSpec& spec, Eigen::Index features, Eigen::Index classes = 0,
                    const std::vector<Eigen::Index>& shape = {});

// Readers. Each returns samples as columns; `max_count` < 0 means all. Errors name the file and
// the problem; sizes claimed by headers are checked before anything is allocated.
Eigen::MatrixXd read_idx_images(const std::string& path, std::int64_t max_count);
std::vector<int> read_idx_labels(const std::string& path, std::int64_t max_count);
Eigen::MatrixXd read_csv_matrix(const std::string& path, std::int64_t max_count);
Eigen::MatrixXd read_npy_matrix(const std::string& path, std::int64_t max_count);
std::vector<int> read_labels(const std::string& path, std::int64_t max_count);
Eigen::MatrixXd random_inputs(Eigen::Index features, std::int64_t count, double scale, double shift,
                              std::uint64_t seed);

// Writes a float64 C-order NPY file (samples as rows), atomically.
void write_npy(const std::string& path, const Eigen::MatrixXd& samples_as_columns);

}  // namespace nfsim::models
