# Script mode: writes OUT, a C file holding FILES as NUL-terminated strings,
# as the array SYMBOL.
set(body "#include \"itgov/migrate.h\"\n\nconst struct migration ${SYMBOL}[] = {\n")
foreach(f ${FILES})
  get_filename_component(name ${f} NAME)
  file(READ ${f} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(APPEND body "    {\"${name}\", (const char[]){${bytes}0}},\n")
endforeach()
string(APPEND body "    {0, 0},\n};\n")
file(WRITE ${OUT} "${body}")
