/*
 * cli_case.c - the case browser and the store's upkeep (issue 14 items 5
 * and 9; cli_case.h): `nenfhir case show ACCESSION|KEY`, `nenfhir case
 * list`, `nenfhir reprocess` and `nenfhir prune`. Reads and short writes on
 * the daemon's store; text for a person, or with --json one JSON document
 * for scripts (keys stable: see README "Commands"). Owns nothing beyond a
 * command's run: the store is opened and closed by each command.
 */
#include "cli_case.h"

#include "adapter_log.h"
#include "fhir_primitive.h"
#include "run_config.h"
#include "store.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const case_usage =
    "usage: nenfhir case show ACCESSION|Patient/ID -c FILE [--json]\n"
    "       nenfhir case list -c FILE [--status dead|pending|held|done] [--since DATE] [--json]";
static const char *const reprocess_usage =
    "usage: nenfhir reprocess -c FILE ACCESSION|Patient/ID... | --since DATE | --all";
static const char *const prune_usage = "usage: nenfhir prune -c FILE";

/* What a command's options said. */
struct case_opts {
    const char *config; /* -c FILE */
    const char *status; /* --status */
    const char *since;  /* --since DATE (FHIR date or dateTime) */
    int64_t since_ms;
    int json;           /* --json */
    int all;            /* --all */
    char **pos;         /* the other words */
    int npos;
};

enum { OPT_JSON = 1u, OPT_STATUS = 2u, OPT_SINCE = 4u, OPT_ALL = 8u };

static int case_bad(const char *usage, const char *what, const char *arg)
{
    fprintf(stderr, "nenfhir: %s '%s'\n%s\n", what, arg, usage);
    return 2;
}

/* Parse argv (argv[0] the command). Returns 0, 1 (--help printed) or 2. */
static int case_options(int argc, char **argv, unsigned allowed, const char *usage,
                        struct case_opts *o)
{
    static const struct option longs[] = {{"config", required_argument, NULL, 'c'},
                                          {"json", no_argument, NULL, 'j'},
                                          {"status", required_argument, NULL, 's'},
                                          {"since", required_argument, NULL, 'S'},
                                          {"all", no_argument, NULL, 'a'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    int ch;
    memset(o, 0, sizeof *o);
    optind = 0; /* glibc: start afresh */
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":c:h", longs, NULL)) != -1) {
        if (ch == 'c')
            o->config = optarg;
        else if (ch == 'j' && (allowed & OPT_JSON))
            o->json = 1;
        else if (ch == 's' && (allowed & OPT_STATUS))
            o->status = optarg;
        else if (ch == 'S' && (allowed & OPT_SINCE))
            o->since = optarg;
        else if (ch == 'a' && (allowed & OPT_ALL))
            o->all = 1;
        else if (ch == 'h') {
            printf("%s\n", usage);
            return 1;
        } else if (ch == ':')
            return case_bad(usage, "option needs a value:", argv[optind - 1]);
        else
            return case_bad(usage, "unknown option", argv[optind - 1]);
    }
    o->pos = argv + optind;
    o->npos = argc - optind;
    if (o->status && strcmp(o->status, "dead") != 0 && strcmp(o->status, "pending") != 0 &&
        strcmp(o->status, "held") != 0 && strcmp(o->status, "done") != 0)
        return case_bad(usage, "--status is dead, pending, held or done, not", o->status);
    if (o->since && fhir_datetime_parse_ms(o->since, &o->since_ms) != 0)
        return case_bad(usage, "--since needs a date (2026-01-31) or dateTime, not", o->since);
    if (!o->config) {
        fprintf(stderr, "nenfhir: %s needs -c FILE\n%s\n", argv[0], usage);
        return 2;
    }
    return 0;
}

/* Open the store named by the config file. NULL with a message printed. */
static struct store *case_open(const char *config, struct run_config *keep)
{
    struct run_config *c = calloc(1, sizeof *c);
    char err[1024];
    if (!c || run_config_load(config, c, err, sizeof err) != 0) {
        fprintf(stderr, "nenfhir: %s\n", c ? err : "out of memory");
        free(c);
        return NULL;
    }
    struct store *s = store_open(c->store_path, err, sizeof err);
    if (!s)
        fprintf(stderr, "nenfhir: %s\n", err);
    if (keep)
        *keep = *c;
    free(c);
    return s;
}

/* ms as an instant, "-" when unknown (negative or 0). */
static const char *case_time(int64_t ms, char *buf, size_t len)
{
    if (ms <= 0 || fhir_instant_format_ms(ms, buf, len) != 0)
        snprintf(buf, len, "-");
    return buf;
}

/* ---- JSON helpers: every add checked ---- */

static int jadd(json_object *o, const char *k, json_object *v)
{
    if (!v || json_object_object_add(o, k, v) != 0) {
        json_object_put(v);
        return -1;
    }
    return 0;
}

/* k: null */
static int jadd_null(json_object *o, const char *k)
{
    return json_object_object_add(o, k, NULL);
}

/* k: v, or null when v is NULL or "" */
static int jadd_opt(json_object *o, const char *k, const char *v)
{
    return v && *v ? jadd(o, k, json_object_new_string(v)) : jadd_null(o, k);
}

static int jadd_str(json_object *o, const char *k, const char *v)
{
    return jadd(o, k, json_object_new_string(v ? v : ""));
}

static int jadd_time(json_object *o, const char *k, int64_t ms)
{
    char buf[40];
    if (ms <= 0 || fhir_instant_format_ms(ms, buf, sizeof buf) != 0)
        return jadd_null(o, k);
    return jadd_str(o, k, buf);
}

static int jpush(json_object *a, json_object *v)
{
    if (!v || json_object_array_add(a, v) != 0) {
        json_object_put(v);
        return -1;
    }
    return 0;
}

static int jprint(json_object *doc)
{
    const char *t = json_object_to_json_string_ext(
        doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (!t)
        return -1;
    printf("%s\n", t);
    return 0;
}

static json_object *report_json(const char *key, const struct store_report *r)
{
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    if (jadd_str(o, "accession", key) != 0 || jadd_str(o, "status", r->status) != 0 ||
        jadd_str(o, "digest", r->digest) != 0 || jadd_time(o, "written", r->written_ms) != 0 ||
        jadd(o, "writes", json_object_new_int(r->writes)) != 0) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

/* ---- case show ---- */

struct show {
    int json;
    json_object *reports;     /* --json: the matched reports */
    json_object *others;      /* --json: the patient's other accessions */
    json_object *inputs;      /* --json */
    char patient[STORE_KEY_LEN];
    char **matched;           /* report keys matched (strdup'ed) */
    int nmatched;
    int failed;               /* out of memory */
};

static int show_add_match(struct show *sh, const char *key)
{
    char **m = realloc(sh->matched, (size_t)(sh->nmatched + 1) * sizeof *m);
    if (!m)
        return -1;
    sh->matched = m;
    if (!(m[sh->nmatched] = strdup(key)))
        return -1;
    sh->nmatched++;
    return 0;
}

static int show_report(void *ctx, const char *key, const struct store_report *r)
{
    struct show *sh = ctx;
    char t[40];
    if (!sh->patient[0])
        snprintf(sh->patient, sizeof sh->patient, "%s", r->case_key);
    else if (strcmp(sh->patient, r->case_key) != 0)
        return 0; /* the same accession of another system and patient: shown by its full key */
    if (show_add_match(sh, key) != 0 || (sh->json && jpush(sh->reports, report_json(key, r)) != 0))
        sh->failed = 1;
    if (!sh->json)
        printf("report   %s\n         status %s, written %s, writes %d, digest %s\n", key,
               r->status, case_time(r->written_ms, t, sizeof t), r->writes, r->digest);
    return sh->failed;
}

static int show_other(void *ctx, const char *key, const struct store_report *r)
{
    struct show *sh = ctx;
    char t[40];
    for (int i = 0; i < sh->nmatched; i++)
        if (strcmp(sh->matched[i], key) == 0)
            return 0;
    if (sh->json) {
        if (jpush(sh->others, report_json(key, r)) != 0)
            sh->failed = 1;
    } else {
        printf("  %s  %s, written %s, writes %d\n", key, r->status,
               case_time(r->written_ms, t, sizeof t), r->writes);
    }
    return sh->failed;
}

/* The string at path a.b of o, or "". */
static const char *jstr2(json_object *o, const char *a, const char *b)
{
    json_object *x;
    if (!json_object_object_get_ex(o, a, &x))
        return "";
    if (b && !json_object_object_get_ex(x, b, &x))
        return "";
    return json_object_is_type(x, json_type_string) ? json_object_get_string(x) : "";
}

/* An Observation's first coding as system|code ("" none) into out. */
static void obs_code(json_object *res, char *out, size_t len)
{
    json_object *code, *codings, *c;
    out[0] = '\0';
    if (!json_object_object_get_ex(res, "code", &code) ||
        !json_object_object_get_ex(code, "coding", &codings) ||
        !json_object_is_type(codings, json_type_array) ||
        json_object_array_length(codings) == 0 || !(c = json_object_array_get_idx(codings, 0)))
        return;
    const char *sys = jstr2(c, "system", NULL), *cd = jstr2(c, "code", NULL);
    snprintf(out, len, "%s%s%s", sys, *sys ? "|" : "", cd);
}

static int show_input(void *ctx, const char *ref, const char *type, const char *json)
{
    struct show *sh = ctx;
    json_tokener *tok = json_tokener_new_ex(64);
    json_object *res = tok ? json_tokener_parse_ex(tok, json, -1) : NULL;
    json_tokener_free(tok);
    char code[256] = "";
    const char *ver = res ? jstr2(res, "meta", "versionId") : "";
    const char *upd = res ? jstr2(res, "meta", "lastUpdated") : "";
    if (res && strcmp(type, "Observation") == 0)
        obs_code(res, code, sizeof code);
    if (sh->json) {
        json_object *o = json_object_new_object();
        if (!o || jadd_str(o, "ref", ref) != 0 || jadd_str(o, "type", type) != 0 ||
            jadd_str(o, "versionId", ver) != 0 || jadd_str(o, "lastUpdated", upd) != 0 ||
            jadd_opt(o, "code", code) != 0) {
            json_object_put(o);
            sh->failed = 1;
        } else if (jpush(sh->inputs, o) != 0) {
            sh->failed = 1;
        }
    } else {
        printf("  %-28s version %s, lastUpdated %s%s%s\n", ref, *ver ? ver : "-",
               *upd ? upd : "-", code[0] ? ", code " : "", code);
    }
    json_object_put(res);
    return sh->failed;
}

static const char *job_state(const struct store_job *j)
{
    return j->dead ? "dead" : j->held ? "held" : "queued";
}

static json_object *job_json(const struct store_job *j)
{
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    if (jadd_str(o, "state", job_state(j)) != 0 ||
        jadd(o, "attempts", json_object_new_int(j->attempts)) != 0 ||
        jadd_time(o, "due", j->dead ? 0 : j->due_ms) != 0 || jadd_str(o, "error", j->error) != 0 ||
        jadd_str(o, "outcome", j->outcome) != 0) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

static void job_text(int found, const struct store_job *j)
{
    char t[40];
    if (!found) {
        printf("job      none (nothing queued: done)\n");
        return;
    }
    printf("job      %s, attempts %d", job_state(j), j->attempts);
    if (!j->dead)
        printf(", due %s", case_time(j->due_ms, t, sizeof t));
    printf("\n");
    if (j->error[0])
        printf("         error: %s\n", j->error);
    if (j->outcome[0])
        printf("         outcome: %s\n", j->outcome);
}

/* The JSON document of case show (takes the arrays of sh). */
static int show_json(struct show *sh, const char *key, int found, const struct store_job *j)
{
    json_object *reports = sh->reports, *inputs = sh->inputs, *others = sh->others;
    sh->reports = sh->inputs = sh->others = NULL; /* jadd takes or frees each */
    json_object *doc = json_object_new_object();
    if (!doc) {
        json_object_put(reports);
        json_object_put(inputs);
        json_object_put(others);
        return -1;
    }
    int bad = jadd_str(doc, "key", key) != 0;
    bad |= jadd_str(doc, "patient", sh->patient) != 0;
    bad |= jadd(doc, "reports", reports) != 0;
    bad |= (found ? jadd(doc, "job", job_json(j)) : jadd_null(doc, "job")) != 0;
    bad |= jadd(doc, "inputs", inputs) != 0;
    bad |= jadd(doc, "otherAccessions", others) != 0;
    int rc = bad ? -1 : jprint(doc);
    json_object_put(doc);
    return rc;
}

static int case_show(struct store *s, const char *key, int json)
{
    struct show sh = {.json = json};
    struct store_job *j = calloc(1, sizeof *j); /* 8 KiB: not on the stack */
    int rc = 1, found = 0, n;
    if (!j || (json && (!(sh.reports = json_object_new_array()) ||
                        !(sh.others = json_object_new_array()) ||
                        !(sh.inputs = json_object_new_array())))) {
        fprintf(stderr, "nenfhir: out of memory\n");
        goto out;
    }
    if (strncmp(key, "Patient/", 8) == 0) {
        snprintf(sh.patient, sizeof sh.patient, "%s", key);
        if (!json)
            printf("case     %s (patient)\n", key);
        n = store_report_of_case(s, key, show_report, &sh);
    } else {
        if (!json)
            printf("case     %s\n", key);
        n = store_report_find(s, key, show_report, &sh);
    }
    if (n < 0 || sh.failed)
        goto fail;
    if ((found = store_job_get(s, sh.patient, j)) < 0)
        goto fail;
    if (n == 0 && !found) {
        fprintf(stderr, "nenfhir: no case '%s' in the store (an accession, system|accession "
                        "or Patient/ID)\n", key);
        goto out;
    }
    if (!json) {
        printf("patient  %s\n", sh.patient);
        job_text(found, j);
        printf("inputs in the mirror:\n");
    }
    if (store_mirror_of_patient(s, sh.patient, show_input, &sh) < 0 || sh.failed)
        goto fail;
    if (!json && strncmp(key, "Patient/", 8) != 0)
        printf("other accessions of the patient:\n");
    if (strncmp(key, "Patient/", 8) != 0 &&
        (store_report_of_case(s, sh.patient, show_other, &sh) < 0 || sh.failed))
        goto fail;
    if (json && show_json(&sh, key, found, j) != 0) {
        fprintf(stderr, "nenfhir: out of memory\n");
        goto out;
    }
    rc = 0;
    goto out;
fail:
    fprintf(stderr, "nenfhir: %s\n", sh.failed ? "out of memory" : store_error(s));
out:
    for (int i = 0; i < sh.nmatched; i++)
        free(sh.matched[i]);
    free(sh.matched);
    json_object_put(sh.reports);
    json_object_put(sh.others);
    json_object_put(sh.inputs);
    free(j);
    return rc;
}

/* ---- case list ---- */

struct list {
    int json;
    json_object *cases;
    int failed;
};

static int list_one(void *ctx, const struct store_case *c)
{
    struct list *l = ctx;
    char t[40];
    if (!l->json) {
        printf("%s\t%s\t%s\t%s\t%s\t%d\n", c->report_key[0] ? c->report_key : "-", c->case_key,
               c->state, c->status[0] ? c->status : "-", case_time(c->written_ms, t, sizeof t),
               c->writes);
        return 0;
    }
    json_object *o = json_object_new_object();
    if (!o || jadd_opt(o, "accession", c->report_key) != 0 ||
        jadd_str(o, "patient", c->case_key) != 0 || jadd_str(o, "status", c->state) != 0 ||
        jadd_opt(o, "reportStatus", c->status) != 0 ||
        jadd_time(o, "written", c->written_ms) != 0 ||
        jadd(o, "writes", json_object_new_int(c->writes)) != 0 ||
        jadd_time(o, "lastActivity", c->activity_ms) != 0) {
        json_object_put(o);
        l->failed = 1;
        return 1;
    }
    if (jpush(l->cases, o) != 0) {
        l->failed = 1;
        return 1;
    }
    return 0;
}

static int case_list(struct store *s, const struct case_opts *o)
{
    struct list l = {o->json, NULL, 0};
    if (o->json && !(l.cases = json_object_new_array())) {
        fprintf(stderr, "nenfhir: out of memory\n");
        return 1;
    }
    if (!o->json)
        printf("accession\tpatient\tstatus\treport\twritten\twrites\n");
    int n = store_case_list(s, o->status, o->since ? o->since_ms : 0, list_one, &l);
    int rc = 0;
    if (n < 0 || l.failed) {
        fprintf(stderr, "nenfhir: %s\n", l.failed ? "out of memory" : store_error(s));
        rc = 1;
    } else if (o->json) {
        json_object *doc = json_object_new_object();
        json_object *cases = l.cases;
        l.cases = NULL; /* jadd takes or frees it */
        if (!doc || jadd(doc, "cases", cases) != 0 || jprint(doc) != 0) {
            if (!doc)
                json_object_put(cases);
            fprintf(stderr, "nenfhir: out of memory\n");
            rc = 1;
        }
        json_object_put(doc);
    } else {
        printf("cases: %d\n", n);
    }
    json_object_put(l.cases);
    return rc;
}

int cli_case(int argc, char **argv)
{
    struct case_opts o;
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("%s\n", case_usage);
        return 0;
    }
    const char *verb = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;
    if (!verb) {
        fprintf(stderr, "nenfhir: case needs show or list\n%s\n", case_usage);
        return 2;
    }
    int show = strcmp(verb, "show") == 0;
    if (!show && strcmp(verb, "list") != 0)
        return case_bad(case_usage, "unknown action", verb);
    int rc = case_options(argc - 1, argv + 1, show ? OPT_JSON : OPT_JSON | OPT_STATUS | OPT_SINCE,
                          case_usage, &o);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    if (show && o.npos != 1) {
        if (o.npos > 1)
            return case_bad(case_usage, "unexpected argument", o.pos[1]);
        fprintf(stderr, "nenfhir: case show needs ACCESSION or Patient/ID\n%s\n", case_usage);
        return 2;
    }
    if (!show && o.npos > 0)
        return case_bad(case_usage, "unexpected argument", o.pos[0]);
    struct store *s = case_open(o.config, NULL);
    if (!s)
        return 1;
    rc = show ? case_show(s, o.pos[0], o.json) : case_list(s, &o);
    store_close(s);
    return rc;
}

/* ---- reprocess ---- */

struct keys {
    char (*k)[STORE_KEY_LEN];
    int n, cap;
    int failed;
};

static int keys_add(struct keys *ks, const char *key)
{
    for (int i = 0; i < ks->n; i++)
        if (strcmp(ks->k[i], key) == 0)
            return 0;
    if (ks->n == ks->cap) {
        int cap = ks->cap ? ks->cap * 2 : 64;
        void *k = realloc(ks->k, (size_t)cap * sizeof *ks->k);
        if (!k) {
            ks->failed = 1;
            return 1;
        }
        ks->k = k;
        ks->cap = cap;
    }
    snprintf(ks->k[ks->n++], STORE_KEY_LEN, "%s", key);
    return 0;
}

static int keys_of_report(void *ctx, const char *report_key, const struct store_report *r)
{
    (void)report_key;
    return keys_add(ctx, r->case_key);
}

static int keys_of_case(void *ctx, const struct store_case *c)
{
    return keys_add(ctx, c->case_key);
}

/* The patients to requeue, into ks. 0, 1 (not found: message printed) or -1. */
static int reprocess_keys(struct store *s, const struct case_opts *o, struct keys *ks)
{
    if (o->all || o->since)
        return store_case_list(s, NULL, o->since ? o->since_ms : 0, keys_of_case, ks) < 0 ? -1
                                                                                          : 0;
    for (int i = 0; i < o->npos; i++) {
        const char *w = o->pos[i];
        int n;
        if (strncmp(w, "Patient/", 8) == 0) {
            struct store_report none;
            memset(&none, 0, sizeof none);
            snprintf(none.case_key, sizeof none.case_key, "%s", w);
            n = keys_of_report(ks, w, &none) == 0 ? 1 : -1;
        } else {
            n = store_report_find(s, w, keys_of_report, ks);
        }
        if (n < 0)
            return -1;
        if (n == 0) {
            fprintf(stderr, "nenfhir: no case '%s' in the store\n", w);
            return 1;
        }
    }
    return 0;
}

int cli_reprocess(int argc, char **argv)
{
    struct case_opts o;
    int rc = case_options(argc, argv, OPT_SINCE | OPT_ALL, reprocess_usage, &o);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    int modes = (o.npos > 0) + (o.since != NULL) + o.all;
    if (modes != 1) {
        fprintf(stderr, "nenfhir: reprocess needs ACCESSION..., --since DATE or --all (one of "
                        "them)\n%s\n", reprocess_usage);
        return 2;
    }
    struct store *s = case_open(o.config, NULL);
    if (!s)
        return 1;
    struct keys ks = {NULL, 0, 0, 0};
    rc = reprocess_keys(s, &o, &ks);
    if (rc == 0 && !ks.failed) {
        int64_t now = adapter_now_ms();
        rc = store_begin(s);
        for (int i = 0; rc == 0 && i < ks.n; i++)
            rc = store_job_touch(s, ks.k[i], now, 0);
        if (rc == 0)
            rc = store_commit(s);
        else
            store_rollback(s);
        if (rc == 0)
            printf("requeued: %d patient(s) (a running daemon picks them up within seconds)\n",
                   ks.n);
    }
    if (rc < 0 || ks.failed)
        fprintf(stderr, "nenfhir: %s\n", ks.failed ? "out of memory" : store_error(s));
    free(ks.k);
    store_close(s);
    return rc != 0 || ks.failed ? 1 : 0;
}

/* ---- prune ---- */

int cli_prune(int argc, char **argv)
{
    struct case_opts o;
    int rc = case_options(argc, argv, 0, prune_usage, &o);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    if (o.npos > 0)
        return case_bad(prune_usage, "unexpected argument", o.pos[0]);
    struct run_config *c = calloc(1, sizeof *c);
    if (!c) {
        fprintf(stderr, "nenfhir: out of memory\n");
        return 1;
    }
    struct store *s = case_open(o.config, c);
    if (!s) {
        free(c);
        return 1;
    }
    struct store_keep keep = {(int64_t)c->store_keep_seen_s * 1000,
                              (int64_t)c->store_keep_dead_s * 1000,
                              (int64_t)c->store_keep_mirror_s * 1000};
    free(c);
    struct store_pruned p;
    int64_t size = 0;
    rc = store_prune(s, adapter_now_ms(), &keep, &p);
    if (rc == 0)
        rc = store_size_bytes(s, &size);
    if (rc == 0)
        printf("pruned: %ld seen version(s), %ld dead letter(s), %ld mirrored input(s) of %ld "
               "seeded patient(s); store %lld bytes\n",
               p.seen, p.dead, p.mirror, p.seeded, (long long)size);
    else
        fprintf(stderr, "nenfhir: %s\n", store_error(s));
    store_close(s);
    return rc == 0 ? 0 : 1;
}
