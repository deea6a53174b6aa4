/* Live state for subscribers: org.freedesktop.DBus.Properties.PropertiesChanged
 * on objects whose properties change, and ObjectManager's InterfacesAdded /
 * InterfacesRemoved on the connection object when objects come and go.
 *
 * Triggered by libvirt's lifecycle events (whoever made the change) and by
 * calls through virtbus that change what libvirt does not report.  Each
 * notice is handled on one thread of its own, in the order it came: the
 * object is looked up again, its properties are read, and what differs from
 * the last values sent for it is emitted.  Nothing here ever answers a
 * call: calls always read libvirt. */
#pragma once

#include "bus.h"

typedef enum {
  VB_CHANGE_UPDATED,     /* something about the object may have changed */
  VB_CHANGE_ADDED,       /* defined or created */
  VB_CHANGE_STARTED,     /* started: new if transient */
  VB_CHANGE_GONE_MAYBE,  /* undefined, stopped or deleted: gone unless it
                          * lives on (a running domain undefined) */
} VbChangeKind;

void vb_changes_init (void);
/* After the event loop has stopped: finishes the notices queued. */
void vb_changes_shutdown (void);

/* @object (of @iface's kind, on @conn) had @kind happen to it.  Takes
 * @object: the caller gives a reference of its own. */
void vb_changes_notify (VbConn *conn, const VbInterface *iface, gpointer object,
                        VbChangeKind kind);

/* @conn's watching connection was opened: the first time, what exists is
 * learnt; after the host was away, what was added, removed or changed
 * meanwhile is announced (InterfacesAdded, InterfacesRemoved,
 * PropertiesChanged).  Any thread. */
void vb_changes_resync (VbConn *conn);
