/* Reused object handles, one set per remote channel (conn.c).
 *
 * A libvirt object handle carries only the object's identity, and a
 * remote libvirtd resolves it again (by UUID) on every RPC made with it,
 * so a handle looked up once for a path answers later calls on that path
 * exactly as a new lookup would, without the lookup's RPC.  A handle is
 * bound to the connection that looked it up: each channel keeps its own.
 * What a handle holds besides identity (a domain's name and ID) is as of
 * its lookup, so getters never report those from a reused handle (see
 * VbCall.object_reused).  A removed object fails the call's RPC with
 * libvirt's "no such object", and bus.c then forgets the handle and runs
 * the call again with a lookup, which answers UnknownObject. */
#pragma once

#include <glib.h>

typedef struct _VbHandles VbHandles;

/* At most this many handles per channel: beyond, an arbitrary one goes. */
#define VB_HANDLES_MAX 4096

VbHandles *vb_handles_new (void);
void vb_handles_free (VbHandles *handles);

/* A new reference to the handle kept for (@kind, @segment), or NULL.
 * @ref takes a reference on a handle of that kind. */
gpointer vb_handles_take (VbHandles *handles, const char *kind, const char *segment,
                          gpointer (*ref) (gpointer handle));

/* Keeps @handle (a reference, taken) for (@kind, @segment), released with
 * @release when it goes. */
void vb_handles_keep (VbHandles *handles, const char *kind, const char *segment,
                      gpointer handle, GDestroyNotify release);

void vb_handles_forget (VbHandles *handles, const char *kind, const char *segment);

guint vb_handles_count (VbHandles *handles);
