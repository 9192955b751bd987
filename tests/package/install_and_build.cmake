# Shared by the package tests: installs the nfsim build tree into WORK_DIR/prefix, then
# configures and builds the outside project SOURCE_DIR against it in WORK_DIR/build, with the
# outer build's compiler and linker flags (so that sanitizer builds stay consistent).
function(nfsim_install_and_build SOURCE_DIR)
  file(REMOVE_RECURSE ${WORK_DIR})
  execute_process(COMMAND ${CMAKE_COMMAND} --install ${NFSIM_BUILD_DIR} --prefix ${WORK_DIR}/prefix RESULT_VARIABLE rc OUTPUT_QUIET)
  if(rc)
    message(FATAL_ERROR "install failed: ${rc}")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix
                          -DCMAKE_BUILD_TYPE=Release
                          "-DCMAKE_CXX_FLAGS=${OUTER_CXX_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${OUTER_LINKER_FLAGS}"
                          "-DCMAKE_SHARED_LINKER_FLAGS=${OUTER_LINKER_FLAGS}" "-DCMAKE_MODULE_LINKER_FLAGS=${OUTER_LINKER_FLAGS}"
                  RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "configuring ${SOURCE_DIR} against the installed package failed: ${rc}")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "building ${SOURCE_DIR} against the installed package failed: ${rc}")
  endif()
endfunction()
