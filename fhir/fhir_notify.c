/*
 * fhir_notify.c - one rest-hook request -> a batch of events, and the secret
 * checks (fhir_notify.h, interop.md I1, I17). Pure: no I/O, no clock, no global
 * state. The body is parsed by the fhir/ layer (bounded size and depth, safe
 * XML); this file only decides what the request says.
 *
 * Ownership: fhir_notify_parse fills a caller-owned struct fhir_notify_batch whose root
 * (the parsed body) and ev array it owns; events borrow resources from root.
 * Every helper that fails sets err and leaves the cleanup to fhir_notify_parse,
 * which frees the whole batch, so no helper frees on its error paths except
 * what it allocated itself (the focus list of a backport status).
 * Public names are fhir_notify_*; the file's own helpers are notify_*.
 */
#include "fhir_notify.h"

#include "fhir_json.h"
#include "fhir_tree.h"
#include "fhir_xml.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* ---- small character helpers (ASCII only, no locale) ------------------- */

static int notify_is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static int notify_is_alpha(char c)
{
    return notify_is_upper(c) || (c >= 'a' && c <= 'z');
}

static int notify_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int notify_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Copy untrusted text s into buf for a message: printable ASCII kept, other
 * bytes shown as '?', cut with "..." to fit cap. Returns buf. */
static const char *notify_shown(const char *s, char *buf, size_t cap)
{
    size_t n = 0;
    if (!s)
        s = "(none)";
    for (; *s && n + 4 < cap; s++)
        buf[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
    if (*s && cap >= 4) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

/* Room for one untrusted value shown in a message. */
#define NOTIFY_SHOWN 96

/* ---- resource names ------------------------------------------------------ */

/* A resource named by type and id, and its version when known. Field sizes
 * are those of struct fhir_notify_event. */
struct notify_ref {
    char type[40];
    char id[80];
    char version[40];
};

/* A resource type name: [A-Z][A-Za-z]+, short enough for notify_ref.type. */
static int notify_is_type(const char *s, size_t n)
{
    if (n < 2 || n >= sizeof((struct notify_ref *)0)->type || !notify_is_upper(s[0]))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!notify_is_alpha(s[i]))
            return 0;
    return 1;
}

/* A FHIR id: [A-Za-z0-9\-\.]{1,64}; cap bounds it further (buffer size). */
static int notify_is_id(const char *s, size_t n, size_t cap)
{
    if (n < 1 || n > 64 || n >= cap)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!notify_is_alpha(s[i]) && !notify_is_digit(s[i]) && s[i] != '-' && s[i] != '.')
            return 0;
    return 1;
}

static int notify_is_res_id(const char *s, size_t n)
{
    return notify_is_id(s, n, sizeof((struct notify_ref *)0)->id);
}

static int notify_is_version(const char *s, size_t n)
{
    return notify_is_id(s, n, sizeof((struct notify_ref *)0)->version);
}

/* Copy n bytes of s into dst (cap bytes) with a NUL; the caller checked n < cap. */
static void notify_copy(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* "Type/id" exactly (a header value, or a subpath without its slash).
 * Returns 0 with r set, -1 when s is not of that form. */
static int notify_type_id(const char *s, struct notify_ref *r)
{
    memset(r, 0, sizeof *r);
    const char *slash = strchr(s, '/');
    if (!slash)
        return -1;
    size_t tn = (size_t)(slash - s), in = strlen(slash + 1);
    if (!notify_is_type(s, tn) || !notify_is_res_id(slash + 1, in))
        return -1;
    notify_copy(r->type, sizeof r->type, s, tn);
    notify_copy(r->id, sizeof r->id, slash + 1, in);
    return 0;
}

/* The resource a reference or URL names, from its last path segments:
 * ".../Type/id" or ".../Type/id/_history/version" (relative or absolute; a
 * query or fragment is ignored). Returns 0 with r set, -1 when it names none
 * (e.g. "urn:uuid:...", "Encounter"). */
static int notify_url_ref(const char *url, struct notify_ref *r)
{
    memset(r, 0, sizeof *r);
    if (!url)
        return -1;
    const char *seg[4];
    size_t len[4];
    int n = 0;
    size_t e = strcspn(url, "?#");
    while (n < 4) {
        size_t b = e;
        while (b > 0 && url[b - 1] != '/')
            b--;
        seg[n] = url + b;
        len[n] = e - b;
        n++;
        if (b == 0)
            break;
        e = b - 1;
    }
    if (n == 4 && len[1] == 8 && memcmp(seg[1], "_history", 8) == 0 &&
        notify_is_type(seg[3], len[3]) && notify_is_res_id(seg[2], len[2]) &&
        notify_is_version(seg[0], len[0])) {
        notify_copy(r->type, sizeof r->type, seg[3], len[3]);
        notify_copy(r->id, sizeof r->id, seg[2], len[2]);
        notify_copy(r->version, sizeof r->version, seg[0], len[0]);
        return 0;
    }
    if (n >= 2 && notify_is_type(seg[1], len[1]) && notify_is_res_id(seg[0], len[0])) {
        notify_copy(r->type, sizeof r->type, seg[1], len[1]);
        notify_copy(r->id, sizeof r->id, seg[0], len[0]);
        return 0;
    }
    return -1;
}

static int notify_same(const struct notify_ref *a, const struct notify_ref *b)
{
    return strcmp(a->type, b->type) == 0 && strcmp(a->id, b->id) == 0;
}

/* ---- the batch -------------------------------------------------------------- */

static void notify_batch_reset(struct fhir_notify_batch *b)
{
    memset(b, 0, sizeof *b);
    b->events_since_start = -1;
    b->first_event = -1;
}

/* Room for up to n events (n >= 1). */
static int notify_batch_alloc(struct fhir_notify_batch *b, size_t n, struct fhir_error *err)
{
    if (n == 0)
        n = 1;
    if (n > (size_t)INT_MAX) {
        fhir_error_set(err, "body: too many entries");
        return -1;
    }
    b->ev = calloc(n, sizeof *b->ev);
    if (!b->ev) {
        fhir_error_oom(err, NULL);
        return -1;
    }
    return 0;
}

/* The next event (room was made by notify_batch_alloc), zeroed, of kind k. */
static struct fhir_notify_event *notify_batch_add(struct fhir_notify_batch *b,
                                                   enum fhir_notify_kind k)
{
    struct fhir_notify_event *ev = &b->ev[b->nevent++];
    memset(ev, 0, sizeof *ev);
    ev->kind = k;
    return ev;
}

static void notify_event_set(struct fhir_notify_event *ev, const struct notify_ref *r)
{
    memcpy(ev->type, r->type, sizeof ev->type);
    memcpy(ev->id, r->id, sizeof ev->id);
    memcpy(ev->version, r->version, sizeof ev->version);
}

/* A batch of one event of kind k about r (NULL: none). */
static int notify_one(struct fhir_notify_batch *b, enum fhir_notify_kind k,
                      const struct notify_ref *r, struct fhir_error *err)
{
    if (notify_batch_alloc(b, 1, err) != 0)
        return -1;
    struct fhir_notify_event *ev = notify_batch_add(b, k);
    if (r)
        notify_event_set(ev, r);
    return 0;
}

/* ---- resources in the body ----------------------------------------------- */

/* resourceType and id of res (where names it in messages) into r. The id may
 * be absent (r->id ""), but not malformed. */
static int notify_resource_ref(json_object *res, const char *where, struct notify_ref *r,
                               struct fhir_error *err)
{
    char s1[NOTIFY_SHOWN];
    memset(r, 0, sizeof *r);
    const char *t = fhir_resource_type(res);
    if (!*t) {
        fhir_error_set(err, "%s: not a FHIR resource (no resourceType)", where);
        return -1;
    }
    if (!notify_is_type(t, strlen(t))) {
        fhir_error_set(err, "%s.resourceType: \"%s\" is not a resource type name", where,
                       notify_shown(t, s1, sizeof s1));
        return -1;
    }
    notify_copy(r->type, sizeof r->type, t, strlen(t));
    const char *id = NULL;
    enum fhir_get g = fhir_get_string(res, "id", &id);
    if (g == FHIR_WRONG) {
        fhir_error_set(err, "%s.id: expected a string, found %s", where,
                       fhir_type_name(fhir_member(res, "id")));
        return -1;
    }
    if (g == FHIR_OK) {
        if (!notify_is_res_id(id, strlen(id))) {
            fhir_error_set(err, "%s.id: \"%s\" is not a FHIR id", where,
                           notify_shown(id, s1, sizeof s1));
            return -1;
        }
        notify_copy(r->id, sizeof r->id, id, strlen(id));
    }
    return 0;
}

/* An instant's characters, short enough for fhir_notify_event.last_updated. */
static int notify_is_instant(const char *s)
{
    size_t n = strlen(s);
    if (n < 4 || n >= sizeof((struct fhir_notify_event *)0)->last_updated)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!notify_is_digit(s[i]) && !strchr("-:.+TZ", s[i]))
            return 0;
    return 1;
}

/* meta.versionId and meta.lastUpdated of res into ev, when present. */
static int notify_event_meta(struct fhir_notify_event *ev, json_object *res, const char *where,
                             struct fhir_error *err)
{
    char s1[NOTIFY_SHOWN];
    json_object *meta = fhir_member(res, "meta");
    const char *v = NULL;
    enum fhir_get g = fhir_get_string(meta, "versionId", &v);
    if (g == FHIR_WRONG || (g == FHIR_OK && !notify_is_version(v, strlen(v)))) {
        fhir_error_set(err, "%s.meta.versionId: \"%s\" is not a FHIR id of at most %zu characters",
                       where, g == FHIR_OK ? notify_shown(v, s1, sizeof s1) : "(not a string)",
                       sizeof ev->version - 1);
        return -1;
    }
    if (g == FHIR_OK)
        notify_copy(ev->version, sizeof ev->version, v, strlen(v));
    g = fhir_get_string(meta, "lastUpdated", &v);
    if (g == FHIR_WRONG || (g == FHIR_OK && !notify_is_instant(v))) {
        fhir_error_set(err, "%s.meta.lastUpdated: \"%s\" is not an instant", where,
                       g == FHIR_OK ? notify_shown(v, s1, sizeof s1) : "(not a string)");
        return -1;
    }
    if (g == FHIR_OK)
        notify_copy(ev->last_updated, sizeof ev->last_updated, v, strlen(v));
    return 0;
}

/* ---- the body: content type and parsing ------------------------------------ */

enum notify_fmt { NOTIFY_FMT_SNIFF, NOTIFY_FMT_JSON, NOTIFY_FMT_XML };

static const struct {
    const char *type;
    enum notify_fmt fmt;
} notify_media[] = {
    {"application/fhir+json", NOTIFY_FMT_JSON}, {"application/json", NOTIFY_FMT_JSON},
    {"application/json+fhir", NOTIFY_FMT_JSON}, /* DSTU2-era name, still sent */
    {"application/fhir+xml", NOTIFY_FMT_XML},   {"application/xml", NOTIFY_FMT_XML},
    {"application/xml+fhir", NOTIFY_FMT_XML},
};

/* The format Content-Type ct names: parameters (";charset=...") and case
 * ignored; absent or blank: sniff the body. */
static int notify_body_format(const char *ct, enum notify_fmt *fmt, struct fhir_error *err)
{
    *fmt = NOTIFY_FMT_SNIFF;
    if (!ct)
        return 0;
    while (notify_is_blank(*ct))
        ct++;
    size_t n = strcspn(ct, "; \t\r\n");
    if (n == 0)
        return 0;
    for (size_t i = 0; i < sizeof notify_media / sizeof notify_media[0]; i++)
        if (strlen(notify_media[i].type) == n && strncasecmp(ct, notify_media[i].type, n) == 0) {
            *fmt = notify_media[i].fmt;
            return 0;
        }
    char s1[NOTIFY_SHOWN], mt[NOTIFY_SHOWN];
    notify_copy(mt, sizeof mt, ct, n);
    fhir_error_set(err, "Content-Type %s: want application/fhir+json or application/fhir+xml",
                   notify_shown(mt, s1, sizeof s1));
    return -1;
}

/* 1 if body is an empty JSON object ("{}", blanks allowed). */
static int notify_is_empty_object(const char *body, size_t len)
{
    size_t i = 0;
    while (i < len && notify_is_blank(body[i]))
        i++;
    if (i == len || body[i++] != '{')
        return 0;
    while (i < len && notify_is_blank(body[i]))
        i++;
    if (i == len || body[i++] != '}')
        return 0;
    while (i < len && notify_is_blank(body[i]))
        i++;
    return i == len;
}

/* Parse rq's body (len > 0) into b->root. */
static int notify_body_parse(const struct fhir_notify_request *rq, const struct fhir_limits *lim,
                             struct fhir_notify_batch *b, struct fhir_error *err)
{
    enum notify_fmt fmt;
    if (notify_body_format(rq->content_type, &fmt, err) != 0)
        return -1;
    if (!rq->body) {
        fhir_error_set(err, "body: %zu bytes announced, none given", rq->len);
        return -1;
    }
    if (fmt != NOTIFY_FMT_XML && notify_is_empty_object(rq->body, rq->len)) {
        fhir_error_set(err, "body: not a FHIR resource (no resourceType)");
        return -1;
    }
    if (fmt == NOTIFY_FMT_JSON)
        b->root = fhir_json_parse(rq->body, rq->len, lim, "body", err);
    else if (fmt == NOTIFY_FMT_XML)
        b->root = fhir_xml_parse(rq->body, rq->len, lim, "body", err);
    else
        b->root = fhir_parse(rq->body, rq->len, lim, "body", err);
    return b->root ? 0 : -1;
}

/* ---- typed values in the SubscriptionStatus ------------------------------- */

/* A non-negative integer from member name of o: a JSON integer or a string of
 * decimal digits (valueString in R4, any integer type in XML). Returns 0 with
 * *v set, 1 when absent, -1 (err: "at.name: what is not a number"). */
static int notify_count_member(json_object *o, const char *name, const char *at, const char *what,
                               long long *v, struct fhir_error *err)
{
    json_object *m = fhir_member(o, name);
    if (!m)
        return 1;
    if (json_object_is_type(m, json_type_int)) {
        long long x = (long long)json_object_get_int64(m);
        if (x >= 0) {
            *v = x;
            return 0;
        }
    } else if (json_object_is_type(m, json_type_string)) {
        const char *s = json_object_get_string(m);
        size_t n = strlen(s), i = 0;
        while (i < n && notify_is_digit(s[i]))
            i++;
        if (n > 0 && i == n && n <= 18) {
            *v = strtoll(s, NULL, 10);
            return 0;
        }
    }
    fhir_error_set(err, "%s.%s: %s is not a number", at, name, what);
    return -1;
}

/* The same on a Parameters parameter or part, whichever value[x] it has. */
static int notify_count_value(json_object *p, const char *at, const char *what, long long *v,
                              struct fhir_error *err)
{
    static const char *const names[] = {"valueString", "valueInteger", "valueUnsignedInt",
                                        "valuePositiveInt", "valueInteger64"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int rc = notify_count_member(p, names[i], at, what, v, err);
        if (rc <= 0)
            return rc;
    }
    return 1;
}

/* The reference string of Reference member name of o: 0 with *ref set (NULL
 * when the Reference has no reference, e.g. identifier only), 1 when absent,
 * -1 when of the wrong shape. */
static int notify_reference(json_object *o, const char *name, const char *at, const char **ref,
                            struct fhir_error *err)
{
    *ref = NULL;
    json_object *r = fhir_member(o, name);
    if (!r)
        return 1;
    if (!json_object_is_type(r, json_type_object)) {
        fhir_error_set(err, "%s.%s: expected a Reference (object), found %s", at, name,
                       fhir_type_name(r));
        return -1;
    }
    if (fhir_get_string(r, "reference", ref) == FHIR_WRONG) {
        fhir_error_set(err, "%s.%s.reference: expected a string, found %s", at, name,
                       fhir_type_name(fhir_member(r, "reference")));
        return -1;
    }
    return 0;
}

/* A string member that must be a string when present: 0 (*s set or left
 * NULL when absent) or -1. */
static int notify_string(json_object *o, const char *name, const char *at, const char **s,
                         struct fhir_error *err)
{
    *s = NULL;
    if (fhir_get_string(o, name, s) == FHIR_WRONG) {
        fhir_error_set(err, "%s.%s: expected a string, found %s", at, name,
                       fhir_type_name(fhir_member(o, name)));
        return -1;
    }
    return 0;
}

/* ---- Subscriptions Backport: the status ------------------------------------ */

/* One notification-event's focus: the reference as sent and what it names. */
struct notify_focus {
    const char *ref;     /* borrowed from the tree; NULL: focus without reference */
    struct notify_ref r; /* valid when named */
    int named;           /* ref names Type/id */
    int matched;         /* an entry of the Bundle carries it */
};

/* What the SubscriptionStatus says beyond the batch's own fields. */
struct notify_status {
    enum fhir_notify_kind kind; /* from type; FHIR_NOTIFY_CHANGED for event-notification */
    int have_type;
    int have_subscription;
    struct notify_focus *focus; /* owned, cap entries */
    size_t nfocus, cap;
    size_t nref; /* focuses with a reference */
};

static void notify_note_event_number(struct fhir_notify_batch *b, long long n)
{
    if (b->first_event < 0 || n < b->first_event)
        b->first_event = n;
    b->nevents_numbered++;
}

static void notify_add_focus(struct notify_status *st, const char *ref)
{
    if (st->nfocus >= st->cap)
        return; /* cannot happen: cap counts every notification event */
    struct notify_focus *f = &st->focus[st->nfocus++];
    memset(f, 0, sizeof *f);
    f->ref = ref;
    f->named = ref && notify_url_ref(ref, &f->r) == 0;
    if (ref)
        st->nref++;
}

/* SubscriptionStatus.subscription into b: "Subscription/id" when the
 * reference names one (relative, absolute or versioned), else as sent. */
static int notify_set_subscription(struct fhir_notify_batch *b, struct notify_status *st,
                                   const char *ref, const char *at, struct fhir_error *err)
{
    if (!ref || !*ref) {
        fhir_error_set(err, "%s: no reference to the Subscription", at);
        return -1;
    }
    size_t n = strlen(ref);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)ref[i] < 0x20 || ref[i] == 0x7f) {
            fhir_error_set(err, "%s: control character in the reference", at);
            return -1;
        }
    if (n >= sizeof b->subscription) {
        fhir_error_set(err, "%s: reference longer than %zu characters", at,
                       sizeof b->subscription - 1);
        return -1;
    }
    struct notify_ref r;
    if (notify_url_ref(ref, &r) == 0 && strcmp(r.type, "Subscription") == 0)
        snprintf(b->subscription, sizeof b->subscription, "Subscription/%s", r.id);
    else
        notify_copy(b->subscription, sizeof b->subscription, ref, n);
    st->have_subscription = 1;
    return 0;
}

static const struct {
    const char *code;
    enum fhir_notify_kind kind;
} notify_status_types[] = {
    {"handshake", FHIR_NOTIFY_HANDSHAKE},
    {"heartbeat", FHIR_NOTIFY_HEARTBEAT},
    {"event-notification", FHIR_NOTIFY_CHANGED},
    {"query-status", FHIR_NOTIFY_QUERY_STATUS},
};

static int notify_set_type(struct fhir_notify_batch *b, struct notify_status *st, const char *code,
                           const char *at, struct fhir_error *err)
{
    char s1[NOTIFY_SHOWN];
    if (!code) {
        fhir_error_set(err, "%s: no notification type", at);
        return -1;
    }
    for (size_t i = 0; i < sizeof notify_status_types / sizeof notify_status_types[0]; i++)
        if (strcmp(code, notify_status_types[i].code) == 0) {
            notify_copy(b->status_type, sizeof b->status_type, code, strlen(code));
            st->kind = notify_status_types[i].kind;
            st->have_type = 1;
            return 0;
        }
    fhir_error_set(err,
                   "%s: unknown notification type \"%s\" (want handshake, heartbeat, "
                   "event-notification or query-status)",
                   at, notify_shown(code, s1, sizeof s1));
    return -1;
}

/* One notification-event parameter of a Parameters status (at names it). */
static int notify_param_event(json_object *p, const char *at, struct fhir_notify_batch *b,
                              struct notify_status *st, struct fhir_error *err)
{
    const char *focus = NULL;
    int have_focus = 0;
    size_t n = fhir_count(p, "part");
    for (size_t j = 0; j < n; j++) {
        json_object *part = fhir_item(p, "part", j);
        char pat[160];
        snprintf(pat, sizeof pat, "%s.part[%zu]", at, j);
        const char *name = NULL;
        if (notify_string(part, "name", pat, &name, err) != 0)
            return -1;
        if (!name)
            continue;
        if (strcmp(name, "event-number") == 0) {
            long long v;
            int rc = notify_count_value(part, pat, "event-number", &v, err);
            if (rc < 0)
                return -1;
            if (rc == 0)
                notify_note_event_number(b, v);
        } else if (strcmp(name, "focus") == 0) {
            int rc = notify_reference(part, "valueReference", pat, &focus, err);
            if (rc < 0)
                return -1;
            have_focus = 1;
        }
    }
    if (have_focus)
        notify_add_focus(st, focus);
    return 0;
}

/* One parameter of a Parameters status. */
static int notify_param(json_object *p, size_t i, struct fhir_notify_batch *b,
                        struct notify_status *st, struct fhir_error *err)
{
    char at[96];
    snprintf(at, sizeof at, "Bundle.entry[0].resource.parameter[%zu]", i);
    const char *name = NULL, *s = NULL;
    if (notify_string(p, "name", at, &name, err) != 0)
        return -1;
    if (!name)
        return 0;
    if (strcmp(name, "subscription") == 0) {
        char rat[128];
        snprintf(rat, sizeof rat, "%s.valueReference", at);
        if (notify_reference(p, "valueReference", at, &s, err) < 0)
            return -1;
        return notify_set_subscription(b, st, s, rat, err);
    }
    if (strcmp(name, "type") == 0) {
        char cat[128];
        snprintf(cat, sizeof cat, "%s.valueCode", at);
        if (notify_string(p, "valueCode", at, &s, err) != 0)
            return -1;
        return notify_set_type(b, st, s, cat, err);
    }
    if (strcmp(name, "events-since-subscription-start") == 0) {
        int rc = notify_count_value(p, at, "events-since-subscription-start",
                                    &b->events_since_start, err);
        return rc < 0 ? -1 : 0;
    }
    if (strcmp(name, "notification-event") == 0)
        return notify_param_event(p, at, b, st, err);
    return 0; /* status, topic, error, ...: not needed */
}

/* The R4 SubscriptionStatus: a Parameters (backport-subscription-status-r4). */
static int notify_status_params(json_object *params, struct fhir_notify_batch *b,
                                struct notify_status *st, struct fhir_error *err)
{
    size_t n = fhir_count(params, "parameter");
    st->cap = n ? n : 1;
    st->focus = calloc(st->cap, sizeof *st->focus);
    if (!st->focus) {
        fhir_error_oom(err, NULL);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (notify_param(fhir_item(params, "parameter", i), i, b, st, err) != 0)
            return -1;
    const char *missing = !st->have_subscription ? "subscription" : !st->have_type ? "type" : NULL;
    if (missing) {
        fhir_error_set(err,
                       "Bundle.entry[0].resource: not a SubscriptionStatus Parameters "
                       "(no \"%s\" parameter)",
                       missing);
        return -1;
    }
    return 0;
}

/* One notificationEvent of an R4B/R5 SubscriptionStatus resource. */
static int notify_status_event(json_object *ne, size_t j, struct fhir_notify_batch *b,
                               struct notify_status *st, struct fhir_error *err)
{
    char at[96];
    snprintf(at, sizeof at, "Bundle.entry[0].resource.notificationEvent[%zu]", j);
    long long v;
    int rc = notify_count_member(ne, "eventNumber", at, "eventNumber", &v, err);
    if (rc < 0)
        return -1;
    if (rc == 0)
        notify_note_event_number(b, v);
    const char *focus;
    rc = notify_reference(ne, "focus", at, &focus, err);
    if (rc < 0)
        return -1;
    if (rc == 0)
        notify_add_focus(st, focus);
    return 0;
}

/* The SubscriptionStatus resource itself (R4B servers send it in R4 too). */
static int notify_status_resource(json_object *ss, struct fhir_notify_batch *b,
                                  struct notify_status *st, struct fhir_error *err)
{
    const char *at = "Bundle.entry[0].resource";
    size_t n = fhir_count(ss, "notificationEvent");
    st->cap = n ? n : 1;
    st->focus = calloc(st->cap, sizeof *st->focus);
    if (!st->focus) {
        fhir_error_oom(err, NULL);
        return -1;
    }
    const char *s;
    if (notify_reference(ss, "subscription", at, &s, err) < 0 ||
        notify_set_subscription(b, st, s, "Bundle.entry[0].resource.subscription", err) != 0)
        return -1;
    if (notify_string(ss, "type", at, &s, err) != 0 ||
        notify_set_type(b, st, s, "Bundle.entry[0].resource.type", err) != 0)
        return -1;
    if (notify_count_member(ss, "eventsSinceSubscriptionStart", at, "eventsSinceSubscriptionStart",
                            &b->events_since_start, err) < 0)
        return -1;
    for (size_t j = 0; j < n; j++)
        if (notify_status_event(fhir_item(ss, "notificationEvent", j), j, b, st, err) != 0)
            return -1;
    return 0;
}

/* ---- Subscriptions Backport: the entries ------------------------------------ */

/* Whether the entry (fullUrl full, naming r when known) is one a focus points
 * at; marks those focuses. With no focus references at all, every entry is. */
static int notify_focus_match(struct notify_status *st, const char *full,
                              const struct notify_ref *r)
{
    if (st->nref == 0)
        return 1;
    int hit = 0;
    for (size_t i = 0; i < st->nfocus; i++) {
        struct notify_focus *f = &st->focus[i];
        if ((f->ref && full && strcmp(f->ref, full) == 0) ||
            (f->named && r && notify_same(&f->r, r))) {
            f->matched = 1;
            hit = 1;
        }
    }
    return hit;
}

/* Which resource entry j is about: the resource's own type and id, else
 * request.url, else fullUrl; a version from a _history URL. Returns 1 when
 * known, 0 when nothing names it, -1 on a malformed entry. */
static int notify_entry_ref(json_object *res, const char *at, const char *full, const char *url,
                            struct notify_ref *r, struct fhir_error *err)
{
    char where[112];
    snprintf(where, sizeof where, "%s.resource", at);
    memset(r, 0, sizeof *r);
    if (res && notify_resource_ref(res, where, r, err) != 0)
        return -1;
    const char *urls[2] = {url, full};
    for (int k = 0; k < 2; k++) {
        struct notify_ref u;
        if (notify_url_ref(urls[k], &u) != 0)
            continue;
        if (res && strcmp(u.type, r->type) != 0)
            continue;
        if (!r->id[0])
            *r = u;
        else if (notify_same(&u, r) && !r->version[0])
            memcpy(r->version, u.version, sizeof r->version);
    }
    return r->id[0] != 0;
}

/* Entry j (>= 1) of an event-notification: one CHANGED or DELETED event, or
 * nothing when it only gives context to a focus. */
static int notify_entry(json_object *entry, size_t j, struct fhir_notify_batch *b,
                        struct notify_status *st, struct fhir_error *err)
{
    char at[64], rat[96];
    snprintf(at, sizeof at, "Bundle.entry[%zu]", j);
    snprintf(rat, sizeof rat, "%s.request", at);
    json_object *res = fhir_member(entry, "resource");
    json_object *req = fhir_member(entry, "request");
    const char *full, *url, *method;
    if (notify_string(entry, "fullUrl", at, &full, err) != 0 ||
        notify_string(req, "url", rat, &url, err) != 0 ||
        notify_string(req, "method", rat, &method, err) != 0)
        return -1;
    struct notify_ref r;
    int known = notify_entry_ref(res, at, full, url, &r, err);
    if (known < 0)
        return -1;
    if (!notify_focus_match(st, full, known ? &r : NULL))
        return 0; /* additional context, not a change */
    if (!known) {
        fhir_error_set(err,
                       "%s: cannot tell which resource changed (no resource with an id, and "
                       "neither request.url nor fullUrl names Type/id)",
                       at);
        return -1;
    }
    int del = method && strcmp(method, "DELETE") == 0;
    struct fhir_notify_event *ev =
        notify_batch_add(b, del ? FHIR_NOTIFY_DELETED : FHIR_NOTIFY_CHANGED);
    notify_event_set(ev, &r);
    if (del || !res)
        return 0;
    ev->resource = res;
    char where[112];
    snprintf(where, sizeof where, "%s.resource", at);
    return notify_event_meta(ev, res, where, err);
}

/* The events of an event-notification: one per focus entry, then one
 * reference-only CHANGED per focus no entry carried, then a PING when
 * something could not be named (or nothing was: an empty payload). */
static int notify_event_notification(json_object *bundle, struct fhir_notify_batch *b,
                                     struct notify_status *st, struct fhir_error *err)
{
    size_t n = fhir_count(bundle, "entry");
    if (notify_batch_alloc(b, n + st->nfocus + 1, err) != 0)
        return -1;
    for (size_t j = 1; j < n; j++)
        if (notify_entry(fhir_item(bundle, "entry", j), j, b, st, err) != 0)
            return -1;
    int unnamed = 0;
    for (size_t i = 0; i < st->nfocus; i++) {
        const struct notify_focus *f = &st->focus[i];
        if (f->matched)
            continue;
        if (!f->named) {
            unnamed = 1;
            continue;
        }
        notify_event_set(notify_batch_add(b, FHIR_NOTIFY_CHANGED), &f->r);
    }
    if (unnamed || b->nevent == 0)
        notify_batch_add(b, FHIR_NOTIFY_PING);
    return 0;
}

static int notify_not_notification(struct fhir_error *err)
{
    fhir_error_set(err, "Bundle: not a subscription notification (want type history with a "
                        "SubscriptionStatus first)");
    return -1;
}

/* A Bundle POSTed to the endpoint: a Subscriptions Backport notification. */
static int notify_backport(json_object *bundle, struct fhir_notify_batch *b, struct fhir_error *err)
{
    const char *type = NULL;
    if (fhir_get_string(bundle, "type", &type) != FHIR_OK || strcmp(type, "history") != 0)
        return notify_not_notification(err);
    json_object *status = fhir_member(fhir_item(bundle, "entry", 0), "resource");
    const char *rt = fhir_resource_type(status);
    int params = strcmp(rt, "Parameters") == 0;
    if (!params && strcmp(rt, "SubscriptionStatus") != 0)
        return notify_not_notification(err);
    struct notify_status st;
    memset(&st, 0, sizeof st);
    int rc = params ? notify_status_params(status, b, &st, err)
                    : notify_status_resource(status, b, &st, err);
    if (rc == 0) {
        if (st.kind == FHIR_NOTIFY_CHANGED)
            rc = notify_event_notification(bundle, b, &st, err);
        else
            rc = notify_one(b, st.kind, NULL, err);
    }
    free(st.focus);
    return rc;
}

/* ---- the request styles ------------------------------------------------------ */

/* "/Type/id" of a PUT or DELETE into r. */
static int notify_subpath_ref(const struct fhir_notify_request *rq, const char *sub,
                              struct notify_ref *r, struct fhir_error *err)
{
    char s1[NOTIFY_SHOWN];
    if (sub[0] != '/' || notify_type_id(sub + 1, r) != 0) {
        fhir_error_set(err, "%s %s: want /{Type}/{id}", rq->method,
                       notify_shown(sub, s1, sizeof s1));
        return -1;
    }
    return 0;
}

/* Medplum: POST {} with X-Medplum-Deleted-Resource: Type/id. */
static int notify_medplum_delete(const struct fhir_notify_request *rq, struct fhir_notify_batch *b,
                                 struct fhir_error *err)
{
    char s1[NOTIFY_SHOWN];
    struct notify_ref r;
    if (notify_type_id(rq->deleted, &r) != 0) {
        fhir_error_set(err, "X-Medplum-Deleted-Resource %s: want {Type}/{id}",
                       notify_shown(rq->deleted, s1, sizeof s1));
        return -1;
    }
    if (rq->len > 0 && (!rq->body || !notify_is_empty_object(rq->body, rq->len))) {
        fhir_error_set(err, "X-Medplum-Deleted-Resource %s: want the body {}, got %zu other bytes",
                       notify_shown(rq->deleted, s1, sizeof s1), rq->len);
        return -1;
    }
    return notify_one(b, FHIR_NOTIFY_DELETED, &r, err);
}

/* One resource as the body: CHANGED, named by the resource (Medplum). */
static int notify_resource_body(struct fhir_notify_batch *b, struct fhir_error *err)
{
    struct notify_ref r;
    const char *t = fhir_resource_type(b->root);
    if (notify_resource_ref(b->root, t, &r, err) != 0)
        return -1;
    if (!r.id[0]) {
        fhir_error_set(err, "body: %s has no id", r.type);
        return -1;
    }
    if (notify_one(b, FHIR_NOTIFY_CHANGED, &r, err) != 0)
        return -1;
    b->ev[0].resource = b->root;
    return notify_event_meta(&b->ev[0], b->root, r.type, err);
}

static int notify_post(const struct fhir_notify_request *rq, const char *sub,
                       const struct fhir_limits *lim, struct fhir_notify_batch *b,
                       struct fhir_error *err)
{
    char s1[NOTIFY_SHOWN];
    if (*sub) {
        fhir_error_set(err, "POST %s: notifications are POSTed to the endpoint itself",
                       notify_shown(sub, s1, sizeof s1));
        return -1;
    }
    if (rq->deleted && *rq->deleted)
        return notify_medplum_delete(rq, b, err);
    if (rq->len == 0)
        return notify_one(b, FHIR_NOTIFY_PING, NULL, err);
    if (notify_body_parse(rq, lim, b, err) != 0)
        return -1;
    if (strcmp(fhir_resource_type(b->root), "Bundle") == 0)
        return notify_backport(b->root, b, err);
    return notify_resource_body(b, err);
}

/* HAPI with payload: PUT /Type/id with that resource. */
static int notify_put(const struct fhir_notify_request *rq, const char *sub,
                      const struct fhir_limits *lim, struct fhir_notify_batch *b,
                      struct fhir_error *err)
{
    char s1[NOTIFY_SHOWN], s2[NOTIFY_SHOWN];
    struct notify_ref want, got;
    if (notify_subpath_ref(rq, sub, &want, err) != 0)
        return -1;
    if (rq->len == 0) {
        fhir_error_set(err, "PUT %s: no body (want the resource)", sub);
        return -1;
    }
    if (notify_body_parse(rq, lim, b, err) != 0 ||
        notify_resource_ref(b->root, "body", &got, err) != 0)
        return -1;
    if (strcmp(got.type, want.type) != 0 || (got.id[0] && strcmp(got.id, want.id) != 0)) {
        fhir_error_set(err, "PUT %s: the body is %s/%s, not %s/%s", sub, got.type,
                       got.id[0] ? notify_shown(got.id, s1, sizeof s1) : "(no id)", want.type,
                       notify_shown(want.id, s2, sizeof s2));
        return -1;
    }
    if (notify_one(b, FHIR_NOTIFY_CHANGED, &want, err) != 0)
        return -1;
    b->ev[0].resource = b->root;
    return notify_event_meta(&b->ev[0], b->root, want.type, err);
}

static int notify_dispatch(const struct fhir_notify_request *rq, const struct fhir_limits *lim,
                           struct fhir_notify_batch *b, struct fhir_error *err)
{
    char s1[NOTIFY_SHOWN];
    const char *sub = rq->subpath ? rq->subpath : "";
    if (strcmp(sub, "/") == 0)
        sub = "";
    if (!rq->method) {
        fhir_error_set(err, "no method");
        return -1;
    }
    if (strcmp(rq->method, "POST") == 0)
        return notify_post(rq, sub, lim, b, err);
    if (strcmp(rq->method, "PUT") == 0)
        return notify_put(rq, sub, lim, b, err);
    if (strcmp(rq->method, "DELETE") == 0) {
        struct notify_ref r;
        if (notify_subpath_ref(rq, sub, &r, err) != 0)
            return -1;
        return notify_one(b, FHIR_NOTIFY_DELETED, &r, err);
    }
    fhir_error_set(err, "method %s: want POST, PUT or DELETE",
                   notify_shown(rq->method, s1, sizeof s1));
    return -1;
}

/* ---- public ---------------------------------------------------------------- */

int fhir_notify_parse(const struct fhir_notify_request *rq, const struct fhir_limits *lim,
                 struct fhir_notify_batch *out, struct fhir_error *err)
{
    notify_batch_reset(out);
    if (!rq) {
        fhir_error_set(err, "no request");
        return -1;
    }
    if (!lim)
        lim = &fhir_limits_default;
    if (notify_dispatch(rq, lim, out, err) != 0) {
        fhir_notify_batch_free(out);
        return -1;
    }
    return 0;
}

void fhir_notify_batch_free(struct fhir_notify_batch *b)
{
    if (!b)
        return;
    if (b->root)
        json_object_put(b->root);
    free(b->ev);
    notify_batch_reset(b);
}

int fhir_notify_secret_ok(const char *want, const char *got)
{
    if (!want || !got)
        return 0;
    size_t n = strlen(want);
    if (strlen(got) != n)
        return 0;
    return CRYPTO_memcmp(want, got, n) == 0;
}

/* Value of one hex digit, or -1. */
static int notify_hex(char c)
{
    if (notify_is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int fhir_notify_hmac_ok(const char *secret, const char *body, size_t len, const char *hex_sig)
{
    enum { SHA256_LEN = 32 };
    if (!secret || !hex_sig || (!body && len > 0) || strlen(hex_sig) != 2 * SHA256_LEN)
        return 0;
    unsigned char got[SHA256_LEN];
    for (size_t i = 0; i < SHA256_LEN; i++) {
        int hi = notify_hex(hex_sig[2 * i]), lo = notify_hex(hex_sig[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return 0;
        got[i] = (unsigned char)(hi << 4 | lo);
    }
    size_t klen = strlen(secret);
    if (klen > (size_t)INT_MAX)
        return 0;
    static const unsigned char none[1];
    unsigned char want[EVP_MAX_MD_SIZE];
    unsigned int wlen = 0;
    if (!HMAC(EVP_sha256(), secret, (int)klen, len ? (const unsigned char *)body : none, len, want,
              &wlen) ||
        wlen != SHA256_LEN)
        return 0;
    int ok = CRYPTO_memcmp(want, got, SHA256_LEN) == 0;
    OPENSSL_cleanse(want, sizeof want);
    return ok;
}

const char *fhir_notify_kind_name(enum fhir_notify_kind k)
{
    switch (k) {
    case FHIR_NOTIFY_PING:
        return "ping";
    case FHIR_NOTIFY_CHANGED:
        return "changed";
    case FHIR_NOTIFY_DELETED:
        return "deleted";
    case FHIR_NOTIFY_HANDSHAKE:
        return "handshake";
    case FHIR_NOTIFY_HEARTBEAT:
        return "heartbeat";
    case FHIR_NOTIFY_QUERY_STATUS:
        return "query-status";
    }
    return "unknown";
}
