/*
 * reload.h - SIGHUP (issue 14 item 7): daemon.c's reload of its
 * configuration file, split out of daemon.c. Writes the context (cfg,
 * codes, the client's credentials) on daemon.c's behalf, from the loop's
 * thread, between callbacks: no case computation is under way then (they run
 * inside one callback), so swapping the code tables drops no work.
 */
#ifndef RELOAD_H
#define RELOAD_H

struct daemon;

/* Re-read d->cfg->path, run check-config's checks (config_check.h, without
 * --connect); if they pass, apply what can change without a restart (the
 * token file, the client's TLS files, the code tables, the log level and
 * format) and log each key that needs a restart (its old value kept); if
 * not, log the error and keep the old configuration. Never fails. */
void daemon_reload(struct daemon *d);

#endif
