# Install rules and the CMake package: find_package(latent [COMPONENTS faiss mpi]).
# The same latentConfig.cmake serves the build tree (export()) and the install
# tree (install(EXPORT)): it finds every transitive dependency, then loads the
# targets file lying next to it.
include(CMakePackageConfigHelpers)

set(LATENT_CMAKE_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/latent")

write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/latentConfigVersion.cmake"
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/latentConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/latentConfig.cmake"
  INSTALL_DESTINATION "${LATENT_CMAKE_INSTALL_DIR}")

# Build tree: find_package(latent) with latent_DIR=<build dir>.
export(TARGETS latent NAMESPACE latent:: FILE "${PROJECT_BINARY_DIR}/latentTargets.cmake")
if(LATENT_HAVE_FAISS)
  export(TARGETS latent_faiss NAMESPACE latent:: FILE "${PROJECT_BINARY_DIR}/latentFaissTargets.cmake")
endif()

if(LATENT_HAVE_MPI)
  export(TARGETS latent_mpi NAMESPACE latent:: FILE "${PROJECT_BINARY_DIR}/latentMpiTargets.cmake")
endif()

if(LATENT_INSTALL)
  install(TARGETS latent EXPORT latentTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  set(_latent_header_excludes)
  if(NOT LATENT_HAVE_FAISS)
    set(_latent_header_excludes PATTERN "index" EXCLUDE)
  endif()
  if(NOT LATENT_HAVE_MPI)
    list(APPEND _latent_header_excludes PATTERN "mpi.hpp" EXCLUDE)
  endif()
  install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/latent"
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} ${_latent_header_excludes})
  install(EXPORT latentTargets NAMESPACE latent:: DESTINATION "${LATENT_CMAKE_INSTALL_DIR}")
  if(LATENT_HAVE_FAISS)
    install(TARGETS latent_faiss EXPORT latentFaissTargets
      ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
      LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
      RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
    install(EXPORT latentFaissTargets NAMESPACE latent:: DESTINATION "${LATENT_CMAKE_INSTALL_DIR}")
  endif()
  if(LATENT_HAVE_MPI)
    install(TARGETS latent_mpi EXPORT latentMpiTargets
      ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
      LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
      RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
    install(EXPORT latentMpiTargets NAMESPACE latent:: DESTINATION "${LATENT_CMAKE_INSTALL_DIR}")
  endif()
  install(FILES
    "${PROJECT_BINARY_DIR}/latentConfig.cmake"
    "${PROJECT_BINARY_DIR}/latentConfigVersion.cmake"
    DESTINATION "${LATENT_CMAKE_INSTALL_DIR}")
  install(FILES "${PROJECT_SOURCE_DIR}/LICENSE" DESTINATION "${CMAKE_INSTALL_DATADIR}/doc/latent")
endif()
