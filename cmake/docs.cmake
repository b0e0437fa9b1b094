# The API reference: Doxygen over the public headers (docs/api/Doxyfile.in),
# which are written in kernel-doc style and read through
# docs/api/kerneldoc2doxygen.py. Target `docs` writes ${CMAKE_BINARY_DIR}/docs/html
# and fails on any Doxygen warning, an undocumented public symbol included.
#
# memspace/qemu-compat.h is left out: its inline wrappers are QEMU's own API
# names, each documented by QEMU and mapped as a whole in docs/qemu-compat.md,
# not one by one in the header.
find_program(MS_DOXYGEN doxygen)
find_program(MS_DOCS_PYTHON NAMES python3 python)
set(MS_DOCS_OUTPUT ${CMAKE_BINARY_DIR}/docs)
set(MS_DOCS_INPUT "${CMAKE_SOURCE_DIR}/docs/api/mainpage.md ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/include/memspace ${CMAKE_SOURCE_DIR}/include/memspace/models")
set(MS_DOCS_EXCLUDE ${CMAKE_SOURCE_DIR}/include/memspace/qemu-compat.h)
set(MS_DOCS_WARN_AS_ERROR FAIL_ON_WARNINGS)
configure_file(${CMAKE_SOURCE_DIR}/docs/api/Doxyfile.in ${MS_DOCS_OUTPUT}/Doxyfile @ONLY)

if(MS_DOXYGEN AND MS_DOCS_PYTHON)
  file(GLOB MS_DOCS_HEADERS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/include/*.h
    ${CMAKE_SOURCE_DIR}/include/memspace/*.h ${CMAKE_SOURCE_DIR}/include/memspace/models/*.h)
  add_custom_target(docs
    COMMAND ${CMAKE_COMMAND} -E remove_directory ${MS_DOCS_OUTPUT}/html
    COMMAND ${MS_DOXYGEN} ${MS_DOCS_OUTPUT}/Doxyfile
    WORKING_DIRECTORY ${MS_DOCS_OUTPUT}
    DEPENDS ${MS_DOCS_HEADERS} ${CMAKE_SOURCE_DIR}/docs/api/kerneldoc2doxygen.py
      ${CMAKE_SOURCE_DIR}/docs/api/mainpage.md
    COMMENT "API reference: ${MS_DOCS_OUTPUT}/html/index.html"
    VERBATIM)
else()
  add_custom_target(docs
    COMMAND ${CMAKE_COMMAND} -E echo "docs: doxygen (and python3) not found; scripts/deps.sh installs them"
    COMMAND ${CMAKE_COMMAND} -E false
    VERBATIM)
endif()
