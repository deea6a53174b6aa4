#include "events.h"

#include "libvirt-glib-compat.h"
#include "objects.h"

#define CONNECT_INTERFACE "org.libvirt.Connect"
#define STORAGE_POOL_INTERFACE "org.libvirt.StoragePool"

static GThread *event_thread;
static gint event_thread_quit;
static int wakeup_timer = -1;

static gpointer
run_event_loop (gpointer data)
{
  while (!g_atomic_int_get (&event_thread_quit))
    {
      if (virEventRunDefaultImpl () < 0)
        g_warning ("libvirt event loop iteration failed: %s",
                   virGetLastErrorMessage ());
    }
  return NULL;
}

static void
on_wakeup_timer (int timer, void *opaque)
{
  /* Only there to make virEventRunDefaultImpl() return at shutdown. */
  virEventUpdateTimeout (timer, -1);
}

void
vb_events_init (void)
{
  if (event_thread != NULL)
    return;

  if (virEventRegisterDefaultImpl () < 0)
    g_error ("cannot set up libvirt's event loop: %s", virGetLastErrorMessage ());
  wakeup_timer = virEventAddTimeout (-1, on_wakeup_timer, NULL, NULL);
  event_thread = g_thread_new ("libvirt-events", run_event_loop, NULL);
}

void
vb_events_shutdown (void)
{
  if (event_thread == NULL)
    return;

  g_atomic_int_set (&event_thread_quit, TRUE);
  virEventUpdateTimeout (wakeup_timer, 0);
  g_thread_join (event_thread);
  event_thread = NULL;
  virEventRemoveTimeout (wakeup_timer);
  wakeup_timer = -1;
}

static void
emit (VbConn *conn, const char *path, const char *interface_name,
      const char *signal_name, GVariant *args)
{
  g_autoptr(GError) error = NULL;

  if (!g_dbus_connection_emit_signal (vb_conn_get_bus (conn), NULL, path,
                                      interface_name, signal_name, args, &error))
    g_warning ("cannot emit %s.%s on %s: %s", interface_name, signal_name, path,
               error->message);
}

static void
emit_connect_signal (VbConn *conn, const char *signal_name, GVariant *args)
{
  emit (conn, vb_conn_get_path (conn), CONNECT_INTERFACE, signal_name, args);
}

static int
on_domain_lifecycle (virConnectPtr virconn, virDomainPtr domain, int event,
                     int detail, void *opaque)
{
  VbConn *conn = opaque;
  g_autofree char *path = vb_domain_path (conn, domain);

  if (path != NULL)
    emit_connect_signal (conn, "DomainEvent",
                         g_variant_new ("(oii)", path, event, detail));
  return 0;
}

static void
on_network_lifecycle (virConnectPtr virconn, virNetworkPtr network, int event,
                      int detail, void *opaque)
{
  VbConn *conn = opaque;
  g_autofree char *path = vb_network_path (conn, network);

  /* The reference signal carries no detail. */
  if (path != NULL)
    emit_connect_signal (conn, "NetworkEvent", g_variant_new ("(oi)", path, event));
}

static void
on_storage_pool_lifecycle (virConnectPtr virconn, virStoragePoolPtr pool,
                           int event, int detail, void *opaque)
{
  VbConn *conn = opaque;
  g_autofree char *path = vb_storage_pool_path (conn, pool);

  if (path != NULL)
    emit_connect_signal (conn, "StoragePoolEvent",
                         g_variant_new ("(oii)", path, event, detail));
}

static void
on_storage_pool_refresh (virConnectPtr virconn, virStoragePoolPtr pool,
                         void *opaque)
{
  VbConn *conn = opaque;
  g_autofree char *path = vb_storage_pool_path (conn, pool);

  if (path != NULL)
    emit (conn, path, STORAGE_POOL_INTERFACE, "Refresh", NULL);
}

static void
on_node_device_lifecycle (virConnectPtr virconn, virNodeDevicePtr device,
                          int event, int detail, void *opaque)
{
  VbConn *conn = opaque;
  g_autofree char *path = vb_node_device_path (conn, device);

  if (path != NULL)
    emit_connect_signal (conn, "NodeDeviceEvent",
                         g_variant_new ("(oii)", path, event, detail));
}

static void
on_secret_lifecycle (virConnectPtr virconn, virSecretPtr secret, int event,
                     int detail, void *opaque)
{
  VbConn *conn = opaque;
  g_autofree char *path = vb_secret_path (conn, secret);

  if (path != NULL)
    emit_connect_signal (conn, "SecretEvent",
                         g_variant_new ("(oii)", path, event, detail));
}

/* A driver without some event kind fails the registration; that kind is
 * then simply never signalled. */
static int
checked_registration (VbConn *conn, const char *what, int id)
{
  if (id < 0)
    {
      g_debug ("connection %s: no %s events: %s", vb_conn_get_name (conn), what,
               virGetLastErrorMessage ());
      virResetLastError ();
    }
  return id;
}

void
vb_events_register (VbConn *conn, virConnectPtr virconn, VbEventIds *ids)
{
  ids->domain_lifecycle = checked_registration (conn, "domain",
      virConnectDomainEventRegisterAny (virconn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
          VIR_DOMAIN_EVENT_CALLBACK (on_domain_lifecycle), conn, NULL));
  ids->network_lifecycle = checked_registration (conn, "network",
      virConnectNetworkEventRegisterAny (virconn, NULL, VIR_NETWORK_EVENT_ID_LIFECYCLE,
          VIR_NETWORK_EVENT_CALLBACK (on_network_lifecycle), conn, NULL));
  ids->storage_pool_lifecycle = checked_registration (conn, "storage pool",
      virConnectStoragePoolEventRegisterAny (virconn, NULL,
          VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE,
          VIR_STORAGE_POOL_EVENT_CALLBACK (on_storage_pool_lifecycle), conn, NULL));
  ids->storage_pool_refresh = checked_registration (conn, "storage pool refresh",
      virConnectStoragePoolEventRegisterAny (virconn, NULL,
          VIR_STORAGE_POOL_EVENT_ID_REFRESH,
          VIR_STORAGE_POOL_EVENT_CALLBACK (on_storage_pool_refresh), conn, NULL));
  ids->node_device_lifecycle = checked_registration (conn, "node device",
      virConnectNodeDeviceEventRegisterAny (virconn, NULL,
          VIR_NODE_DEVICE_EVENT_ID_LIFECYCLE,
          VIR_NODE_DEVICE_EVENT_CALLBACK (on_node_device_lifecycle), conn, NULL));
  ids->secret_lifecycle = checked_registration (conn, "secret",
      virConnectSecretEventRegisterAny (virconn, NULL, VIR_SECRET_EVENT_ID_LIFECYCLE,
          VIR_SECRET_EVENT_CALLBACK (on_secret_lifecycle), conn, NULL));
}

static void
deregister (int *id, int (*deregister_func) (virConnectPtr, int),
            virConnectPtr virconn)
{
  /* On a connection libvirt already closed this fails; nothing to undo. */
  if (*id >= 0 && deregister_func (virconn, *id) < 0)
    virResetLastError ();
  *id = -1;
}

void
vb_events_deregister (virConnectPtr virconn, VbEventIds *ids)
{
  deregister (&ids->domain_lifecycle, virConnectDomainEventDeregisterAny, virconn);
  deregister (&ids->network_lifecycle, virConnectNetworkEventDeregisterAny, virconn);
  deregister (&ids->storage_pool_lifecycle, virConnectStoragePoolEventDeregisterAny, virconn);
  deregister (&ids->storage_pool_refresh, virConnectStoragePoolEventDeregisterAny, virconn);
  deregister (&ids->node_device_lifecycle, virConnectNodeDeviceEventDeregisterAny, virconn);
  deregister (&ids->secret_lifecycle, virConnectSecretEventDeregisterAny, virconn);
}
