# itgov_embed_migrations(<target> <dir>): compiles every <dir>/NNNN_*.sql into
# the target as `const struct migration itgov_migrations[]`, in name order, so
# a service binary carries its own schema and needs no files at run time.
function(itgov_embed_migrations target dir)
  file(GLOB sql_files ${dir}/*.sql)
  list(SORT sql_files)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${target}_migrations.c)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} "-DFILES=${sql_files}"
            -P ${CMAKE_SOURCE_DIR}/cmake/embed_sql.cmake
    DEPENDS ${sql_files} ${CMAKE_SOURCE_DIR}/cmake/embed_sql.cmake
    COMMENT "Embedding migrations of ${target}"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()
