/*
 * nen_extract_resolve.c - readings -> case (nen_extract_int.h): one value per
 * input by the stated rule (hotspot method, then final status, then latest),
 * sets joined, ranges kept as two ends, and the sources remembered.
 */
#include "nen_extract_int.h"

#include "nen_case_text.h"

#include <stdio.h>
#include <string.h>

static void add_source(struct nen_extract *x, const struct nen_reading *r)
{
    for (int i = 0; i < x->nsrc; i++)
        if (strcmp(x->src[i].key, r->key) == 0 && strcmp(x->src[i].ref, r->ref) == 0)
            return;
    if (x->nsrc == NEN_SOURCE_MAX)
        return; /* the case still has the value; only the back-reference is lost */
    struct nen_source *s = &x->src[x->nsrc++];
    snprintf(s->key, sizeof s->key, "%s", r->key);
    snprintf(s->ref, sizeof s->ref, "%s", r->ref);
    snprintf(s->type, sizeof s->type, "%s", r->type);
    snprintf(s->shown, sizeof s->shown, "%s", r->shown);
}

/* diff: a cell type (small, large) refines "poor" (poorly differentiated,
 * type not stated), e.g. ICD-10-CM C7A.1 beside ICD-O-3 8013/3. */
static int refines(const struct nen_reading *a, const struct nen_reading *b)
{
    return strcmp(a->key, "diff") == 0 && strcmp(b->lo, "poor") == 0 &&
           (strcmp(a->lo, "small") == 0 || strcmp(a->lo, "large") == 0);
}

/* Which of a and b wins, and why (for the warning). */
static const char *better(const struct nen_reading *a, const struct nen_reading *b, int *a_wins)
{
    if (refines(a, b) || refines(b, a)) {
        *a_wins = refines(a, b);
        return NULL; /* not a disagreement */
    }
    if (a->hotspot != b->hotspot) {
        *a_wins = a->hotspot > b->hotspot;
        return "hotspot method";
    }
    if (a->rank != b->rank) {
        *a_wins = a->rank > b->rank;
        return "final status";
    }
    if (a->has_when != b->has_when || (a->has_when && a->when_ms != b->when_ms)) {
        *a_wins = a->has_when && (!b->has_when || a->when_ms > b->when_ms);
        return "latest";
    }
    *a_wins = 0;
    return "first listed";
}

static int same_value(const struct nen_reading *a, const struct nen_reading *b)
{
    return a->unreadable == b->unreadable && strcmp(a->lo, b->lo) == 0 &&
           strcmp(a->hi, b->hi) == 0;
}

/* key was reported by r but cannot be read: the rules will try every value. */
static void add_unread(struct nen_extract *x, const struct nen_reading *r)
{
    for (int i = 0; i < x->nunread; i++)
        if (strcmp(x->unread[i].key, r->key) == 0) {
            x->unread[i].present |= r->present;
            return;
        }
    if (x->nunread == NEN_UNREAD_MAX)
        return; /* more unreadable inputs than fit: each still has its warning */
    struct nen_unread *u = &x->unread[x->nunread++];
    snprintf(u->key, sizeof u->key, "%s", r->key);
    snprintf(u->ref, sizeof u->ref, "%s", r->ref);
    u->present = r->present;
}

static int set_both(struct nen_extract *x, const char *key, const char *lo, const char *hi,
                    const char *ref)
{
    char msg[200];
    struct nen_case l = x->lo, h = x->hi;
    if (nen_case_set(&l, key, lo, msg, sizeof msg) != 0 ||
        nen_case_set(&h, key, hi, msg, sizeof msg) != 0) {
        nen_extract_warnf(x, "input-unreadable", "%s: %s; not used", ref, msg);
        return -1;
    }
    x->lo = l;
    x->hi = h;
    return 0;
}

/* One scalar input: pick the winner among its readings. */
static void resolve_scalar(struct nen_extract *x, const struct nen_reading *rd, int n,
                           const char *key)
{
    const struct nen_reading *best = NULL;
    const char *why = NULL;
    int differ = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(rd[i].key, key) != 0)
            continue;
        if (!best) {
            best = &rd[i];
            continue;
        }
        int wins;
        const char *reason = better(&rd[i], best, &wins);
        if (reason && !same_value(&rd[i], best)) {
            differ = 1;
            if (wins || !why)
                why = reason;
        }
        if (wins)
            best = &rd[i];
    }
    if (!best)
        return;
    if (best->unreadable)
        add_unread(x, best);
    else if (set_both(x, key, best->lo, best->hi, best->ref) != 0)
        return;
    add_source(x, best);
    if (differ)
        nen_extract_warnf(x, "input-duplicate",
              "%s reported more than once with different values: %s (%s) used, by rule: %s",
              key, best->ref, best->shown, why);
    if (best->ranged) {
        x->ranged = 1;
        size_t len = strlen(x->ranged_keys);
        snprintf(x->ranged_keys + len, sizeof x->ranged_keys - len, "%s%s", len ? " " : "", key);
    }
}

/* extent findings and metastasis sites: every reading counts. */
static void resolve_set(struct nen_extract *x, const struct nen_reading *rd, int n,
                        const char *key)
{
    char joined[256] = "";
    const char *none_ref = NULL;
    for (int i = 0; i < n; i++) {
        if (strcmp(rd[i].key, key) != 0)
            continue;
        add_source(x, &rd[i]);
        if (rd[i].unreadable) {
            add_unread(x, &rd[i]);
            continue;
        }
        if (strcmp(rd[i].lo, "none") == 0) {
            none_ref = rd[i].ref;
            continue;
        }
        char item[70];
        snprintf(item, sizeof item, "+%s+", rd[i].lo);
        char padded[260];
        snprintf(padded, sizeof padded, "+%s+", joined);
        if (strstr(padded, item))
            continue;
        size_t len = strlen(joined);
        snprintf(joined + len, sizeof joined - len, "%s%s", len ? "+" : "", rd[i].lo);
    }
    if (none_ref && joined[0])
        nen_extract_warnf(x, "input-conflict", "%s: %s says none, other resources name %s: the findings are used",
              key, none_ref, joined);
    const char *v = joined[0] ? joined : none_ref ? "none" : NULL;
    if (v)
        set_both(x, key, v, v, none_ref && !joined[0] ? none_ref : key);
}

/* Append " (from REF, REF)" naming the sources of inputs a message mentions. */
static void name_sources(const struct nen_extract *x, const char *msg, char *out, size_t len)
{
    snprintf(out, len, "inputs contradict each other: %s", msg);
    int first = 1;
    for (int i = 0; i < x->nsrc; i++)
        if (strstr(msg, x->src[i].key)) {
            size_t l = strlen(out);
            snprintf(out + l, len - l, "%s%s", first ? " (from " : ", ", x->src[i].ref);
            first = 0;
        }
    if (!first) {
        size_t l = strlen(out);
        snprintf(out + l, len - l, ")");
    }
}

int nen_extract_resolve(struct nen_extract *x, const struct nen_reading *rd, int n,
                        struct fhir_error *err)
{
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = strcmp(rd[j].key, rd[i].key) == 0;
        if (seen)
            continue;
        if (strcmp(rd[i].key, "extent") == 0 || strcmp(rd[i].key, "mets") == 0)
            resolve_set(x, rd, n, rd[i].key);
        else
            resolve_scalar(x, rd, n, rd[i].key);
    }
    char msg[256], full[FHIR_ERROR_LEN];
    if (nen_case_check(&x->lo, msg, sizeof msg) != 0 ||
        nen_case_check(&x->hi, msg, sizeof msg) != 0) {
        name_sources(x, msg, full, sizeof full);
        fhir_error_set(err, "%s", full);
        return -1;
    }
    return 0;
}
