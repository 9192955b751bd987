# nfsim: the two commands are `make run` and `make test`. Both install missing Debian packages
# (scripts/install-deps.sh), configure and build first.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
NFSIM := $(BUILD_DIR)/apps/nfsim
FMNIST := /usr/share/datasets/fashion-mnist
RUN_DIR := $(BUILD_DIR)/run

.PHONY: all deps configure build run examples test test-sanitize bench fuzz clean

all: build

deps:
	bash scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD_DIR) -j$(JOBS)

# `make run`: the default campaign (examples/campaigns/default.yaml) on the bundled Fashion-MNIST
# model and chip; prints the summary table, writes build/run/default/report.html.
run: build
	$(NFSIM) run examples/campaigns/default.yaml --out $(RUN_DIR)/default
	@echo "open $(RUN_DIR)/default/report.html (or: scripts/render_report.sh $(RUN_DIR)/default/report.html)"

# The other bundled campaigns.
examples: build
	$(NFSIM) run examples/campaigns/compare_regularizer.yaml --out $(RUN_DIR)/compare_regularizer
	$(NFSIM) run examples/campaigns/fmnist_functional.yaml --out $(RUN_DIR)/fmnist_functional
	$(NFSIM) run examples/campaigns/fmnist_chip.yaml --out $(RUN_DIR)/fmnist_chip
	$(NFSIM) run examples/campaigns/fmnist_cnn.yaml --out $(RUN_DIR)/fmnist_cnn
	$(NFSIM) run examples/campaigns/fmnist_cnn_chip.yaml --out $(RUN_DIR)/fmnist_cnn_chip
	$(NFSIM) run examples/campaigns/fmnist_mission.yaml --out $(RUN_DIR)/fmnist_mission

test: build
	cd $(BUILD_DIR) && ctest --no-tests=error --output-on-failure -j$(JOBS)

# The whole suite built with AddressSanitizer and UndefinedBehaviorSanitizer (own build tree).
SANITIZE_DIR ?= build-sanitize
test-sanitize: deps
	cmake -S . -B $(SANITIZE_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNFSIM_BUILD_BENCH=OFF \
	  -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined"
	cmake --build $(SANITIZE_DIR) -j$(JOBS)
	cd $(SANITIZE_DIR) && ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --no-tests=error --output-on-failure -j$(JOBS)

# Benchmarks: every ratio of bench/RESULTS.md measured side by side in one run (about 8 minutes;
# the machine is noisy, absolute times are not stable). Needs the PyTorch peer (--python).
bench: build
	bash scripts/install-deps.sh --python
	bash bench/compare.sh $(BUILD_DIR)

# libFuzzer on every input reader (ONNX, campaign and topology YAML, IDX, NPY, CSV) and on the
# engines against each other, built with clang + ASan + UBSan in its own tree, FUZZ_SECONDS per
# target from tests/fuzz/corpus: the readers (onnx, campaign, topology, idx, npy, csv), onnx_attrs
# (attribute mutation on a valid model) and engines (chip == functional, Monte Carlo vs exact, b4).
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 30
fuzz:
	bash scripts/install-deps.sh --fuzz
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNFSIM_BUILD_FUZZ=ON \
	  -DNFSIM_BUILD_TESTS=OFF -DNFSIM_BUILD_BENCH=OFF \
	  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined"
	cmake --build $(FUZZ_DIR) -j$(JOBS) --target fuzz_targets
	bash tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD_DIR) $(SANITIZE_DIR) $(FUZZ_DIR)
