# Every external dependency. Included by the build and by the installed nfsimConfig.cmake, so
# consumers see the same targets. The light part is all that nfsim::core and nfsim::plugin need;
# NFSIM_LIGHT_DEPENDENCIES_ONLY (set by the installed config for COMPONENTS plugin) skips the rest,
# so that a plug-in author needs no MPI, ONNX, Protobuf, Boost or SystemC development package.
find_package(yaml-cpp REQUIRED)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
if(NFSIM_LIGHT_DEPENDENCIES_ONLY AND NFSIM_TLM_PLUGIN)
  # COMPONENTS tlm_plugin: a TLM-2.0 module plug-in needs SystemC's headers and library too.
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(SystemC REQUIRED IMPORTED_TARGET GLOBAL systemc>=2.3.4)
endif()
if(NOT NFSIM_LIGHT_DEPENDENCIES_ONLY)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(SystemC REQUIRED IMPORTED_TARGET GLOBAL systemc>=2.3.4)
  # OpenBLAS for the products of convolution layers (models/layer/gemm.h says why).
  pkg_check_modules(OpenBLAS REQUIRED IMPORTED_TARGET GLOBAL openblas>=0.3)
  find_package(Boost 1.74 REQUIRED COMPONENTS program_options)
  find_package(Protobuf REQUIRED)  # before ONNX: its targets need protobuf::libprotobuf
  find_package(ONNX REQUIRED)
  find_package(nlohmann_json 3.10 REQUIRED)
  find_package(ZLIB REQUIRED)
  find_package(MPI REQUIRED COMPONENTS CXX)
endif()
