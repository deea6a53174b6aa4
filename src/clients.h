/* Who is using the service: every bus client (unique name) that has sent
 * org.libvirt a method call, for as long as it stays connected.
 *
 * This is what the idle exit waits for.  The bus tells no one which
 * clients hold match rules on our signals (only a privileged monitor
 * could see that), but it does tell us who called, and when a caller
 * disconnects.  An applet that called once and stays connected, waiting
 * for DomainEvent, keeps the service alive; one that has gone cannot be
 * listening. */
#pragma once

#include <gio/gio.h>

typedef struct _VbClients VbClients;

/* Called on the main loop when the number of clients changes. */
typedef void (*VbClientsChangedFunc) (guint count, gpointer user_data);

/* Starts tracking the callers of the service on @bus; @changed runs on the
 * thread-default main context of the caller. */
VbClients *vb_clients_new (GDBusConnection *bus, VbClientsChangedFunc changed,
                           gpointer user_data);
void vb_clients_free (VbClients *clients);

guint vb_clients_count (VbClients *clients);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbClients, vb_clients_free)
