/*
 * test_faults_alloc.c - the allocation failure hook of test_faults_alloc.h.
 * malloc, calloc and realloc are defined here and forward to the next
 * definition in the lookup order (dlsym RTLD_NEXT: libc, or ASan's or
 * valgrind's); while dlsym itself runs, its few allocations come from a
 * static buffer (freed to nowhere). free is defined too, only to keep those
 * buffer blocks away from the real free.
 */
#define _GNU_SOURCE
#include "test_faults_alloc.h"

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

static void *(*next_malloc)(size_t);
static void *(*next_calloc)(size_t, size_t);
static void *(*next_realloc)(void *, size_t);
static void (*next_free)(void *);

static struct {
    long nth;        /* fail the call numbered nth (1-based); 0: never */
    int persistent;  /* and every one after it */
    long calls, failed;
} fa;

/* dlsym's own allocations, before the real allocator is known. */
static _Alignas(max_align_t) unsigned char boot[8192];
static size_t boot_used;
static int resolving;

static void *boot_alloc(size_t n)
{
    size_t a = _Alignof(max_align_t);
    n = (n + a - 1) / a * a;
    if (n > sizeof boot - boot_used)
        return NULL;
    void *p = boot + boot_used;
    boot_used += n;
    return p; /* static storage: already zero */
}

static int in_boot(const void *p)
{
    return (const unsigned char *)p >= boot && (const unsigned char *)p < boot + sizeof boot;
}

static void resolve(void)
{
    if (next_malloc || resolving)
        return;
    resolving = 1;
    next_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    next_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
    next_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    next_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
    resolving = 0;
}

/* 1 if this allocation must fail. */
static int fail_now(void)
{
    long k = ++fa.calls;
    if (fa.nth <= 0 || k < fa.nth || (k > fa.nth && !fa.persistent))
        return 0;
    fa.failed++;
    errno = ENOMEM;
    return 1;
}

void *malloc(size_t n)
{
    resolve();
    if (!next_malloc)
        return boot_alloc(n);
    return fail_now() ? NULL : next_malloc(n);
}

void *calloc(size_t k, size_t n)
{
    resolve();
    if (!next_calloc)
        return (n && k > (size_t)-1 / n) ? NULL : boot_alloc(k * n);
    return fail_now() ? NULL : next_calloc(k, n);
}

void *realloc(void *p, size_t n)
{
    resolve();
    if (p && in_boot(p)) { /* a boot block grows: copy it out */
        void *q = malloc(n);
        if (q)
        {
            size_t avail = (size_t)(boot + sizeof boot - (unsigned char *)p);
            memcpy(q, p, n < avail ? n : avail);
        }
        return q;
    }
    if (!next_realloc)
        return p ? NULL : boot_alloc(n);
    return fail_now() ? NULL : next_realloc(p, n);
}

void free(void *p)
{
    if (!p || in_boot(p))
        return;
    resolve();
    if (next_free)
        next_free(p);
}

void fa_arm(long nth, int persistent)
{
    fa.nth = nth;
    fa.persistent = persistent;
    fa.calls = 0;
    fa.failed = 0;
}

void fa_disarm(void)
{
    fa.nth = 0;
}

void fa_count_reset(void)
{
    fa.nth = 0;
    fa.calls = 0;
    fa.failed = 0;
}

long fa_calls(void)
{
    return fa.calls;
}

long fa_failed(void)
{
    return fa.failed;
}
