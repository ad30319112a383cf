/*
 * fuzz_map.c - libFuzzer target: nen_codes_load (mappings/nen_codes.c), the
 * code-table (map file) loader, on any text: into an empty table and, when
 * that loads, on top of the shipped default.map (as a hospital's
 * `map = FILE` is). Invariants: a refusal has a clean message naming the
 * file; after a load every entry's fields are NUL-terminated clean UTF-8,
 * uses and roles are known values, unit factors are finite and positive.
 */
#include "fuzz_util.h"
#include "nen_codes.h"
#include <math.h>

/* The compiled-in tables (cmake/embed_text.cmake); the first is default.map,
 * which declares the systems and keys. Stacking on it alone keeps a run fast
 * (the five tables together take milliseconds to load). */
struct nen_embedded {
    const char *name;
    const char *text;
};
extern const struct nen_embedded nen_default_maps[];

static struct nen_codes *shipped_table(void)
{
    char err[512];
    struct nen_codes *t = nen_codes_new();
    if (!t || nen_codes_load(t, nen_default_maps[0].text, nen_default_maps[0].name, err,
                             sizeof err) != 0)
        fz_fail("cannot load the shipped default.map");
    return t;
}

static void check_code(const struct nen_code *c, const char *what)
{
    fz_text(c->system, sizeof c->system, what);
    fz_text(c->code, sizeof c->code, what);
    fz_text(c->key, sizeof c->key, what);
    fz_text(c->word, sizeof c->word, what);
    if ((int)c->use < 0 || (int)c->use > 16 || (int)c->role < 0 || (int)c->role > 16)
        fz_fail("%s: use %d role %d", what, (int)c->use, (int)c->role);
}

static void check_table(const struct nen_codes *t)
{
    const struct nen_code *c;
    const struct nen_code_unit *u;
    for (unsigned i = 0; (c = nen_codes_input_at(t, i)); i++)
        check_code(c, "input entry");
    for (unsigned i = 0; (c = nen_codes_condition_at(t, i)); i++)
        check_code(c, "condition entry");
    for (unsigned i = 0; (c = nen_codes_value_at(t, i)); i++)
        check_code(c, "value entry");
    for (unsigned i = 0; (c = nen_codes_result_at(t, i)); i++)
        check_code(c, "result entry");
    for (unsigned i = 0; (u = nen_codes_unit_at(t, i)); i++) {
        fz_text(u->key, sizeof u->key, "unit key");
        fz_text(u->ucum, sizeof u->ucum, "unit ucum");
        fz_text(u->suffix, sizeof u->suffix, "unit suffix");
        if (!isfinite(u->factor) || u->factor <= 0)
            fz_fail("unit %s: factor %g", u->key, u->factor);
    }
    (void)nen_codes_count(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fz_cstring(data, size);
    if (!text)
        return 0;
    for (int round = 0; round < 2; round++) {
        char err[512] = "";
        struct nen_codes *t = round == 0 ? nen_codes_new() : shipped_table();
        if (!t)
            fz_fail("out of memory");
        if (nen_codes_load(t, text, "fuzz.map", err, sizeof err) != 0) {
            fz_clean_error(err, sizeof err, "nen_codes_load error");
            if (!strstr(err, "fuzz.map"))
                fz_fail("error does not name the file: %s", err);
            nen_codes_free(t);
            break; /* stacking is only tried with a file that loads alone */
        }
        check_table(t);
        nen_codes_free(t);
    }
    free(text);
    return 0;
}
