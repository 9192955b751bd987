# Installs nfsim into a scratch prefix, builds the two example plug-ins as installed under
# share/nfsim/examples (stuck-on crossbar, saturating neuron array) against it with the light
# nfsim::plugin target, with MPI, ONNX, Protobuf, Boost and pkg-config (SystemC) made unfindable,
# and runs the installed nfsim with them: listed, selected from a topology file, loaded by a
# `plugins:` key for `nfsim run` on the chip engine, recorded in report.json, and reloaded by
# --resume of an interrupted run without --plugin.
include(${CMAKE_CURRENT_LIST_DIR}/install_and_build.cmake)
set(examples ${WORK_DIR}/prefix/share/nfsim/examples)
nfsim_install_and_build(${examples}/plugin)
# Plug-ins are configured against the installed prefix with the heavy packages unfindable.
set(light_configure -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_DISABLE_FIND_PACKAGE_MPI=ON -DCMAKE_DISABLE_FIND_PACKAGE_ONNX=ON -DCMAKE_DISABLE_FIND_PACKAGE_Protobuf=ON
    -DCMAKE_DISABLE_FIND_PACKAGE_Boost=ON -DCMAKE_DISABLE_FIND_PACKAGE_PkgConfig=ON -DCMAKE_DISABLE_FIND_PACKAGE_nlohmann_json=ON
    "-DCMAKE_CXX_FLAGS=${OUTER_CXX_FLAGS}" "-DCMAKE_MODULE_LINKER_FLAGS=${OUTER_LINKER_FLAGS}")
# The neuron plug-in, built the same way; the heavy packages cannot be found, so configuring
# proves that find_package(nfsim COMPONENTS plugin) does not look for them.
execute_process(COMMAND ${CMAKE_COMMAND} -S ${examples}/neuron_plugin -B ${WORK_DIR}/build-neuron
                        ${light_configure}
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring the neuron plug-in with the light target failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build-neuron RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the neuron plug-in failed: ${rc}")
endif()
set(nfsim ${WORK_DIR}/prefix/bin/nfsim)
set(plugin ${WORK_DIR}/build/libstuck_on_crossbar.so)
set(neuron ${WORK_DIR}/build-neuron/libsaturating_neuron.so)
execute_process(COMMAND ${nfsim} --plugin ${plugin} --plugin ${neuron} list OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(rc OR NOT out MATCHES "stuck_on +cells stuck in the on state" OR NOT out MATCHES "saturating +outputs clipped")
  message(FATAL_ERROR "nfsim list does not show the plug-ins' types (rc ${rc}):\n${out}")
endif()
execute_process(COMMAND ${nfsim} --plugin ${plugin} map ${MODEL} --chip ${examples}/plugin/stuck_on_chip.yaml
                OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(rc OR NOT out MATCHES "layer 1: W 64x784 on 4 tile" OR NOT out MATCHES "crossbar +stuck_on \\(.*libstuck_on_crossbar.so\\) fraction=0.05")
  message(FATAL_ERROR "nfsim map with the plug-in's crossbar failed (rc ${rc}):\n${out}")
endif()
# A topology and a campaign that load both plug-ins through `plugins:` keys (relative paths).
file(WRITE ${WORK_DIR}/chip.yaml "plugins: [build/libstuck_on_crossbar.so, build-neuron/libsaturating_neuron.so]\nchip:\n  cores: {count: 16, layout: {type: mesh, width: 4, height: 4}}\n  crossbar: {type: stuck_on, rows: 256, cols: 256, fraction: 0.05, on_value: 0.5, seed: 3}\n  neuron_array: {type: saturating, size: 256, limit: 4}\n  interconnect: {type: mesh, hop_latency_ns: 5}\n")
file(WRITE ${WORK_DIR}/campaign.yaml "plugins: [build/libstuck_on_crossbar.so, build-neuron/libsaturating_neuron.so]\nmodel: ${MODEL}\nchip: chip.yaml\ninputs: {type: random, count: 2, scale: 0.3, shift: 0.3}\nfaults: [{kind: neuron_crash, layers: [1], probability: 0.01}]\nengine: chip\ntrials: 20\nbounds: [b4]\n")
execute_process(COMMAND ${nfsim} run ${WORK_DIR}/campaign.yaml --out ${WORK_DIR}/out OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "nfsim run with the plug-ins from a plugins: key failed (rc ${rc}):\n${out}\n${err}")
endif()
file(READ ${WORK_DIR}/out/report.json report)
string(JSON err GET "${report}" points 0 chip programming_max_abs_output_error)
if(err LESS_EQUAL 0)
  message(FATAL_ERROR "stuck-on cells did not change the stored weights (output error ${err})")
endif()
string(JSON crossbar GET "${report}" points 0 chip components crossbar type)
string(JSON neuron GET "${report}" points 0 chip components neuron_array type)
string(JSON limit GET "${report}" points 0 chip components neuron_array parameters limit)
string(JSON plugins LENGTH "${report}" plugins)
if(NOT crossbar STREQUAL "stuck_on" OR NOT neuron STREQUAL "saturating" OR NOT limit EQUAL 4 OR NOT plugins EQUAL 2)
  message(FATAL_ERROR "report.json does not record the plug-ins: crossbar ${crossbar}, neuron ${neuron}, limit ${limit}, ${plugins} plug-ins")
endif()
# Interrupted (SIGINT) with --plugin, then resumed without it: the checkpoint brings it back.
file(WRITE ${WORK_DIR}/long.yaml "model: ${MODEL}\nchip: ${examples}/plugin/stuck_on_chip.yaml\ninputs: {type: random, count: 2, scale: 0.3, shift: 0.3}\nfaults: [{kind: neuron_crash, layers: [1], probability: 0.01}]\nengine: chip\ntrials: 100000000\nbounds: [b4]\n")
execute_process(COMMAND bash -c "${nfsim} --plugin ${plugin} run ${WORK_DIR}/long.yaml --out ${WORK_DIR}/cut > ${WORK_DIR}/cut.log 2>&1 & pid=$!; sleep 2; kill -INT $pid; wait $pid; echo -n $?"
                OUTPUT_VARIABLE rc)
if(NOT rc STREQUAL "4")
  file(READ ${WORK_DIR}/cut.log log)
  message(FATAL_ERROR "the interrupted run did not exit with 4 (got '${rc}'):\n${log}")
endif()
file(READ ${WORK_DIR}/cut/report.json report)
string(JSON first GET "${report}" points 0 trials)
# The resumed run is interrupted again (a hundred million chip trials would take hours): exit 4,
# not 2, shows that it loaded the plug-in and went on from the checkpoint.
execute_process(COMMAND bash -c "${nfsim} run --resume ${WORK_DIR}/cut > ${WORK_DIR}/resume.log 2>&1 & pid=$!; sleep 2; kill -INT $pid; wait $pid; echo -n $?"
                OUTPUT_VARIABLE rc)
file(READ ${WORK_DIR}/resume.log log)
if(NOT rc STREQUAL "4")
  message(FATAL_ERROR "nfsim run --resume without --plugin did not resume (exit '${rc}'):\n${log}")
endif()
file(READ ${WORK_DIR}/cut/report.json report)
string(JSON second GET "${report}" points 0 trials)
string(JSON origin GET "${report}" plugins 0 origin)
if(NOT second GREATER first OR NOT origin MATCHES "checkpoint.json")
  message(FATAL_ERROR "the resumed run did not continue with the plug-in: ${first} then ${second} trials, plug-in from '${origin}'")
endif()
# The crossbar and neuron plug-ins of docs/plugins.md, as a reader writes them from the document
# alone (its code blocks, extracted at configure time into DOC_PLUGIN_DIR), built against the
# installed package with the light target, loaded by `plugins:` keys, interrupted and resumed,
# and recorded with their parameters in report.json.
file(WRITE ${WORK_DIR}/doc/CMakeLists.txt "cmake_minimum_required(VERSION 3.25)\nproject(doc_plugins LANGUAGES CXX)\n"
     "find_package(nfsim 0.1 REQUIRED COMPONENTS plugin)\n"
     "add_library(doc_crossbar MODULE ${DOC_PLUGIN_DIR}/doc_plugin_0.cpp)\n"
     "add_library(doc_neuron MODULE ${DOC_PLUGIN_DIR}/doc_plugin_1.cpp)\n"
     "target_link_libraries(doc_crossbar PRIVATE nfsim::plugin)\ntarget_link_libraries(doc_neuron PRIVATE nfsim::plugin)\n")
execute_process(COMMAND ${CMAKE_COMMAND} -S ${WORK_DIR}/doc -B ${WORK_DIR}/doc/build
                        ${light_configure}
                RESULT_VARIABLE rc)
if(NOT rc)
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/doc/build RESULT_VARIABLE rc)
endif()
if(rc)
  message(FATAL_ERROR "building the plug-ins of docs/plugins.md against the installed package failed: ${rc}")
endif()
file(WRITE ${WORK_DIR}/doc/chip.yaml "plugins: [build/libdoc_crossbar.so, build/libdoc_neuron.so]\nchip:\n  cores: {count: 16, layout: {type: mesh, width: 4, height: 4}}\n  crossbar: {type: drift, rows: 256, cols: 256, gain: 0.9}\n  neuron_array: {type: quantised_output, size: 256, step: 0.25}\n  interconnect: {type: mesh, hop_latency_ns: 5}\n")
file(WRITE ${WORK_DIR}/doc/campaign.yaml "plugins: [build/libdoc_crossbar.so]\nmodel: ${MODEL}\nchip: chip.yaml\ninputs: {type: random, count: 2, scale: 0.3, shift: 0.3}\nfaults: [{kind: neuron_crash, layers: [1], probability: 0.01}]\nengine: chip\ntrials: 100000000\nbounds: [b4]\n")
execute_process(COMMAND bash -c "${nfsim} run ${WORK_DIR}/doc/campaign.yaml --out ${WORK_DIR}/doc/out > ${WORK_DIR}/doc/cut.log 2>&1 & pid=$!; sleep 2; kill -INT $pid; wait $pid; echo -n $?"
                OUTPUT_VARIABLE rc)
file(READ ${WORK_DIR}/doc/cut.log log)
if(NOT rc STREQUAL "4")
  message(FATAL_ERROR "the run with the documentation's plug-ins did not exit 4 when interrupted (got '${rc}'):\n${log}")
endif()
file(READ ${WORK_DIR}/doc/out/report.json report)
string(JSON first GET "${report}" points 0 trials)
execute_process(COMMAND bash -c "${nfsim} run --resume ${WORK_DIR}/doc/out > ${WORK_DIR}/doc/resume.log 2>&1 & pid=$!; sleep 2; kill -INT $pid; wait $pid; echo -n $?"
                OUTPUT_VARIABLE rc)
file(READ ${WORK_DIR}/doc/resume.log log)
file(READ ${WORK_DIR}/doc/out/report.json report)
string(JSON second GET "${report}" points 0 trials)
string(JSON crossbar GET "${report}" points 0 chip components crossbar type)
string(JSON gain GET "${report}" points 0 chip components crossbar parameters gain)
string(JSON neuron GET "${report}" points 0 chip components neuron_array type)
string(JSON step GET "${report}" points 0 chip components neuron_array parameters step)
if(NOT rc STREQUAL "4" OR NOT second GREATER first OR NOT crossbar STREQUAL "drift" OR NOT neuron STREQUAL "quantised_output"
   OR NOT gain EQUAL 0.9 OR NOT step EQUAL 0.25)
  message(FATAL_ERROR "the documentation's plug-ins did not resume or are not in the report: exit '${rc}', ${first} then "
                      "${second} trials, crossbar ${crossbar} (gain ${gain}), neuron ${neuron} (step ${step}):\n${log}")
endif()
# Without the plug-in the type is unknown, with a clear error.
execute_process(COMMAND ${nfsim} map ${MODEL} --chip ${examples}/plugin/stuck_on_chip.yaml ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 2 OR NOT err MATCHES "unknown type 'stuck_on'")
  message(FATAL_ERROR "expected exit 2 and an unknown-type error without the plug-in, got ${rc}: ${err}")
endif()
message(STATUS "plugin: stuck_on crossbar and saturating neuron array built with nfsim::plugin, loaded by --plugin and plugins:, "
               "mapped, simulated on the chip engine, resumed without --plugin (${first} then ${second} trials)")
