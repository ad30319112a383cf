/*
 * adapter_files.c - bounded whole-file reads and code table files
 * (adapter_files.h).
 */
#include "adapter_files.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *adapter_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n > max)
            break;
        if (n == cap - 1) {
            char *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
            cap *= 2;
        }
        size_t want = cap - 1 - n, left = max + 1 - n; /* never read past max + 1 */
        size_t got = fread(buf + n, 1, want < left ? want : left, f);
        n += got;
        if (got == 0)
            break;
    }
    int rerr = ferror(f);
    if (f != stdin)
        fclose(f);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    if (n > max) {
        snprintf(err, errlen, "%s: larger than the %zu-byte limit; not read", path, max);
        free(buf);
        return NULL;
    }
    if (rerr) {
        snprintf(err, errlen, "%s: read error", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

int adapter_load_map(struct nen_codes *t, const char *path, char *err, size_t errlen)
{
    size_t len;
    char *text = adapter_read_file(path, (size_t)4 * 1024 * 1024, &len, err, errlen);
    if (!text)
        return -1;
    int rc = nen_codes_load(t, text, path, err, (unsigned)errlen);
    free(text);
    return rc;
}
