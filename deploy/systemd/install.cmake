# Installs the units, rswap-client and the example configs, at install time.
#
# `cmake --install build --prefix /usr` must put the configs in /etc and
# write /usr/sbin into the units whatever prefix the build was configured
# with, so the directories are GNUInstallDirs' CMAKE_INSTALL_FULL_* computed
# here, for the CMAKE_INSTALL_PREFIX of this install, and the .in files are
# configured here too. file(INSTALL) adds $ENV{DESTDIR} and records each
# file in the install manifest.
#
# In: CMAKE_INSTALL_PREFIX; RSWAP_DEPLOY_SRC (deploy/ in the sources);
# RSWAP_DEPLOY_TMP (where configured files go); RSWAP_DEPLOY_SBINDIR,
# _SYSCONFDIR and _LIBDIR (the build's CMAKE_INSTALL_<dir>, usually relative).

function(rswap_deploy_install)
  set(CMAKE_INSTALL_SBINDIR "${RSWAP_DEPLOY_SBINDIR}")
  set(CMAKE_INSTALL_SYSCONFDIR "${RSWAP_DEPLOY_SYSCONFDIR}")
  set(CMAKE_INSTALL_LIBDIR "${RSWAP_DEPLOY_LIBDIR}")
  include(GNUInstallDirs)
  # systemd's own layout, under the prefix: /usr/lib/systemd/system for /usr
  set(unitdir "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
  set(confdir "${CMAKE_INSTALL_FULL_SYSCONFDIR}")
  set(src "${RSWAP_DEPLOY_SRC}")
  set(tmp "${RSWAP_DEPLOY_TMP}")
  set(rw OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  set(rwx OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ
      WORLD_EXECUTE)

  foreach(unit rswap-server@.service rswap-client.service rswap-register@.service
               rswap-client-watch.service)
    configure_file("${src}/systemd/${unit}.in" "${tmp}/${unit}" @ONLY)
    file(INSTALL "${tmp}/${unit}" DESTINATION "${unitdir}" FILE_PERMISSIONS ${rw})
  endforeach()

  foreach(prog client/rswap-client pool/rswap-register)
    get_filename_component(name "${prog}" NAME)
    configure_file("${src}/${prog}.in" "${tmp}/${name}" @ONLY)
    file(INSTALL "${tmp}/${name}" DESTINATION "${CMAKE_INSTALL_FULL_SBINDIR}"
         FILE_PERMISSIONS ${rwx})
  endforeach()

  # The server's example is documentation: always the current one. The
  # administrator edits client.conf and modprobe.d/rswap.conf in place, so
  # an install over an existing one keeps them.
  configure_file("${src}/config/server.conf.example.in" "${tmp}/server.conf.example" @ONLY)
  file(INSTALL "${tmp}/server.conf.example" DESTINATION "${confdir}/rswap"
       FILE_PERMISSIONS ${rw})
  foreach(pair "client.conf.in:rswap/client.conf" "modprobe-rswap.conf.in:modprobe.d/rswap.conf")
    string(REPLACE ":" ";" pair "${pair}")
    list(GET pair 0 in)
    list(GET pair 1 dest)
    get_filename_component(dir "${confdir}/${dest}" DIRECTORY)
    get_filename_component(name "${dest}" NAME)
    if(EXISTS "$ENV{DESTDIR}${confdir}/${dest}")
      message(STATUS "Keeping: $ENV{DESTDIR}${confdir}/${dest}")
      continue()
    endif()
    configure_file("${src}/config/${in}" "${tmp}/${name}" @ONLY)
    file(INSTALL "${tmp}/${name}" DESTINATION "${dir}" FILE_PERMISSIONS ${rw})
  endforeach()
endfunction()

rswap_deploy_install()
