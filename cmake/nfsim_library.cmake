# nfsim_add_library(NAME <short> SOURCES ... PUBLIC_LINK ... PRIVATE_LINK ... [EXPORT_SET <set>])
# Creates target nfsim_<short> with alias nfsim::<short>, installed and exported as nfsim::<short>
# in export set <set> (default nfsimTargets; nfsimPluginTargets for what a plug-in needs).
# The libraries are shared: component implementations register themselves by name from static
# initialisers (CONTRIBUTING.md, "Conventions"), which a static archive would silently drop when nothing references them.
# Headers are included as "<folder>/<file>.h" from the source root (installed under include/nfsim).
function(nfsim_add_library)
  cmake_parse_arguments(ARG "" "NAME;EXPORT_SET" "SOURCES;PUBLIC_LINK;PRIVATE_LINK" ${ARGN})
  if(NOT ARG_EXPORT_SET)
    set(ARG_EXPORT_SET nfsimTargets)
  endif()
  set(target nfsim_${ARG_NAME})
  add_library(${target} SHARED ${ARG_SOURCES})
  add_library(nfsim::${ARG_NAME} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${ARG_NAME} VERSION ${PROJECT_VERSION}
                                             SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
  target_compile_features(${target} PUBLIC cxx_std_17)
  target_include_directories(${target} PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
                                              $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/nfsim>)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(NFSIM_NATIVE)
    target_compile_options(${target} PUBLIC -march=native)
  endif()
  target_link_libraries(${target} PUBLIC ${ARG_PUBLIC_LINK} PRIVATE ${ARG_PRIVATE_LINK})
  install(TARGETS ${target} EXPORT ${ARG_EXPORT_SET} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/nfsim/${rel}
          FILES_MATCHING PATTERN "*.h")
endfunction()
