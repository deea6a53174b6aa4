/* The configuration file (GKeyFile), read once at start:
 *
 *   [service]
 *   threads = 4            worker threads per pool
 *   timeout = 120          idle seconds before exiting (0: never)
 *   shutdown-timeout = 10  seconds SIGTERM waits for calls in flight
 *
 *   [authorization]
 *   trusted-group = libvirt   callers in this group skip polkit ("": none)
 *   decision-lifetime = 5     seconds polkit's answers are reused (0: never)
 *   polkit-timeout = 10       seconds a polkit check may take
 *   polkit-checks-per-second = 50   per uid, sustained (0: no limit)
 *
 *   [connections]
 *   QEMU = qemu:///system  one line per /org/libvirt/<NAME>; replaces the
 *   host2 = qemu+ssh://host2/system   default set
 *
 * Unknown groups and keys are errors, so that a typo does not go unseen.
 * Every message names the file, the line and the key. */
#pragma once

#include "settings.h"

typedef struct {
  gboolean found;           /* FALSE: there was no file, all is unset */
  gboolean has_threads;
  guint threads;
  gboolean has_timeout;
  guint timeout;
  gboolean has_shutdown_timeout;
  guint shutdown_timeout;
  char *trusted_group;      /* NULL: not set; "": nobody */
  gboolean has_decision_lifetime;
  guint decision_lifetime;
  gboolean has_polkit_timeout;
  guint polkit_timeout;
  gboolean has_polkit_rate;
  guint polkit_rate;
  GPtrArray *connections;   /* of VbConnSpec; NULL without [connections] */
} VbConfig;

/* Reads @path into @config (zeroed by the caller).  A missing file is
 * an error only when @must_exist; otherwise @config stays empty.  On
 * failure @error holds one line: "FILE:LINE: [group] key: problem" (the
 * line and key where they are known). */
gboolean vb_config_load (VbConfig *config, const char *path, gboolean must_exist,
                         GError **error);
void vb_config_clear (VbConfig *config);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VbConfig, vb_config_clear)
