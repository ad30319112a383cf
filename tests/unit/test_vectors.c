/*
 * test_vectors.c - the clinical vector test: runs every case of
 * tests/vectors/ *.vec through nen_classify() and compares class, grade,
 * gastric type, T, N, M, stage, warnings (exactly) and, where a vector gives
 * them, status, missing inputs and candidate sets. Line format and vocabulary:
 * tests/vectors/README.md. Each vector is one CUnit assertion named by its
 * file, line and name; a failing vector prints its full result and trace.
 */
#include "test_util.h"

#include "nen_case_text.h"
#include "nen_report_text.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_VECTORS 300
#define MAX_NAMES 4096
#define NAME_LEN 80

static const char *vec_dir;
static char names[MAX_NAMES][NAME_LEN];
static int nnames, npassed, nfailed;

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

/* Split "a+b+c" and check it names exactly the set produced by has(i)/count. */
typedef int (*member_fn)(const struct nen_result *r, const char *word);

static int set_equal(const struct nen_result *r, const char *want, member_fn has, int have_count)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", want);
    int n = 0;
    for (char *save = NULL, *w = strtok_r(buf, "+", &save); w; w = strtok_r(NULL, "+", &save)) {
        if (!has(r, w))
            return 0;
        n++;
    }
    return n == have_count;
}

static int has_missing(const struct nen_result *r, const char *w)
{
    for (int i = 0; i < r->nmissing; i++)
        if (strcmp(r->missing[i], w) == 0)
            return 1;
    return 0;
}

static int has_advice(const struct nen_result *r, const char *w)
{
    for (int i = 0; i < r->nadvice; i++)
        if (strcmp(r->advice[i].code, w) == 0)
            return 1;
    return 0;
}

static const struct nen_tnm_result *cand_target;
static int has_tnm_cand(const struct nen_result *r, const char *w)
{
    (void)r;
    int x = nen_tnm_parse(w);
    return x >= 0 && (cand_target->candidates & (1ULL << x));
}

static int has_stage_cand(const struct nen_result *r, const char *w)
{
    int x = nen_stage_parse(w);
    return x >= 0 && (r->stage_candidates & (1u << x));
}

static void print_line(void *ctx, const char *line)
{
    (void)ctx;
    printf("      %s\n", line);
}

/* Compare one expected key=value; append a complaint to why on mismatch. */
static void check_key(const struct nen_result *r, const char *key, const char *want,
                      char *why, size_t whylen)
{
    char got[64] = "";
    int ok = 1;
    if (strcmp(key, "class") == 0)
        snprintf(got, sizeof got, "%s", nen_class_name(r->cls));
    else if (strcmp(key, "grade") == 0)
        snprintf(got, sizeof got, "%s", nen_grade_name(r->grade));
    else if (strcmp(key, "type") == 0)
        snprintf(got, sizeof got, "%s", nen_gtype_name(r->gtype));
    else if (strcmp(key, "t") == 0)
        nen_tnm_result_text(&r->t, got, sizeof got);
    else if (strcmp(key, "n") == 0)
        nen_tnm_result_text(&r->n, got, sizeof got);
    else if (strcmp(key, "m") == 0)
        nen_tnm_result_text(&r->m, got, sizeof got);
    else if (strcmp(key, "stage") == 0)
        snprintf(got, sizeof got, "%s", nen_stage_name(r->stage));
    else if (strcmp(key, "status") == 0)
        snprintf(got, sizeof got, "%s", nen_status_name(r->status));
    else if (strcmp(key, "missing") == 0) {
        ok = set_equal(r, want, has_missing, r->nmissing);
        snprintf(got, sizeof got, "(see trace)");
    } else if (strcmp(key, "advice") == 0) { /* the exact set of advice codes; "none": empty */
        ok = strcmp(want, "none") == 0 ? r->nadvice == 0
                                       : set_equal(r, want, has_advice, r->nadvice);
        snprintf(got, sizeof got, "(see trace)");
    } else if (key[1] == 'c' && key[2] == '\0' && strchr("tnm", key[0])) {
        cand_target = key[0] == 't' ? &r->t : key[0] == 'n' ? &r->n : &r->m;
        ok = set_equal(r, want, has_tnm_cand, __builtin_popcountll(cand_target->candidates));
        snprintf(got, sizeof got, "(see trace)");
    } else if (strcmp(key, "sc") == 0) {
        ok = set_equal(r, want, has_stage_cand, __builtin_popcount(r->stage_candidates));
        snprintf(got, sizeof got, "(see trace)");
    } else {
        snprintf(why + strlen(why), whylen - strlen(why), " unknown expected key '%s';", key);
        return;
    }
    if (got[0] != '(' )
        ok = strcmp(got, want) == 0;
    if (!ok)
        snprintf(why + strlen(why), whylen - strlen(why), " %s: want %s got %s;", key, want, got);
}

static int name_seen(const char *name)
{
    for (int i = 0; i < nnames; i++)
        if (strcmp(names[i], name) == 0)
            return 1;
    if (nnames < MAX_NAMES)
        snprintf(names[nnames++], NAME_LEN, "%s", name);
    return 0;
}

/* Run one vector line; returns 1 if it passed. why gets the reasons. */
static int run_vector(char *line, char *why, size_t whylen, struct nen_result *r)
{
    /* name ; source ; inputs ; expected - the source may itself hold ';' */
    char *fields[4];
    char *first = strchr(line, ';'), *last = strrchr(line, ';'), *second_last = NULL;
    if (first && last > first) {
        *last = '\0';
        second_last = strrchr(line, ';');
        *last = ';';
    }
    if (!first || !second_last || second_last <= first) {
        snprintf(why, whylen, " needs 4 ';'-separated fields");
        return 0;
    }
    *first = *second_last = *last = '\0';
    fields[0] = trim(line);
    fields[1] = trim(first + 1);
    fields[2] = trim(second_last + 1);
    fields[3] = trim(last + 1);
    const char *name = fields[0];
    if (!name[0] || name_seen(name)) {
        snprintf(why, whylen, " empty or duplicate name '%s'", name);
        return 0;
    }
    if (strlen(fields[1]) < 8) {
        snprintf(why, whylen, " the source must name the table and row");
        return 0;
    }
    struct nen_case c;
    char err[256];
    nen_case_init(&c);
    if (nen_case_parse(&c, fields[2], err, sizeof err) != 0) {
        snprintf(why, whylen, " inputs: %s", err);
        return 0;
    }
    nen_classify(&c, r);

    /* every result field explains itself */
    why[0] = '\0';
    const struct { const char *field; const struct nen_trace *t; int needed; } traced[] = {
        {"class", &r->class_trace, 1},
        {"grade", &r->grade_trace, 1},
        {"type", &r->gtype_trace, 1},
        {"stage", &r->stage_trace, 1},
        {"t", &r->t.trace, r->t.value != NEN_TNM_UNKNOWN || r->t.candidates != 0},
        {"n", &r->n.trace, r->n.value != NEN_TNM_UNKNOWN || r->n.candidates != 0},
        {"m", &r->m.trace, r->m.value != NEN_TNM_UNKNOWN || r->m.candidates != 0},
    };
    for (size_t i = 0; i < sizeof traced / sizeof traced[0]; i++)
        if (traced[i].needed && traced[i].t->n == 0)
            snprintf(why + strlen(why), whylen - strlen(why), " %s has no rule trace;",
                     traced[i].field);
    /* every step cites the guideline (or a stated nenfhir reading), never a project file */
    const struct nen_trace *all[] = {&r->class_trace, &r->grade_trace, &r->gtype_trace,
                                     &r->stage_trace, &r->t.trace, &r->n.trace, &r->m.trace,
                                     &r->advice_trace};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        for (int k = 0; k < all[i]->n; k++)
            if (strstr(all[i]->step[k].rule, ".md") || strstr(all[i]->step[k].rule, ".c"))
                snprintf(why + strlen(why), whylen - strlen(why),
                         " a rule cites a project file: %s;", all[i]->step[k].rule);

    /* a final report leaves nothing open that an input could still settle */
    if (r->status == NEN_STATUS_FINAL &&
        (r->t.candidates || r->n.candidates || r->m.candidates || r->stage_candidates))
        snprintf(why + strlen(why), whylen - strlen(why),
                 " status final but a candidate set is still open;");

    static const char *const required[] = {"class", "grade", "type", "t", "n", "m", "stage"};
    int seen_required[7] = {0};
    int warn_want = 0, warn_ok = 1;
    char *esave = NULL;
    for (char *kv = strtok_r(fields[3], " \t", &esave); kv; kv = strtok_r(NULL, " \t", &esave)) {
        char *eq = strchr(kv, '=');
        if (!eq) {
            snprintf(why + strlen(why), whylen - strlen(why), " '%s' is not key=value;", kv);
            continue;
        }
        *eq = '\0';
        const char *key = kv, *want = eq + 1;
        for (int i = 0; i < 7; i++)
            if (strcmp(key, required[i]) == 0)
                seen_required[i] = 1;
        if (strcmp(key, "warn") == 0) {
            int found = 0;
            for (int i = 0; i < r->nwarn; i++)
                found |= strcmp(r->warn[i].code, want) == 0;
            if (!found) {
                warn_ok = 0;
                snprintf(why + strlen(why), whylen - strlen(why), " warning %s missing;", want);
            }
            warn_want++;
            continue;
        }
        check_key(r, key, want, why, whylen);
    }
    for (int i = 0; i < 7; i++)
        if (!seen_required[i])
            snprintf(why + strlen(why), whylen - strlen(why), " expected '%s' not given;",
                     required[i]);
    if (warn_ok && warn_want != r->nwarn) {
        snprintf(why + strlen(why), whylen - strlen(why), " %d warnings, %d expected:",
                 r->nwarn, warn_want);
        for (int i = 0; i < r->nwarn; i++)
            snprintf(why + strlen(why), whylen - strlen(why), " %s", r->warn[i].code);
        snprintf(why + strlen(why), whylen - strlen(why), ";");
    }
    return why[0] == '\0';
}

static void run_file(const char *path, const char *base)
{
    FILE *f = fopen(path, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char line[2048], copy[2048], why[1024];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (!s[0] || s[0] == '#')
            continue;
        snprintf(copy, sizeof copy, "%s", s);
        static struct nen_result r;
        int ok = run_vector(s, why, sizeof why, &r);
        char where[256];
        snprintf(where, sizeof where, "%s:%d", base, lineno);
        CU_assertImplementation(ok ? CU_TRUE : CU_FALSE, (unsigned)lineno, copy, where, "",
                                CU_FALSE);
        if (ok) {
            npassed++;
        } else {
            nfailed++;
            printf("\n  FAIL %s:%d:%s\n    %s\n", base, lineno, why, copy);
            nen_report_summary(&r, print_line, NULL);
            nen_report_trace(&r, print_line, NULL);
        }
    }
    fclose(f);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_all_vectors(void)
{
    DIR *d = opendir(vec_dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    char *files[256];
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < 256;) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".vec") == 0) {
            files[n] = strdup(e->d_name);
            CU_ASSERT_PTR_NOT_NULL_FATAL(files[n]);
            n++;
        }
    }
    closedir(d);
    qsort(files, (size_t)n, sizeof files[0], cmp_str);
    for (int i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", vec_dir, files[i]);
        int before = npassed + nfailed;
        run_file(path, files[i]);
        printf("\n  %-28s %d vectors", files[i], npassed + nfailed - before);
        free(files[i]);
    }
    printf("\nclinical vectors: %d passed, %d failed\n", npassed, nfailed);
    CU_ASSERT(npassed + nfailed >= MIN_VECTORS);
}

int main(int argc, char **argv)
{
    vec_dir = argc > 1 ? argv[1] : "tests/vectors";
    CU_TestInfo tests[] = {{"all clinical vectors", test_all_vectors}, CU_TEST_INFO_NULL};
    return test_run_suite("clinical_vectors", tests);
}
