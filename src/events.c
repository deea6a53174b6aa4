#include "events.h"

#include "changes.h"
#include "libvirt-glib-compat.h"
#include "objects.h"

#include "typed-params.h"

#define CONNECT_INTERFACE "org.libvirt.Connect"
#define DOMAIN_INTERFACE "org.libvirt.Domain"
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
  if (wakeup_timer >= 0)
    return;

  if (virEventRegisterDefaultImpl () < 0)
    g_error ("cannot set up libvirt's event loop: %s", virGetLastErrorMessage ());
  wakeup_timer = virEventAddTimeout (-1, on_wakeup_timer, NULL, NULL);
}

/* Not for the whole life of the daemon: a second thread iterating the
 * default context would take turns owning it with the main loop, a
 * hand-over on every iteration. */
void
vb_events_run_in_background (void)
{
  if (event_thread == NULL)
    event_thread = g_thread_new ("libvirt-events", run_event_loop, NULL);
}

void
vb_events_shutdown (void)
{
  if (wakeup_timer < 0)
    return;

  if (event_thread != NULL)
    {
      g_atomic_int_set (&event_thread_quit, TRUE);
      virEventUpdateTimeout (wakeup_timer, 0);
      g_thread_join (event_thread);
      event_thread = NULL;
    }
  virEventRemoveTimeout (wakeup_timer);
  wakeup_timer = -1;
  /* libvirt's GLib-based loop frees removed timers and handles from an
   * idle callback on the default context: let those run, or they leak. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
emit_connect_signal (VbConn *conn, const char *signal_name, GVariant *args)
{
  vb_conn_emit_signal (conn, vb_conn_get_path (conn), CONNECT_INTERFACE, signal_name,
                       args);
}

/* ---- live state: PropertiesChanged and ObjectManager (changes.c) ------- */

static void
notify_domain (VbConn *conn, virDomainPtr domain, VbChangeKind kind)
{
  if (virDomainRef (domain) == 0)
    vb_changes_notify (conn, &vb_domain_interface, domain, kind);
}

static VbChangeKind
domain_change_kind (int event, int detail)
{
  switch (event)
    {
    case VIR_DOMAIN_EVENT_DEFINED:
      /* A rename keeps the UUID, hence the object path. */
      return detail == VIR_DOMAIN_EVENT_DEFINED_ADDED ? VB_CHANGE_ADDED : VB_CHANGE_UPDATED;
    case VIR_DOMAIN_EVENT_UNDEFINED:
      return detail == VIR_DOMAIN_EVENT_UNDEFINED_RENAMED ? VB_CHANGE_UPDATED
                                                           : VB_CHANGE_GONE_MAYBE;
    case VIR_DOMAIN_EVENT_STARTED:
      return VB_CHANGE_STARTED;
    case VIR_DOMAIN_EVENT_STOPPED:
      return VB_CHANGE_GONE_MAYBE;
    default:
      return VB_CHANGE_UPDATED;
    }
}

/* The lifecycle events of networks, pools, node devices and secrets share
 * a shape: defined or created, undefined or deleted, started, stopped. */
static VbChangeKind
lifecycle_change_kind (int event, int added, int gone, int started, int stopped)
{
  if (event == added)
    return VB_CHANGE_ADDED;
  if (event == gone || event == stopped)
    return VB_CHANGE_GONE_MAYBE;
  if (event == started)
    return VB_CHANGE_STARTED;
  return VB_CHANGE_UPDATED;
}

/* Created and deleted; defined and undefined (mediated devices) alike. */
static VbChangeKind
node_device_change_kind (int event)
{
  switch (event)
    {
    case VIR_NODE_DEVICE_EVENT_CREATED:
    case VIR_NODE_DEVICE_EVENT_DEFINED:
      return VB_CHANGE_ADDED;
    case VIR_NODE_DEVICE_EVENT_DELETED:
    case VIR_NODE_DEVICE_EVENT_UNDEFINED:
      return VB_CHANGE_GONE_MAYBE;
    default:
      return VB_CHANGE_UPDATED;
    }
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
  notify_domain (conn, domain, domain_change_kind (event, detail));
  return 0;
}

/* ---- per-domain events, on the domain's own path ------------------------ */

static void
emit_domain_signal (VbConn *conn, virDomainPtr domain, const char *signal_name, GVariant *args)
{
  g_autofree char *path = vb_domain_path (conn, domain);

  if (path != NULL)
    vb_conn_emit_signal (conn, path, DOMAIN_INTERFACE, signal_name, args);
  else if (args != NULL)
    g_variant_unref (g_variant_ref_sink (args));
}

/* libvirt passes NULL for absent strings; D-Bus strings cannot be NULL. */
static const char *
or_empty (const char *str)
{
  return str != NULL ? str : "";
}

static int
on_domain_reboot (virConnectPtr virconn, virDomainPtr domain, void *opaque)
{
  emit_domain_signal (opaque, domain, "Reboot", NULL);
  return 0;
}

static int
on_domain_control_error (virConnectPtr virconn, virDomainPtr domain, void *opaque)
{
  emit_domain_signal (opaque, domain, "ControlError", NULL);
  return 0;
}

static int
on_domain_rtc_change (virConnectPtr virconn, virDomainPtr domain, long long offset, void *opaque)
{
  emit_domain_signal (opaque, domain, "RTCChange", g_variant_new ("(x)", (gint64) offset));
  return 0;
}

static int
on_domain_watchdog (virConnectPtr virconn, virDomainPtr domain, int action, void *opaque)
{
  emit_domain_signal (opaque, domain, "Watchdog", g_variant_new ("(i)", action));
  return 0;
}

static int
on_domain_io_error (virConnectPtr virconn, virDomainPtr domain, const char *src_path,
                    const char *device, int action, const char *reason, void *opaque)
{
  emit_domain_signal (opaque, domain, "IOError",
                      g_variant_new ("(ssis)", or_empty (src_path), or_empty (device), action,
                                     or_empty (reason)));
  return 0;
}

static GVariant *
graphics_address (virDomainEventGraphicsAddressPtr address)
{
  return g_variant_new ("(iss)", address->family, or_empty (address->node),
                        or_empty (address->service));
}

static int
on_domain_graphics (virConnectPtr virconn, virDomainPtr domain, int phase,
                    virDomainEventGraphicsAddressPtr local,
                    virDomainEventGraphicsAddressPtr remote, const char *auth_scheme,
                    virDomainEventGraphicsSubjectPtr subject, void *opaque)
{
  GVariantBuilder identities;

  g_variant_builder_init (&identities, G_VARIANT_TYPE ("a(ss)"));
  for (int i = 0; subject != NULL && i < subject->nidentity; i++)
    g_variant_builder_add (&identities, "(ss)", or_empty (subject->identities[i].type),
                           or_empty (subject->identities[i].name));
  emit_domain_signal (opaque, domain, "Graphics",
                      g_variant_new ("(i@(iss)@(iss)sa(ss))", phase, graphics_address (local),
                                     graphics_address (remote), or_empty (auth_scheme),
                                     &identities));
  return 0;
}

static int
on_domain_block_job (virConnectPtr virconn, virDomainPtr domain, const char *disk, int type,
                     int status, void *opaque)
{
  emit_domain_signal (opaque, domain, "BlockJob",
                      g_variant_new ("(sii)", or_empty (disk), type, status));
  return 0;
}

static int
on_domain_disk_change (virConnectPtr virconn, virDomainPtr domain, const char *old_path,
                       const char *new_path, const char *device, int reason, void *opaque)
{
  emit_domain_signal (opaque, domain, "DiskChange",
                      g_variant_new ("(sssi)", or_empty (old_path), or_empty (new_path),
                                     or_empty (device), reason));
  return 0;
}

static int
on_domain_tray_change (virConnectPtr virconn, virDomainPtr domain, const char *device,
                       int reason, void *opaque)
{
  emit_domain_signal (opaque, domain, "TrayChange", g_variant_new ("(si)", or_empty (device), reason));
  return 0;
}

static int
on_domain_pm_wakeup (virConnectPtr virconn, virDomainPtr domain, int reason, void *opaque)
{
  emit_domain_signal (opaque, domain, "PMWakeup", g_variant_new ("(i)", reason));
  return 0;
}

static int
on_domain_pm_suspend (virConnectPtr virconn, virDomainPtr domain, int reason, void *opaque)
{
  emit_domain_signal (opaque, domain, "PMSuspend", g_variant_new ("(i)", reason));
  return 0;
}

static int
on_domain_pm_suspend_disk (virConnectPtr virconn, virDomainPtr domain, int reason, void *opaque)
{
  emit_domain_signal (opaque, domain, "PMSuspendDisk", g_variant_new ("(i)", reason));
  return 0;
}

static int
on_domain_balloon_change (virConnectPtr virconn, virDomainPtr domain, unsigned long long actual,
                          void *opaque)
{
  emit_domain_signal (opaque, domain, "BalloonChange", g_variant_new ("(t)", (guint64) actual));
  notify_domain (opaque, domain, VB_CHANGE_UPDATED);
  return 0;
}

static int
on_domain_device_removed (virConnectPtr virconn, virDomainPtr domain, const char *device,
                          void *opaque)
{
  emit_domain_signal (opaque, domain, "DeviceRemoved", g_variant_new ("(s)", or_empty (device)));
  return 0;
}

static int
on_domain_device_added (virConnectPtr virconn, virDomainPtr domain, const char *device,
                        void *opaque)
{
  emit_domain_signal (opaque, domain, "DeviceAdded", g_variant_new ("(s)", or_empty (device)));
  return 0;
}

static int
on_domain_device_removal_failed (virConnectPtr virconn, virDomainPtr domain, const char *device,
                                 void *opaque)
{
  emit_domain_signal (opaque, domain, "DeviceRemovalFailed",
                      g_variant_new ("(s)", or_empty (device)));
  return 0;
}

static int
on_domain_tunable (virConnectPtr virconn, virDomainPtr domain, virTypedParameterPtr params,
                   int n_params, void *opaque)
{
  emit_domain_signal (opaque, domain, "Tunable",
                      g_variant_new ("(@a{sv})", vb_typed_params_to_dict (params, n_params)));
  return 0;
}

static int
on_domain_agent_lifecycle (virConnectPtr virconn, virDomainPtr domain, int state, int reason,
                           void *opaque)
{
  emit_domain_signal (opaque, domain, "AgentEvent", g_variant_new ("(ii)", state, reason));
  return 0;
}

static int
on_domain_migration_iteration (virConnectPtr virconn, virDomainPtr domain, int iteration,
                               void *opaque)
{
  emit_domain_signal (opaque, domain, "MigrationIteration", g_variant_new ("(i)", iteration));
  return 0;
}

static int
on_domain_job_completed (virConnectPtr virconn, virDomainPtr domain,
                         virTypedParameterPtr params, int n_params, void *opaque)
{
  emit_domain_signal (opaque, domain, "JobCompleted",
                      g_variant_new ("(@a{sv})", vb_typed_params_to_dict (params, n_params)));
  return 0;
}

static int
on_domain_metadata_change (virConnectPtr virconn, virDomainPtr domain, int type,
                           const char *namespace_uri, void *opaque)
{
  emit_domain_signal (opaque, domain, "MetadataChange",
                      g_variant_new ("(is)", type, or_empty (namespace_uri)));
  notify_domain (opaque, domain, VB_CHANGE_UPDATED);
  return 0;
}

static int
on_domain_block_threshold (virConnectPtr virconn, virDomainPtr domain, const char *device,
                           const char *path, unsigned long long threshold,
                           unsigned long long excess, void *opaque)
{
  emit_domain_signal (opaque, domain, "BlockThreshold",
                      g_variant_new ("(sstt)", or_empty (device), or_empty (path),
                                     (guint64) threshold, (guint64) excess));
  return 0;
}

typedef struct {
  int id;
  virConnectDomainEventGenericCallback callback;
} DomainEventHandler;

/* Every domain event, with the callback that turns it into a signal.  The
 * callbacks have the event's own signature; libvirt calls them as such. */
static const DomainEventHandler domain_event_handlers[] = {
  { VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK (on_domain_lifecycle) },
  { VIR_DOMAIN_EVENT_ID_REBOOT, VIR_DOMAIN_EVENT_CALLBACK (on_domain_reboot) },
  { VIR_DOMAIN_EVENT_ID_RTC_CHANGE, VIR_DOMAIN_EVENT_CALLBACK (on_domain_rtc_change) },
  { VIR_DOMAIN_EVENT_ID_WATCHDOG, VIR_DOMAIN_EVENT_CALLBACK (on_domain_watchdog) },
  { VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON, VIR_DOMAIN_EVENT_CALLBACK (on_domain_io_error) },
  { VIR_DOMAIN_EVENT_ID_GRAPHICS, VIR_DOMAIN_EVENT_CALLBACK (on_domain_graphics) },
  { VIR_DOMAIN_EVENT_ID_CONTROL_ERROR, VIR_DOMAIN_EVENT_CALLBACK (on_domain_control_error) },
  { VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2, VIR_DOMAIN_EVENT_CALLBACK (on_domain_block_job) },
  { VIR_DOMAIN_EVENT_ID_DISK_CHANGE, VIR_DOMAIN_EVENT_CALLBACK (on_domain_disk_change) },
  { VIR_DOMAIN_EVENT_ID_TRAY_CHANGE, VIR_DOMAIN_EVENT_CALLBACK (on_domain_tray_change) },
  { VIR_DOMAIN_EVENT_ID_PMWAKEUP, VIR_DOMAIN_EVENT_CALLBACK (on_domain_pm_wakeup) },
  { VIR_DOMAIN_EVENT_ID_PMSUSPEND, VIR_DOMAIN_EVENT_CALLBACK (on_domain_pm_suspend) },
  { VIR_DOMAIN_EVENT_ID_PMSUSPEND_DISK, VIR_DOMAIN_EVENT_CALLBACK (on_domain_pm_suspend_disk) },
  { VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE, VIR_DOMAIN_EVENT_CALLBACK (on_domain_balloon_change) },
  { VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, VIR_DOMAIN_EVENT_CALLBACK (on_domain_device_removed) },
  { VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, VIR_DOMAIN_EVENT_CALLBACK (on_domain_device_added) },
  { VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED,
    VIR_DOMAIN_EVENT_CALLBACK (on_domain_device_removal_failed) },
  { VIR_DOMAIN_EVENT_ID_TUNABLE, VIR_DOMAIN_EVENT_CALLBACK (on_domain_tunable) },
  { VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK (on_domain_agent_lifecycle) },
  { VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION,
    VIR_DOMAIN_EVENT_CALLBACK (on_domain_migration_iteration) },
  { VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, VIR_DOMAIN_EVENT_CALLBACK (on_domain_job_completed) },
  { VIR_DOMAIN_EVENT_ID_METADATA_CHANGE, VIR_DOMAIN_EVENT_CALLBACK (on_domain_metadata_change) },
  { VIR_DOMAIN_EVENT_ID_BLOCK_THRESHOLD, VIR_DOMAIN_EVENT_CALLBACK (on_domain_block_threshold) },
};

G_STATIC_ASSERT (G_N_ELEMENTS (domain_event_handlers) <= VB_DOMAIN_EVENT_SLOTS);

virConnectDomainEventGenericCallback
vb_events_domain_callback (int event_id)
{
  for (gsize i = 0; i < G_N_ELEMENTS (domain_event_handlers); i++)
    {
      if (domain_event_handlers[i].id == event_id)
        return domain_event_handlers[i].callback;
    }
  return NULL;
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
  if (virNetworkRef (network) == 0)
    vb_changes_notify (conn, &vb_network_interface, network,
                       lifecycle_change_kind (event, VIR_NETWORK_EVENT_DEFINED,
                                              VIR_NETWORK_EVENT_UNDEFINED,
                                              VIR_NETWORK_EVENT_STARTED,
                                              VIR_NETWORK_EVENT_STOPPED));
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
  if (virStoragePoolRef (pool) == 0)
    vb_changes_notify (conn, &vb_storage_pool_interface, pool,
                       lifecycle_change_kind (event, VIR_STORAGE_POOL_EVENT_DEFINED,
                                              VIR_STORAGE_POOL_EVENT_UNDEFINED,
                                              VIR_STORAGE_POOL_EVENT_STARTED,
                                              VIR_STORAGE_POOL_EVENT_STOPPED));
}

static void
on_storage_pool_refresh (virConnectPtr virconn, virStoragePoolPtr pool,
                         void *opaque)
{
  VbConn *conn = opaque;
  g_autofree char *path = vb_storage_pool_path (conn, pool);

  if (path != NULL)
    vb_conn_emit_signal (conn, path, STORAGE_POOL_INTERFACE, "Refresh", NULL);
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
  if (virNodeDeviceRef (device) == 0)
    vb_changes_notify (conn, &vb_node_device_interface, device,
                       node_device_change_kind (event));
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
  if (virSecretRef (secret) == 0)
    vb_changes_notify (conn, &vb_secret_interface, secret,
                       lifecycle_change_kind (event, VIR_SECRET_EVENT_DEFINED,
                                              VIR_SECRET_EVENT_UNDEFINED, -1, -1));
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
  for (gsize i = 0; i < G_N_ELEMENTS (ids->domain); i++)
    ids->domain[i] = -1;
  for (gsize i = 0; i < G_N_ELEMENTS (domain_event_handlers); i++)
    ids->domain[i] = checked_registration (conn, "domain",
        virConnectDomainEventRegisterAny (virconn, NULL, domain_event_handlers[i].id,
                                          domain_event_handlers[i].callback, conn, NULL));
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
  for (gsize i = 0; i < G_N_ELEMENTS (ids->domain); i++)
    deregister (&ids->domain[i], virConnectDomainEventDeregisterAny, virconn);
  deregister (&ids->network_lifecycle, virConnectNetworkEventDeregisterAny, virconn);
  deregister (&ids->storage_pool_lifecycle, virConnectStoragePoolEventDeregisterAny, virconn);
  deregister (&ids->storage_pool_refresh, virConnectStoragePoolEventDeregisterAny, virconn);
  deregister (&ids->node_device_lifecycle, virConnectNodeDeviceEventDeregisterAny, virconn);
  deregister (&ids->secret_lifecycle, virConnectSecretEventDeregisterAny, virconn);
}
