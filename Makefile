# nfsim: the two commands are `make run` and `make test`. Both install missing Debian packages
# (scripts/install-deps.sh), configure and build first.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
NFSIM := $(BUILD_DIR)/apps/nfsim
FMNIST := /usr/share/datasets/fashion-mnist
EXAMPLE_MODEL := examples/models/fmnist_mlp_small.onnx
RUN_DIR := $(BUILD_DIR)/run

.PHONY: all deps configure build run test bench clean

all: build

deps:
	bash scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD_DIR) -j$(JOBS)

# `make run` shows the bundled example model, evaluates it fault-free on 1000 Fashion-MNIST test
# images, then runs fault-injection campaigns on it with the functional and the chip engine.
run: build
	@mkdir -p $(RUN_DIR)
	$(NFSIM) info $(EXAMPLE_MODEL)
	$(NFSIM) eval $(EXAMPLE_MODEL) --inputs $(FMNIST)/t10k-images-idx3-ubyte.gz \
	  --labels $(FMNIST)/t10k-labels-idx1-ubyte.gz --count 1000 --scale 0.00392156862745098 \
	  --precision 4 --out $(RUN_DIR)/eval.csv
	@echo "first rows of $(RUN_DIR)/eval.csv:"; head -4 $(RUN_DIR)/eval.csv
	$(NFSIM) run examples/campaigns/fmnist_functional.yaml --out $(RUN_DIR)/fmnist_functional
	$(NFSIM) run examples/campaigns/fmnist_chip.yaml --out $(RUN_DIR)/fmnist_chip

test: build
	cd $(BUILD_DIR) && ctest --no-tests=error --output-on-failure -j$(JOBS)

# Benchmarks (ratios are measured in one run; the machine is noisy, absolute times are not stable).
bench: build
	$(BUILD_DIR)/bench/nfsim_bench_chip --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

clean:
	rm -rf $(BUILD_DIR)
