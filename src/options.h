/* virtbusd's settings: the command line, over the configuration file,
 * over the built-in defaults. */
#pragma once

#include <gio/gio.h>

#include "authz.h"
#include "settings.h"

typedef struct {
  GBusType bus_type;
  guint threads;
  GPtrArray *connections;   /* of VbConnSpec */
  guint idle_timeout;       /* seconds; 0: never exit when idle */
  guint shutdown_timeout;   /* seconds SIGTERM waits for calls in flight */
  char *config_file;        /* the file read; NULL when there was none */
  char *trusted_group;      /* [authorization]; "" for nobody */
  VbAuthzSettings authz;    /* points into the above */
  gboolean show_version;
} VbOptions;

/* Fills @options from the command line and the configuration file it
 * names (--config), or else the default one for the bus: a system bus
 * daemon reads VB_SYSTEM_CONFIG_FILE, a session bus daemon
 * $XDG_CONFIG_HOME/virtbus/virtbusd.conf; a default file that does not
 * exist is no error.  On bad input returns FALSE with a one-line message
 * in @error. */
gboolean vb_options_parse (int argc, char **argv, VbOptions *options,
                           GError **error);
void vb_options_clear (VbOptions *options);

/* The connections libvirt-dbus exports by default on @bus_type. */
GPtrArray *vb_options_default_connections (GBusType bus_type);

/* The configuration file read when --config is not given. */
char *vb_options_default_config_file (GBusType bus_type);
