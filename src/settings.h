/* What the command line and the configuration file both set, and the one
 * set of checks they share: worker threads, the idle timeout, and the
 * libvirt connections (NAME=URI). */
#pragma once

#include <gio/gio.h>

/* The reference daemon's default worker count. */
#define VB_DEFAULT_THREADS 4
#define VB_MAX_THREADS 1024

/* Seconds.  0 means never: a daemon started by hand serves until stopped. */
#define VB_DEFAULT_IDLE_TIMEOUT 0
/* What a daemon started on demand (--activated) waits, unless told. */
#define VB_ACTIVATED_IDLE_TIMEOUT 120
/* A day: longer is "never", which 0 already says. */
#define VB_MAX_IDLE_TIMEOUT 86400

/* How long SIGTERM waits for calls in flight before giving up on them;
 * below systemd's TimeoutStopSec in the unit. */
#define VB_DEFAULT_SHUTDOWN_TIMEOUT 10
#define VB_MAX_SHUTDOWN_TIMEOUT 600

typedef struct {
  char *name;   /* D-Bus path element: /org/libvirt/<name> */
  char *uri;    /* libvirt URI */
} VbConnSpec;

/* An empty list of VbConnSpec, freeing them with itself. */
GPtrArray *vb_conn_specs_new (void);

/* Appends @name=@uri to @specs.  Refuses (G_OPTION_ERROR_BAD_VALUE, a
 * message naming the problem but not where it was found) a name that
 * cannot be a path element, an empty URI, and a name already listed. */
gboolean vb_conn_specs_add (GPtrArray *specs, const char *name, const char *uri,
                            GError **error);

/* Parses @text as a whole decimal number from @min to @max.  The message
 * says what was expected and what was found. */
gboolean vb_settings_parse_number (const char *text, guint min, guint max,
                                   guint *out, GError **error);
