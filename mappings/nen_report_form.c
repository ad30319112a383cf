/*
 * nen_report_form.c - renders the synoptic content (nen_report_synoptic.c)
 * as text/plain and as a FHIR xhtml div (nen_report_form.h). The div uses
 * only h2 h3 p b table tr th td ul li, no attributes but the namespace, and
 * escapes & < > in text exactly as libxml2 writes them back, so the XML form
 * of a report reads back into the same JSON. base64 is OpenSSL's.
 */
#include "nen_report_form.h"

#include "nen_report_synoptic.h"
#include "nen_report_text.h"

#include <limits.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define XHTML_NS "http://www.w3.org/1999/xhtml"
#define TITLE "Neuroendocrine neoplasm: synoptic report (nenfhir)"
#define SENTENCE 2048

/* ---------- the string builder ---------- */

void nen_strbuf_add(struct nen_strbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->cap + n + 1) * 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void nen_strbuf_puts(struct nen_strbuf *b, const char *s)
{
    nen_strbuf_add(b, s, strlen(s));
}

char *nen_strbuf_take(struct nen_strbuf *b)
{
    if (!b->failed && !b->s)
        nen_strbuf_add(b, "", 0);
    if (b->failed) {
        free(b->s);
        b->s = NULL;
        return NULL;
    }
    char *s = b->s;
    b->s = NULL;
    return s;
}

/* ---------- text/plain ---------- */

struct plain {
    struct nen_strbuf *b;
    int after_row; /* an item now belongs to the row above it */
};

static void line(struct nen_strbuf *b, const char *a, const char *c)
{
    nen_strbuf_puts(b, a);
    nen_strbuf_puts(b, c);
    nen_strbuf_puts(b, "\n");
}

/* Code points of a UTF-8 string (for the underline). */
static size_t width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void plain_section(void *ctx, const char *title)
{
    struct plain *p = ctx;
    nen_strbuf_puts(p->b, "\n");
    line(p->b, title, "");
    for (size_t i = width(title); i > 0; i--)
        nen_strbuf_puts(p->b, "-");
    nen_strbuf_puts(p->b, "\n");
    p->after_row = 0;
}

static void plain_row(void *ctx, const char *label, const char *value)
{
    struct plain *p = ctx;
    nen_strbuf_puts(p->b, "  ");
    nen_strbuf_puts(p->b, label);
    line(p->b, ": ", value);
    p->after_row = 1;
}

static void plain_item(void *ctx, const char *text)
{
    struct plain *p = ctx;
    line(p->b, p->after_row ? "      - " : "  - ", text);
}

static void plain_summary_line(void *ctx, const char *text)
{
    line(ctx, text, "");
}

char *nen_report_plain(const struct nen_extract *x, const struct nen_result *r, const char *status)
{
    struct nen_strbuf b = {0};
    struct plain p = {&b, 0};
    char sentence[SENTENCE];
    nen_report_conclusion(x, r, sentence, sizeof sentence);
    line(&b, TITLE, "");
    line(&b, "Conclusion: ", sentence);
    line(&b, "Report status: ", status);
    struct nen_synoptic_out out = {plain_section, plain_row, plain_item, &p};
    nen_report_synoptic(x, r, &out);
    plain_section(&p, "Machine summary (the lines of `nenfhir classify --summary`)");
    nen_report_summary(r, plain_summary_line, &b);
    return nen_strbuf_take(&b);
}

/* ---------- xhtml ---------- */

/* Text with & < > escaped; other control characters (refused on input) as blanks. */
static void esc(struct nen_strbuf *b, const char *s)
{
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&': nen_strbuf_puts(b, "&amp;"); break;
        case '<': nen_strbuf_puts(b, "&lt;"); break;
        case '>': nen_strbuf_puts(b, "&gt;"); break;
        default:
            nen_strbuf_add(b, (unsigned char)*p < 0x20 ? " " : p, 1);
        }
    }
}

/* Where the writer is: rows go in a table, and the items after a row in a
 * list inside that row's value cell (the trace); items right after a section
 * title form a list of their own. */
enum xstate { X_NONE, X_LIST, X_ROW, X_ROW_LIST };

struct xhtml {
    struct nen_strbuf *b;
    enum xstate st;
};

static void x_close(struct xhtml *x)
{
    static const char *const end[] = {[X_NONE] = "", [X_LIST] = "</ul>",
                                      [X_ROW] = "</td></tr></table>",
                                      [X_ROW_LIST] = "</ul></td></tr></table>"};
    nen_strbuf_puts(x->b, end[x->st]);
    x->st = X_NONE;
}

static void x_section(void *ctx, const char *title)
{
    struct xhtml *x = ctx;
    x_close(x);
    nen_strbuf_puts(x->b, "<h3>");
    esc(x->b, title);
    nen_strbuf_puts(x->b, "</h3>");
}

static void x_row(void *ctx, const char *label, const char *value)
{
    struct xhtml *x = ctx;
    if (x->st == X_ROW_LIST)
        nen_strbuf_puts(x->b, "</ul>");
    if (x->st == X_ROW || x->st == X_ROW_LIST) {
        nen_strbuf_puts(x->b, "</td></tr>");
    } else {
        x_close(x);
        nen_strbuf_puts(x->b, "<table>");
    }
    nen_strbuf_puts(x->b, "<tr><th>");
    esc(x->b, label);
    nen_strbuf_puts(x->b, "</th><td>");
    esc(x->b, value);
    x->st = X_ROW;
}

static void x_item(void *ctx, const char *text)
{
    struct xhtml *x = ctx;
    if (x->st == X_ROW || x->st == X_NONE)
        nen_strbuf_puts(x->b, "<ul>");
    x->st = x->st == X_ROW || x->st == X_ROW_LIST ? X_ROW_LIST : X_LIST;
    nen_strbuf_puts(x->b, "<li>");
    esc(x->b, text);
    nen_strbuf_puts(x->b, "</li>");
}

static void x_para(struct nen_strbuf *b, const char *label, const char *text)
{
    nen_strbuf_puts(b, "<p><b>");
    esc(b, label);
    nen_strbuf_puts(b, "</b> ");
    esc(b, text);
    nen_strbuf_puts(b, "</p>");
}

char *nen_report_xhtml(const struct nen_extract *x, const struct nen_result *r, const char *status)
{
    struct nen_strbuf b = {0};
    struct xhtml w = {&b, X_NONE};
    char sentence[SENTENCE];
    nen_report_conclusion(x, r, sentence, sizeof sentence);
    nen_strbuf_puts(&b, "<div xmlns=\"" XHTML_NS "\"><h2>");
    esc(&b, TITLE);
    nen_strbuf_puts(&b, "</h2>");
    x_para(&b, "Conclusion:", sentence);
    x_para(&b, "Report status:", status);
    struct nen_synoptic_out out = {x_section, x_row, x_item, &w};
    nen_report_synoptic(x, r, &out);
    x_close(&w);
    nen_strbuf_puts(&b, "</div>");
    return nen_strbuf_take(&b);
}

char *nen_report_html(const char *div, const char *title)
{
    struct nen_strbuf b = {0};
    nen_strbuf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>");
    esc(&b, title);
    nen_strbuf_puts(&b, "</title></head><body>");
    nen_strbuf_puts(&b, div);
    nen_strbuf_puts(&b, "</body></html>\n");
    return nen_strbuf_take(&b);
}

char *nen_report_base64(const char *data, size_t len)
{
    if (len > (size_t)INT_MAX / 4 * 3 - 3)
        return NULL;
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    if (!out)
        return NULL;
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, (int)len);
    return out;
}
