/* virtbusd's command line. */
#pragma once

#include <gio/gio.h>

typedef struct {
  char *name;   /* D-Bus path element: /org/libvirt/<name> */
  char *uri;    /* libvirt URI */
} VbConnSpec;

typedef struct {
  GBusType bus_type;
  guint threads;
  GPtrArray *connections;   /* of VbConnSpec */
  gboolean show_version;
} VbOptions;

/* The reference daemon's default worker count. */
#define VB_DEFAULT_THREADS 4
#define VB_MAX_THREADS 1024

/* Fills @options from the command line.  On bad input returns FALSE with
 * a one-line message in @error. */
gboolean vb_options_parse (int argc, char **argv, VbOptions *options,
                           GError **error);
void vb_options_clear (VbOptions *options);

/* The connections libvirt-dbus exports by default on @bus_type. */
GPtrArray *vb_options_default_connections (GBusType bus_type);
