# Warnings for the project's own targets. Dependencies (Eigen, FAISS, GTest) come
# in as imported targets whose headers are SYSTEM, so their warnings stay quiet.
# Never -march=native, never fast-math: the build must run on any x86-64 and keep
# NaN checks working; per-ISA code is chosen at run time.
function(latent_target_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE
      -Wall -Wextra -Wpedantic -Wconversion -Wshadow)
  endif()
endfunction()
