/*
 * nen_report.c - builds the transaction Bundle of nen_report.h. Element order
 * follows the R4 resource definitions (the XML writer keeps it). Every coded
 * result is nenfhir's own code (nen-result) first, then the standard codes of
 * the code tables' `result` lines (results.map: LOINC and SNOMED CT
 * observation codes, SNOMED CT AJCC categories, stage groups, histologic
 * grade and body site, ICD-O-3 morphology, methods, the report's code and
 * category), each listed with its published source; no standard code is
 * written from here. HL7's own vocabularies (observation-category, v2-0074,
 * data-absent-reason, provenance-participant-type) are FHIR structure and
 * stay here. The words a person reads come from nen_report_synoptic.c and
 * nen_report_form.c.
 */
#include "nen_report.h"

#include "fhir_build.h"
#include "fhir_tree.h"
#include "fhir_uuid.h"
#include "nen_report_form.h"
#include "nen_report_synoptic.h"
#include "nen_report_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OBS_CATEGORY "http://terminology.hl7.org/CodeSystem/observation-category"
#define V2_0074 "http://terminology.hl7.org/CodeSystem/v2-0074"
#define ABSENT "http://terminology.hl7.org/CodeSystem/data-absent-reason"
#define REPORT_FORMAT "report-format 2" /* part of the digest: bump when the report changes shape */
#define SENTENCE 2048

/* One result Observation: its role (identifier suffix and nen-result code),
 * the summary key naming it in the code tables (`result observation KEY`,
 * `result method KEY`), and which inputs it rests on (for derivedFrom). */
struct result_row {
    const char *role;
    const char *field;
    const char *display;     /* words for the nen-result code */
    const char *method_text; /* Observation.method.text, when the tables give its code */
    const char *inputs;      /* space-separated input keys */
};

enum { ROW_CLASS, ROW_GRADE, ROW_TYPE, ROW_T, ROW_N, ROW_M, ROW_STAGE, ROW__COUNT };

#define AJCC9 "AJCC Cancer Staging Manual, 9th edition"

static const struct result_row rows[ROW__COUNT] = {
    [ROW_CLASS] = {"who-class", "class", "WHO classification of the neuroendocrine neoplasm", NULL,
                   "site specimen diff ki67 mitoses hpf_area necrosis ne_pct non_ne_pct "
                   "non_ne_kind pit1 tpit sf1 sdhb_loss"},
    [ROW_GRADE] = {"grade", "grade", "Histologic grade (WHO 5th edition)",
                   "WHO classification of tumours, 5th edition, grading",
                   "site specimen diff ki67 mitoses hpf_area necrosis"},
    [ROW_TYPE] = {"gastric-net-type", "type", "Gastric neuroendocrine tumour type", NULL,
                  "gastrin gastrin_uln ph acid atrophic_gastritis antibodies gastrinoma region "
                  "tumours size"},
    [ROW_T] = {"pt", "t", "Primary tumour (pT), AJCC 9th edition", AJCC9,
               "site size tumours extent pt"},
    [ROW_N] = {"pn", "n", "Regional lymph nodes (pN), AJCC 9th edition", AJCC9,
               "site nodes_examined nodes_positive mesenteric_mass pn"},
    [ROW_M] = {"pm", "m", "Distant metastasis (M), AJCC 9th edition", AJCC9,
               "site mets met_lesions pm"},
    [ROW_STAGE] = {"stage-group", "stage", "Stage group, AJCC 9th edition", AJCC9, "site"},
};

struct ctx {
    struct fhir_build b;
    const struct nen_extract *x;
    const struct nen_result *r;
    const struct nen_report_opts *o;
    const struct nen_codes *codes; /* NULL: nenfhir's own codes only */
    char key[256];                 /* the case key: "system|value" or "value" */
    char url[ROW__COUNT + 3][64];  /* fullUrls: rows, then report, device, provenance */
    json_object *entries;
};

enum { URL_REPORT = ROW__COUNT, URL_DEVICE, URL_PROVENANCE };

static json_object *tag_meta(struct ctx *c)
{
    json_object *meta = fhir_b_obj(&c->b);
    fhir_b_set1(&c->b, meta, "tag",
                fhir_b_coding(&c->b, NEN_TAG_SYSTEM, NEN_TAG_CODE, "written by nenfhir"));
    return meta;
}

/* Add an entry (takes res): fullUrl "urn:uuid:X" and the resource, written
 * either by its stable id (client-id mode: the resource gets id X unless it
 * has one, request "PUT Type/X") or by its business identity (conditional
 * mode, interop.md I8: no id, request "PUT Type?PARAM=SYSTEM|VALUE",
 * percent-encoded; PARAM is "identifier", or "_tag" for the Provenance,
 * which has no identifier in R4). References between the entries are
 * their urn:uuid fullUrls, which servers resolve in a transaction;
 * nen_report_write.h turns the entries into ordered single writes for a
 * server that refuses conditional entries in a transaction. Writing by a
 * stable id keeps every write idempotent without conditional operations;
 * the shared Device is written by the first case alone (pipeline.c), so
 * neither mode races on it. */
static void add_entry(struct ctx *c, const char *full_url, json_object *res, const char *param,
                      const char *system, const char *value)
{
    char *put = NULL;
    const char *type = fhir_resource_type(res);
    if (c->o->conditional) {
        size_t sl = strlen(system), vl = strlen(value);
        char *sv = malloc(sl + vl + 2), *esc = NULL;
        if (sv) {
            memcpy(sv, system, sl);
            sv[sl] = '|';
            memcpy(sv + sl + 1, value, vl + 1);
            esc = fhir_url_escape(sv);
        }
        size_t len = esc ? strlen(type) + strlen(param) + strlen(esc) + 3 : 0;
        if (esc && (put = malloc(len)))
            snprintf(put, len, "%s?%s=%s", type, param, esc);
        free(sv);
        free(esc);
    } else {
        const char *id = fhir_resource_id(res);
        if (!id[0]) {
            id = strncmp(full_url, "urn:uuid:", 9) == 0 ? full_url + 9 : full_url;
            fhir_b_str(&c->b, res, "id", id);
        }
        size_t len = strlen(type) + strlen(id) + 2;
        if ((put = malloc(len)))
            snprintf(put, len, "%s/%s", type, id);
    }
    if (!put)
        c->b.failed = 1;
    json_object *e = fhir_b_obj(&c->b), *req = fhir_b_obj(&c->b);
    fhir_b_str(&c->b, e, "fullUrl", full_url);
    fhir_b_set(&c->b, e, "resource", res);
    fhir_b_str(&c->b, req, "method", "PUT");
    fhir_b_str(&c->b, req, "url", put);
    fhir_b_set(&c->b, e, "request", req);
    fhir_b_push(&c->b, c->entries, e);
    free(put);
}

/* ---------- coded concepts: nenfhir's own code, then the tables' ---------- */

static size_t arr_len(json_object *a)
{
    return a ? json_object_array_length(a) : 0;
}

/* The codings of the `result KIND VALUE` lines, appended to codings. */
static void table_codings(struct ctx *c, json_object *codings, const char *kind, const char *value)
{
    const struct nen_code *e;
    for (unsigned i = 0; c->codes && (e = nen_codes_result(c->codes, kind, value, i)); i++)
        fhir_b_push(&c->b, codings, fhir_b_coding(&c->b, e->system, e->code, NULL));
}

/* {"coding": [nen-result|own (if own), the tables' codings], "text"}; an
 * empty coding list is left out. */
static json_object *coded(struct ctx *c, const char *own, const char *own_display,
                          const char *kind, const char *value, const char *text)
{
    struct fhir_build *b = &c->b;
    json_object *cc = fhir_b_obj(b), *codings = fhir_b_arr(b);
    if (own)
        fhir_b_push(b, codings, fhir_b_coding(b, NEN_RESULT_SYSTEM, own, own_display));
    table_codings(c, codings, kind, value);
    if (arr_len(codings))
        fhir_b_set(b, cc, "coding", codings);
    else
        json_object_put(codings);
    fhir_b_str(b, cc, "text", text);
    return cc;
}

/* The tables' key for a class: "CLASS:GRADE" when a line has it, else "CLASS". */
static const char *class_key(struct ctx *c, char *buf, size_t len)
{
    snprintf(buf, len, "%s:%s", nen_class_name(c->r->cls), nen_grade_name(c->r->grade));
    if (c->codes && nen_codes_result(c->codes, "class", buf, 0))
        return buf;
    return nen_class_name(c->r->cls);
}

/* ---------- result values ---------- */

/* The class in words (nen_report_synoptic.h), none for an indeterminate one. */
static const char *class_display(enum nen_class v)
{
    return v == NEN_CLASS_INDETERMINATE ? NULL : nen_class_words(v);
}

/* The summary word of a row ("G2", "T1a", "IIIA", "not-staged", "indeterminate"). */
static const char *row_word(const struct nen_result *r, int row, char *buf, size_t len)
{
    switch (row) {
    case ROW_CLASS: return nen_class_name(r->cls);
    case ROW_GRADE: return nen_grade_name(r->grade);
    case ROW_TYPE: return nen_gtype_name(r->gtype);
    case ROW_T: return nen_tnm_result_text(&r->t, buf, (unsigned)len);
    case ROW_N: return nen_tnm_result_text(&r->n, buf, (unsigned)len);
    case ROW_M: return nen_tnm_result_text(&r->m, buf, (unsigned)len);
    default: return nen_stage_name(r->stage);
    }
}

static const struct nen_trace *row_trace(const struct nen_result *r, int row)
{
    switch (row) {
    case ROW_CLASS: return &r->class_trace;
    case ROW_GRADE: return &r->grade_trace;
    case ROW_TYPE: return &r->gtype_trace;
    case ROW_T: return &r->t.trace;
    case ROW_N: return &r->n.trace;
    case ROW_M: return &r->m.trace;
    default: return &r->stage_trace;
    }
}

/* Missing inputs as words, "; "-joined, into buf. */
static void missing_text(const struct nen_result *r, char *buf, size_t len)
{
    buf[0] = '\0';
    for (int i = 0; i < r->nmissing; i++) {
        size_t l = strlen(buf);
        snprintf(buf + l, len - l, "%s%s", i ? ", " : "", nen_input_label(r->missing[i]));
    }
}

/* The tables' KIND and VALUE for the value of a row (VALUE into buf). */
static const char *value_key(struct ctx *c, int row, const char *word, char *buf, size_t len)
{
    if (row == ROW_CLASS)
        return class_key(c, buf, len);
    if (row >= ROW_T && row <= ROW_M) { /* "T1(m)" is coded as T1 */
        const struct nen_tnm_result *t = row == ROW_T ? &c->r->t : row == ROW_N ? &c->r->n : &c->r->m;
        return nen_tnm_name(t->value);
    }
    (void)buf, (void)len;
    return word;
}

/* value[x] or dataAbsentReason. */
static void row_value(struct ctx *c, json_object *obs, int row)
{
    char buf[32], text[NEN_TEXT_LEN * 2], key[64];
    const char *w = row_word(c->r, row, buf, sizeof buf);
    if (strcmp(w, "indeterminate") == 0) {
        char miss[NEN_TEXT_LEN];
        missing_text(c->r, miss, sizeof miss);
        snprintf(text, sizeof text, "indeterminate%s%s", miss[0] ? ": missing " : "", miss);
        fhir_b_set(&c->b, obs, "dataAbsentReason",
                   fhir_b_cc(&c->b, ABSENT, "unknown", "Unknown", text));
        return;
    }
    const char *display = row == ROW_CLASS ? class_display(c->r->cls) : NULL;
    if (row == ROW_CLASS && c->r->subtype[0])
        snprintf(text, sizeof text, "%s (%s)", w, c->r->subtype);
    else
        snprintf(text, sizeof text, "%s", w);
    fhir_b_set(&c->b, obs, "valueCodeableConcept",
               coded(c, w, display, rows[row].field, value_key(c, row, w, key, sizeof key), text));
}

/* The rule trace as the note, each step citing the guideline. */
static void trace_note(struct ctx *c, json_object *obs, const struct nen_trace *t)
{
    char note[NEN_TRACE_MAX * (NEN_RULE_LEN + NEN_TEXT_LEN + 72)] = "";
    for (int i = 0; i < t->n; i++) {
        size_t l = strlen(note);
        snprintf(note + l, sizeof note - l, "%s%s: %s", i ? "\n" : "", t->step[i].rule,
                 t->step[i].text);
    }
    if (!note[0])
        return;
    json_object *n = fhir_b_obj(&c->b);
    fhir_b_str(&c->b, n, "text", note);
    fhir_b_set1(&c->b, obs, "note", n);
}

/* bodySite: the primary site, in words and as the tables code it. */
static void body_site(struct ctx *c, json_object *obs)
{
    char words[NEN_CODE_WORD_LEN];
    const char *site = c->x->lo.site ? nen_site_name(c->x->lo.site) : NULL;
    if (!site)
        return;
    snprintf(words, sizeof words, "%s", site);
    for (char *p = words; *p; p++)
        if (*p == '_')
            *p = ' ';
    fhir_b_set(&c->b, obs, "bodySite", coded(c, NULL, NULL, "site", site, words));
}

/* method: only when the tables code it. */
static void row_method(struct ctx *c, json_object *obs, const struct result_row *rw)
{
    if (!rw->method_text || !c->codes || !nen_codes_result(c->codes, "method", rw->field, 0))
        return;
    fhir_b_set(&c->b, obs, "method", coded(c, NULL, NULL, "method", rw->field, rw->method_text));
}

/* derivedFrom: the Observations the row's inputs came from. */
static void derived_from(struct ctx *c, json_object *obs, const char *inputs)
{
    json_object *arr = NULL;
    for (int i = 0; i < c->x->nsrc; i++) {
        const struct nen_source *s = &c->x->src[i];
        char pad[64];
        snprintf(pad, sizeof pad, " %s ", s->key);
        char hay[320];
        snprintf(hay, sizeof hay, " %s ", inputs);
        if (strcmp(s->type, "Observation") != 0 || !strstr(hay, pad))
            continue;
        int dup = 0; /* one reference per resource */
        for (int j = 0; j < i && !dup; j++)
            dup = strcmp(c->x->src[j].ref, s->ref) == 0 &&
                  strcmp(c->x->src[j].type, "Observation") == 0 &&
                  (snprintf(pad, sizeof pad, " %s ", c->x->src[j].key), strstr(hay, pad));
        if (dup)
            continue;
        if (!arr)
            arr = fhir_b_arr(&c->b);
        fhir_b_push(&c->b, arr, fhir_b_ref(&c->b, s->ref, NULL));
    }
    if (arr)
        fhir_b_set(&c->b, obs, "derivedFrom", arr);
}

static const char *report_status(struct ctx *c)
{
    if (c->o->status)
        return c->o->status;
    return c->r->status == NEN_STATUS_FINAL ? "final" : "preliminary";
}

static void add_subject_and_times(struct ctx *c, json_object *res)
{
    if (c->x->patient_ref[0])
        fhir_b_set(&c->b, res, "subject", fhir_b_ref(&c->b, c->x->patient_ref, NULL));
    if (c->x->effective[0])
        fhir_b_str(&c->b, res, "effectiveDateTime", c->x->effective);
    fhir_b_str(&c->b, res, "issued", c->o->issued);
}

static void add_performer(struct ctx *c, json_object *res)
{
    if (c->o->performer_ref || c->o->performer_display)
        fhir_b_set1(&c->b, res, "performer",
                    fhir_b_ref(&c->b, c->o->performer_ref, c->o->performer_display));
}

static void result_observation(struct ctx *c, int row)
{
    const struct result_row *rw = &rows[row];
    struct fhir_build *b = &c->b;
    char ident[sizeof c->key + 32];
    snprintf(ident, sizeof ident, "%s/%s", c->key, rw->role); /* never cut: key < 256, role short */
    json_object *obs = fhir_b_obj(b);
    fhir_b_str(b, obs, "resourceType", "Observation");
    fhir_b_set(b, obs, "meta", tag_meta(c));
    fhir_b_set1(b, obs, "identifier", fhir_b_ident(b, NEN_ID_SYSTEM "/result", ident));
    fhir_b_str(b, obs, "status", report_status(c));
    json_object *cat = fhir_b_arr(b);
    fhir_b_push(b, cat, fhir_b_cc(b, OBS_CATEGORY, "laboratory", "Laboratory", NULL));
    fhir_b_set(b, obs, "category", cat);
    fhir_b_set(b, obs, "code", coded(c, rw->role, rw->display, "observation", rw->field, rw->display));
    add_subject_and_times(c, obs);
    add_performer(c, obs);
    row_value(c, obs, row);
    trace_note(c, obs, row_trace(c->r, row));
    body_site(c, obs);
    row_method(c, obs, rw);
    if (c->x->specimen_ref[0])
        fhir_b_set(b, obs, "specimen", fhir_b_ref(b, c->x->specimen_ref, NULL));
    if (row == ROW_STAGE) {
        json_object *mem = fhir_b_arr(b);
        for (int i = ROW_T; i <= ROW_M; i++)
            fhir_b_push(b, mem, fhir_b_ref(b, c->url[i], NULL));
        fhir_b_set(b, obs, "hasMember", mem);
    }
    derived_from(c, obs, rw->inputs);
    add_entry(c, c->url[row], obs, "identifier", NEN_ID_SYSTEM "/result", ident);
}

/* ---------- digest ---------- */

static void strbuf_line(void *ctx, const char *line)
{
    nen_strbuf_puts(ctx, line);
    nen_strbuf_puts(ctx, "\n");
}

int nen_report_digest(const struct nen_extract *x, const struct nen_result *r, char out[65])
{
    struct nen_strbuf sb = {0};
    strbuf_line(&sb, REPORT_FORMAT);
    nen_report_summary(r, strbuf_line, &sb);
    nen_report_trace(r, strbuf_line, &sb);
    char line[NEN_CODE_SYSTEM_LEN + 4 * NEN_REF_LEN + 120];
    for (int i = 0; i < x->nsrc; i++) {
        snprintf(line, sizeof line, "source %s %s %s", x->src[i].key, x->src[i].ref,
                 x->src[i].shown);
        strbuf_line(&sb, line);
    }
    nen_text_set(line, sizeof line, "case %s|%s patient %s specimen %s effective %s", x->case_system,
             x->case_value, x->patient_ref, x->specimen_ref, x->effective);
    strbuf_line(&sb, line);
    size_t len = sb.len;
    char *text = nen_strbuf_take(&sb);
    int rc = text ? fhir_sha256_hex(text, len, out) : -1;
    free(text);
    return rc;
}

/* ---------- DiagnosticReport, Device, Provenance ---------- */

static int row_included(const struct nen_result *r, int row)
{
    return row != ROW_TYPE || r->gtype != NEN_GTYPE_NOT_APPLICABLE;
}

/* text: the generated narrative (the synoptic report as xhtml). */
static void narrative(struct ctx *c, json_object *dr, const char *div)
{
    json_object *t = fhir_b_obj(&c->b);
    fhir_b_str(&c->b, t, "status", "generated");
    fhir_b_str(&c->b, t, "div", div);
    fhir_b_set(&c->b, dr, "text", t);
}

/* One presentedForm Attachment of text (base64 data). */
static json_object *attachment(struct ctx *c, const char *type, const char *text, const char *title)
{
    char *data = nen_report_base64(text, strlen(text));
    json_object *a = fhir_b_obj(&c->b);
    if (!data)
        c->b.failed = 1;
    fhir_b_str(&c->b, a, "contentType", type);
    fhir_b_str(&c->b, a, "language", "en");
    fhir_b_str(&c->b, a, "data", data);
    fhir_b_str(&c->b, a, "title", title);
    fhir_b_str(&c->b, a, "creation", c->o->issued);
    free(data);
    return a;
}

/* presentedForm: the synoptic report as text/html and as text/plain. */
static void presented_form(struct ctx *c, json_object *dr, const char *div)
{
    char title[sizeof c->key + 64];
    snprintf(title, sizeof title, "Neuroendocrine neoplasm synoptic report, %s", c->key);
    char *html = div ? nen_report_html(div, title) : NULL;
    char *plain = nen_report_plain(c->x, c->r, report_status(c));
    if (!html || !plain)
        c->b.failed = 1;
    json_object *forms = fhir_b_arr(&c->b);
    if (html && plain) {
        fhir_b_push(&c->b, forms, attachment(c, "text/html; charset=utf-8", html, title));
        fhir_b_push(&c->b, forms, attachment(c, "text/plain; charset=utf-8", plain, title));
    }
    fhir_b_set(&c->b, dr, "presentedForm", forms);
    free(html);
    free(plain);
}

/* conclusionCode: class (with its ICD-O-3 morphology), grade and stage group,
 * each when determinate. */
static void conclusion_codes(struct ctx *c, json_object *dr)
{
    static const int which[] = {ROW_CLASS, ROW_GRADE, ROW_STAGE};
    char buf[32], key[64];
    json_object *codes = fhir_b_arr(&c->b);
    for (size_t i = 0; i < sizeof which / sizeof which[0]; i++) {
        int row = which[i];
        const char *w = row_word(c->r, row, buf, sizeof buf);
        if (strcmp(w, "indeterminate") == 0 || strcmp(w, "not-staged") == 0)
            continue;
        fhir_b_push(&c->b, codes,
                    coded(c, w, row == ROW_CLASS ? class_display(c->r->cls) : NULL, rows[row].field,
                          value_key(c, row, w, key, sizeof key), w));
    }
    if (codes && json_object_array_length(codes) == 0) { /* FHIR JSON has no empty arrays */
        json_object_put(codes);
        return;
    }
    fhir_b_set(&c->b, dr, "conclusionCode", codes);
}

static void report_category(struct ctx *c, json_object *dr)
{
    json_object *cat = fhir_b_arr(&c->b), *cc = coded(c, NULL, NULL, "report", "category", "Pathology");
    fhir_b_push(&c->b, cat, cc);
    fhir_b_push(&c->b, cat, fhir_b_cc(&c->b, V2_0074, "SP", "Surgical Pathology", NULL));
    fhir_b_set(&c->b, dr, "category", cat);
}

static void diagnostic_report(struct ctx *c)
{
    struct fhir_build *b = &c->b;
    char *div = nen_report_xhtml(c->x, c->r, report_status(c)), sentence[SENTENCE];
    if (!div)
        b->failed = 1;
    json_object *dr = fhir_b_obj(b);
    fhir_b_str(b, dr, "resourceType", "DiagnosticReport");
    fhir_b_set(b, dr, "meta", tag_meta(c));
    narrative(c, dr, div);
    fhir_b_set1(b, dr, "identifier", fhir_b_ident(b, NEN_ID_SYSTEM "/report", c->key));
    fhir_b_str(b, dr, "status", report_status(c));
    report_category(c, dr);
    fhir_b_set(b, dr, "code", coded(c, NULL, NULL, "report", "code",
                                   "Neuroendocrine neoplasm: WHO class, grade, type and AJCC stage "
                                   "(nenfhir synoptic report)"));
    add_subject_and_times(c, dr);
    add_performer(c, dr);
    if (c->x->specimen_ref[0])
        fhir_b_set1(b, dr, "specimen", fhir_b_ref(b, c->x->specimen_ref, NULL));
    json_object *res = fhir_b_arr(b);
    for (int row = 0; row < ROW__COUNT; row++)
        if (row_included(c->r, row))
            fhir_b_push(b, res, fhir_b_ref(b, c->url[row], NULL));
    fhir_b_set(b, dr, "result", res);
    nen_report_conclusion(c->x, c->r, sentence, sizeof sentence);
    fhir_b_str(b, dr, "conclusion", sentence);
    conclusion_codes(c, dr);
    presented_form(c, dr, div);
    free(div);
    add_entry(c, c->url[URL_REPORT], dr, "identifier", NEN_ID_SYSTEM "/report", c->key);
}

static void device(struct ctx *c)
{
    struct fhir_build *b = &c->b;
    json_object *d = fhir_b_obj(b), *name = fhir_b_obj(b), *ver = fhir_b_obj(b);
    fhir_b_str(b, d, "resourceType", "Device");
    fhir_b_set(b, d, "meta", tag_meta(c));
    fhir_b_set1(b, d, "identifier", fhir_b_ident(b, NEN_ID_SYSTEM "/device", "nenfhir"));
    fhir_b_str(b, d, "status", "active");
    fhir_b_str(b, name, "name", "nenfhir");
    fhir_b_str(b, name, "type", "manufacturer-name");
    fhir_b_set1(b, d, "deviceName", name);
    fhir_b_str(b, ver, "value", c->o->version);
    fhir_b_set1(b, d, "version", ver);
    add_entry(c, c->url[URL_DEVICE], d, "identifier", NEN_ID_SYSTEM "/device", "nenfhir");
}

static void provenance(struct ctx *c, const char *digest)
{
    struct fhir_build *b = &c->b;
    char id[64], name[sizeof c->key + 80], display[64];
    snprintf(name, sizeof name, "%s/provenance/%s", c->key, digest); /* never cut */
    char h[65];
    if (fhir_sha256_hex(name, strlen(name), h) != 0)
        b->failed = 1;
    snprintf(id, sizeof id, "nenfhir-%.48s", h);
    json_object *p = fhir_b_obj(b);
    fhir_b_str(b, p, "resourceType", "Provenance");
    json_object *meta = tag_meta(c);
    if (c->o->conditional) /* R4 Provenance has no identifier: a tag names it */
        fhir_b_push(b, fhir_member(meta, "tag"),
                    fhir_b_coding(b, NEN_ID_SYSTEM "/provenance", name, NULL));
    else
        fhir_b_str(b, p, "id", id);
    fhir_b_set(b, p, "meta", meta);
    json_object *target = fhir_b_arr(b);
    fhir_b_push(b, target, fhir_b_ref(b, c->url[URL_REPORT], NULL));
    for (int row = 0; row < ROW__COUNT; row++)
        if (row_included(c->r, row))
            fhir_b_push(b, target, fhir_b_ref(b, c->url[row], NULL));
    fhir_b_set(b, p, "target", target);
    fhir_b_str(b, p, "recorded", c->o->issued);
    json_object *agent = fhir_b_obj(b);
    fhir_b_set(b, agent, "type",
               fhir_b_cc(b, "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                         "author", "Author", NULL));
    snprintf(display, sizeof display, "nenfhir %s", c->o->version);
    fhir_b_set(b, agent, "who", fhir_b_ref(b, c->url[URL_DEVICE], display));
    fhir_b_set1(b, p, "agent", agent);
    json_object *ent = fhir_b_arr(b);
    int n = 0;
    for (int i = 0; i < c->x->nsrc; i++) {
        int dup = 0;
        for (int j = 0; j < i && !dup; j++)
            dup = strcmp(c->x->src[j].ref, c->x->src[i].ref) == 0;
        if (dup)
            continue;
        json_object *e = fhir_b_obj(b);
        fhir_b_str(b, e, "role", "source");
        fhir_b_set(b, e, "what", fhir_b_ref(b, c->x->src[i].ref, NULL));
        fhir_b_push(b, ent, e);
        n++;
    }
    if (n)
        fhir_b_set(b, p, "entity", ent);
    else
        json_object_put(ent);
    add_entry(c, c->url[URL_PROVENANCE], p, "_tag", NEN_ID_SYSTEM "/provenance", name);
}

json_object *nen_report_bundle(const struct nen_extract *x, const struct nen_result *r,
                               const struct nen_report_opts *o, struct fhir_error *err)
{
    static const char *const extra[] = {"report", "device", "provenance"};
    struct ctx c;
    memset(&c, 0, sizeof c);
    c.x = x;
    c.r = r;
    c.o = o;
    c.codes = o->codes;
    snprintf(c.key, sizeof c.key, "%s", x->case_value);
    for (int i = 0; i < ROW__COUNT + 3; i++) {
        char name[400], uuid[FHIR_UUID_LEN] = "";
        if (i == URL_DEVICE) /* one Device for every case */
            snprintf(name, sizeof name, "nenfhir/device");
        else
            snprintf(name, sizeof name, "%s|%s/%s", x->case_system, x->case_value,
                     i < ROW__COUNT ? rows[i].role : extra[i - ROW__COUNT]);
        if (fhir_uuid_v5(NEN_ID_SYSTEM, name, uuid) != 0)
            c.b.failed = 1;
        snprintf(c.url[i], sizeof c.url[i], "urn:uuid:%s", uuid);
    }
    char digest[65];
    if (nen_report_digest(x, r, digest) != 0)
        c.b.failed = 1;
    json_object *bundle = fhir_b_obj(&c.b);
    fhir_b_str(&c.b, bundle, "resourceType", "Bundle");
    fhir_b_set(&c.b, bundle, "meta", tag_meta(&c));
    fhir_b_str(&c.b, bundle, "type", "transaction");
    c.entries = fhir_b_arr(&c.b);
    for (int row = 0; row < ROW__COUNT; row++)
        if (row_included(r, row))
            result_observation(&c, row);
    diagnostic_report(&c);
    device(&c);
    provenance(&c, digest);
    fhir_b_set(&c.b, bundle, "entry", c.entries);
    if (c.b.failed) {
        json_object_put(bundle);
        fhir_error_set(err, "out of memory while building the report");
        return NULL;
    }
    return bundle;
}
