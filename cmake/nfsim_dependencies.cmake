# Every external dependency, found as CONTRIBUTING.md ("Toolchain") says. Included by the build and by the
# installed nfsimConfig.cmake, so consumers see the same targets.
find_package(PkgConfig REQUIRED)
pkg_check_modules(SystemC REQUIRED IMPORTED_TARGET GLOBAL systemc>=2.3.4)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(Boost 1.74 REQUIRED COMPONENTS program_options)
find_package(Protobuf REQUIRED)  # before ONNX: its targets need protobuf::libprotobuf
find_package(ONNX REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(ZLIB REQUIRED)
find_package(MPI REQUIRED COMPONENTS CXX)
