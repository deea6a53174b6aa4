/* The gate: how the bus layer authorizes a call from a caller polkit
 * judges (see authz.h for who that is).
 *
 * The object the call names is looked up first, on a worker (or in place,
 * for the reads bus.c answers there), for the details polkit's rules and
 * prompts see.  On that same thread the call is decided from polkit's
 * reused answers when there are answers for all its permissions, and then
 * run at once: a caller polkit has already answered costs no trip through
 * the main loop.  Otherwise the main loop asks polkit (authz.c), one
 * permission after the other, and hands the call to the workers.
 *
 * The lists such a caller gets hold only the objects it may see: each
 * element of a list reply is checked with its kind's list permission and
 * its own details, as libvirt's ACL filters lists object by object. */
#include <string.h>

#include "bus-call.h"
#include "errors.h"

typedef enum {
  GATE_ALLOWED,
  GATE_REFUSED,
  GATE_ASK_POLKIT,
} GateVerdict;

typedef enum {
  ELEMENT_HIDDEN,
  ELEMENT_VISIBLE,
  ELEMENT_UNDECIDED,
} ElementState;

struct _VbListFilter {
  GVariant *reply;
  ElementState *states;      /* one per noted element */
  guint n_waiting;           /* polkit checks not answered yet */
};

/* One element's check, and where its answer goes. */
typedef struct {
  VbPendingCall *pending;
  guint index;
} ElementCheck;

/* ---- details ---------------------------------------------------------------- */

GHashTable *
vb_call_object_details (VbCall *call, const VbInterface *iface, gpointer object)
{
  GHashTable *details = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);

  g_hash_table_insert (details, "connect_driver", g_strdup (vb_conn_get_name (call->conn)));
  g_hash_table_insert (details, "connect_uri", g_strdup (vb_conn_get_uri (call->conn)));
  if (object != NULL && iface != NULL && iface->describe != NULL)
    iface->describe (object, details);
  return details;
}

static void
listed_free (VbListed *listed)
{
  g_hash_table_unref (listed->details);
  g_free (listed);
}

void
vb_call_note_listed (VbCall *call, const VbInterface *iface, gpointer object)
{
  VbListed *listed;

  if (!call->filter_lists)
    return;
  if (call->listed == NULL)
    call->listed = g_ptr_array_new_with_free_func ((GDestroyNotify) listed_free);
  listed = g_new (VbListed, 1);
  listed->permission = iface->list_permission;
  listed->details = vb_call_object_details (call, iface, object);
  g_ptr_array_add (call->listed, listed);
}

void
vb_call_take_listed (VbCall *call, GPtrArray *listed)
{
  if (listed == NULL)
    return;
  if (call->listed == NULL)
    call->listed = g_ptr_array_new_with_free_func ((GDestroyNotify) listed_free);
  while (listed->len > 0)
    g_ptr_array_add (call->listed, g_ptr_array_steal_index (listed, 0));
  g_ptr_array_unref (listed);
}

void
vb_gate_clear (VbPendingCall *pending)
{
  struct _VbListFilter *filter = pending->list_filter;

  g_clear_pointer (&pending->details, g_hash_table_unref);
  g_clear_error (&pending->lookup_error);
  g_clear_pointer (&pending->call.listed, g_ptr_array_unref);
  if (filter != NULL)
    {
      g_variant_unref (filter->reply);
      g_free (filter->states);
      g_free (filter);
      pending->list_filter = NULL;
    }
}

/* ---- permissions -------------------------------------------------------------- */

/* The index of a method's flags argument: by libvirt's convention its
 * last 'u'; -1 if it has none. */
static gssize
flags_argument (GVariant *args)
{
  for (gsize i = g_variant_n_children (args); i > 0; i--)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (args, i - 1);

      if (g_variant_is_of_type (child, G_VARIANT_TYPE_UINT32))
        return (gssize) i - 1;
    }
  return -1;
}

static guint32
method_call_flags (GVariant *args)
{
  gssize index = flags_argument (args);

  return index < 0 ? 0 : vb_arg_uint32 (args, (gsize) index);
}

/* The caller may not have what the method's extra flags need, and gets
 * the call without them (read-secure: the XML without secrets). */
static void
drop_optional_permission (VbPendingCall *pending)
{
  gssize index = flags_argument (pending->args);
  gsize n = g_variant_n_children (pending->args);
  g_autofree GVariant **children = g_new (GVariant *, n);
  GVariant *args;

  for (gsize i = 0; i < n; i++)
    {
      children[i] = g_variant_get_child_value (pending->args, i);
      if ((gssize) i == index)
        {
          guint32 flags = g_variant_get_uint32 (children[i]);

          g_variant_unref (children[i]);
          children[i] = g_variant_ref_sink (
              g_variant_new_uint32 (flags & ~pending->method->extra_flags));
        }
    }
  args = g_variant_ref_sink (g_variant_new_tuple (children, n));
  for (gsize i = 0; i < n; i++)
    g_variant_unref (children[i]);
  g_variant_unref (pending->args);
  pending->args = args;
  pending->permissions[pending->optional_permission] = NULL;
  pending->optional_permission = G_MAXUINT;
}

static gboolean
permission_is_read_secure (const char *permission)
{
  return g_str_has_suffix (permission, ":read-secure");
}

/* The permissions the call needs, from its interface's table. */
static void
set_call_permissions (VbPendingCall *pending)
{
  const VbMethod *method = pending->method;

  pending->optional_permission = G_MAXUINT;
  switch (pending->operation)
    {
    case VB_OPERATION_METHOD:
      pending->permissions[0] = method->permission;
      if ((method->extra_flags != 0 &&
           (method_call_flags (pending->args) & method->extra_flags) != 0) ||
          (method->needs_extra != NULL && method->needs_extra (pending->args)))
        {
          pending->permissions[1] = method->extra_permission;
          if (permission_is_read_secure (method->extra_permission))
            pending->optional_permission = 1;
        }
      break;
    case VB_OPERATION_SET:
      pending->permissions[0] = pending->property->set_permission;
      break;
    default:
      pending->permissions[0] = pending->call.iface->get_permission;
      break;
    }
}

static const char *
call_sender (VbPendingCall *pending)
{
  return g_dbus_message_get_sender (pending->call.message);
}

static gboolean
call_allows_interaction (VbPendingCall *pending)
{
  return (g_dbus_message_get_flags (pending->call.message) &
          G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION) != 0;
}

/* ---- deciding from reused answers (any thread) ---------------------------------- */

static GateVerdict
decide_from_reuse (VbPendingCall *pending, GError **error)
{
  gboolean interactive = call_allows_interaction (pending);

  for (guint i = pending->next_permission; pending->permissions[i] != NULL; i++)
    {
      VbDecision decision = vb_authz_reused_decision (call_sender (pending),
                                                      pending->permissions[i],
                                                      pending->details);
      gboolean refused = decision == VB_DECISION_DENIED ||
                         (decision == VB_DECISION_CHALLENGE && !interactive);

      if (decision == VB_DECISION_ALLOWED)
        pending->next_permission = i + 1;
      else if (refused && i == pending->optional_permission)
        drop_optional_permission (pending);
      else if (refused)
        {
          *error = vb_authz_refusal (decision, pending->permissions[i], interactive);
          return GATE_REFUSED;
        }
      else
        return GATE_ASK_POLKIT;
    }
  return GATE_ALLOWED;
}

/* An authorized call: now it may learn whether its object exists. */
static void
proceed (VbPendingCall *pending, gboolean run_here)
{
  if (pending->lookup_error != NULL)
    vb_pending_call_finish (pending, NULL, g_steal_pointer (&pending->lookup_error));
  else if (run_here)
    vb_pending_call_run (pending);
  else
    {
      vb_call_let_go (&pending->call);
      vb_pending_call_dispatch (pending);
    }
}

static gboolean ask_polkit_for_call (gpointer data);

/* A lookup failure is kept for later, so that whether an object exists
 * is told only to a caller allowed to act on it. */
static void
describe_and_decide (VbPendingCall *pending, gboolean may_run_here)
{
  VbCall *call = &pending->call;
  GError *refusal = NULL;

  vb_call_resolve_object (call, &pending->lookup_error);
  pending->details = vb_call_object_details (call, call->iface, call->object);
  switch (decide_from_reuse (pending, &refusal))
    {
    case GATE_ALLOWED:
      proceed (pending, may_run_here);
      break;
    case GATE_REFUSED:
      vb_pending_call_finish (pending, NULL, refusal);
      break;
    default:
      vb_call_let_go (call);
      g_main_context_invoke (NULL, ask_polkit_for_call, pending);
      break;
    }
}

static void
describe_in_place (VbPendingCall *pending)
{
  describe_and_decide (pending, TRUE);
}

/* On the cheap pool, where a slow call may not run. */
static void
describe_on_worker (gpointer data)
{
  VbPendingCall *pending = data;

  describe_and_decide (pending, vb_pending_call_cost (pending) != VB_COST_SLOW);
}

void
vb_gate_authorize (VbPendingCall *pending, gboolean on_bus_thread)
{
  set_call_permissions (pending);
  pending->call.filter_lists = TRUE;
  pending->call.reuse_handle = FALSE;
  if (on_bus_thread && vb_bus_run_in_place (pending, describe_in_place))
    return;
  vb_workers_push (pending->call.conn, VB_COST_CHEAP, describe_on_worker, pending);
}

/* ---- asking polkit (main loop) ---------------------------------------------- */

static void check_next_permission (VbPendingCall *pending);

static void
on_permission_checked (GObject *source, GAsyncResult *result, gpointer data)
{
  VbPendingCall *pending = data;
  GError *error = NULL;

  if (vb_authz_check_finish (result, &error))
    pending->next_permission++;
  else if (pending->next_permission == pending->optional_permission)
    {
      g_clear_error (&error);
      drop_optional_permission (pending);
    }
  else
    {
      vb_pending_call_finish (pending, NULL, error);
      return;
    }
  check_next_permission (pending);
}

static void
check_next_permission (VbPendingCall *pending)
{
  const char *permission = pending->permissions[pending->next_permission];

  if (vb_bus_is_stopping ())
    vb_pending_call_finish (pending, NULL, vb_bus_stopping_error ());
  else if (permission == NULL)
    proceed (pending, FALSE);
  else
    vb_authz_check_async (call_sender (pending), call_allows_interaction (pending),
                          permission, pending->details, on_permission_checked, pending);
}

static gboolean
ask_polkit_for_call (gpointer data)
{
  check_next_permission (data);
  return G_SOURCE_REMOVE;
}

/* ---- lists ----------------------------------------------------------------------- */

static void
finish_filtered_list (VbPendingCall *pending)
{
  struct _VbListFilter *filter = pending->list_filter;
  g_autoptr(GVariant) array = g_variant_get_child_value (filter->reply, 0);
  GVariantBuilder builder;
  GVariant *element;
  GVariantIter iter;
  guint i = 0;

  g_variant_builder_init (&builder, g_variant_get_type (array));
  g_variant_iter_init (&iter, array);
  while ((element = g_variant_iter_next_value (&iter)) != NULL)
    {
      if (filter->states[i++] == ELEMENT_VISIBLE)
        g_variant_builder_add_value (&builder, element);
      g_variant_unref (element);
    }
  element = g_variant_builder_end (&builder);
  vb_pending_call_finish (pending, g_variant_new_tuple (&element, 1), NULL);
}

static void
element_checked (VbPendingCall *pending)
{
  if (--pending->list_filter->n_waiting == 0)
    finish_filtered_list (pending);
}

static void
on_element_checked (GObject *source, GAsyncResult *result, gpointer data)
{
  ElementCheck *check = data;
  VbPendingCall *pending = check->pending;

  /* Refused, needing a password, or polkit not answering: left out. */
  pending->list_filter->states[check->index] =
      vb_authz_check_finish (result, NULL) ? ELEMENT_VISIBLE : ELEMENT_HIDDEN;
  g_free (check);
  element_checked (pending);
}

/* All elements at once: the polkit queue takes as many as its caps allow
 * and joins identical ones. */
static gboolean
ask_polkit_for_list (gpointer data)
{
  VbPendingCall *pending = data;
  struct _VbListFilter *filter = pending->list_filter;
  GPtrArray *listed = pending->call.listed;

  /* One more than the checks, until all are asked. */
  filter->n_waiting = 1;
  for (guint i = 0; i < listed->len; i++)
    {
      const VbListed *element = g_ptr_array_index (listed, i);
      ElementCheck *check;

      if (filter->states[i] != ELEMENT_UNDECIDED)
        continue;
      check = g_new (ElementCheck, 1);
      check->pending = pending;
      check->index = i;
      filter->n_waiting++;
      vb_authz_check_async (call_sender (pending), FALSE, element->permission,
                            element->details, on_element_checked, check);
    }
  element_checked (pending);
  return G_SOURCE_REMOVE;
}

static ElementState
reused_element_state (VbPendingCall *pending, const VbListed *element)
{
  VbDecision decision;

  if (element->permission == NULL)
    return ELEMENT_VISIBLE;
  decision = vb_authz_reused_decision (call_sender (pending), element->permission,
                                       element->details);
  if (decision == VB_DECISION_UNKNOWN)
    return ELEMENT_UNDECIDED;
  return decision == VB_DECISION_ALLOWED ? ELEMENT_VISIBLE : ELEMENT_HIDDEN;
}

void
vb_gate_filter_list_reply (VbPendingCall *pending, GVariant *reply)
{
  GPtrArray *listed = pending->call.listed;
  struct _VbListFilter *filter = g_new0 (struct _VbListFilter, 1);
  g_autoptr(GVariant) array = NULL;
  gboolean undecided = FALSE;

  filter->reply = g_variant_ref_sink (reply);
  filter->states = g_new0 (ElementState, listed->len);
  pending->list_filter = filter;
  array = g_variant_get_child_value (filter->reply, 0);
  if (g_variant_n_children (array) != listed->len)
    {
      /* A handler that did not note every element: answering the list
       * could show what the caller may not see. */
      g_warning ("%s: %zu elements listed, %u noted: refused",
                 pending->call.iface->name, g_variant_n_children (array), listed->len);
      vb_pending_call_finish (pending, NULL,
                              g_error_new (G_DBUS_ERROR, G_DBUS_ERROR_FAILED,
                                           "virtbusd cannot filter this list"));
      return;
    }
  for (guint i = 0; i < listed->len; i++)
    {
      filter->states[i] = reused_element_state (pending, g_ptr_array_index (listed, i));
      undecided |= filter->states[i] == ELEMENT_UNDECIDED;
    }
  if (undecided)
    g_main_context_invoke (NULL, ask_polkit_for_list, pending);
  else
    finish_filtered_list (pending);
}
