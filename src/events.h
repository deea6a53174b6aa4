/* libvirt's event loop, and libvirt events turned into D-Bus signals.
 * libvirt's own loop implementation runs on GLib's default main context,
 * so virtbusd's main loop dispatches its events; a thread of its own takes
 * over when no main loop runs (the drain at shutdown, tests).  Callbacks
 * only emit signals (g_dbus_connection_emit_signal() is thread-safe) and
 * queue notices: they never wait on libvirt. */
#pragma once

#include "conn.h"

/* One slot per libvirt domain event ID (lifecycle and per-domain ones). */
#define VB_DOMAIN_EVENT_SLOTS 32

typedef struct {
  int domain[VB_DOMAIN_EVENT_SLOTS];
  int network_lifecycle;
  int storage_pool_lifecycle;
  int storage_pool_refresh;
  int node_device_lifecycle;
  int secret_lifecycle;
} VbEventIds;

/* Before any connection is opened. */
void vb_events_init (void);
/* From now on libvirt's events are dispatched on a thread of their own,
 * without a main loop. */
void vb_events_run_in_background (void);
/* Stops that thread, if any. */
void vb_events_shutdown (void);

/* Registers the lifecycle callbacks of @virconn, emitting for @conn.
 * Event kinds the driver lacks are left out (their id stays -1). */
void vb_events_register (VbConn *conn, virConnectPtr virconn, VbEventIds *ids);
void vb_events_deregister (virConnectPtr virconn, VbEventIds *ids);

/* The callback registered for a libvirt domain event ID (to be called with
 * that event's own signature), or NULL.  For tests of events no test guest
 * can cause. */
virConnectDomainEventGenericCallback vb_events_domain_callback (int event_id);
