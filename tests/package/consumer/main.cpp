#include <cstdio>

#include "models/onnx_io.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const nfsim::models::Network net = nfsim::models::load_onnx(argv[1]);
  std::printf("consumer: %ld inputs, %ld outputs\n", static_cast<long>(net.input_size()),
              static_cast<long>(net.output_size()));
  return 0;
}
