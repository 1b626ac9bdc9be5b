# itgov_embed_migrations(<target> <dir>): compiles every <dir>/NNNN_*.sql into
# the target as `const struct migration <svc>_migrations[]` (<svc>: the target
# name without "itgov-"), in name order, so a service binary carries its own
# schema and needs no files at run time; its main() passes the list in its
# service_def (.migrations).
function(itgov_embed_migrations target dir)
  file(GLOB sql_files ${dir}/*.sql)
  list(SORT sql_files)
  string(REGEX REPLACE "^itgov-" "" svc ${target})
  string(MAKE_C_IDENTIFIER "${svc}_migrations" symbol)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${target}_migrations.c)
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DSYMBOL=${symbol} "-DFILES=${sql_files}"
            -P ${CMAKE_SOURCE_DIR}/cmake/embed_sql.cmake
    DEPENDS ${sql_files} ${CMAKE_SOURCE_DIR}/cmake/embed_sql.cmake
    COMMENT "Embedding migrations of ${target}"
    VERBATIM)
  target_sources(${target} PRIVATE ${out})
endfunction()
