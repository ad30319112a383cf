/*
 * cli_explain.c - `nenfhir explain [--summary] key=value...`: reads one case
 * in the key=value language (tests/vectors/README.md), runs the rules and
 * prints the summary lines, then (without --summary) the rule trace.
 */
#include "cli_explain.h"

#include "nen_case_text.h"
#include "nen_report_text.h"

#include <string.h>

static void print_line(void *ctx, const char *line)
{
    fprintf((FILE *)ctx, "%s\n", line);
}

int cli_explain(int argc, char **argv, FILE *out, FILE *err)
{
    struct nen_case c;
    struct nen_result r;
    char msg[256];
    int summary_only = 0, words = 0;
    nen_case_init(&c);
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--summary") == 0) {
            summary_only = 1;
            continue;
        }
        if (nen_case_parse(&c, argv[i], msg, sizeof msg) != 0) {
            fprintf(err, "nenfhir explain: %s\n", msg);
            return 2;
        }
        words++;
    }
    if (words == 0) {
        fprintf(err, "nenfhir explain: no inputs; give key=value words, e.g.\n"
                     "  nenfhir explain site=pancreas diff=well ki67=4 mitoses=1/2mm2\n"
                     "(vocabulary: tests/vectors/README.md)\n");
        return 2;
    }
    nen_classify(&c, &r);
    nen_report_summary(&r, print_line, out);
    if (!summary_only) {
        fprintf(out, "\n");
        nen_report_trace(&r, print_line, out);
    }
    return 0;
}
