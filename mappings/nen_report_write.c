/*
 * nen_report_write.c - the write mode a CapabilityStatement allows and the
 * ordered single writes of a conditional report Bundle (nen_report_write.h,
 * issue 13 item 3; interop.md I8, I14).
 */
#include "nen_report_write.h"

#include "fhir_json.h"
#include "fhir_tree.h"
#include "nen_report.h"

#include <stdio.h>
#include <string.h>

const char *nen_write_mode_name(enum nen_write_mode m)
{
    switch (m) {
    case NEN_WRITE_CONDITIONAL: return "conditional";
    case NEN_WRITE_CLIENT_ID: return "client-id";
    default: return "auto";
    }
}

enum nen_write_mode nen_write_mode_parse(const char *name)
{
    if (name && strcmp(name, "conditional") == 0)
        return NEN_WRITE_CONDITIONAL;
    if (name && strcmp(name, "client-id") == 0)
        return NEN_WRITE_CLIENT_ID;
    return NEN_WRITE_AUTO;
}

/* ---------- the CapabilityStatement ---------- */

static const char *const written_types[] = {"DiagnosticReport", "Observation", "Provenance",
                                            "Device"};
#define NTYPES (sizeof written_types / sizeof written_types[0])

/* The first item of rest[].ARRAY, in the server rest entries of cs, whose
 * KEY is VALUE (a resource by its type, an interaction by its code), or NULL. */
static json_object *cs_server_item(json_object *cs, const char *array, const char *key,
                                   const char *value)
{
    size_t nrest = fhir_count(cs, "rest");
    for (size_t i = 0; i < nrest; i++) {
        json_object *rest = fhir_item(cs, "rest", i);
        const char *mode = "";
        fhir_get_string(rest, "mode", &mode);
        if (strcmp(mode, "server") != 0)
            continue;
        size_t n = fhir_count(rest, array);
        for (size_t k = 0; k < n; k++) {
            json_object *item = fhir_item(rest, array, k);
            const char *v = "";
            if (fhir_get_string(item, key, &v) == FHIR_OK && strcmp(v, value) == 0)
                return item;
        }
    }
    return NULL;
}

static json_object *cs_resource(json_object *cs, const char *type)
{
    return cs_server_item(cs, "resource", "type", type);
}

static int cs_transactions(json_object *cs)
{
    return cs_server_item(cs, "interaction", "code", "transaction") != NULL;
}

/* Append name to a ", "-joined list in buf. */
static void list_add(char *buf, size_t len, const char *name)
{
    size_t n = strlen(buf);
    snprintf(buf + n, len - n, "%s%s", n ? ", " : "", name);
}

void nen_report_write_choose(json_object *cs, struct nen_write_choice *out)
{
    memset(out, 0, sizeof *out);
    if (cs && strcmp(fhir_resource_type(cs), "CapabilityStatement") != 0)
        cs = NULL;
    const char *software = "";
    fhir_get_string(fhir_member(cs, "software"), "name", &software);
    snprintf(out->software, sizeof out->software, "%s", software);
    out->transactions = cs_transactions(cs);
    char no_cu[128] = "", no_uc[128] = "";
    for (size_t i = 0; i < NTYPES; i++) {
        json_object *res = cs_resource(cs, written_types[i]);
        int cu = 0, uc = 0;
        if (fhir_get_bool(res, "conditionalUpdate", &cu) != FHIR_OK)
            cu = 0;
        if (fhir_get_bool(res, "updateCreate", &uc) != FHIR_OK)
            uc = 0;
        if (!cu)
            list_add(no_cu, sizeof no_cu, written_types[i]);
        if (!uc)
            list_add(no_uc, sizeof no_uc, written_types[i]);
    }
    char server[160];
    snprintf(server, sizeof server, "the server's CapabilityStatement (software '%.100s')",
             out->software[0] ? out->software : "unnamed");
    if (!no_cu[0]) {
        out->mode = NEN_WRITE_CONDITIONAL;
        snprintf(out->why, sizeof out->why,
                 "%s announces conditionalUpdate for DiagnosticReport, Observation, Provenance "
                 "and Device: conditional update by business identifier (PUT "
                 "Type?identifier=...), %s",
                 server, out->transactions ? "in one transaction per report"
                                           : "one resource at a time (it announces no "
                                             "transactions)");
    } else if (!no_uc[0]) {
        out->mode = NEN_WRITE_CLIENT_ID;
        snprintf(out->why, sizeof out->why,
                 "%s announces no conditionalUpdate for %s but updateCreate for every type "
                 "nenfhir writes: client-assigned ids (PUT Type/<uuid>)",
                 server, no_cu);
    } else {
        out->mode = NEN_WRITE_AUTO;
        snprintf(out->why, sizeof out->why,
                 "%s announces neither conditionalUpdate (missing for %s) nor updateCreate "
                 "(missing for %s): nenfhir cannot write its reports idempotently; enable "
                 "conditional update (or create on update with client ids) on the server, or "
                 "set [server] write_mode to what it supports",
                 cs ? server : "the server's answer to GET metadata (no CapabilityStatement)",
                 no_cu, no_uc);
    }
}

/* ---------- ordered single writes ---------- */

int nen_report_write_identity(json_object *entry, const char **type, const char **param,
                              char *value, size_t len)
{
    json_object *res = fhir_member(entry, "resource");
    const char *system = NULL, *v = NULL;
    *type = fhir_resource_type(res);
    if (strcmp(*type, "Provenance") == 0) {
        *param = "_tag";
        json_object *meta = fhir_member(res, "meta");
        size_t n = fhir_count(meta, "tag");
        for (size_t i = 0; i < n && !v; i++) {
            json_object *t = fhir_item(meta, "tag", i);
            const char *s = "", *c = "";
            if (fhir_get_string(t, "system", &s) == FHIR_OK &&
                strcmp(s, NEN_ID_SYSTEM "/provenance") == 0 &&
                fhir_get_string(t, "code", &c) == FHIR_OK)
                system = s, v = c;
        }
    } else {
        *param = "identifier";
        json_object *id = fhir_item(res, "identifier", 0);
        if (fhir_get_string(id, "system", &system) != FHIR_OK ||
            fhir_get_string(id, "value", &v) != FHIR_OK)
            system = v = NULL;
    }
    if (!(*type)[0] || !system || !v)
        return -1;
    int n = snprintf(value, len, "%s|%s", system, v);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* 1 if ref is the fullUrl of an entry of bundle. */
static int is_entry(json_object *bundle, const char *ref)
{
    size_t n = fhir_count(bundle, "entry");
    for (size_t i = 0; i < n; i++) {
        const char *full = "";
        if (fhir_get_string(fhir_item(bundle, "entry", i), "fullUrl", &full) == FHIR_OK &&
            strcmp(full, ref) == 0)
            return 1;
    }
    return 0;
}

/* Replace the references of v (in place) found in refs; -1 on a reference
 * to an entry of bundle that refs lacks. */
static int resolve_refs(json_object *v, json_object *bundle, json_object *refs, char *missing,
                        size_t len)
{
    if (json_object_is_type(v, json_type_array)) {
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++)
            if (resolve_refs(json_object_array_get_idx(v, i), bundle, refs, missing, len) != 0)
                return -1;
        return 0;
    }
    if (!json_object_is_type(v, json_type_object))
        return 0;
    json_object_object_foreach(v, key, val)
    {
        if (strcmp(key, "reference") == 0 && json_object_is_type(val, json_type_string)) {
            const char *ref = json_object_get_string(val);
            json_object *to = NULL;
            if (json_object_object_get_ex(refs, ref, &to)) {
                if (json_object_set_string(val, json_object_get_string(to)) != 1)
                    return -1;
            } else if (is_entry(bundle, ref)) {
                snprintf(missing, len, "%s", ref);
                return -1;
            }
        } else if (resolve_refs(val, bundle, refs, missing, len) != 0) {
            return -1;
        }
    }
    return 0;
}

json_object *nen_report_write_resolve(json_object *bundle, size_t i, json_object *refs,
                                      char *missing, size_t len)
{
    json_object *res = fhir_member(fhir_item(bundle, "entry", i), "resource"), *copy = NULL;
    if (len)
        missing[0] = '\0';
    if (!res || json_object_deep_copy(res, &copy, NULL) != 0 || !copy)
        return NULL;
    if (resolve_refs(copy, bundle, refs, missing, len) != 0) {
        json_object_put(copy);
        return NULL;
    }
    return copy;
}

/* "Type/id" from a URL path ".../Type/id[/_history/v]". */
static int ref_from_location(const char *loc, const char *type, char *out, size_t outlen)
{
    size_t tl = strlen(type);
    const char *hit = NULL;
    for (const char *p = strstr(loc, type); p; p = strstr(p + 1, type))
        if ((p == loc || p[-1] == '/') && p[tl] == '/')
            hit = p; /* the last "/Type/" segment */
    if (!hit)
        return -1;
    const char *id = hit + tl + 1;
    size_t il = strcspn(id, "/?#");
    if (il == 0 || il > 64)
        return -1;
    int n = snprintf(out, outlen, "%s/%.*s", type, (int)il, id);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int nen_report_write_ref(const char *body, size_t body_len, const char *location,
                         const char *type, char *out, size_t outlen)
{
    if (body && body_len) {
        struct fhir_error err = {0};
        json_object *res = fhir_json_parse(body, body_len, &fhir_limits_default, type, &err);
        const char *id = res ? fhir_resource_id(res) : "";
        int ok = res && strcmp(fhir_resource_type(res), type) == 0 && id[0] &&
                 strlen(id) <= 64;
        int n = ok ? snprintf(out, outlen, "%s/%s", type, id) : -1;
        json_object_put(res);
        if (ok && n > 0 && (size_t)n < outlen)
            return 0;
    }
    return location && location[0] ? ref_from_location(location, type, out, outlen) : -1;
}
