/*
 * extract_util.c - see extract_util.h.
 */
#include "extract_util.h"

#include "fhir_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The default tables, loaded once for the whole test program (each load
 * parses every shipped map file: thousands of extractions made the tests
 * slow, under valgrind minutes); freed at exit. */
static struct nen_codes *defaults;

static void defaults_free(void)
{
    nen_codes_free(defaults);
    defaults = NULL;
}

/* Parse doc and extract it with the default tables plus map (may be NULL). */
static int extract_doc(const char *doc, const char *map, struct nen_extract *x,
                       struct fhir_error *err)
{
    char msg[512] = "out of memory";
    json_object *o = fhir_json_parse(doc, strlen(doc), NULL, "test", err);
    if (!o)
        return -1;
    struct nen_codes *t = NULL;
    if (!map && !defaults) {
        defaults = nen_codes_new();
        if (defaults && nen_codes_load_default(defaults, msg, sizeof msg) == 0)
            atexit(defaults_free);
        else
            defaults_free();
    }
    if (!map)
        t = defaults;
    else if ((t = nen_codes_new()) &&
             (nen_codes_load_default(t, msg, sizeof msg) != 0 ||
              nen_codes_load(t, map, "local.map", msg, sizeof msg) != 0)) {
        nen_codes_free(t);
        t = NULL;
    }
    int rc = -1;
    if (t)
        rc = nen_extract(t, &o, 1, x, NULL, NULL, err);
    else
        fhir_error_set(err, "%s", msg);
    if (map)
        nen_codes_free(t);
    json_object_put(o);
    return rc;
}

int tx_extract(const char *entries, const char *map, struct nen_extract *x,
               struct fhir_error *err)
{
    static const char head[] =
        "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":["
        "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p1\"}},"
        "{\"resource\":{\"resourceType\":\"Specimen\",\"id\":\"s1\",\"accessionIdentifier\":"
        "{\"system\":\"http://lab.example.org/acc\",\"value\":\"S1\"},"
        "\"subject\":{\"reference\":\"Patient/p1\"}}}";
    size_t len = strlen(head) + strlen(entries) + 8;
    char *doc = malloc(len);
    if (!doc)
        return -1;
    snprintf(doc, len, "%s%s%s]}", head, entries[0] ? "," : "", entries);
    int rc = extract_doc(doc, map, x, err);
    free(doc);
    return rc;
}

int tx_extract_raw(const char *doc, struct nen_extract *x, struct fhir_error *err)
{
    return extract_doc(doc, NULL, x, err);
}

int tx_has_warning(const struct nen_extract *x, const char *code)
{
    for (int i = 0; i < x->nwarn; i++)
        if (strcmp(x->warn[i].code, code) == 0)
            return 1;
    for (int i = 0; i < x->nunknown; i++)
        if (strcmp(x->unknown[i].code, code) == 0)
            return 1;
    return 0;
}

int tx_result_has_warning(const struct nen_result *r, const char *code)
{
    for (int i = 0; i < r->nwarn; i++)
        if (strcmp(r->warn[i].code, code) == 0)
            return 1;
    return 0;
}

char *tx_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    return buf;
}
