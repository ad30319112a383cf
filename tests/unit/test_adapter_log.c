/*
 * test_adapter_log.c - the log lines (issue 14 item 4, adapter_log.h): the
 * text format keeps its shape; the JSON format is one object per line that
 * a JSON parser reads back, with "case" and "accession" only on lines about
 * one case, whatever bytes the message holds (quotes, a newline, control
 * characters); under the journal, a syslog priority and no timestamp.
 */
#include "test_util.h"

#include "adapter_log.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every line written while fn ran, into buf. */
static void capture(char *buf, size_t len, int format, int journal, void (*fn)(void))
{
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    adapter_log_setup(1, format);
    adapter_log_redirect(f, journal);
    fn();
    adapter_log_redirect(NULL, 0);
    adapter_log_setup(0, ADAPTER_LOG_TEXT);
    rewind(f);
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static void write_lines(void)
{
    LOG_INFO("plain line");
    LOG_CASE_WARN("Patient/p1", "S26-1", "a \"quoted\" word,\na newline and a tab\t and \x01");
    LOG_CASE_DEBUG("Patient/p2", NULL, "no accession");
}

static void test_json(void)
{
    char buf[4096];
    capture(buf, sizeof buf, ADAPTER_LOG_JSON, 0, write_lines);
    int lines = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"), lines++) {
        json_object *o = json_tokener_parse(line);
        CU_ASSERT_PTR_NOT_NULL_FATAL(o);
        json_object *v;
        CU_ASSERT_TRUE(json_object_object_get_ex(o, "time", &v));
        CU_ASSERT_TRUE(json_object_object_get_ex(o, "level", &v));
        CU_ASSERT_TRUE(json_object_object_get_ex(o, "message", &v));
        const char *level = json_object_get_string(json_object_object_get(o, "level"));
        const char *msg = json_object_get_string(json_object_object_get(o, "message"));
        if (lines == 0) {
            CU_ASSERT_STRING_EQUAL(level, "info");
            CU_ASSERT_STRING_EQUAL(msg, "plain line");
            CU_ASSERT_FALSE(json_object_object_get_ex(o, "case", &v));
        } else if (lines == 1) {
            CU_ASSERT_STRING_EQUAL(level, "warn");
            CU_ASSERT_PTR_NOT_NULL(strstr(msg, "\"quoted\""));
            CU_ASSERT_PTR_NOT_NULL(strstr(msg, "newline"));
            CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_object_get(o, "case")),
                                   "Patient/p1");
            CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_object_get(o, "accession")),
                                   "S26-1");
        } else {
            CU_ASSERT_STRING_EQUAL(level, "debug");
            CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_object_get(o, "case")),
                                   "Patient/p2");
            CU_ASSERT_FALSE(json_object_object_get_ex(o, "accession", &v));
        }
        json_object_put(o);
    }
    CU_ASSERT_EQUAL(lines, 3); /* the message's newline did not split its line */
}

static void test_text_and_journal(void)
{
    char buf[4096];
    capture(buf, sizeof buf, ADAPTER_LOG_TEXT, 0, write_lines);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, " nenfhir info plain line\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, " nenfhir warn case Patient/p1 (S26-1): a \"quoted\""));
    CU_ASSERT_EQUAL(buf[4], '-'); /* starts with the time: 2026-... */
    capture(buf, sizeof buf, ADAPTER_LOG_TEXT, 1, write_lines);
    CU_ASSERT_EQUAL(strncmp(buf, "<6>", 3), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\n<4>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\n<7>"));
    CU_ASSERT_PTR_NULL(strstr(buf, "Z nenfhir")); /* no timestamp: the journal stamps it */
}

int main(void)
{
    CU_TestInfo tests[] = {{"JSON lines read back, case fields only on case lines", test_json},
                           {"text keeps its shape; journal priorities, no time",
                            test_text_and_journal},
                           CU_TEST_INFO_NULL};
    return test_run_suite("adapter_log", tests);
}
