/*
 * store_faults.c - the test-only fault VFS of store_faults.h: a shim over
 * the default SQLite VFS whose files forward every method to the real file
 * but fail xRead/xWrite/xSync/xTruncate when armed (SQLITE_FULL or
 * SQLITE_IOERR_*). Shared memory (WAL index) and locks pass untouched: a
 * lock conflict is tested with a real second connection instead.
 */
#include "store_faults.h"

#include <sqlite3.h>
#include <string.h>

/* The armed fault: ops that fail, after how many more passing calls. */
static struct {
    unsigned ops;
    int full;
    long left;      /* calls that still pass; -1: disarmed */
    int persistent;
    int fired;      /* a one-shot fault already failed */
    long failed;
} faults = {0, 0, -1, 0, 0, 0};

static sqlite3_vfs *real_vfs;   /* the VFS wrapped (unix) */
static sqlite3_vfs fault_vfs;

/* A file of the shim: its method table, then the real file's bytes. */
struct fault_file {
    sqlite3_file base;
    sqlite3_file *real;
};

/* 1 if this call of op must fail now. */
static int fault_now(unsigned op)
{
    if (faults.left < 0 || !(faults.ops & op))
        return 0;
    if (faults.left > 0) {
        faults.left--;
        return 0;
    }
    if (!faults.persistent && faults.fired)
        return 0;
    faults.fired = 1;
    faults.failed++;
    return 1;
}

static sqlite3_file *real_of(sqlite3_file *f)
{
    return ((struct fault_file *)f)->real;
}

static int ff_close(sqlite3_file *f)
{
    sqlite3_file *r = real_of(f);
    return r->pMethods ? r->pMethods->xClose(r) : SQLITE_OK;
}

static int ff_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
    if (fault_now(STORE_FAULT_READ))
        return SQLITE_IOERR_READ;
    sqlite3_file *r = real_of(f);
    return r->pMethods->xRead(r, buf, n, off);
}

static int ff_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
    if (fault_now(STORE_FAULT_WRITE))
        return faults.full ? SQLITE_FULL : SQLITE_IOERR_WRITE;
    sqlite3_file *r = real_of(f);
    return r->pMethods->xWrite(r, buf, n, off);
}

static int ff_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    if (fault_now(STORE_FAULT_TRUNCATE))
        return SQLITE_IOERR_TRUNCATE;
    sqlite3_file *r = real_of(f);
    return r->pMethods->xTruncate(r, size);
}

static int ff_sync(sqlite3_file *f, int flags)
{
    if (fault_now(STORE_FAULT_SYNC))
        return SQLITE_IOERR_FSYNC;
    sqlite3_file *r = real_of(f);
    return r->pMethods->xSync(r, flags);
}

static int ff_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    sqlite3_file *r = real_of(f);
    return r->pMethods->xFileSize(r, size);
}

static int ff_lock(sqlite3_file *f, int lock)
{
    sqlite3_file *r = real_of(f);
    return r->pMethods->xLock(r, lock);
}

static int ff_unlock(sqlite3_file *f, int lock)
{
    sqlite3_file *r = real_of(f);
    return r->pMethods->xUnlock(r, lock);
}

static int ff_check_reserved(sqlite3_file *f, int *out)
{
    sqlite3_file *r = real_of(f);
    return r->pMethods->xCheckReservedLock(r, out);
}

static int ff_file_control(sqlite3_file *f, int op, void *arg)
{
    sqlite3_file *r = real_of(f);
    return r->pMethods->xFileControl(r, op, arg);
}

static int ff_sector_size(sqlite3_file *f)
{
    sqlite3_file *r = real_of(f);
    return r->pMethods->xSectorSize(r);
}

static int ff_device_characteristics(sqlite3_file *f)
{
    sqlite3_file *r = real_of(f);
    return r->pMethods->xDeviceCharacteristics(r);
}

static int ff_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **out)
{
    sqlite3_file *r = real_of(f);
    return r->pMethods->xShmMap(r, pg, pgsz, extend, out);
}

static int ff_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    sqlite3_file *r = real_of(f);
    return r->pMethods->xShmLock(r, offset, n, flags);
}

static void ff_shm_barrier(sqlite3_file *f)
{
    sqlite3_file *r = real_of(f);
    r->pMethods->xShmBarrier(r);
}

static int ff_shm_unmap(sqlite3_file *f, int del)
{
    sqlite3_file *r = real_of(f);
    return r->pMethods->xShmUnmap(r, del);
}

static int ff_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **out)
{
    sqlite3_file *r = real_of(f);
    return r->pMethods->xFetch(r, off, n, out);
}

static int ff_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    sqlite3_file *r = real_of(f);
    return r->pMethods->xUnfetch(r, off, p);
}

static const sqlite3_io_methods ff_methods = {
    3,
    ff_close, ff_read, ff_write, ff_truncate, ff_sync, ff_file_size, ff_lock, ff_unlock,
    ff_check_reserved, ff_file_control, ff_sector_size, ff_device_characteristics,
    ff_shm_map, ff_shm_lock, ff_shm_barrier, ff_shm_unmap, ff_fetch, ff_unfetch,
};

/* Version 1 and 2 files (no mmap, or no shared memory) get a table of the
 * same version, so SQLite sees what the real file can do. */
static sqlite3_io_methods ff_methods_v1, ff_methods_v2;

static int fv_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
    (void)vfs;
    struct fault_file *ff = (struct fault_file *)f;
    ff->real = (sqlite3_file *)(ff + 1);
    ff->base.pMethods = NULL;
    int rc = real_vfs->xOpen(real_vfs, name, ff->real, flags, out_flags);
    if (ff->real->pMethods) {
        int v = ff->real->pMethods->iVersion;
        ff->base.pMethods = v >= 3 ? &ff_methods : v == 2 ? &ff_methods_v2 : &ff_methods_v1;
    }
    return rc;
}

static int fv_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int fv_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int fv_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static void *fv_dlopen(sqlite3_vfs *vfs, const char *name)
{
    (void)vfs;
    return real_vfs->xDlOpen(real_vfs, name);
}

static void fv_dlerror(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    real_vfs->xDlError(real_vfs, n, out);
}

static void (*fv_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
    (void)vfs;
    return real_vfs->xDlSym(real_vfs, h, sym);
}

static void fv_dlclose(sqlite3_vfs *vfs, void *h)
{
    (void)vfs;
    real_vfs->xDlClose(real_vfs, h);
}

static int fv_randomness(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return real_vfs->xRandomness(real_vfs, n, out);
}

static int fv_sleep(sqlite3_vfs *vfs, int us)
{
    (void)vfs;
    return real_vfs->xSleep(real_vfs, us);
}

static int fv_current_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return real_vfs->xCurrentTime(real_vfs, out);
}

static int fv_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return real_vfs->xGetLastError ? real_vfs->xGetLastError(real_vfs, n, out) : 0;
}

static int fv_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

int store_faults_install(void)
{
    if (real_vfs)
        return SQLITE_OK;
    int rc = sqlite3_initialize();
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_vfs *r = sqlite3_vfs_find(NULL);
    if (!r)
        return SQLITE_ERROR;
    ff_methods_v1 = ff_methods;
    ff_methods_v1.iVersion = 1;
    ff_methods_v2 = ff_methods;
    ff_methods_v2.iVersion = 2;
    memset(&fault_vfs, 0, sizeof fault_vfs);
    fault_vfs.iVersion = r->iVersion >= 2 && r->xCurrentTimeInt64 ? 2 : 1;
    fault_vfs.szOsFile = (int)sizeof(struct fault_file) + r->szOsFile;
    fault_vfs.mxPathname = r->mxPathname;
    fault_vfs.zName = "nenfhir-faults";
    fault_vfs.xOpen = fv_open;
    fault_vfs.xDelete = fv_delete;
    fault_vfs.xAccess = fv_access;
    fault_vfs.xFullPathname = fv_full_pathname;
    fault_vfs.xDlOpen = fv_dlopen;
    fault_vfs.xDlError = fv_dlerror;
    fault_vfs.xDlSym = fv_dlsym;
    fault_vfs.xDlClose = fv_dlclose;
    fault_vfs.xRandomness = fv_randomness;
    fault_vfs.xSleep = fv_sleep;
    fault_vfs.xCurrentTime = fv_current_time;
    fault_vfs.xGetLastError = fv_last_error;
    if (fault_vfs.iVersion >= 2)
        fault_vfs.xCurrentTimeInt64 = fv_current_time64;
    real_vfs = r;
    rc = sqlite3_vfs_register(&fault_vfs, 1);
    if (rc != SQLITE_OK)
        real_vfs = NULL;
    return rc;
}

void store_faults_arm(unsigned ops, int full, long after, int persistent)
{
    faults.ops = ops;
    faults.full = full;
    faults.left = after < 0 ? 0 : after;
    faults.persistent = persistent;
    faults.fired = 0;
    faults.failed = 0;
}

void store_faults_disarm(void)
{
    faults.left = -1;
    faults.ops = 0;
}

long store_faults_failed(void)
{
    return faults.failed;
}
