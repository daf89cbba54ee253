# cmake -DCOMMAND=a|b|c -DEXPECT=success|failure -DREGEX=... -DSECONDS=n -P expect_run.cmake
# Runs COMMAND (its words separated by |) for at most SECONDS: passes when it ends, with
# the expected outcome, and its output (stdout and stderr) matches REGEX. A run that has
# to be stopped at SECONDS is a hang, and fails.
string(REPLACE "|" ";" _command "${COMMAND}")
execute_process(COMMAND ${_command} TIMEOUT ${SECONDS} RESULT_VARIABLE _result OUTPUT_VARIABLE _out
                ERROR_VARIABLE _out)
message("${_out}")
if(NOT _result MATCHES "^-?[0-9]+$")
  message(FATAL_ERROR "the run did not end by itself (${_result}) within ${SECONDS} s: it hung")
endif()
if(EXPECT STREQUAL "success" AND NOT _result EQUAL 0)
  message(FATAL_ERROR "the run failed (exit status ${_result}); it should have succeeded")
elseif(EXPECT STREQUAL "failure" AND _result EQUAL 0)
  message(FATAL_ERROR "the run succeeded; it should have failed")
endif()
if(NOT _out MATCHES "${REGEX}")
  message(FATAL_ERROR "the output does not match: ${REGEX}")
endif()
