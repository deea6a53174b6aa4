/* Inside the bus layer: a call on its way from the bus to a worker,
 * shared by bus.c (dispatch, the fast path, answers) and gate.c (the
 * authorization of callers polkit judges, and their filtered lists). */
#pragma once

#include "bus.h"

typedef enum {
  VB_OPERATION_METHOD,
  VB_OPERATION_GET,
  VB_OPERATION_GET_ALL,
  VB_OPERATION_SET,
} VbOperation;

/* A call on its way from the main loop to a worker. */
typedef struct {
  VbCall call;               /* what handlers see */
  VbOperation operation;
  const VbMethod *method;
  const VbProperty *property;
  GVariant *args;            /* method arguments, or the value to Set */
  /* Authorization (system bus, callers polkit judges): */
  const char *permissions[3];   /* NULL-terminated */
  /* Index of a permission that only widens the answer (read-secure): a
   * caller refused it gets the call without the flags that need it;
   * G_MAXUINT: none. */
  guint optional_permission;
  guint next_permission;        /* checked on the main loop, in order */
  GHashTable *details;          /* for polkit: string -> string */
  GError *lookup_error;         /* told only to an authorized caller */
  struct _VbListFilter *list_filter;   /* gate.c's, while a list reply is filtered */
} VbPendingCall;

/* ---- bus.c ---- */

gboolean vb_bus_is_stopping (void);
GError *vb_bus_stopping_error (void);

/* Connection and object, looked up once per call. */
gboolean vb_call_resolve_object (VbCall *call, GError **error);
VbCost vb_pending_call_cost (VbPendingCall *pending);
/* Answers the call (consuming @error) and frees it; any thread. */
void vb_pending_call_finish (VbPendingCall *pending, GVariant *reply, GError *error);
/* Runs the call here and answers it (a worker, or in place). */
void vb_pending_call_run (VbPendingCall *pending);
/* Hands the call to the workers of its cost. */
void vb_pending_call_dispatch (VbPendingCall *pending);
/* On GDBus's thread: runs @func (@pending) right here when the call is a
 * read that may be answered in place (see bus.c); FALSE when it may not,
 * and nothing was run. */
gboolean vb_bus_run_in_place (VbPendingCall *pending, void (*func) (VbPendingCall *pending));

/* ---- gate.c ---- */

/* A call from a caller polkit judges (main loop, or GDBus's thread when
 * @on_bus_thread): decided from reused answers where it can be, by
 * polkit otherwise, then run, or refused. */
void vb_gate_authorize (VbPendingCall *pending, gboolean on_bus_thread);
/* A list reply the call noted elements of (VbCall.listed): answered with
 * only the elements the caller may see.  Takes @reply. */
void vb_gate_filter_list_reply (VbPendingCall *pending, GVariant *reply);
/* Frees what the gate kept in @pending. */
void vb_gate_clear (VbPendingCall *pending);
