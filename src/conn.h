/* One libvirt connection exposed at /org/libvirt/<name>.  Opened lazily
 * (or in the background at start-up) and reopened when libvirt reports it
 * closed; every call takes its own reference so a reopen never pulls the
 * connection from under a running call. */
#pragma once

#include <gio/gio.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "handles.h"

typedef struct _VbConn VbConn;

VbConn *vb_conn_new (GDBusConnection *bus, const char *name, const char *uri);
/* Another reference, for a thread that may outlive the caller's; dropped
 * with vb_conn_free. */
VbConn *vb_conn_ref (VbConn *conn);
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

/* Seconds.  A remote host that stops answering is found dead after at
 * most INTERVAL * (COUNT + 1) s of silence (libvirt's keepalive), and
 * calls in flight to it then fail. */
#define VB_CONN_KEEPALIVE_INTERVAL 5
#define VB_CONN_KEEPALIVE_COUNT 3
/* Seconds a call waits for a connection to a remote host to open. */
#define VB_CONN_OPEN_TIMEOUT 20

/* A libvirt connection for the calling thread, opening it first if
 * needed; give it back with vb_conn_release().  Blocks: call on worker
 * threads only.  In process (libvirt's test driver) every call shares one
 * connection; with any other driver the connection is a channel of the
 * caller's own until released (libvirt's RPC client is not safe with
 * several threads waiting on one connection that dies), and a host that
 * does not answer fails the call after VB_CONN_OPEN_TIMEOUT s with an
 * error naming the connection. */
virConnectPtr vb_conn_acquire (VbConn *conn, GError **error);

/* Channels a call may lease besides its own (vb_conn_acquire_spare) to
 * spread a whole-host read over several connections. */
#define VB_CONN_SPARE_CHANNELS 3

/* Remote drivers only: a further channel for helper threads of a call
 * that holds one, if one is idle or can be opened within @timeout
 * microseconds; NULL otherwise (and always in process).  Given back with
 * vb_conn_release(). */
virConnectPtr vb_conn_acquire_spare (VbConn *conn, gint64 timeout);

/* A new libvirt connection to @conn's URI, the caller's own (close it
 * with virConnectClose), with the keepalive calls use; NULL with an error
 * naming the connection.  Blocks. */
virConnectPtr vb_conn_open_own (VbConn *conn, GError **error);

/* The reused object handles (handles.h) of @virconn, a channel the
 * caller holds (vb_conn_acquire), for use until it gives the channel
 * back; NULL in process, where a lookup costs no RPC. */
VbHandles *vb_conn_handles (VbConn *conn, virConnectPtr virconn);

/* Gives back what vb_conn_acquire() returned; any thread. */
void vb_conn_release (VbConn *conn, virConnectPtr virconn);

/* Like vb_conn_release(), but @virconn leaves the connection's channels
 * for good: a stream bound to it keeps its own reference and is then its
 * only user. */
void vb_conn_give_up (VbConn *conn, virConnectPtr virconn);

/* In process only: the shared connection, referenced, when it can be had
 * without waiting (not being opened, not closed); NULL otherwise.  Any
 * thread.  Give it back with vb_conn_release(). */
virConnectPtr vb_conn_try_acquire (VbConn *conn);

/* TRUE when @virconn, acquired from @conn, is a remote connection that
 * has died: a call that failed on it failed because its host went away. */
gboolean vb_conn_host_lost (VbConn *conn, virConnectPtr virconn);

/* TRUE when the driver runs inside virtbusd's process (libvirt's test
 * driver, "test:///..."), so that its calls never wait on another process:
 * only on libvirt's locks, which virtbusd's own threads hold. */
gboolean vb_conn_in_process (VbConn *conn);

/* Opens the connection in the background so that libvirt events reach
 * clients before anyone calls a method; failures are left for the first
 * call to report.  Any thread. */
void vb_conn_open_in_background (VbConn *conn);

/* TRUE if @name can be a connection name: a single D-Bus object path
 * element ([A-Za-z0-9_]+). */
gboolean vb_conn_name_is_valid (const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbConn, vb_conn_free)
