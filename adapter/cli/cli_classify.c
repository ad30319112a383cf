/*
 * cli_classify.c - `nenfhir classify` (cli_classify.h): files -> resource
 * trees (fhir_parse) -> cases, one per tissue specimen accession
 * (nen_cases.h) -> each case extracted (nen_extract_case) -> result ->
 * transaction Bundle (nen_report_bundle), JSON or XML, or the summary
 * lines. Several cases: --summary prints each after a `case=ACCESSION`
 * line; a Bundle is printed for the one chosen with --case.
 */
#include "cli_classify.h"

#include "adapter_files.h"
#include "fhir_json.h"
#include "fhir_primitive.h"
#include "fhir_xml.h"
#include "nen_cases.h"
#include "nen_codes.h"
#include "nen_extract.h"
#include "nen_report.h"
#include "nen_report_text.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef NENFHIR_VERSION
#define NENFHIR_VERSION "0.1.0"
#endif

#define MAX_FILES 64

struct args {
    int summary, xml;
    const char *only;        /* --case ACCESSION: that case only */
    const char *maps[8];
    int nmaps;
    const char *files[MAX_FILES];
    int nfiles;
};

static void print_line(void *ctx, const char *line)
{
    fprintf((FILE *)ctx, "%s\n", line);
}

static void log_line(void *ctx, const char *line)
{
    fprintf((FILE *)ctx, "nenfhir classify: %s\n", line);
}

static int usage(FILE *err, const char *why)
{
    fprintf(err, "nenfhir classify: %s\n"
                 "usage: nenfhir classify [--summary] [--xml] [--map FILE]... [--case ACCESSION]"
                 " FILE...\n"
                 "  FILE: a Bundle or single resources of one patient, JSON or XML ('-' = stdin)\n"
                 "  --map FILE: the hospital's own code table, loaded after the shipped one\n"
                 "  --case ACCESSION: the case of that specimen accession (one report per\n"
                 "    tissue specimen; --summary prints every case when there are several)\n",
            why);
    return 2;
}

static int parse_args(int argc, char **argv, struct args *a, FILE *err)
{
    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--summary") == 0)
            a->summary = 1;
        else if (strcmp(argv[i], "--xml") == 0)
            a->xml = 1;
        else if (strcmp(argv[i], "--case") == 0) {
            if (i + 1 == argc)
                return usage(err, "--case needs an ACCESSION");
            a->only = argv[++i];
        } else if (strcmp(argv[i], "--map") == 0) {
            if (i + 1 == argc || a->nmaps == 8)
                return usage(err, "--map needs a FILE (at most 8)");
            a->maps[a->nmaps++] = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            char msg[128];
            snprintf(msg, sizeof msg, "unknown option '%.60s'", argv[i]);
            return usage(err, msg);
        } else {
            if (a->nfiles == MAX_FILES)
                return usage(err, "too many files (at most 64)");
            a->files[a->nfiles++] = argv[i];
        }
    }
    return a->nfiles ? 0 : usage(err, "no input FILE");
}

static struct nen_codes *load_codes(const struct args *a, FILE *err)
{
    char msg[512];
    struct nen_codes *t = nen_codes_new();
    if (!t) {
        fprintf(err, "nenfhir classify: out of memory\n");
        return NULL;
    }
    int rc = nen_codes_load_default(t, msg, sizeof msg);
    for (int i = 0; rc == 0 && i < a->nmaps; i++)
        rc = adapter_load_map(t, a->maps[i], msg, sizeof msg);
    if (rc != 0) {
        fprintf(err, "nenfhir classify: %s\n", msg);
        nen_codes_free(t);
        return NULL;
    }
    return t;
}

/* Print the transaction Bundle as JSON or XML. Returns 0 or 2. */
static int print_bundle(const struct nen_extract *x, const struct nen_result *r,
                        const struct nen_codes *t, int xml, FILE *out, FILE *err)
{
    char now[32];
    struct fhir_error ferr = {0};
    if (fhir_instant_format(time(NULL), now, sizeof now) != 0)
        snprintf(now, sizeof now, "1970-01-01T00:00:00Z");
    struct nen_report_opts o = {now, NENFHIR_VERSION, NULL, NULL, NULL, t, 0};
    json_object *b = nen_report_bundle(x, r, &o, &ferr);
    char *text = NULL;
    if (b)
        text = xml ? fhir_xml_write(b, &ferr) : fhir_json_write(b, 1);
    json_object_put(b);
    if (!text) {
        fprintf(err, "nenfhir classify: %s\n", ferr.msg[0] ? ferr.msg : "out of memory");
        return 2;
    }
    fprintf(out, "%s\n", text);
    free(text);
    return 0;
}

/* The accession (else key) of case i of plan, as extracted into x. */
static int case_matches(const struct nen_extract *x, const char *only)
{
    return !only || strcmp(x->case_value, only) == 0;
}

/* Plan, extract and print every case (or the --case one). Returns 0 or 2. */
static int classify_cases(const struct args *a, const struct nen_codes *t, json_object **docs,
                          FILE *out, FILE *err)
{
    struct nen_cases plan;
    struct fhir_error ferr = {0};
    struct nen_extract *xs[NEN_CASES_MAX] = {0};
    struct nen_result *r = malloc(sizeof *r);
    int rc = r ? 0 : 2, n = 0;
    if (rc == 0 && nen_cases_plan(t, docs, (size_t)a->nfiles, &plan, log_line, err, &ferr) != 0)
        rc = 2;
    for (int i = 0; rc == 0 && i < plan.ncase; i++, n++)
        if (!(xs[i] = malloc(sizeof *xs[i])) ||
            nen_extract_case(t, &plan, i, xs[i], log_line, err, &ferr) != 0)
            rc = 2;
    if (rc == 0)
        nen_cases_note_missing(xs, n);
    int shown = 0, many = n > 1 && !a->only;
    if (rc == 0 && many && !a->summary) {
        fprintf(err, "nenfhir classify: these resources are %d cases (one report per tissue "
                     "specimen):", n);
        for (int i = 0; i < n; i++)
            fprintf(err, " %s", xs[i]->case_value);
        fprintf(err, "; choose one with --case ACCESSION, or use --summary\n");
        rc = 2;
    }
    for (int i = 0; rc == 0 && i < n; i++) {
        if (!case_matches(xs[i], a->only))
            continue;
        shown++;
        nen_extract_classify(xs[i], r);
        if (a->summary) {
            if (many)
                fprintf(out, "%scase=%s\n", i ? "\n" : "", xs[i]->case_value);
            nen_report_summary(r, print_line, out);
        } else {
            rc = print_bundle(xs[i], r, t, a->xml, out, err);
        }
    }
    if (rc == 0 && !shown) {
        fprintf(err, "nenfhir classify: no case with accession '%s'\n", a->only);
        rc = 2;
    }
    if (rc != 0 && ferr.msg[0])
        fprintf(err, "nenfhir classify: %s\n", ferr.msg);
    else if (!r)
        fprintf(err, "nenfhir classify: out of memory\n");
    for (int i = 0; i < NEN_CASES_MAX; i++)
        free(xs[i]);
    if (r)
        nen_cases_free(&plan);
    free(r);
    return rc;
}

int cli_classify(int argc, char **argv, FILE *out, FILE *err)
{
    struct args a;
    if (parse_args(argc, argv, &a, err) != 0)
        return 2;
    struct nen_codes *t = load_codes(&a, err);
    if (!t)
        return 2;
    json_object *docs[MAX_FILES] = {0};
    struct fhir_error ferr = {0};
    int rc = 0;
    for (int i = 0; i < a.nfiles && rc == 0; i++) {
        size_t len;
        char msg[FHIR_ERROR_LEN];
        char *buf = adapter_read_file(a.files[i], fhir_limits_default.max_bytes, &len, msg,
                                  sizeof msg);
        if (!buf) {
            fprintf(err, "nenfhir classify: %s\n", msg);
            rc = 2;
            break;
        }
        docs[i] = fhir_parse(buf, len, &fhir_limits_default, a.files[i], &ferr);
        free(buf);
        if (!docs[i]) {
            fprintf(err, "nenfhir classify: %s\n", ferr.msg);
            rc = 2;
        }
    }
    if (rc == 0)
        rc = classify_cases(&a, t, docs, out, err);
    for (int i = 0; i < a.nfiles; i++)
        json_object_put(docs[i]);
    nen_codes_free(t);
    return rc;
}
