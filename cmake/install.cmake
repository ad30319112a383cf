# install.cmake - `cmake --install` rules and the Debian package (`cpack -G DEB`).
# README "Install as a service". Included at the end of the root CMakeLists.txt.
#
# Layout (GNUInstallDirs; with CMAKE_INSTALL_PREFIX=/usr, as the package uses):
#   bin/nenfhir                         the program
#   share/nenfhir/codes/*.map           the shipped code tables (compiled in too;
#                                       for reference and as a start for local ones)
#   share/man/man8/nenfhir.8            the man page
#   share/doc/nenfhir/nenfhir.conf.example
#   /etc/nenfhir/nenfhir.conf           the annotated config with packaged paths
#                                       (<prefix>/etc/... unless the prefix is /usr)
#   lib/systemd/system/nenfhir.service  the systemd unit (NENFHIR_SYSTEMD_UNITDIR)
include(GNUInstallDirs)

set(NENFHIR_SYSTEMD_UNITDIR "${CMAKE_INSTALL_PREFIX}/lib/systemd/system" CACHE PATH
    "Where the systemd unit nenfhir.service is installed")

install(TARGETS nenfhir RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${NENFHIR_MAPS} DESTINATION ${CMAKE_INSTALL_DATADIR}/nenfhir/codes)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/nenfhir.8
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)

# The packaged config: examples/nenfhir.conf with the packaged paths (the example
# already names /etc/nenfhir and /var/lib/nenfhir); the hospital map line is
# commented out, since a fresh install has no such file and check-config would fail.
file(READ ${PROJECT_SOURCE_DIR}/examples/nenfhir.conf NENFHIR_CONF)
string(REPLACE "# nenfhir.conf - an annotated configuration for `nenfhir run -c FILE`\n"
  "# nenfhir.conf - an annotated configuration for `nenfhir run -c FILE`\n# Installed as /etc/nenfhir/nenfhir.conf; the unit nenfhir.service runs\n# `nenfhir run -c /etc/nenfhir/nenfhir.conf` as user nenfhir, with its\n# database in /var/lib/nenfhir (mode 0700). See nenfhir(8).\n"
  NENFHIR_CONF "${NENFHIR_CONF}")
string(REPLACE "\nmap = /etc/nenfhir/hospital.map\n"
  "\n# The shipped tables are in /usr/share/nenfhir/codes for reference.\n#map = /etc/nenfhir/hospital.map\n"
  NENFHIR_CONF "${NENFHIR_CONF}")
foreach(must "/var/lib/nenfhir/nenfhir.db" "#map = /etc/nenfhir/hospital.map")
  string(FIND "${NENFHIR_CONF}" "${must}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "cmake/install.cmake: examples/nenfhir.conf changed; '${must}' "
                        "not in the packaged config: adjust the replacements")
  endif()
endforeach()
file(WRITE ${CMAKE_BINARY_DIR}/packaging/nenfhir.conf "${NENFHIR_CONF}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${PROJECT_SOURCE_DIR}/examples/nenfhir.conf)
install(FILES ${CMAKE_BINARY_DIR}/packaging/nenfhir.conf
        DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/nenfhir)
install(FILES ${PROJECT_SOURCE_DIR}/examples/nenfhir.conf
        DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME nenfhir.conf.example)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/nenfhir.service
        DESTINATION ${NENFHIR_SYSTEMD_UNITDIR})

# cpack -G DEB (configure with -DCMAKE_INSTALL_PREFIX=/usr for the paths above).
set(CPACK_PACKAGE_NAME nenfhir)
set(CPACK_PACKAGE_VENDOR "nenfhir")
set(CPACK_PACKAGE_CONTACT "nenfhir maintainers <nenfhir@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "FHIR adapter that grades, types and stages neuroendocrine neoplasms")
set(CPACK_PACKAGE_DESCRIPTION
    "A daemon beside a FHIR R4 server: it gathers each pathology case, computes the WHO class and grade, the gastric NET type and the AJCC stage of the neuroendocrine neoplasm, and writes the result back as a DiagnosticReport with its rule trace.")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_NAME nenfhir)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# the runtime libraries: from dpkg-shlibdeps (with versions) when it is there,
# else the Debian 12 names; passwd for useradd in postinst
find_program(NENFHIR_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(NENFHIR_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd")
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "libc6, libcurl4, libjson-c5, libxml2, libssl3, libevent-2.1-7, libevent-openssl-2.1-7, libsqlite3-0, passwd")
endif()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
    ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_GENERATOR DEB)
include(CPack)
