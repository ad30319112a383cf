/*
 * cli_files.h - reading a whole input file with a size bound, for the
 * command-line modes. The adapter owns files (design.md); the parsers get
 * memory.
 */
#ifndef CLI_FILES_H
#define CLI_FILES_H

#include "nen_codes.h"

#include <stddef.h>

/* Read path ("-" for stdin) into a malloc'd, NUL-terminated buffer the
 * caller frees; *len gets its length. More than max bytes is an error and
 * is not read past max + 1. Returns NULL with a message in err. */
char *cli_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen);

/* Load a hospital code table file (at most 4 MiB) into t, after what t
 * holds. Returns 0, or -1 with err ("FILE:LINE: problem" or why the file
 * cannot be read). */
int cli_load_map(struct nen_codes *t, const char *path, char *err, size_t errlen);

#endif
