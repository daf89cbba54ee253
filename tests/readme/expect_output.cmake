# cmake -DPROGRAM=<program> -DEXPECT=<regular expression> -P expect_output.cmake
# Runs the program and passes only if it exits with 0 and its output matches EXPECT.
# (CTest's PASS_REGULAR_EXPRESSION alone would pass a program that prints the line and
# then crashes: it ignores the exit code.)
execute_process(COMMAND ${PROGRAM} OUTPUT_VARIABLE output ERROR_VARIABLE errors RESULT_VARIABLE exit_code)
message("${output}${errors}")
if(NOT exit_code STREQUAL "0")
  message(FATAL_ERROR "${PROGRAM} exited with ${exit_code}")
endif()
if(NOT output MATCHES "${EXPECT}")
  message(FATAL_ERROR "${PROGRAM}'s output does not match '${EXPECT}'")
endif()
