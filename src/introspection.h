/* Interface descriptions, parsed once from the XML compiled into the
 * daemon (data/interfaces/, the single source of truth). */
#pragma once

#include <gio/gio.h>

/* Parses every embedded interface file; FALSE with @error on a broken one. */
gboolean vb_introspection_load (GError **error);
void vb_introspection_unload (void);

/* Borrowed; NULL for an interface we do not describe. */
GDBusInterfaceInfo *vb_introspection_lookup (const char *interface_name);
