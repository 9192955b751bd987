# Installs the nfsim build into a scratch prefix, then configures, builds and runs an outside
# project that finds it with find_package(nfsim).
include(${CMAKE_CURRENT_LIST_DIR}/install_and_build.cmake)
nfsim_install_and_build(${CONSUMER_SOURCE_DIR})
execute_process(COMMAND ${WORK_DIR}/build/consumer ${FIXTURE} RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "the consumer failed: ${rc}")
endif()
