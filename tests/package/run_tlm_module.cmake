# Installs nfsim into a scratch prefix and builds the token-ring example (a TLM-2.0 interconnect
# module, examples/tlm_ring, as installed under share/nfsim/examples) against it with
# find_package(nfsim COMPONENTS tlm_plugin), with MPI, ONNX, Protobuf and Boost made unfindable;
# then the installed nfsim lists it, maps the example chip onto it, and runs a chip campaign on
# it twice: a slower ring (larger hop latency) must give a larger inference latency and the same
# outputs, and report.json must name the module.
include(${CMAKE_CURRENT_LIST_DIR}/install_and_build.cmake)
set(examples ${WORK_DIR}/prefix/share/nfsim/examples)
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${NFSIM_BUILD_DIR} --prefix ${WORK_DIR}/prefix RESULT_VARIABLE rc OUTPUT_QUIET)
if(rc)
  message(FATAL_ERROR "install failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${examples}/tlm_ring -B ${WORK_DIR}/build -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix
                        -DCMAKE_BUILD_TYPE=Release
                        -DCMAKE_DISABLE_FIND_PACKAGE_MPI=ON -DCMAKE_DISABLE_FIND_PACKAGE_ONNX=ON
                        -DCMAKE_DISABLE_FIND_PACKAGE_Protobuf=ON -DCMAKE_DISABLE_FIND_PACKAGE_Boost=ON
                        -DCMAKE_DISABLE_FIND_PACKAGE_nlohmann_json=ON
                        "-DCMAKE_CXX_FLAGS=${OUTER_CXX_FLAGS}" "-DCMAKE_MODULE_LINKER_FLAGS=${OUTER_LINKER_FLAGS}"
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring the token ring against the installed package (COMPONENTS tlm_plugin) failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the token ring against the installed package failed: ${rc}")
endif()
set(nfsim ${WORK_DIR}/prefix/bin/nfsim)
set(ring ${WORK_DIR}/build/libtoken_ring.so)
execute_process(COMMAND ${nfsim} --plugin ${ring} list OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(rc OR NOT out MATCHES "token_ring +one-way ring")
  message(FATAL_ERROR "nfsim list does not show the token ring (rc ${rc}):\n${out}")
endif()
execute_process(COMMAND ${nfsim} --plugin ${ring} map ${MODEL} --chip ${examples}/tlm_ring/ring_chip.yaml
                OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(rc OR NOT out MATCHES "interconnect +token_ring \\(.*libtoken_ring.so\\)")
  message(FATAL_ERROR "nfsim map on the ring chip failed (rc ${rc}):\n${out}")
endif()
set(latencies "")
foreach(hop 2 20)
  file(READ ${examples}/tlm_ring/ring_chip.yaml chip)
  string(REPLACE "hop_latency_ns: 2," "hop_latency_ns: ${hop}," chip "${chip}")
  file(WRITE ${WORK_DIR}/ring_${hop}.yaml "plugins: [build/libtoken_ring.so]\n${chip}")
  file(WRITE ${WORK_DIR}/c_${hop}.yaml "model: ${MODEL}\nchip: ring_${hop}.yaml\ninputs: {type: random, count: 2, scale: 0.3, shift: 0.3}\nfaults: [{kind: neuron_crash, layers: [1], probability: 0.05}]\nengine: chip\ntrials: 20\nbounds: []\n")
  execute_process(COMMAND ${nfsim} run ${WORK_DIR}/c_${hop}.yaml --out ${WORK_DIR}/out_${hop} OUTPUT_VARIABLE out ERROR_VARIABLE err
                  RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "nfsim run on the ring chip (hop ${hop} ns) failed (rc ${rc}):\n${out}\n${err}")
  endif()
  file(READ ${WORK_DIR}/out_${hop}/report.json report)
  string(JSON type GET "${report}" points 0 chip components interconnect type)
  string(JSON latency GET "${report}" points 0 chip inference_latency_ns mean)
  string(JSON std GET "${report}" points 0 inputs 0 measured std)
  if(NOT type STREQUAL "token_ring")
    message(FATAL_ERROR "report.json does not name the token ring: '${type}'")
  endif()
  list(APPEND latencies ${latency})
  set(std_${hop} "${std}")
endforeach()
list(GET latencies 0 fast)
list(GET latencies 1 slow)
if(NOT slow GREATER fast)
  message(FATAL_ERROR "a slower ring did not lengthen the inference: ${fast} ns at 2 ns per hop, ${slow} ns at 20")
endif()
if(NOT std_2 STREQUAL std_20)
  message(FATAL_ERROR "the ring's speed changed the outputs: ${std_2} against ${std_20}")
endif()
message(STATUS "token ring: ${fast} ns at 2 ns per hop, ${slow} ns at 20 ns per hop")
