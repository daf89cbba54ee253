# Finds what xgan's headers use and defines the imported targets it links. Included by
# the top-level CMakeLists.txt and by the installed xganConfig.cmake, so a build tree
# and an installed copy resolve their dependencies the same way.
include(CMakeFindDependencyMacro)
find_dependency(xtl)
find_dependency(xtensor)
find_dependency(xtensor-blas)
find_dependency(BLAS)
find_dependency(LAPACK)
find_dependency(ZLIB)     # .gz datasets
find_dependency(Threads)  # xgan::set_threads (core/threads.hpp)
# .npz checkpoints (a zip of .npy arrays). Through pkg-config: Debian 12's libzip CMake
# package refers to command-line tools (zipcmp, ...) that libzip-dev does not install.
find_dependency(PkgConfig)
pkg_check_modules(XGAN_LIBZIP REQUIRED IMPORTED_TARGET GLOBAL libzip)

# stb_image_write (PNG) from Debian's libstb-dev, which ships the compiled implementation.
if(NOT TARGET xgan_stb)
  find_path(XGAN_STB_INCLUDE_DIR stb/stb_image_write.h)
  find_library(XGAN_STB_LIBRARY stb)
  if(NOT XGAN_STB_INCLUDE_DIR OR NOT XGAN_STB_LIBRARY)
    message(FATAL_ERROR "xgan: stb (stb_image_write) not found; on Debian: apt-get install libstb-dev")
  endif()
  add_library(xgan_stb INTERFACE IMPORTED)
  set_target_properties(xgan_stb PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${XGAN_STB_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${XGAN_STB_LIBRARY}")
endif()

# oneDNN (Debian's libdnnl-dev), optional: dnnl_sgemm for float products when
# XGAN_GEMM_BACKEND is onednn (docs/performance.md, "Product backends"); the benchmarks
# use it where it is installed. Found directly: Debian's dnnl CMake package requires
# OpenCL's development files, which the CPU library does not need.
if(NOT TARGET xgan_onednn)
  find_path(XGAN_DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.h)
  find_library(XGAN_DNNL_LIBRARY dnnl)
  if(XGAN_DNNL_INCLUDE_DIR AND XGAN_DNNL_LIBRARY)
    add_library(xgan_onednn INTERFACE IMPORTED)
    set_target_properties(xgan_onednn PROPERTIES
      INTERFACE_INCLUDE_DIRECTORIES "${XGAN_DNNL_INCLUDE_DIR}"
      INTERFACE_LINK_LIBRARIES "${XGAN_DNNL_LIBRARY}"
      INTERFACE_COMPILE_DEFINITIONS XGAN_GEMM_ONEDNN)
  endif()
endif()
if(XGAN_GEMM_BACKEND STREQUAL "onednn" AND NOT TARGET xgan_onednn)
  message(FATAL_ERROR "xgan: XGAN_GEMM_BACKEND is onednn but oneDNN (oneapi/dnnl/dnnl.h, libdnnl) was not found; "
                      "on Debian: apt-get install libdnnl-dev, or build xgan with -DXGAN_GEMM_BACKEND=blas")
endif()
