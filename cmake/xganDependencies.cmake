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
