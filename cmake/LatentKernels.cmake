# The ISA wall: each SIMD translation unit is compiled with its own flags only
# (never -march=native), and dispatch.cpp picks one at run time. Everything else
# is built for the baseline. -ffp-contract=off everywhere in the kernels, so the
# compiler never fuses a multiply and an add the code did not ask to fuse.
set(LATENT_KERNELS_X86 OFF)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(LATENT_KERNELS_X86 ON)
  target_sources(latent PRIVATE src/kernels/avx2.cpp src/kernels/avx512.cpp)
  target_compile_definitions(latent PRIVATE LATENT_KERNELS_X86)
  set_source_files_properties(src/kernels/avx2.cpp PROPERTIES
    COMPILE_OPTIONS "-mavx2;-mfma;-mf16c;-mpopcnt")
  # GCC 12's AVX-512 intrinsics start many results from an undefined vector and
  # then warn about it (GCC bug 105593, fixed in GCC 13): silence that one
  # warning in this file only.
  set_source_files_properties(src/kernels/avx512.cpp PROPERTIES
    COMPILE_OPTIONS "-mavx512f;-mavx512dq;-mavx512bw;-mavx512vl;-mavx2;-mfma;-mf16c;-mpopcnt;-Wno-uninitialized;-Wno-maybe-uninitialized")
endif()
set_property(SOURCE
  src/kernels/scalar.cpp src/kernels/avx2.cpp src/kernels/avx512.cpp src/kernels/batched.cpp
  src/kernels/crossprod.cpp
  APPEND PROPERTY COMPILE_OPTIONS "-ffp-contract=off")
