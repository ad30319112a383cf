/*
 * adapter_files.h - reading a whole input file with a size bound, and
 * loading a hospital code table file: for the commands (classify, and
 * check-config's map check) and for the daemon (its maps at start). The
 * adapter owns files (design.md); the parsers get memory. No state.
 */
#ifndef ADAPTER_FILES_H
#define ADAPTER_FILES_H

#include "nen_codes.h"

#include <stddef.h>

/* Read path ("-" for stdin) into a malloc'd, NUL-terminated buffer the
 * caller frees; *len gets its length. More than max bytes is an error and
 * is not read past max + 1. Returns NULL with a message in err. */
char *adapter_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen);

/* Load a hospital code table file (at most 4 MiB) into t, after what t
 * holds. Returns 0, or -1 with err ("FILE:LINE: problem" or why the file
 * cannot be read). */
int adapter_load_map(struct nen_codes *t, const char *path, char *err, size_t errlen);

#endif
