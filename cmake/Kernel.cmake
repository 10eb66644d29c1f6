# Kernel modules are built by Kbuild; CMake only wraps it.
#
# RSWAP_KERNEL_HEADERS  the headers tree `cmake --build` builds rswap.ko for
#                       (default: Debian's newest 6.1 headers);
# RSWAP_VM_KERNELS      kernel releases the VM suite boots (default: the
#                       newest installed 6.1 and 6.12 that have both an image
#                       in /boot and headers in /usr/src).
# RSWAP_DEBUG_KERNEL    the debug guest kernel (lockdep, KASAN, KFENCE, ...):
#                       the cache entry scripts/debug-kernel.sh prints, whose
#                       built tree modules are built against (default empty:
#                       no debug build, the vm-6.1-debug-* tests say SKIP).
# Every module is built for the headers, for each VM kernel and for the
# debug kernel.

# The newest release matching PATTERN that has headers (and, with
# REQUIRE_IMAGE, a kernel image to boot); empty if none.
function(rswap_newest_headers out pattern)
  cmake_parse_arguments(arg "REQUIRE_IMAGE" "" "" ${ARGN})
  file(GLOB dirs LIST_DIRECTORIES true "/usr/src/linux-headers-${pattern}")
  set(found "")
  foreach(d IN LISTS dirs)
    get_filename_component(rel "${d}" NAME)
    string(REPLACE "linux-headers-" "" rel "${rel}")
    if(NOT arg_REQUIRE_IMAGE OR EXISTS "/boot/vmlinuz-${rel}")
      list(APPEND found "${rel}")
    endif()
  endforeach()
  if(found)
    list(SORT found COMPARE NATURAL ORDER DESCENDING)
    list(GET found 0 newest)
    set(${out} "${newest}" PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()

rswap_newest_headers(_rswap_k61 "6.1.*-amd64")
if(_rswap_k61)
  set(_rswap_default_headers "/usr/src/linux-headers-${_rswap_k61}")
else()
  set(_rswap_default_headers "")
endif()
set(RSWAP_KERNEL_HEADERS "${_rswap_default_headers}" CACHE PATH
    "Kernel headers tree to build rswap.ko against (empty: skip the module)")

set(_rswap_vm_default "")
foreach(pat "6.1.*-amd64" "6.12.*+deb12-amd64")
  rswap_newest_headers(_rel "${pat}" REQUIRE_IMAGE)
  if(_rel)
    list(APPEND _rswap_vm_default "${_rel}")
  endif()
endforeach()
set(RSWAP_VM_KERNELS "${_rswap_vm_default}" CACHE STRING
    "Kernel releases the VM test suite boots (needs /boot/vmlinuz-* and headers)")

set(RSWAP_KERNEL_RELEASES "")
if(RSWAP_KERNEL_HEADERS)
  if(NOT EXISTS "${RSWAP_KERNEL_HEADERS}/Makefile")
    message(FATAL_ERROR "RSWAP_KERNEL_HEADERS=${RSWAP_KERNEL_HEADERS} is not a kernel "
            "headers tree (no Makefile). Run scripts/install-deps.sh or set it to "
            "/usr/src/linux-headers-<version>.")
  endif()
  get_filename_component(_rel "${RSWAP_KERNEL_HEADERS}" NAME)
  string(REPLACE "linux-headers-" "" _rel "${_rel}")
  list(APPEND RSWAP_KERNEL_RELEASES "${_rel}")
  set(RSWAP_HEADERS_FOR_${_rel} "${RSWAP_KERNEL_HEADERS}")
endif()
foreach(_rel IN LISTS RSWAP_VM_KERNELS)
  list(APPEND RSWAP_KERNEL_RELEASES "${_rel}")
  if(NOT DEFINED RSWAP_HEADERS_FOR_${_rel})
    set(RSWAP_HEADERS_FOR_${_rel} "/usr/src/linux-headers-${_rel}")
  endif()
endforeach()

set(RSWAP_DEBUG_KERNEL "" CACHE PATH
    "Debug kernel cache entry from scripts/debug-kernel.sh (empty: no debug VM tests)")
set(RSWAP_DEBUG_RELEASE "")
if(RSWAP_DEBUG_KERNEL)
  if(NOT EXISTS "${RSWAP_DEBUG_KERNEL}/COMPLETE")
    message(FATAL_ERROR "RSWAP_DEBUG_KERNEL=${RSWAP_DEBUG_KERNEL} is not a finished debug "
            "kernel build (no COMPLETE). Run scripts/debug-kernel.sh and pass the path it "
            "prints, or leave RSWAP_DEBUG_KERNEL empty.")
  endif()
  file(STRINGS "${RSWAP_DEBUG_KERNEL}/release" RSWAP_DEBUG_RELEASE LIMIT_COUNT 1)
  list(APPEND RSWAP_KERNEL_RELEASES "${RSWAP_DEBUG_RELEASE}")
  # The built source tree is a full kbuild tree: M= builds work against it.
  set(RSWAP_HEADERS_FOR_${RSWAP_DEBUG_RELEASE} "${RSWAP_DEBUG_KERNEL}/linux-source-6.1")
endif()
list(REMOVE_DUPLICATES RSWAP_KERNEL_RELEASES)
if(NOT RSWAP_KERNEL_RELEASES)
  message(WARNING "No kernel headers found: kernel modules and VM tests are not built. "
          "Run scripts/install-deps.sh.")
endif()

# The short name of a release, as used in test names: 6.1.0-56-amd64 -> 6.1.
function(rswap_kernel_short out rel)
  string(REGEX MATCH "^[0-9]+\\.[0-9]+" short "${rel}")
  set(${out} "${short}" PARENT_SCOPE)
endfunction()

# rswap_add_kmod(NAME SRCDIR [EXTRA file...]): build NAME.ko from the Kbuild
# tree SRCDIR (plus EXTRA files, such as shared headers) for every release. Kbuild on 6.1 and 6.12 cannot put its output elsewhere, so
# the sources are copied to ${CMAKE_BINARY_DIR}/kmod/<release>/NAME and built
# there; the module ends up as ${CMAKE_BINARY_DIR}/kmod/<release>/NAME/NAME.ko.
function(rswap_add_kmod name srcdir)
  cmake_parse_arguments(arg "" "" "EXTRA" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS "${srcdir}/*.c" "${srcdir}/*.h" "${srcdir}/Kbuild")
  list(APPEND srcs ${arg_EXTRA})
  foreach(rel IN LISTS RSWAP_KERNEL_RELEASES)
    set(kdir "${RSWAP_HEADERS_FOR_${rel}}")
    set(out "${CMAKE_BINARY_DIR}/kmod/${rel}/${name}")
    add_custom_command(
      OUTPUT "${out}/${name}.ko"
      COMMAND ${CMAKE_COMMAND} -E make_directory "${out}"
      COMMAND ${CMAKE_COMMAND} -E copy_if_different ${srcs} "${out}/"
      COMMAND ${CMAKE_COMMAND} -E env --unset=MAKEFLAGS --unset=MFLAGS
              make -s -C ${kdir} M=${out} KCFLAGS=-Werror modules
      # Kbuild leaves the .ko alone when a change (a comment) rebuilds
      # nothing: without this the command would run on every build.
      COMMAND ${CMAKE_COMMAND} -E touch "${out}/${name}.ko"
      DEPENDS ${srcs}
      COMMENT "Building ${name}.ko for ${rel}"
      VERBATIM)
    string(REPLACE "+" "_" tgt "${name}-${rel}")
    add_custom_target("${tgt}" ALL DEPENDS "${out}/${name}.ko")
  endforeach()
endfunction()
