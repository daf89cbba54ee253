# Compiles run_exported.cpp with one exported header and nothing else (no -I: only the
# standard library), as a user of the header would, then runs it on the header's data file.
#   cmake -DCXX=g++ -DHEADER=x.hpp -DDATA=x.txt -DNAMESPACE=x -DDRIVER=run_exported.cpp -DWORK=dir -P compile_and_run.cmake
file(MAKE_DIRECTORY ${WORK})
string(TIMESTAMP started "%s")
execute_process(
  COMMAND ${CXX} -std=c++17 -O2 -Wall -Wextra -Wpedantic -Werror -include ${HEADER} -DEXPORT_NS=${NAMESPACE}
          ${DRIVER} -o ${WORK}/run_exported
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)
string(TIMESTAMP finished "%s")
math(EXPR seconds "${finished} - ${started}")
file(SIZE ${HEADER} bytes)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${HEADER} does not compile alone with ${CXX}:\n${output}")
endif()
message(STATUS "${NAMESPACE}: ${bytes} bytes, compiled with ${CXX} -O2 in about ${seconds} s")
execute_process(COMMAND ${WORK}/run_exported ${DATA} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
message(STATUS "${output}")
if(NOT result EQUAL 0)
  message(FATAL_ERROR "the exported ${NAMESPACE} differs from the network:\n${output}")
endif()
