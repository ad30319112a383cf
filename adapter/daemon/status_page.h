/*
 * status_page.h - the read-only status page on the listener (issue 14 item
 * 5): GET /status (health, counts, queue, recent errors, the latest cases)
 * and GET /status/case/ACCESSION (the case's last report: status, digest,
 * writes; the patient's inputs kept in the store's mirror). Plain HTML, no
 * script, every text from the store or the server HTML-escaped.
 * Owns nothing: it reads the store and the other modules through their
 * functions and writes into the caller's evbuffer.
 */
#ifndef STATUS_PAGE_H
#define STATUS_PAGE_H

#include <event2/buffer.h>

struct daemon;
struct metrics;

#define STATUS_NCHECK 3

/* What /healthz found (the listener fills it): each check's name, whether
 * it passed and why not. */
struct status_health {
    int healthy;                   /* every check passed */
    int ready;                     /* /readyz would answer 200 */
    struct {
        const char *name;          /* "store", "subscription", "server" */
        int ok;
        char why[400];             /* "" when ok; else what failed */
    } check[STATUS_NCHECK];
};

/* Append s HTML-escaped (& < > " ') to out; NULL appends nothing. Returns 0,
 * -1 out of memory. */
int status_html_escape(struct evbuffer *out, const char *s);

/* The page of /status into out. Returns 0, or -1 (out of memory; a store
 * error is shown on the page, not returned). */
int status_page_main(struct daemon *d, const struct status_health *h, const struct metrics *m,
                     struct evbuffer *out);

/* The page of one case (accession: decoded, any text) into out. Returns 1
 * found, 0 no report for that accession (the page says so: answer 404), -1
 * out of memory or a store error (the page says which). */
int status_page_case(struct daemon *d, const char *accession, struct evbuffer *out);

#endif
