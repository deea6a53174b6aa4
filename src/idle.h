/* The idle exit.  virtbusd exits once it has been idle for the timeout:
 * no bus client connected that has ever called it (clients.h), no call
 * received, and no call in flight (queued, running, or waiting for
 * polkit).  Clients that are still connected keep it alive however long
 * they stay silent, since they may be waiting for signals. */
#pragma once

#include <glib.h>

typedef struct _VbIdle VbIdle;

typedef void (*VbIdleFunc) (gpointer user_data);

/* Calls @on_idle (once, on the main loop) after @timeout_seconds (> 0)
 * of idleness; the clock starts now, with no clients. */
VbIdle *vb_idle_new (guint timeout_seconds, VbIdleFunc on_idle, gpointer user_data);
void vb_idle_free (VbIdle *idle);

/* Feed from VbClientsChangedFunc: clients hold the clock; the last one
 * leaving starts it again. */
void vb_idle_set_clients (VbIdle *idle, guint count);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbIdle, vb_idle_free)
