# Passes only when SOURCE fails to compile with an error that matches EXPECT:
# a compile-fail test (a source that compiles, or fails for another reason, fails).
#   cmake -DCOMPILER=<c++> -DINCLUDES=<dir>|<dir>... -DSOURCE=<file.cpp>
#         -DEXPECT=<regex> -P expect_compile_error.cmake
foreach(_variable COMPILER INCLUDES SOURCE EXPECT)
  if(NOT DEFINED ${_variable})
    message(FATAL_ERROR "expect_compile_error.cmake: -D${_variable}=... is missing")
  endif()
endforeach()
string(REPLACE "|" ";" _directories "${INCLUDES}")
set(_flags)
foreach(_directory IN LISTS _directories)
  list(APPEND _flags "-I${_directory}")
endforeach()
execute_process(COMMAND "${COMPILER}" -std=c++17 -fsyntax-only ${_flags} "${SOURCE}"
  RESULT_VARIABLE _result OUTPUT_VARIABLE _output ERROR_VARIABLE _output)
if(_result EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but it must be rejected with '${EXPECT}'")
endif()
if(NOT _output MATCHES "${EXPECT}")
  message(FATAL_ERROR "${SOURCE} was rejected, but without '${EXPECT}':\n${_output}")
endif()
message(STATUS "${SOURCE} rejected as expected: ${EXPECT}")
