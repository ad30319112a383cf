/*
 * nen_report.c - builds the transaction Bundle of nen_report.h. Element order
 * follows the R4 resource definitions (the XML writer keeps it). Terminology:
 * LOINC 60568-3 (pathology synoptic report), LP7839-6 (pathology), 33732-9
 * (histologic grade), 21899-0/21900-6/21901-4/21902-2 (pT/pN/pM/stage group);
 * SNOMED CT 1269566009 (AJCC 9th edition) and 1149430001 (WHO grading, 5th
 * edition) as methods; ICD-O-3 morphology in conclusionCode; the nenfhir
 * result system for values with no standard code.
 */
#include "nen_report.h"

#include "fhir_build.h"
#include "fhir_tree.h"
#include "fhir_uuid.h"
#include "nen_report_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOINC "http://loinc.org"
#define SNOMED "http://snomed.info/sct"
#define ICDO3 "http://terminology.hl7.org/CodeSystem/icd-o-3"
#define OBS_CATEGORY "http://terminology.hl7.org/CodeSystem/observation-category"
#define V2_0074 "http://terminology.hl7.org/CodeSystem/v2-0074"
#define ABSENT "http://terminology.hl7.org/CodeSystem/data-absent-reason"
#define AJCC9_METHOD "1269566009"
#define AJCC9_DISPLAY "American Joint Committee on Cancer, Cancer Staging Manual, 9th edition"

/* One result Observation: its role (identifier suffix), code, and which
 * inputs it rests on (for derivedFrom). */
struct result_row {
    const char *role;
    const char *system, *code, *display;
    const char *method_code, *method_display;
    const char *inputs; /* space-separated input keys */
};

enum { ROW_CLASS, ROW_GRADE, ROW_TYPE, ROW_T, ROW_N, ROW_M, ROW_STAGE, ROW__COUNT };

static const struct result_row rows[ROW__COUNT] = {
    [ROW_CLASS] = {"who-class", NEN_RESULT_SYSTEM, "who-class",
                   "WHO classification of the neuroendocrine neoplasm", NULL, NULL,
                   "site specimen diff ki67 mitoses hpf_area necrosis ne_pct non_ne_pct "
                   "non_ne_kind pit1 tpit sf1 sdhb_loss"},
    [ROW_GRADE] = {"grade", LOINC, "33732-9", "Histology grade [Identifier] in Cancer specimen",
                   "1149430001", "WHO classification of tumours grading system, fifth edition",
                   "site specimen diff ki67 mitoses hpf_area necrosis"},
    [ROW_TYPE] = {"gastric-net-type", NEN_RESULT_SYSTEM, "gastric-net-type",
                  "Gastric neuroendocrine tumour type", NULL, NULL,
                  "gastrin gastrin_uln ph acid atrophic_gastritis antibodies gastrinoma region "
                  "tumours size"},
    [ROW_T] = {"pt", LOINC, "21899-0", "Primary tumor.pathology Cancer", AJCC9_METHOD, AJCC9_DISPLAY,
               "site size tumours extent pt"},
    [ROW_N] = {"pn", LOINC, "21900-6", "Regional lymph nodes.pathology Cancer", AJCC9_METHOD, AJCC9_DISPLAY,
               "site nodes_examined nodes_positive mesenteric_mass pn"},
    [ROW_M] = {"pm", LOINC, "21901-4", "Distant metastases.pathology Cancer", AJCC9_METHOD, AJCC9_DISPLAY,
               "site mets met_lesions pm"},
    [ROW_STAGE] = {"stage-group", LOINC, "21902-2", "Stage group.pathology Cancer", AJCC9_METHOD,
                   AJCC9_DISPLAY,
                   "site"},
};

struct ctx {
    struct fhir_build b;
    const struct nen_extract *x;
    const struct nen_result *r;
    const struct nen_report_opts *o;
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

/* Add an entry: fullUrl "urn:uuid:X", the resource with id X, request
 * "PUT Type/X". Takes res. Writing by a stable id, not by a conditional
 * URL, keeps every write idempotent (I8) without the server's conditional
 * transaction rules (Medplum refuses a transaction with conditional entries
 * and more than 8 entries) and without racing on the shared Device. */
static void add_entry(struct ctx *c, const char *full_url, json_object *res)
{
    const char *id = fhir_resource_id(res);
    if (!id[0]) {
        id = strncmp(full_url, "urn:uuid:", 9) == 0 ? full_url + 9 : full_url;
        fhir_b_str(&c->b, res, "id", id);
    }
    char put[128];
    snprintf(put, sizeof put, "%s/%s", fhir_resource_type(res), id);
    json_object *e = fhir_b_obj(&c->b), *req = fhir_b_obj(&c->b);
    fhir_b_str(&c->b, e, "fullUrl", full_url);
    fhir_b_set(&c->b, e, "resource", res);
    fhir_b_str(&c->b, req, "method", "PUT");
    fhir_b_str(&c->b, req, "url", put);
    fhir_b_set(&c->b, e, "request", req);
    fhir_b_push(&c->b, c->entries, e);
}

/* ---------- result values ---------- */

static const char *class_display(enum nen_class v)
{
    static const char *const d[NEN_CLASS__COUNT] = {
        [NEN_CLASS_NET] = "Neuroendocrine tumour",
        [NEN_CLASS_NEC_SMALL] = "Small cell neuroendocrine carcinoma",
        [NEN_CLASS_NEC_LARGE] = "Large cell neuroendocrine carcinoma",
        [NEN_CLASS_NEC] = "Neuroendocrine carcinoma",
        [NEN_CLASS_MINEN] = "Mixed neuroendocrine-non-neuroendocrine neoplasm",
        [NEN_CLASS_TC] = "Typical carcinoid",
        [NEN_CLASS_AC] = "Atypical carcinoid",
        [NEN_CLASS_CARCINOID_NOS] = "Carcinoid tumour, NOS",
        [NEN_CLASS_MTC] = "Medullary thyroid carcinoma",
        [NEN_CLASS_PITNET] = "Pituitary neuroendocrine tumour",
        [NEN_CLASS_PPGL] = "Pheochromocytoma/paraganglioma",
        [NEN_CLASS_MCC] = "Merkel cell carcinoma"};
    return v < NEN_CLASS__COUNT ? d[v] : NULL;
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

/* value[x] or dataAbsentReason, then the note with the rule trace. */
static void row_value(struct ctx *c, json_object *obs, int row)
{
    char buf[32], text[NEN_TEXT_LEN * 2];
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
               fhir_b_cc(&c->b, NEN_RESULT_SYSTEM, w, display, text));
}

static void trace_note(struct ctx *c, json_object *obs, const struct nen_trace *t)
{
    char note[NEN_TRACE_MAX * (NEN_RULE_LEN + NEN_TEXT_LEN + 8)] = "";
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
    char ident[300];
    snprintf(ident, sizeof ident, "%s/%s", c->key, rw->role);
    json_object *obs = fhir_b_obj(b);
    fhir_b_str(b, obs, "resourceType", "Observation");
    fhir_b_set(b, obs, "meta", tag_meta(c));
    fhir_b_set1(b, obs, "identifier", fhir_b_ident(b, NEN_ID_SYSTEM "/result", ident));
    fhir_b_str(b, obs, "status", report_status(c));
    json_object *cat = fhir_b_arr(b);
    fhir_b_push(b, cat, fhir_b_cc(b, OBS_CATEGORY, "laboratory", "Laboratory", NULL));
    fhir_b_set(b, obs, "category", cat);
    fhir_b_set(b, obs, "code", fhir_b_cc(b, rw->system, rw->code, rw->display, NULL));
    add_subject_and_times(c, obs);
    add_performer(c, obs);
    row_value(c, obs, row);
    trace_note(c, obs, row_trace(c->r, row));
    if (rw->method_code)
        fhir_b_set(b, obs, "method", fhir_b_cc(b, SNOMED, rw->method_code, rw->method_display, NULL));
    if (c->x->specimen_ref[0])
        fhir_b_set(b, obs, "specimen", fhir_b_ref(b, c->x->specimen_ref, NULL));
    if (row == ROW_STAGE) {
        json_object *mem = fhir_b_arr(b);
        for (int i = ROW_T; i <= ROW_M; i++)
            fhir_b_push(b, mem, fhir_b_ref(b, c->url[i], NULL));
        fhir_b_set(b, obs, "hasMember", mem);
    }
    derived_from(c, obs, rw->inputs);
    add_entry(c, c->url[row], obs);
}

/* ---------- text: conclusion and digest ---------- */

struct sbuf {
    char *s;
    size_t len, cap;
    int failed;
};

static void sbuf_line(void *ctx, const char *line)
{
    struct sbuf *sb = ctx;
    size_t n = strlen(line) + 1;
    if (sb->failed)
        return;
    if (sb->len + n + 1 > sb->cap) {
        size_t cap = (sb->cap + n + 1) * 2;
        char *p = realloc(sb->s, cap);
        if (!p) {
            sb->failed = 1;
            return;
        }
        sb->s = p;
        sb->cap = cap;
    }
    memcpy(sb->s + sb->len, line, n - 1);
    sb->s[sb->len + n - 1] = '\n';
    sb->len += n;
    sb->s[sb->len] = '\0';
}

/* The conclusion: summary lines, a blank line, the trace. Caller frees. */
static char *conclusion_text(const struct nen_result *r)
{
    struct sbuf sb = {0};
    nen_report_summary(r, sbuf_line, &sb);
    sbuf_line(&sb, "");
    nen_report_trace(r, sbuf_line, &sb);
    if (sb.failed) {
        free(sb.s);
        return NULL;
    }
    if (sb.len && sb.s[sb.len - 1] == '\n')
        sb.s[--sb.len] = '\0';
    return sb.s;
}

int nen_report_digest(const struct nen_extract *x, const struct nen_result *r, char out[65])
{
    struct sbuf sb = {0};
    nen_report_summary(r, sbuf_line, &sb);
    nen_report_trace(r, sbuf_line, &sb);
    char line[NEN_CODE_SYSTEM_LEN + 4 * NEN_REF_LEN + 120];
    for (int i = 0; i < x->nsrc; i++) {
        snprintf(line, sizeof line, "source %s %s %s", x->src[i].key, x->src[i].ref,
                 x->src[i].shown);
        sbuf_line(&sb, line);
    }
    nen_text_set(line, sizeof line, "case %s|%s patient %s specimen %s effective %s", x->case_system,
             x->case_value, x->patient_ref, x->specimen_ref, x->effective);
    sbuf_line(&sb, line);
    int rc = sb.failed ? -1 : fhir_sha256_hex(sb.s ? sb.s : "", sb.len, out);
    free(sb.s);
    return rc;
}

/* ---------- DiagnosticReport, Device, Provenance ---------- */

/* ICD-O-3 morphology of the class (and grade, for NET); NULL when none fits. */
static const char *morphology(const struct nen_result *r, const char **display)
{
    static const struct {
        enum nen_class cls;
        enum nen_grade grade; /* NEN_GRADE_INDETERMINATE: any */
        const char *code, *display;
    } map[] = {
        {NEN_CLASS_NET, NEN_GRADE_G1, "8240/3", "Neuroendocrine tumor, grade 1"},
        {NEN_CLASS_NET, NEN_GRADE_G2, "8249/3", "Neuroendocrine tumor, grade 2"},
        {NEN_CLASS_NET, NEN_GRADE_G3, "8249/3", "Neuroendocrine tumor, grade 3"},
        {NEN_CLASS_TC, NEN_GRADE_INDETERMINATE, "8240/3", "Typical carcinoid"},
        {NEN_CLASS_AC, NEN_GRADE_INDETERMINATE, "8249/3", "Atypical carcinoid"},
        {NEN_CLASS_CARCINOID_NOS, NEN_GRADE_INDETERMINATE, "8240/3", "Carcinoid tumor, NOS"},
        {NEN_CLASS_NEC, NEN_GRADE_INDETERMINATE, "8246/3", "Neuroendocrine carcinoma, NOS"},
        {NEN_CLASS_NEC_SMALL, NEN_GRADE_INDETERMINATE, "8041/3", "Small cell carcinoma, NOS"},
        {NEN_CLASS_NEC_LARGE, NEN_GRADE_INDETERMINATE, "8013/3",
         "Large cell neuroendocrine carcinoma"},
        {NEN_CLASS_MINEN, NEN_GRADE_INDETERMINATE, "8154/3",
         "Mixed neuroendocrine-non-neuroendocrine neoplasm"},
        {NEN_CLASS_MTC, NEN_GRADE_INDETERMINATE, "8345/3", "Medullary carcinoma with amyloid stroma"},
        {NEN_CLASS_MCC, NEN_GRADE_INDETERMINATE, "8247/3", "Merkel cell carcinoma"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (map[i].cls == r->cls &&
            (map[i].grade == NEN_GRADE_INDETERMINATE || map[i].grade == r->grade)) {
            *display = map[i].display;
            return map[i].code;
        }
    return NULL;
}

static int row_included(const struct nen_result *r, int row)
{
    return row != ROW_TYPE || r->gtype != NEN_GTYPE_NOT_APPLICABLE;
}

static void diagnostic_report(struct ctx *c)
{
    struct fhir_build *b = &c->b;
    json_object *dr = fhir_b_obj(b);
    fhir_b_str(b, dr, "resourceType", "DiagnosticReport");
    fhir_b_set(b, dr, "meta", tag_meta(c));
    fhir_b_set1(b, dr, "identifier", fhir_b_ident(b, NEN_ID_SYSTEM "/report", c->key));
    fhir_b_str(b, dr, "status", report_status(c));
    json_object *cat = fhir_b_arr(b), *cc = fhir_b_cc(b, LOINC, "LP7839-6", "Pathology", NULL);
    fhir_b_push(b, cat, cc);
    fhir_b_push(b, cat, fhir_b_cc(b, V2_0074, "SP", "Surgical Pathology", NULL));
    fhir_b_set(b, dr, "category", cat);
    fhir_b_set(b, dr, "code", fhir_b_cc(b, LOINC, "60568-3", "Pathology Synoptic report",
                                       "Neuroendocrine neoplasm: WHO class, grade, type and "
                                       "AJCC stage (nenfhir)"));
    add_subject_and_times(c, dr);
    add_performer(c, dr);
    if (c->x->specimen_ref[0])
        fhir_b_set1(b, dr, "specimen", fhir_b_ref(b, c->x->specimen_ref, NULL));
    json_object *res = fhir_b_arr(b);
    for (int row = 0; row < ROW__COUNT; row++)
        if (row_included(c->r, row))
            fhir_b_push(b, res, fhir_b_ref(b, c->url[row], NULL));
    fhir_b_set(b, dr, "result", res);
    char *text = conclusion_text(c->r);
    if (!text)
        b->failed = 1;
    fhir_b_str(b, dr, "conclusion", text);
    free(text);
    json_object *codes = fhir_b_arr(b);
    const char *mdisp, *m = morphology(c->r, &mdisp);
    if (m)
        fhir_b_push(b, codes, fhir_b_cc(b, ICDO3, m, mdisp, NULL));
    char buf[32];
    for (int row = ROW_CLASS; row <= ROW_GRADE; row++) {
        const char *w = row_word(c->r, row, buf, sizeof buf);
        if (strcmp(w, "indeterminate") != 0)
            fhir_b_push(b, codes, fhir_b_cc(b, NEN_RESULT_SYSTEM, w, NULL, NULL));
    }
    fhir_b_set(b, dr, "conclusionCode", codes);
    add_entry(c, c->url[URL_REPORT], dr);
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
    add_entry(c, c->url[URL_DEVICE], d);
}

static void provenance(struct ctx *c, const char *digest)
{
    struct fhir_build *b = &c->b;
    char id[64], name[400], display[64];
    snprintf(name, sizeof name, "%s/provenance/%s", c->key, digest);
    char h[65];
    if (fhir_sha256_hex(name, strlen(name), h) != 0)
        b->failed = 1;
    snprintf(id, sizeof id, "nenfhir-%.48s", h);
    json_object *p = fhir_b_obj(b);
    fhir_b_str(b, p, "resourceType", "Provenance");
    fhir_b_str(b, p, "id", id);
    fhir_b_set(b, p, "meta", tag_meta(c));
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
    add_entry(c, c->url[URL_PROVENANCE], p);
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
