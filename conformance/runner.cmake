# run-server: tern-conformance-server (conformance/run-server wraps it).
file(GLOB TERN_RS_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/server/*.c)
add_executable(tern-conformance-server ${TERN_RS_SOURCES})
target_link_libraries(tern-conformance-server PRIVATE tern_strict tern_core)
target_compile_definitions(tern-conformance-server PRIVATE
  TERN_CONFORMANCE_CASES_DIR="${CMAKE_CURRENT_SOURCE_DIR}/cases")
