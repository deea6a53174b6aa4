/* One libvirt connection exposed at /org/libvirt/<name>.  Opened lazily
 * (or in the background at start-up) and reopened when libvirt reports it
 * closed; every call takes its own reference so a reopen never pulls the
 * connection from under a running call. */
#pragma once

#include <gio/gio.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

typedef struct _VbConn VbConn;

VbConn *vb_conn_new (GDBusConnection *bus, const char *name, const char *uri);
void vb_conn_free (VbConn *conn);

const char *vb_conn_get_name (VbConn *conn);
const char *vb_conn_get_uri (VbConn *conn);
/* "/org/libvirt/<name>" */
const char *vb_conn_get_path (VbConn *conn);
GDBusConnection *vb_conn_get_bus (VbConn *conn);

/* Emits a signal from org.libvirt on the connection's bus; any thread.
 * Takes @args if floating.  A failure (the bus closing) is logged. */
void vb_conn_emit_signal (VbConn *conn, const char *path, const char *interface_name,
                          const char *signal_name, GVariant *args);

/* Returns a new reference to the open libvirt connection, opening it
 * first if needed.  Blocks: call on worker threads only. */
virConnectPtr vb_conn_acquire (VbConn *conn, GError **error);

/* The open connection, referenced, when it can be had without waiting
 * (not being opened, not closed); NULL otherwise.  Any thread. */
virConnectPtr vb_conn_try_acquire (VbConn *conn);

/* TRUE when the driver runs inside virtbusd's process (libvirt's test
 * driver, "test:///..."), so that its calls never wait on another process:
 * only on libvirt's locks, which virtbusd's own threads hold. */
gboolean vb_conn_in_process (VbConn *conn);

/* Opens the connection on a worker so that libvirt events reach clients
 * before anyone calls a method; failures are left for the first call to
 * report. */
void vb_conn_open_in_background (VbConn *conn);

/* TRUE if @name can be a connection name: a single D-Bus object path
 * element ([A-Za-z0-9_]+). */
gboolean vb_conn_name_is_valid (const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbConn, vb_conn_free)
