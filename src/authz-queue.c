#include "authz-queue.h"

#include <string.h>

#include "polkit-lib.h"

/* One question to polkit, and the calls waiting for its answer. */
typedef struct {
  char *sender;
  guint32 uid;
  char *action;
  PolkitDetails *details;
  GBytes *decision_key;      /* what authz-decisions.c keeps the answer under */
  GBytes *join_key;          /* sender + decision_key; NULL: not joined */
  gboolean interactive;
  guint64 generation;
  GPtrArray *waiters;        /* of GTask */
  GCancellable *cancellable;
  guint timeout_id;
  gboolean in_flight;        /* counted in the caps */
  gboolean answered;         /* waiters told; a late reply is dropped */
} Request;

static const VbPolkit *polkit;
static PolkitAuthority *authority;
static GCancellable *authority_cancellable;  /* set while it is being reached */
static guint authority_timeout_id;
static guint timeout_seconds;

static GHashTable *requests;          /* every live Request (a set) */
static GHashTable *joinable;          /* join_key -> Request not yet answered */
static GHashTable *queues;            /* uid -> GQueue of Request waiting */
static GQueue turns;                  /* uids with waiting requests, in turn */
static GHashTable *in_flight_per_uid; /* uid -> count */
static guint n_in_flight;

/* What a uid may still ask without waiting (see authz-queue.h). */
typedef struct {
  double checks;
  gint64 refilled;           /* monotonic µs */
} Allowance;

static guint checks_per_second;       /* 0: no limit */
static GHashTable *allowances;        /* uid -> Allowance */
static guint refill_id;               /* pumps once a check is allowed again */

static void pump (void);

void
vb_polkit_queue_init (guint timeout, guint rate)
{
  timeout_seconds = timeout;
  checks_per_second = rate;
  allowances = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  requests = g_hash_table_new (NULL, NULL);
  joinable = g_hash_table_new (g_bytes_hash, g_bytes_equal);
  queues = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_queue_free);
  in_flight_per_uid = g_hash_table_new (NULL, NULL);
  g_queue_init (&turns);
  n_in_flight = 0;
}

/* ---- requests -------------------------------------------------------------- */

static gpointer
uid_key (guint32 uid)
{
  return GUINT_TO_POINTER (uid + 1);
}

static void
request_free (Request *request)
{
  g_hash_table_remove (requests, request);
  g_clear_handle_id (&request->timeout_id, g_source_remove);
  g_free (request->sender);
  g_free (request->action);
  g_clear_object (&request->details);
  g_bytes_unref (request->decision_key);
  g_clear_pointer (&request->join_key, g_bytes_unref);
  g_ptr_array_unref (request->waiters);
  g_object_unref (request->cancellable);
  g_free (request);
}

static void
no_longer_joinable (Request *request)
{
  if (request->join_key != NULL && g_hash_table_lookup (joinable, request->join_key) == request)
    g_hash_table_remove (joinable, request->join_key);
}

static void
release_slot (Request *request)
{
  gpointer key = uid_key (request->uid);
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (in_flight_per_uid, key));

  if (!request->in_flight)
    return;
  request->in_flight = FALSE;
  n_in_flight--;
  if (count <= 1)
    g_hash_table_remove (in_flight_per_uid, key);
  else
    g_hash_table_insert (in_flight_per_uid, key, GUINT_TO_POINTER (count - 1));
}

/* Tells every waiter: @error (consumed) or @decision. */
static void
answer_waiters (Request *request, VbDecision decision, GError *error)
{
  request->answered = TRUE;
  no_longer_joinable (request);
  g_clear_handle_id (&request->timeout_id, g_source_remove);
  for (guint i = 0; i < request->waiters->len; i++)
    {
      GTask *task = g_ptr_array_index (request->waiters, i);

      if (error != NULL)
        g_task_return_error (task, g_error_copy (error));
      else
        g_task_return_int (task, decision);
      g_object_unref (task);
    }
  g_ptr_array_set_size (request->waiters, 0);
  g_clear_error (&error);
}

static GError *
refusal (const Request *request, gint code, const char *reason)
{
  return g_error_new (G_DBUS_ERROR, code, "Not authorized for %s: %s", request->action, reason);
}

/* A request not yet sent: out of its queue, answered, freed. */
static void
drop_waiting_request (Request *request, GError *error)
{
  GQueue *queue = g_hash_table_lookup (queues, uid_key (request->uid));

  if (queue != NULL)
    g_queue_remove (queue, request);
  answer_waiters (request, VB_DECISION_UNKNOWN, error);
  request_free (request);
}

/* A request sent: answered now; polkit's library still owns it until it
 * calls back, which the cancellation hastens. */
static void
abandon_sent_request (Request *request, GError *error)
{
  answer_waiters (request, VB_DECISION_UNKNOWN, error);
  release_slot (request);
  g_cancellable_cancel (request->cancellable);
}

/* Ends every request @matches, with a copy of @error each. */
static void
end_requests (gboolean (*matches) (Request *request, gconstpointer data), gconstpointer data,
              const GError *error)
{
  g_autofree gpointer *all = NULL;
  guint n = 0;

  all = g_hash_table_get_keys_as_array (requests, &n);
  for (guint i = 0; i < n; i++)
    {
      Request *request = all[i];

      if (request->answered || !matches (request, data))
        continue;
      if (request->in_flight)
        abandon_sent_request (request, g_error_copy (error));
      else
        drop_waiting_request (request, g_error_copy (error));
    }
}

static gboolean
is_waiting (Request *request, gconstpointer data)
{
  return !request->in_flight;
}

static gboolean
is_from_sender (Request *request, gconstpointer sender)
{
  return g_str_equal (request->sender, sender);
}

static gboolean
is_any (Request *request, gconstpointer data)
{
  return TRUE;
}

/* ---- asking polkit ---------------------------------------------------------- */

static void
on_checked (GObject *source, GAsyncResult *async_result, gpointer data)
{
  Request *request = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(PolkitAuthorizationResult) result =
      polkit->check_authorization_finish ((PolkitAuthority *) source, async_result, &error);
  VbDecision decision;

  release_slot (request);
  if (!request->answered)
    {
      if (result == NULL)
        {
          /* Fail closed: without an answer from polkit nothing is allowed. */
          answer_waiters (request, VB_DECISION_UNKNOWN,
                          refusal (request, G_DBUS_ERROR_ACCESS_DENIED, error->message));
        }
      else
        {
          decision = polkit->result_is_authorized (result) ? VB_DECISION_ALLOWED
                     : polkit->result_is_challenge (result) ? VB_DECISION_CHALLENGE
                                                            : VB_DECISION_DENIED;
          /* What a person answered is theirs to answer again. */
          if (!request->interactive)
            vb_decisions_store (request->sender, request->decision_key, decision,
                                request->generation);
          answer_waiters (request, decision, NULL);
        }
    }
  request_free (request);
  pump ();
}

static gboolean
on_request_timeout (gpointer data)
{
  Request *request = data;
  gboolean interactive = request->interactive;
  guint seconds = interactive ? VB_POLKIT_INTERACTIVE_TIMEOUT : timeout_seconds;
  g_autofree char *reason = g_strdup_printf ("polkit did not answer within %u s", seconds);
  g_autoptr(GError) error = refusal (request, G_DBUS_ERROR_ACCESS_DENIED, reason);

  request->timeout_id = 0;
  g_warning ("polkit did not answer a check of %s for %s within %u s: refused",
             request->action, request->sender, seconds);
  /* (The request may be gone after this, if polkit's library calls back
   * at once.) */
  abandon_sent_request (request, g_error_copy (error));
  /* polkitd is not answering: the checks behind this one would each wait
   * as long again. */
  if (!interactive)
    end_requests (is_waiting, NULL, error);
  pump ();
  return G_SOURCE_REMOVE;
}

static void
send_request (Request *request)
{
  gpointer key = uid_key (request->uid);
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (in_flight_per_uid, key));
  g_autoptr(PolkitSubject) subject = polkit->system_bus_name_new (request->sender);

  request->in_flight = TRUE;
  n_in_flight++;
  g_hash_table_insert (in_flight_per_uid, key, GUINT_TO_POINTER (count + 1));
  request->timeout_id = g_timeout_add_seconds (
      request->interactive ? VB_POLKIT_INTERACTIVE_TIMEOUT : timeout_seconds,
      on_request_timeout, request);
  polkit->check_authorization (authority, subject, request->action, request->details,
                               request->interactive
                                   ? POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION
                                   : POLKIT_CHECK_AUTHORIZATION_FLAGS_NONE,
                               request->cancellable, on_checked, request);
}

static gboolean
uid_has_room (guint32 uid)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (in_flight_per_uid, uid_key (uid))) <
         VB_POLKIT_MAX_CHECKS_PER_USER;
}

/* @uid's allowance, refilled for the time since it was last looked at. */
static Allowance *
allowance_of (guint32 uid)
{
  double burst = (double) checks_per_second * VB_POLKIT_BURST_SECONDS;
  gint64 now = g_get_monotonic_time ();
  Allowance *allowance = g_hash_table_lookup (allowances, uid_key (uid));

  if (allowance == NULL)
    {
      allowance = g_new (Allowance, 1);
      allowance->checks = burst;
      allowance->refilled = now;
      g_hash_table_insert (allowances, uid_key (uid), allowance);
    }
  allowance->checks = MIN (burst, allowance->checks + (double) (now - allowance->refilled) *
                                                          checks_per_second / G_USEC_PER_SEC);
  allowance->refilled = now;
  return allowance;
}

static gboolean
on_refill (gpointer data)
{
  refill_id = 0;
  pump ();
  return G_SOURCE_REMOVE;
}

/* Whether @request, next in its uid's queue, may be sent now; takes one
 * check from the uid's allowance when it may. */
static gboolean
may_send (Request *request)
{
  Allowance *allowance;

  if (!uid_has_room (request->uid))
    return FALSE;
  if (checks_per_second == 0 || request->interactive)
    return TRUE;
  allowance = allowance_of (request->uid);
  if (allowance->checks < 1.0)
    {
      if (refill_id == 0)
        refill_id = g_timeout_add (MAX (1, 1000 / checks_per_second), on_refill, NULL);
      return FALSE;
    }
  allowance->checks -= 1.0;
  return TRUE;
}

/* Sends what the caps allow, one request per uid in turn. */
static void
send_in_turn (void)
{
  gboolean sent = TRUE;

  while (sent && n_in_flight < VB_POLKIT_MAX_CHECKS)
    {
      guint n_turns = g_queue_get_length (&turns);

      sent = FALSE;
      for (guint i = 0; i < n_turns && n_in_flight < VB_POLKIT_MAX_CHECKS; i++)
        {
          gpointer key = g_queue_pop_head (&turns);
          GQueue *queue = g_hash_table_lookup (queues, key);

          if (!g_queue_is_empty (queue) && may_send (g_queue_peek_head (queue)))
            {
              send_request (g_queue_pop_head (queue));
              sent = TRUE;
            }
          if (g_queue_is_empty (queue))
            g_hash_table_remove (queues, key);
          else
            g_queue_push_tail (&turns, key);
        }
    }
}

static gboolean
on_authority_timeout (gpointer data)
{
  authority_timeout_id = 0;
  g_cancellable_cancel (authority_cancellable);
  return G_SOURCE_REMOVE;
}

static void
on_authority (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(GError) error = NULL;
  PolkitAuthority *found = polkit->authority_get_finish (result, &error);
  gboolean timed_out = authority_timeout_id == 0;

  g_clear_handle_id (&authority_timeout_id, g_source_remove);
  g_clear_object (&authority_cancellable);
  if (found == NULL)
    {
      g_autofree char *reason =
          timed_out ? g_strdup_printf ("polkit did not answer within %u s", timeout_seconds)
                    : g_strdup_printf ("cannot reach polkit: %s", error->message);
      g_autofree gpointer *waiting = NULL;
      guint n = 0;

      g_warning ("polkit: %s", reason);
      /* None was sent: each is refused naming its own action. */
      waiting = g_hash_table_get_keys_as_array (requests, &n);
      for (guint i = 0; i < n; i++)
        {
          Request *request = waiting[i];

          if (!request->answered)
            drop_waiting_request (request,
                                  refusal (request, G_DBUS_ERROR_ACCESS_DENIED, reason));
        }
      return;
    }
  authority = found;
  pump ();
}

static void
pump (void)
{
  if (requests == NULL)
    return;
  if (authority != NULL)
    {
      send_in_turn ();
      return;
    }
  if (authority_cancellable != NULL || g_hash_table_size (requests) == 0)
    return;
  authority_cancellable = g_cancellable_new ();
  authority_timeout_id = g_timeout_add_seconds (timeout_seconds, on_authority_timeout, NULL);
  polkit->authority_get_async (authority_cancellable, on_authority, NULL);
}

/* ---- the interface ------------------------------------------------------------- */

static PolkitDetails *
polkit_details_from (GHashTable *table)
{
  PolkitDetails *details = polkit->details_new ();
  GHashTableIter iter;
  gpointer key, value;

  if (table == NULL)
    return details;
  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, &key, &value))
    polkit->details_insert (details, key, value);
  return details;
}

static GBytes *
join_key_new (const char *sender, GBytes *decision_key)
{
  gsize key_size = 0;
  gconstpointer key_data = g_bytes_get_data (decision_key, &key_size);
  g_autoptr(GByteArray) bytes = g_byte_array_new ();

  g_byte_array_append (bytes, (const guint8 *) sender, (guint) strlen (sender) + 1);
  g_byte_array_append (bytes, key_data, (guint) key_size);
  return g_byte_array_free_to_bytes (g_steal_pointer (&bytes));
}

static Request *
request_new (const char *sender, guint32 uid, const char *action, GHashTable *details,
             gboolean interactive)
{
  Request *request = g_new0 (Request, 1);

  request->sender = g_strdup (sender);
  request->uid = uid;
  request->action = g_strdup (action);
  request->details = polkit_details_from (details);
  request->decision_key = vb_decision_key_new (action, details);
  request->interactive = interactive;
  request->generation = vb_decisions_generation ();
  request->waiters = g_ptr_array_new ();
  request->cancellable = g_cancellable_new ();
  g_hash_table_add (requests, request);
  return request;
}

static void
enqueue (Request *request)
{
  gpointer key = uid_key (request->uid);
  GQueue *queue = g_hash_table_lookup (queues, key);

  if (queue == NULL)
    {
      queue = g_queue_new ();
      g_hash_table_insert (queues, key, queue);
      g_queue_push_tail (&turns, key);
    }
  g_queue_push_tail (queue, request);
}

void
vb_polkit_check_async (const char *sender, guint32 uid, const char *action,
                       GHashTable *details, gboolean interactive,
                       GAsyncReadyCallback callback, gpointer data)
{
  GTask *task = g_task_new (NULL, NULL, callback, data);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) decision_key = NULL;
  g_autoptr(GBytes) join_key = NULL;
  Request *request = NULL;

  if (polkit == NULL)
    polkit = vb_polkit_load (&error);
  if (polkit == NULL || requests == NULL)
    {
      /* Fail closed, as when polkit does not answer. */
      g_task_return_new_error (task, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                               "Cannot reach polkit to authorize the call: %s",
                               error != NULL ? error->message : "virtbusd is stopping");
      g_object_unref (task);
      return;
    }
  /* Joined only where answers are reused: with reuse off, every call is
   * its own question to polkit. */
  if (!interactive && vb_decisions_enabled ())
    {
      decision_key = vb_decision_key_new (action, details);
      join_key = join_key_new (sender, decision_key);
      request = g_hash_table_lookup (joinable, join_key);
    }
  if (request == NULL)
    {
      request = request_new (sender, uid, action, details, interactive);
      if (join_key != NULL)
        {
          request->join_key = g_bytes_ref (join_key);
          g_hash_table_insert (joinable, request->join_key, request);
        }
      enqueue (request);
    }
  g_ptr_array_add (request->waiters, task);
  pump ();
}

VbDecision
vb_polkit_check_finish (GAsyncResult *result, GError **error)
{
  gssize decision = g_task_propagate_int (G_TASK (result), error);

  return decision < 0 ? VB_DECISION_UNKNOWN : (VbDecision) decision;
}

void
vb_polkit_queue_forget_caller (const char *sender)
{
  g_autoptr(GError) error = NULL;

  if (requests == NULL)
    return;
  error = g_error_new (G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                       "Not authorized: the caller %s left the bus", sender);
  end_requests (is_from_sender, sender, error);
}

void
vb_polkit_queue_config_changed (void)
{
  if (joinable != NULL)
    g_hash_table_remove_all (joinable);
}

void
vb_polkit_queue_shutdown (void)
{
  g_autoptr(GError) error = NULL;

  if (requests == NULL)
    return;
  error = g_error_new_literal (G_DBUS_ERROR, G_DBUS_ERROR_NO_SERVER, "virtbusd is stopping");
  end_requests (is_any, NULL, error);
  if (authority_cancellable != NULL)
    g_cancellable_cancel (authority_cancellable);
  /* Requests sent are freed when polkit's library calls back, which the
   * cancellations make it do from the main context. */
  while (g_hash_table_size (requests) > 0 || authority_cancellable != NULL)
    g_main_context_iteration (NULL, TRUE);
  g_clear_pointer (&requests, g_hash_table_unref);
  g_clear_pointer (&joinable, g_hash_table_unref);
  g_clear_pointer (&queues, g_hash_table_unref);
  g_clear_pointer (&in_flight_per_uid, g_hash_table_unref);
  g_clear_pointer (&allowances, g_hash_table_unref);
  g_clear_handle_id (&refill_id, g_source_remove);
  g_queue_clear (&turns);
  g_clear_object (&authority);
}
