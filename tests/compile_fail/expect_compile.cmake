# Builds one target of the compile-fail project and checks the outcome:
#   cmake -DBUILD_DIR=... -DTARGET=... -DEXPECT=fail|pass "-DPATTERNS=re1;re2" -P expect_compile.cmake
# For EXPECT=fail the build must fail AND its output must match every pattern, so an
# unrelated error (a typo, a missing header) cannot pass for the intended diagnostic.
execute_process(
  COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)
if(EXPECT STREQUAL "pass")
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${TARGET} should compile but did not:\n${output}")
  endif()
  return()
endif()
if(result EQUAL 0)
  message(FATAL_ERROR "${TARGET} compiled, but it must be rejected")
endif()
foreach(pattern IN LISTS PATTERNS)
  string(REGEX MATCH "${pattern}" found "${output}")
  if(NOT found)
    message(FATAL_ERROR "${TARGET} failed to compile, but its diagnostic lacks /${pattern}/:\n${output}")
  endif()
endforeach()
string(REGEX MATCHALL "error:" errors "${output}")
list(LENGTH errors error_count)
message(STATUS "${TARGET}: rejected with the expected diagnostic (${error_count} error lines)")
