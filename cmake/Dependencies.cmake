# CBLAS (OpenBLAS preferred), zlib, and the optional CUDA toolchain.

find_package(ZLIB REQUIRED)

find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(OPENBLAS QUIET IMPORTED_TARGET openblas)
endif()
add_library(jacnoise::cblas INTERFACE IMPORTED)
if(OPENBLAS_FOUND)
  target_link_libraries(jacnoise::cblas INTERFACE PkgConfig::OPENBLAS)
  set(JACNOISE_BLAS_NAME "OpenBLAS")
  set(JACNOISE_HAVE_OPENBLAS 1)
else()
  find_path(CBLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES openblas)
  find_library(CBLAS_LIBRARY NAMES openblas cblas blas)
  if(NOT CBLAS_INCLUDE_DIR OR NOT CBLAS_LIBRARY)
    message(FATAL_ERROR "No CBLAS found: install OpenBLAS (Debian: apt-get install libopenblas-dev)")
  endif()
  target_include_directories(jacnoise::cblas INTERFACE ${CBLAS_INCLUDE_DIR})
  target_link_libraries(jacnoise::cblas INTERFACE ${CBLAS_LIBRARY})
  set(JACNOISE_BLAS_NAME "${CBLAS_LIBRARY}")
  set(JACNOISE_HAVE_OPENBLAS 0)
  # Debian's reference libblas also provides cblas.h: it works, but its GEMMs are tens of times
  # slower (README "BLAS kernels"), and nothing else would tell the user.
  message(WARNING "jacnoise: the CBLAS found (${CBLAS_LIBRARY}) is not OpenBLAS: training will be "
                  "much slower and no BLAS core can be selected; install OpenBLAS "
                  "(Debian: apt-get install libopenblas-dev) and configure again")
endif()
message(STATUS "jacnoise: CBLAS = ${JACNOISE_BLAS_NAME}")

# CUDA: AUTO builds the CUDA backend when nvcc is found, ON requires it, OFF skips it. The
# build needs no GPU: the GPU tests skip themselves where no device is visible.
string(TOUPPER "${JACNOISE_CUDA}" JACNOISE_CUDA)
if(NOT JACNOISE_CUDA MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "JACNOISE_CUDA must be AUTO, ON or OFF (got '${JACNOISE_CUDA}')")
endif()
set(JACNOISE_WITH_CUDA OFF)
if(NOT JACNOISE_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 90)  # H100/H200; pass -DCMAKE_CUDA_ARCHITECTURES=... for others
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(JACNOISE_WITH_CUDA ON)
  elseif(JACNOISE_CUDA STREQUAL "ON")
    message(FATAL_ERROR "JACNOISE_CUDA=ON but no CUDA compiler (nvcc) was found")
  endif()
endif()
message(STATUS "jacnoise: CUDA backend ${JACNOISE_WITH_CUDA}")

set(JACNOISE_BACKEND_DEFS JACNOISE_HAVE_OPENBLAS=${JACNOISE_HAVE_OPENBLAS})
