/*
 * fuzz_case.c - libFuzzer target: nen_case_parse (mappings/nen_case_text.c),
 * the key=value case language of `nenfhir explain` and the clinical vectors,
 * then nen_classify. Invariants: a refusal has a clean message; a parsed
 * case passes nen_case_check (the parser checks it); classifying is pure and
 * deterministic (twice gives the same bytes); counts stay within their
 * arrays; every warning, missing input and trace line is clean UTF-8.
 */
#include "fuzz_util.h"
#include "nen_case.h"
#include "nen_case_text.h"
#include "nen_report_text.h"

static void check_trace(const struct nen_trace *t, const char *what)
{
    if (t->n < 0 || t->n > NEN_TRACE_MAX)
        fz_fail("%s: %d steps", what, t->n);
    for (int i = 0; i < t->n; i++) {
        fz_text(t->step[i].rule, sizeof t->step[i].rule, what);
        fz_text(t->step[i].text, sizeof t->step[i].text, what);
    }
}

static void line(void *ctx, const char *s)
{
    (void)ctx;
    fz_text(s, strlen(s) + 1, "summary line");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fz_cstring(data, size);
    if (!text)
        return 0;
    struct nen_case c;
    char err[512] = "";
    nen_case_init(&c);
    if (nen_case_parse(&c, text, err, sizeof err) != 0) {
        fz_clean_error(err, sizeof err, "nen_case_parse error");
        free(text);
        return 0;
    }
    free(text);
    char err2[512] = "";
    if (nen_case_check(&c, err2, sizeof err2) != 0)
        fz_fail("parsed case fails nen_case_check: %s", err2);
    static struct nen_result r1, r2;
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);
    nen_classify(&c, &r1);
    nen_classify(&c, &r2);
    if (memcmp(&r1, &r2, sizeof r1) != 0)
        fz_fail("nen_classify is not deterministic");
    if (r1.nwarn < 0 || r1.nwarn > NEN_WARN_MAX || r1.nmissing < 0 ||
        r1.nmissing > NEN_MISSING_MAX || r1.nadvice < 0 || r1.nadvice > NEN_ADVICE_MAX)
        fz_fail("counts out of range: %d warnings, %d missing, %d advice", r1.nwarn,
                r1.nmissing, r1.nadvice);
    if (r1.status != NEN_STATUS_PRELIMINARY && r1.status != NEN_STATUS_FINAL)
        fz_fail("status %d", (int)r1.status);
    fz_text(r1.subtype, sizeof r1.subtype, "subtype");
    for (int i = 0; i < r1.nwarn; i++)
        fz_text(r1.warn[i].text, sizeof r1.warn[i].text, "warning");
    for (int i = 0; i < r1.nmissing; i++)
        fz_text(r1.missing[i], sizeof r1.missing[i], "missing");
    check_trace(&r1.class_trace, "class trace");
    check_trace(&r1.grade_trace, "grade trace");
    check_trace(&r1.gtype_trace, "gtype trace");
    check_trace(&r1.stage_trace, "stage trace");
    check_trace(&r1.advice_trace, "advice trace");
    nen_report_summary(&r1, line, NULL);
    return 0;
}
