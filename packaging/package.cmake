# What `cpack` puts in the Debian package grpc-chat (docs/deploy.md): the two
# programs, the systemd unit, the example config (as a conffile), the system
# user and the docs. `cmake --build build --target package` or `cd build &&
# cpack -G DEB` makes build/grpc-chat_VERSION_ARCH.deb.
include(GNUInstallDirs)

install(TARGETS chat-server chat-client RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_CURRENT_LIST_DIR}/chat-server.service DESTINATION lib/systemd/system)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/sysusers.conf DESTINATION lib/sysusers.d
        RENAME grpc-chat.conf)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/chat-server.toml DESTINATION /etc/grpc-chat)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/deploy.md
              ${PROJECT_SOURCE_DIR}/docs/operations.md ${PROJECT_SOURCE_DIR}/docs/security.md
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/grpc-chat)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/debian/copyright DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/grpc-chat)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME grpc-chat)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "grpc-chat maintainers <grpc-chat@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "real-time terminal chat over gRPC: server daemon and client")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)  # the debug info stays in the build tree
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # grpc-chat_VERSION_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
# dpkg-shlibdeps works out the libraries' packages (grpc++, protobuf, spdlog...).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd | systemd-sysusers")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_LIST_DIR}/debian/conffiles ${CMAKE_CURRENT_LIST_DIR}/debian/postinst
    ${CMAKE_CURRENT_LIST_DIR}/debian/prerm ${CMAKE_CURRENT_LIST_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
