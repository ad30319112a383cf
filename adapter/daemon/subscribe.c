/*
 * subscribe.c - nenfhir's Subscription on the server (interop.md I2). On
 * start: find the Subscriptions carrying nenfhir's tag for this endpoint;
 * create what is missing, update what differs or is off/error (status back
 * to requested), switch off ours that the configuration no longer wants.
 * First the CapabilityStatement: where the server software is known to
 * evaluate `_tag:not` in criteria, every criteria excludes nenfhir's own
 * writes (I5). R4 criteria style: Subscriptions per input type
 * (Observation: the input codes of the code tables; Condition: the coded
 * values; grouped per code system, split over several Subscriptions when
 * longer than SUBSCRIBE_CRITERIA_MAX, every change of the type with a warning
 * when even that is not enough) and one for Specimen (a Specimen may come
 * after its results). Backport IG style: one topic Subscription with filter
 * criteria, payload content and heartbeat. The shared secret goes in channel.header (and Medplum's
 * subscription-secret extension, for its X-Signature HMAC).
 * Issue 14: ours (tagged) that point at another endpoint are named in the
 * log at start and deleted when subscription.cleanup = yes; `nenfhir
 * unsubscribe` (subscribe_remove) deletes ours for this endpoint (or all).
 * Owns struct subscribe (subscribe.h), each ensure's struct sub_ensure and
 * each removal's struct sub_remove.
 */
#include "subscribe.h"

#include "daemon.h"
#include "fhir_build.h"
#include "fhir_json.h"
#include "fhir_primitive.h"
#include "fhir_tree.h"
#include "nen_extract.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SUB_TAG_CODE "nenfhir-subscription"
#define BACKPORT_PROFILE \
    "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription"
#define BACKPORT_EXT "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
#define MEDPLUM_SECRET_EXT "https://www.medplum.com/fhir/StructureDefinition/subscription-secret"
/* Deletes are notified only when asked for: HAPI's channel extension
 * (HapiExtensions.EX_SEND_DELETE_MESSAGES), Medplum's interaction extension
 * (one per interaction; without it Medplum fires on create and update). */
#define HAPI_DELETE_EXT "http://hapifhir.io/fhir/StructureDefinition/subscription-send-delete-messages"
#define MEDPLUM_INTERACTION_EXT \
    "https://medplum.com/fhir/StructureDefinition/subscription-supported-interaction"
#define SUB_PER_TYPE 8
#define SUB_MAX (3 * SUB_PER_TYPE)
#define SUB_FOUND_MAX 256 /* found entries looked at (pages of 50 merged) */
#define SUB_FOUND_PAGES 5  /* search pages followed at most */
#define SUB_OPS (2 * SUB_MAX + SUB_FOUND_MAX)

struct sub_ensure {
    struct daemon *d;
    void (*done)(struct daemon *d, int ok);
    json_object *want[SUB_MAX];   /* the Subscriptions we want (owned) */
    int nwant;
    json_object *found;           /* search result Bundle, later pages' entries
                                     appended (owned) */
    int pages;                    /* search pages read */
    int step;                     /* index of the next op */
    char method[SUB_OPS][8];
    char url[SUB_OPS][200];
    json_object *body[SUB_OPS];   /* borrowed from want[] or found; NULL: none (DELETE) */
    int nops;
    int ok;
    int tag_not;                  /* the server evaluates _tag:not in criteria */
};

struct crit_item {
    const char *system, *code;
    unsigned order;
};

static int crit_cmp(const void *a, const void *b)
{
    const struct crit_item *x = a, *y = b;
    int c = strcmp(x->system, y->system);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static void crit_free(char **out, int n)
{
    for (int i = 0; i < n; i++) {
        free(out[i]);
        out[i] = NULL;
    }
}

int subscribe_criteria(const struct nen_codes *t, const char *type, int values, int tag_not,
                       size_t max, char **out, int nmax)
{
    const char *tag = tag_not ? "_tag:not=" NEN_TAG_SYSTEM "|" NEN_TAG_CODE : "";
    unsigned n = 0, cap = 0;
    const struct nen_code *c;
    struct crit_item *items = NULL;
    for (unsigned i = 0; t && (c = values ? nen_codes_condition_at(t, i) : nen_codes_input_at(t, i));
         i++) {
        int seen = 0; /* a later line may restate a code */
        for (unsigned j = 0; j < n && !seen; j++)
            seen = strcmp(items[j].system, c->system) == 0 && strcmp(items[j].code, c->code) == 0;
        if (seen)
            continue;
        if (n == cap) {
            unsigned ncap = cap ? cap * 2 : 64;
            struct crit_item *ni = realloc(items, ncap * sizeof *ni);
            if (!ni) {
                free(items);
                return -1;
            }
            items = ni;
            cap = ncap;
        }
        items[n].system = c->system;
        items[n].code = c->code;
        items[n].order = n;
        n++;
    }
    if (n)
        qsort(items, n, sizeof *items, crit_cmp);
    int count = 0;
    size_t fixed = strlen(type) + strlen("?code=") + (tag_not ? 1 + strlen(tag) : 0);
    for (unsigned i = 0; i < n;) {
        if (count == nmax) {
            crit_free(out, count);
            free(items);
            return 0; /* too many codes for nmax criteria of max characters */
        }
        size_t len = fixed, k = i;
        while (k < n) {
            size_t add = strlen(items[k].system) + 1 + strlen(items[k].code) + (k > i);
            if (len + add > max)
                break;
            len += add;
            k++;
        }
        if (k == i) { /* one code alone does not fit */
            crit_free(out, count);
            free(items);
            return 0;
        }
        char *str = malloc(len + 1);
        if (!str) {
            crit_free(out, count);
            free(items);
            return -1;
        }
        size_t at = (size_t)sprintf(str, "%s?code=", type);
        for (size_t j = i; j < k; j++)
            at += (size_t)sprintf(str + at, "%s%s|%s", j > i ? "," : "", items[j].system,
                                  items[j].code);
        if (tag_not)
            sprintf(str + at, "&%s", tag);
        out[count++] = str;
        i = (unsigned)k;
    }
    free(items);
    if (count == 0) { /* no codes: every change of the type */
        if (nmax < 1)
            return 0;
        size_t len = strlen(type) + 2 + strlen(tag);
        out[0] = malloc(len);
        if (!out[0])
            return -1;
        snprintf(out[0], len, "%s?%s", type, tag);
        count = 1;
    }
    return count;
}

static json_object *ext(struct fhir_build *b, const char *url, const char *vkey, json_object *v)
{
    json_object *e = fhir_b_obj(b);
    fhir_b_str(b, e, "url", url);
    fhir_b_set(b, e, vkey, v);
    return e;
}

static json_object *sub_channel(struct fhir_build *b, const struct run_config *c, int backport)
{
    json_object *ch = fhir_b_obj(b);
    if (backport) {
        json_object *exts = fhir_b_arr(b);
        fhir_b_push(b, exts, ext(b, BACKPORT_EXT "backport-heartbeat-period", "valueUnsignedInt",
                                 json_object_new_int(c->heartbeat_s)));
        fhir_b_set(b, ch, "extension", exts);
    } else {
        json_object *exts = fhir_b_arr(b);
        fhir_b_push(b, exts, ext(b, HAPI_DELETE_EXT, "valueBoolean", json_object_new_boolean(1)));
        fhir_b_set(b, ch, "extension", exts);
    }
    fhir_b_str(b, ch, "type", "rest-hook");
    fhir_b_str(b, ch, "endpoint", c->endpoint);
    if (backport || strcmp(c->payload, "empty") != 0)
        fhir_b_str(b, ch, "payload", c->content_type);
    if (backport) {
        json_object *pe = fhir_b_obj(b), *exts = fhir_b_arr(b);
        fhir_b_push(b, exts, ext(b, BACKPORT_EXT "backport-payload-content", "valueCode",
                                 json_object_new_string(c->payload)));
        fhir_b_set(b, pe, "extension", exts);
        fhir_b_set(b, ch, "_payload", pe);
    }
    if (c->secret[0]) {
        char h[RUN_SECRET_LEN + 80];
        snprintf(h, sizeof h, "%s: %s", c->secret_header, c->secret);
        json_object *hs = fhir_b_arr(b);
        fhir_b_push(b, hs, json_object_new_string(h));
        fhir_b_set(b, ch, "header", hs);
    }
    return ch;
}

/* Subscription.extension: Medplum's secret, and (R4 criteria style) its
 * interactions create, update and delete. NULL when there is none. */
static json_object *sub_extensions(struct fhir_build *b, const struct run_config *c, int backport)
{
    static const char *const interactions[] = {"create", "update", "delete"};
    if (backport && !c->secret[0])
        return NULL;
    json_object *exts = fhir_b_arr(b);
    if (c->secret[0])
        fhir_b_push(b, exts, ext(b, MEDPLUM_SECRET_EXT, "valueString",
                                 json_object_new_string(c->secret)));
    for (size_t i = 0; !backport && i < sizeof interactions / sizeof *interactions; i++)
        fhir_b_push(b, exts, ext(b, MEDPLUM_INTERACTION_EXT, "valueCode",
                                 json_object_new_string(interactions[i])));
    return exts;
}

/* One Subscription: criteria (R4) or topic + filters (backport). */
static json_object *sub_make(const struct run_config *c, const char *criteria,
                             char *const *filters, int nfilters)
{
    struct fhir_build b = {0};
    int backport = c->mode == RUN_MODE_BACKPORT;
    json_object *s = fhir_b_obj(&b), *meta = fhir_b_obj(&b), *tags = fhir_b_arr(&b);
    fhir_b_str(&b, s, "resourceType", "Subscription");
    if (backport) {
        json_object *prof = fhir_b_arr(&b);
        fhir_b_push(&b, prof, json_object_new_string(BACKPORT_PROFILE));
        fhir_b_set(&b, meta, "profile", prof);
    }
    fhir_b_push(&b, tags, fhir_b_coding(&b, NEN_TAG_SYSTEM, SUB_TAG_CODE, "nenfhir subscription"));
    fhir_b_set(&b, meta, "tag", tags);
    fhir_b_set(&b, s, "meta", meta);
    json_object *sexts = sub_extensions(&b, c, backport);
    if (sexts)
        fhir_b_set(&b, s, "extension", sexts);
    fhir_b_str(&b, s, "status", "requested");
    fhir_b_str(&b, s, "reason",
               "nenfhir: WHO grade, gastric NET type and AJCC stage of neuroendocrine neoplasms");
    fhir_b_str(&b, s, "criteria", criteria);
    if (backport) {
        json_object *ce = fhir_b_obj(&b), *exts = fhir_b_arr(&b);
        for (int i = 0; i < nfilters; i++)
            fhir_b_push(&b, exts, ext(&b, BACKPORT_EXT "backport-filter-criteria", "valueString",
                                      json_object_new_string(filters[i])));
        fhir_b_set(&b, ce, "extension", exts);
        fhir_b_set(&b, s, "_criteria", ce);
    }
    fhir_b_set(&b, s, "channel", sub_channel(&b, c, backport));
    if (b.failed) {
        json_object_put(s);
        return NULL;
    }
    return s;
}

/* The criteria for one type into out (up to SUB_PER_TYPE); too many codes
 * for that: every change of the type, with a warning. Returns the count, -1
 * out of memory. */
static int sub_type_criteria(struct sub_ensure *e, const char *type, int values, char **out)
{
    int n = subscribe_criteria(e->d->codes, type, values, e->tag_not, SUBSCRIBE_CRITERIA_MAX, out,
                               SUB_PER_TYPE);
    if (n == 0) {
        LOG_WARN("subscription: the %s codes do not fit in %d criteria of at most %d "
                 "characters; asking for every %s change instead (more notifications, the "
                 "same cases)", type, SUB_PER_TYPE, SUBSCRIBE_CRITERIA_MAX, type);
        n = subscribe_criteria(NULL, type, values, e->tag_not, SUBSCRIBE_CRITERIA_MAX, out, 1);
    }
    return n;
}

static int sub_wanted(struct sub_ensure *e)
{
    struct daemon *d = e->d;
    char *crit[SUB_MAX] = {0};
    int n = 0, k;
    int backport = d->cfg->mode == RUN_MODE_BACKPORT;
    if ((k = sub_type_criteria(e, "Observation", 0, crit)) < 0)
        return -1;
    n += k;
    if ((k = sub_type_criteria(e, "Condition", 1, crit + n)) < 0) {
        crit_free(crit, n);
        return -1;
    }
    n += k;
    /* a Specimen may come after its results and completes their case; the
     * backport topic names Observation and Condition only */
    if (!backport) {
        if ((k = subscribe_criteria(NULL, "Specimen", 0, e->tag_not, SUBSCRIBE_CRITERIA_MAX,
                                    crit + n, 1)) < 0) {
            crit_free(crit, n);
            return -1;
        }
        n += k;
    }
    int rc = 0;
    if (backport)
        e->want[e->nwant++] = sub_make(d->cfg, d->cfg->topic, crit, n);
    else
        for (int i = 0; i < n; i++)
            e->want[e->nwant++] = sub_make(d->cfg, crit[i], NULL, 0);
    for (int i = 0; i < e->nwant; i++)
        if (!e->want[i])
            rc = -1;
    crit_free(crit, n);
    return rc;
}

/* 1 if existing says what want says (criteria, filters, channel, secret). */
static int sub_same(json_object *have, json_object *want)
{
    static const char *const keys[] = {"criteria", "_criteria", "channel", "extension"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (!json_object_equal(fhir_member(have, keys[i]), fhir_member(want, keys[i])))
            return 0;
    return 1;
}

/* Same slot: same endpoint, and same resource type (R4) or topic (backport). */
static int sub_slot(json_object *have, json_object *want)
{
    const char *ha = "", *wa = "", *he = "", *we = "";
    fhir_get_string(have, "criteria", &ha);
    fhir_get_string(want, "criteria", &wa);
    fhir_get_string(fhir_member(have, "channel"), "endpoint", &he);
    fhir_get_string(fhir_member(want, "channel"), "endpoint", &we);
    size_t hn = strcspn(ha, "?"), wn = strcspn(wa, "?");
    return strcmp(he, we) == 0 && hn == wn && strncmp(ha, wa, hn) == 0;
}

static void sub_add_op(struct sub_ensure *e, const char *method, const char *url, json_object *body)
{
    if (e->nops >= SUB_OPS) {
        LOG_WARN("subscription: too many changes at once; %s %s waits for the next start",
                 method, url);
        return;
    }
    snprintf(e->method[e->nops], sizeof e->method[0], "%s", method);
    snprintf(e->url[e->nops], sizeof e->url[0], "%s", url);
    e->body[e->nops++] = body;
}

/* Found entries whose id is no FHIR id: never put in a URL (marked used). */
static void sub_skip_bad_ids(struct sub_ensure *e, int *used, size_t n)
{
    for (size_t i = 0; i < n && i < SUB_FOUND_MAX; i++) {
        json_object *have = fhir_member(fhir_item(e->found, "entry", i), "resource");
        if (fhir_id_valid(fhir_resource_id(have)))
            continue;
        LOG_WARN("a Subscription with id '%.80s' is not a FHIR id: left alone",
                 fhir_resource_id(have));
        used[i] = 1;
    }
}

/* issue 14: ours (tagged) for another endpoint (not used, valid ids): named
 * in the log; deleted when subscription.cleanup = yes. */
static void sub_plan_others(struct sub_ensure *e, const int *used, size_t n)
{
    const char *endpoint = e->d->cfg->endpoint;
    int cleanup = e->d->cfg->subscription_cleanup;
    for (size_t i = 0; i < n && i < SUB_FOUND_MAX; i++) {
        json_object *have = fhir_member(fhir_item(e->found, "entry", i), "resource");
        const char *ep = "", *status = "";
        fhir_get_string(fhir_member(have, "channel"), "endpoint", &ep);
        fhir_get_string(have, "status", &status);
        if (used[i] || strcmp(ep, endpoint) == 0 ||
            strcmp(fhir_resource_type(have), "Subscription") != 0)
            continue;
        char url[200];
        snprintf(url, sizeof url, "Subscription/%.64s", fhir_resource_id(have));
        LOG_WARN("%s (status %.20s) is nenfhir's but points at another endpoint, %.300s: %s",
                 url, status, ep,
                 cleanup ? "deleting it (subscription.cleanup = yes)"
                         : "left in place; set [subscription] cleanup = yes or run nenfhir "
                           "unsubscribe --all-endpoints");
        if (cleanup)
            sub_add_op(e, "DELETE", url, NULL);
    }
}

static void sub_plan(struct sub_ensure *e)
{
    int used[SUB_FOUND_MAX] = {0};
    size_t n = fhir_count(e->found, "entry");
    sub_skip_bad_ids(e, used, n);
    for (int w = 0; w < e->nwant; w++) {
        int match = -1;
        for (size_t i = 0; i < n && i < SUB_FOUND_MAX && match < 0; i++)
            if (!used[i] && sub_slot(fhir_member(fhir_item(e->found, "entry", i), "resource"),
                                     e->want[w]))
                match = (int)i;
        if (match < 0) {
            sub_add_op(e, "POST", "Subscription", e->want[w]);
            continue;
        }
        used[match] = 1;
        json_object *have = fhir_member(fhir_item(e->found, "entry", (size_t)match), "resource");
        const char *status = "", *id = fhir_resource_id(have);
        fhir_get_string(have, "status", &status);
        char url[200];
        snprintf(url, sizeof url, "Subscription/%s", id);
        if (sub_same(have, e->want[w]) && strcmp(status, "off") != 0 &&
            strcmp(status, "error") != 0) {
            LOG_INFO("subscription %s is in place (%s)", url, status);
            continue;
        }
        LOG_INFO("subscription %s: %s, updating it", url,
                 sub_same(have, e->want[w]) ? status : "settings differ");
        json_object_object_add(e->want[w], "id", json_object_new_string(id));
        sub_add_op(e, "PUT", url, e->want[w]);
    }
    /* Ours for this endpoint that the configuration no longer wants: off. */
    const char *endpoint = e->d->cfg->endpoint;
    for (size_t i = 0; i < n && i < SUB_FOUND_MAX; i++) {
        json_object *have = fhir_member(fhir_item(e->found, "entry", i), "resource");
        const char *ep = "", *status = "";
        fhir_get_string(fhir_member(have, "channel"), "endpoint", &ep);
        fhir_get_string(have, "status", &status);
        if (used[i] || strcmp(ep, endpoint) != 0 || strcmp(status, "off") == 0)
            continue;
        json_object_object_add(have, "status", json_object_new_string("off"));
        char url[200];
        snprintf(url, sizeof url, "Subscription/%s", fhir_resource_id(have));
        LOG_INFO("subscription %s is no longer wanted: switching it off", url);
        sub_add_op(e, "PUT", url, have);
    }
    sub_plan_others(e, used, n);
}

static void sub_finish(struct sub_ensure *e)
{
    void (*done)(struct daemon *, int) = e->done;
    struct daemon *d = e->d;
    int ok = e->ok;
    if (ok)
        d->subscribe.in_place = 1;
    for (int i = 0; i < e->nwant; i++)
        json_object_put(e->want[i]);
    json_object_put(e->found);
    free(e);
    done(d, ok);
}

static void sub_next(struct sub_ensure *e);

static void on_op(void *ctx, const struct fhir_response *r)
{
    struct sub_ensure *e = ctx;
    int i = e->step - 1;
    if (strcmp(e->method[i], "DELETE") == 0 && (r->status == 404 || r->status == 410)) {
        LOG_INFO("%s %s: HTTP %ld (already gone)", e->method[i], e->url[i], r->status);
        sub_next(e);
        return;
    }
    if (r->status < 200 || r->status > 299) {
        LOG_ERROR("%s %s: %s%ld %s %.300s", e->method[i], e->url[i], r->status ? "HTTP " : "",
                  r->status, r->error, r->body);
        sub_finish(e);
        return;
    }
    LOG_INFO("%s %s: HTTP %ld", e->method[i], e->url[i], r->status);
    sub_next(e);
}

static void sub_next(struct sub_ensure *e)
{
    if (e->step >= e->nops) {
        e->ok = 1;
        sub_finish(e);
        return;
    }
    int i = e->step++;
    char *body = e->body[i] ? fhir_json_write(e->body[i], 0) : NULL;
    if (e->body[i] && !body) {
        LOG_ERROR("subscription: out of memory");
        sub_finish(e);
        return;
    }
    int rc = fhir_client_request(e->d->client, e->method[i], e->url[i], body,
                                 body ? strlen(body) : 0, body ? "application/fhir+json" : NULL,
                                 on_op, e);
    free(body);
    if (rc != 0) {
        LOG_ERROR("subscription: %s %s: %s", e->method[i], e->url[i],
                  fhir_client_error(e->d->client));
        sub_finish(e);
    }
}

/* Append the entries of page to found's entry array (references taken).
 * Returns 0, -1 out of memory or found's entry is no array. */
static int sub_found_merge(json_object *found, json_object *page)
{
    json_object *to = fhir_member(found, "entry");
    if (to && !json_object_is_type(to, json_type_array))
        return -1;
    if (!to) {
        if (!(to = json_object_new_array()))
            return -1;
        json_object_object_add(found, "entry", to);
    }
    size_t n = fhir_count(page, "entry");
    for (size_t i = 0; i < n; i++) {
        json_object *item = fhir_item(page, "entry", i);
        if (json_object_array_add(to, json_object_get(item)) != 0) {
            json_object_put(item);
            return -1;
        }
    }
    return 0;
}

static void on_found(void *ctx, const struct fhir_response *r)
{
    struct sub_ensure *e = ctx;
    struct fhir_error err = {0};
    if (r->status != 200) {
        LOG_WARN("searching our Subscriptions: %s%ld %s", r->status ? "HTTP " : "", r->status,
                 r->error);
        sub_finish(e);
        return;
    }
    json_object *page = fhir_json_parse(r->body, r->len, &fhir_limits_default,
                                        "Subscription search", &err);
    if (!page) {
        LOG_WARN("searching our Subscriptions: %s", err.msg);
        sub_finish(e);
        return;
    }
    if (!e->found) {
        e->found = page;
    } else if (sub_found_merge(e->found, page) != 0) {
        json_object_put(page);
        LOG_ERROR("subscription: cannot join the search pages (out of memory or no entry "
                  "array)");
        sub_finish(e);
        return;
    }
    /* issue 14: every page (up to SUB_FOUND_PAGES): ours may follow others' */
    const char *next = fhir_bundle_next(page);
    if (next && ++e->pages < SUB_FOUND_PAGES) {
        int rc = fhir_client_request(e->d->client, "GET", next, NULL, 0, NULL, on_found, e);
        if (page != e->found)
            json_object_put(page);
        if (rc != 0) {
            LOG_ERROR("subscription: %s", fhir_client_error(e->d->client));
            sub_finish(e);
        }
        return;
    }
    if (next)
        LOG_WARN("subscription: more than %d pages of nenfhir's Subscriptions; only the first "
                 "ones are looked at (run nenfhir unsubscribe --all-endpoints)", SUB_FOUND_PAGES);
    if (page != e->found)
        json_object_put(page);
    sub_plan(e);
    sub_next(e);
}

int subscribe_tag_not_supported(const char *software)
{
    static const char *const known[] = {"hapi", "smile", "medplum"};
    for (size_t i = 0; software && i < sizeof known / sizeof *known; i++) {
        size_t n = strlen(known[i]);
        for (const char *p = software; *p; p++)
            if (strncasecmp(p, known[i], n) == 0)
                return 1;
    }
    return 0;
}

/* Our Subscriptions, then the plan (after the CapabilityStatement). */
static void sub_search(struct sub_ensure *e)
{
    struct daemon *d = e->d;
    if (sub_wanted(e) != 0) {
        LOG_ERROR("subscription: out of memory");
        sub_finish(e);
        return;
    }
    char err[700];
    const char *const params[] = {"_tag", NEN_TAG_SYSTEM "|" SUB_TAG_CODE, "_count", "50"};
    char *url = fhir_client_url(d->client, "Subscription", params, 2, err, sizeof err);
    if (!url) {
        LOG_ERROR("subscription: %s", err);
        sub_finish(e);
        return;
    }
    int rc = fhir_client_request(d->client, "GET", url, NULL, 0, NULL, on_found, e);
    free(url);
    if (rc != 0) {
        LOG_ERROR("subscription: %s", fhir_client_error(d->client));
        sub_finish(e);
    }
}

/* The CapabilityStatement names the server's software: _tag:not in the
 * criteria only where it is known to be evaluated (subscribe.h). */
static void on_capabilities(void *ctx, const struct fhir_response *r)
{
    struct sub_ensure *e = ctx;
    if (r->status != 200) {
        LOG_WARN("reading the server's CapabilityStatement: %s%ld %s", r->status ? "HTTP " : "",
                 r->status, r->error);
        sub_finish(e);
        return;
    }
    struct fhir_error err = {0};
    json_object *cs = fhir_json_parse(r->body, r->len, &fhir_limits_default, "CapabilityStatement",
                                      &err);
    const char *name = "";
    if (cs)
        fhir_get_string(fhir_member(cs, "software"), "name", &name);
    e->tag_not = subscribe_tag_not_supported(name);
    e->d->subscribe.tag_not = e->tag_not;
    LOG_INFO("server software '%.100s': subscription criteria %s nenfhir's own writes "
             "(_tag:not)", name, e->tag_not ? "exclude" : "cannot exclude");
    pipeline_write_capabilities(e->d, cs); /* issue 13 item 3: the write mode, once */
    json_object_put(cs);
    sub_search(e);
}

void subscribe_ensure(struct daemon *d, void (*done)(struct daemon *d, int ok))
{
    struct sub_ensure *e = calloc(1, sizeof *e);
    if (!e) {
        done(d, 0);
        return;
    }
    e->d = d;
    e->done = done;
    if (fhir_client_request(d->client, "GET", "metadata", NULL, 0, NULL, on_capabilities, e) != 0) {
        LOG_ERROR("subscription: %s", fhir_client_error(d->client));
        sub_finish(e);
    }
}

void subscribe_not_needed(struct daemon *d)
{
    d->subscribe.in_place = 1;
}

int subscribe_tag_not(const struct daemon *d)
{
    return d->subscribe.tag_not;
}

int subscribe_in_place(const struct daemon *d)
{
    return d->subscribe.in_place;
}

/* ---- issue 14: `nenfhir unsubscribe` ---- */

#define SUB_REMOVE_PAGES 100 /* search pages followed at most */

struct sub_remove {
    struct daemon *d;
    struct subscribe_remove_opts o;
    void (*done)(struct daemon *d, int ok);
    json_object *list;   /* array: the Subscriptions to remove (owned) */
    size_t step;         /* index of the next DELETE */
    int pages;
    int removed;
};

static void rm_finish(struct sub_remove *r, int ok)
{
    void (*done)(struct daemon *, int) = r->done;
    struct daemon *d = r->d;
    json_object_put(r->list);
    free(r);
    done(d, ok);
}

/* One line: what, Subscription/id, status, endpoint, criteria (tabs). */
static void rm_print(const struct sub_remove *r, const char *what, json_object *s)
{
    const char *status = "", *ep = "", *crit = "";
    fhir_get_string(s, "status", &status);
    fhir_get_string(fhir_member(s, "channel"), "endpoint", &ep);
    fhir_get_string(s, "criteria", &crit);
    fprintf(r->o.out, "%s\tSubscription/%s\t%s\t%s\t%s\n", what, fhir_resource_id(s), status, ep,
            crit);
}

static void rm_next(struct sub_remove *r);

/* The server's answer on err: "nenfhir: WHAT: HTTP 409 text body" (or
 * curl's reason when nothing came back). */
static void rm_print_error(const struct sub_remove *r, const char *what,
                           const struct fhir_response *resp)
{
    if (resp->status)
        fprintf(r->o.err, "nenfhir: %s: HTTP %ld %s %.300s\n", what, resp->status, resp->error,
                resp->body ? resp->body : "");
    else
        fprintf(r->o.err, "nenfhir: %s: %s\n", what, resp->error);
}

static void on_rm_deleted(void *ctx, const struct fhir_response *resp)
{
    struct sub_remove *r = ctx;
    json_object *s = json_object_array_get_idx(r->list, r->step - 1);
    if (resp->status == 404 || resp->status == 410) {
        rm_print(r, "already gone", s);
    } else if (resp->status < 200 || resp->status > 299) {
        char what[100];
        snprintf(what, sizeof what, "DELETE Subscription/%.64s", fhir_resource_id(s));
        rm_print_error(r, what, resp);
        fprintf(r->o.out, "removed: %d (stopped at an error)\n", r->removed);
        rm_finish(r, 0);
        return;
    } else {
        rm_print(r, "removed", s);
        r->removed++;
    }
    rm_next(r);
}

/* The next DELETE, or the count at the end (dry run: the list only). */
static void rm_next(struct sub_remove *r)
{
    size_t n = json_object_array_length(r->list);
    if (r->o.dry_run) {
        for (size_t i = 0; i < n; i++)
            rm_print(r, "would remove", json_object_array_get_idx(r->list, i));
        fprintf(r->o.out, "would remove: %zu (dry run: nothing removed)\n", n);
        rm_finish(r, 1);
        return;
    }
    if (r->step >= n) {
        fprintf(r->o.out, "removed: %d\n", r->removed);
        rm_finish(r, 1);
        return;
    }
    json_object *s = json_object_array_get_idx(r->list, r->step++);
    char url[200];
    snprintf(url, sizeof url, "Subscription/%.64s", fhir_resource_id(s));
    if (fhir_client_request(r->d->client, "DELETE", url, NULL, 0, NULL, on_rm_deleted, r) != 0) {
        fprintf(r->o.err, "nenfhir: DELETE %s: %s\n", url, fhir_client_error(r->d->client));
        fprintf(r->o.out, "removed: %d (stopped at an error)\n", r->removed);
        rm_finish(r, 0);
    }
}

/* Keep the page's Subscriptions that are ours to remove (endpoint, valid
 * id, not listed yet). Returns 0, -1 out of memory. */
static int rm_collect(struct sub_remove *r, json_object *page)
{
    const char *endpoint = r->d->cfg->endpoint;
    size_t n = fhir_count(page, "entry");
    for (size_t i = 0; i < n; i++) {
        json_object *s = fhir_member(fhir_item(page, "entry", i), "resource");
        const char *type = "", *ep = "", *id = fhir_resource_id(s);
        fhir_get_string(s, "resourceType", &type);
        fhir_get_string(fhir_member(s, "channel"), "endpoint", &ep);
        if (strcmp(type, "Subscription") != 0 || (!r->o.all_endpoints && strcmp(ep, endpoint) != 0))
            continue;
        if (!fhir_id_valid(id)) {
            fprintf(r->o.err, "nenfhir: a Subscription with id '%.80s' is not a FHIR id: left "
                    "alone\n", id ? id : "");
            continue;
        }
        int seen = 0; /* a page may repeat an entry of the one before */
        for (size_t j = 0; j < json_object_array_length(r->list) && !seen; j++)
            seen = strcmp(fhir_resource_id(json_object_array_get_idx(r->list, j)), id) == 0;
        if (!seen && json_object_array_add(r->list, json_object_get(s)) != 0) {
            json_object_put(s);
            return -1;
        }
    }
    return 0;
}

static void on_rm_page(void *ctx, const struct fhir_response *resp)
{
    struct sub_remove *r = ctx;
    struct fhir_error err = {0};
    if (resp->status != 200) {
        rm_print_error(r, "searching nenfhir's Subscriptions", resp);
        rm_finish(r, 0);
        return;
    }
    json_object *page = fhir_json_parse(resp->body, resp->len, &fhir_limits_default,
                                        "Subscription search", &err);
    if (!page || rm_collect(r, page) != 0) {
        fprintf(r->o.err, "nenfhir: searching nenfhir's Subscriptions: %s\n",
                page ? "out of memory" : err.msg);
        json_object_put(page);
        rm_finish(r, 0);
        return;
    }
    const char *next = fhir_bundle_next(page);
    if (next && ++r->pages < SUB_REMOVE_PAGES) {
        int rc = fhir_client_request(r->d->client, "GET", next, NULL, 0, NULL, on_rm_page, r);
        json_object_put(page);
        if (rc != 0) {
            fprintf(r->o.err, "nenfhir: searching nenfhir's Subscriptions: %s\n",
                    fhir_client_error(r->d->client));
            rm_finish(r, 0);
        }
        return;
    }
    if (next)
        fprintf(r->o.err, "nenfhir: more than %d pages of Subscriptions: the rest is left for "
                "the next run\n", SUB_REMOVE_PAGES);
    json_object_put(page);
    rm_next(r);
}

void subscribe_remove(struct daemon *d, const struct subscribe_remove_opts *o,
                      void (*done)(struct daemon *d, int ok))
{
    struct sub_remove *r = calloc(1, sizeof *r);
    if (!r || !(r->list = json_object_new_array())) {
        fprintf(o->err, "nenfhir: out of memory\n");
        free(r);
        done(d, 0);
        return;
    }
    r->d = d;
    r->o = *o;
    r->done = done;
    char err[700];
    const char *const params[] = {"_tag", NEN_TAG_SYSTEM "|" SUB_TAG_CODE, "_count", "50"};
    char *url = fhir_client_url(d->client, "Subscription", params, 2, err, sizeof err);
    if (!url) {
        fprintf(o->err, "nenfhir: %s\n", err);
        rm_finish(r, 0);
        return;
    }
    int rc = fhir_client_request(d->client, "GET", url, NULL, 0, NULL, on_rm_page, r);
    free(url);
    if (rc != 0) {
        fprintf(o->err, "nenfhir: searching nenfhir's Subscriptions: %s\n",
                fhir_client_error(d->client));
        rm_finish(r, 0);
    }
}
