# embed_text.cmake - turn a text file into a C source defining
#   const char SYMBOL[] = { ...bytes..., 0 };
# so data files (mappings/codes/default.map) ship inside the program.
# Usage: nenfhir_embed_text(INPUT OUTPUT SYMBOL) at configure time; CMake
# re-runs when INPUT changes.
function(nenfhir_embed_text input output symbol)
  file(READ ${input} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  file(WRITE ${output}
       "/* Generated from ${input} by cmake/embed_text.cmake: do not edit. */\n"
       "const char ${symbol}[] = {${bytes}0x00};\n")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${input})
endfunction()
