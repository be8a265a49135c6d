# Runs EXE with ARGS (words separated by spaces) and writes its standard output to OUT; fails
# the build when the command fails. The build makes the man page and the
# completion script this way from the dppf binary itself.
separate_arguments(ARGS UNIX_COMMAND "${ARGS}")
set(ENV{ASAN_OPTIONS} "detect_leaks=0") # a sanitizer build: the docs are no place to check for leaks
execute_process(COMMAND "${EXE}" ${ARGS} OUTPUT_FILE "${OUT}.tmp" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(REMOVE "${OUT}.tmp")
  message(FATAL_ERROR "${EXE} ${ARGS} failed: ${rc}")
endif()
file(RENAME "${OUT}.tmp" "${OUT}")
