/* libvirt's event loop on a thread of its own, and libvirt events turned
 * into D-Bus signals.  Signals are emitted straight from that thread:
 * g_dbus_connection_emit_signal() is thread-safe, and the GDBus main loop
 * never waits on libvirt. */
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
void vb_events_shutdown (void);

/* Registers the lifecycle callbacks of @virconn, emitting for @conn.
 * Event kinds the driver lacks are left out (their id stays -1). */
void vb_events_register (VbConn *conn, virConnectPtr virconn, VbEventIds *ids);
void vb_events_deregister (virConnectPtr virconn, VbEventIds *ids);

/* The callback registered for a libvirt domain event ID (to be called with
 * that event's own signature), or NULL.  For tests of events no test guest
 * can cause. */
virConnectDomainEventGenericCallback vb_events_domain_callback (int event_id);
