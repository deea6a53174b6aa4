#include "authz.h"

#include <string.h>

#include "errors.h"
#include "polkit-lib.h"

/* One check in flight: the permissions of one call, asked one at a time. */
typedef struct {
  char *sender;
  char **permissions;
  guint next;                    /* index into permissions */
  PolkitSubject *subject;
  PolkitDetails *details;
  PolkitCheckAuthorizationFlags flags;
} VbCheck;

static GDBusConnection *authz_bus;
static const VbPolkit *polkit;         /* once its library is loaded */
static PolkitAuthority *authority;     /* once polkit has been reached */
/* Unique name -> uid + 1.  Written on the main thread, read also from
 * GDBus's worker thread (the bus layer's fast path), hence the lock. */
static GMutex caller_lock;
static GHashTable *caller_uids;
static GHashTable *checks_in_flight;   /* GTask -> its VbCheck */
static guint name_owner_subscription;

char *
vb_authz_action_id (const char *permission)
{
  g_autofree char *action = g_strconcat (VB_AUTHZ_ACTION_PREFIX, permission, NULL);

  g_strdelimit (action + strlen (VB_AUTHZ_ACTION_PREFIX), ":", '.');
  return g_steal_pointer (&action);
}

/* ---- callers ----------------------------------------------------------- */

static VbCallerKind
caller_kind_for_uid (guint32 uid)
{
  return uid == 0 ? VB_CALLER_ROOT : VB_CALLER_USER;
}

VbCallerKind
vb_authz_lookup_caller (const char *sender)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&caller_lock);
  gpointer stored;

  if (sender == NULL || caller_uids == NULL ||
      !g_hash_table_lookup_extended (caller_uids, sender, NULL, &stored))
    return VB_CALLER_UNKNOWN;
  return caller_kind_for_uid (GPOINTER_TO_UINT (stored) - 1);
}

static void
on_caller_uid (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(GTask) task = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             result, &error);
  guint32 uid;

  if (reply == NULL)
    {
      g_task_return_new_error (task, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                               "Cannot identify the caller %s: %s",
                               (const char *) g_task_get_task_data (task),
                               error->message);
      return;
    }
  g_variant_get (reply, "(u)", &uid);
  /* Unique names are never reused, and the bus reports a caller leaving
   * after any reply about it, so the entry is removed in time. */
  g_mutex_lock (&caller_lock);
  if (caller_uids != NULL)
    g_hash_table_insert (caller_uids, g_strdup (g_task_get_task_data (task)),
                         GUINT_TO_POINTER (uid + 1));
  g_mutex_unlock (&caller_lock);
  g_task_return_int (task, caller_kind_for_uid (uid));
}

void
vb_authz_identify_caller_async (const char *sender, GAsyncReadyCallback callback,
                                gpointer data)
{
  GTask *task = g_task_new (NULL, NULL, callback, data);

  g_task_set_task_data (task, g_strdup (sender), g_free);
  g_dbus_connection_call (authz_bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "GetConnectionUnixUser",
                          g_variant_new ("(s)", sender), G_VARIANT_TYPE ("(u)"),
                          G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_caller_uid, task);
}

VbCallerKind
vb_authz_identify_caller_finish (GAsyncResult *result, GError **error)
{
  gssize kind = g_task_propagate_int (G_TASK (result), error);

  return kind < 0 ? VB_CALLER_UNKNOWN : (VbCallerKind) kind;
}

/* A caller that leaves the bus: forget its uid, and stop asking polkit on
 * its behalf (a password prompt for a client that is gone helps nobody). */
static void
on_name_owner_changed (GDBusConnection *bus, const char *sender_name,
                       const char *object_path, const char *interface_name,
                       const char *signal_name, GVariant *parameters, gpointer data)
{
  const char *name, *old_owner, *new_owner;
  GHashTableIter iter;
  gpointer task, check;

  g_variant_get (parameters, "(&s&s&s)", &name, &old_owner, &new_owner);
  if (name[0] != ':' || new_owner[0] != '\0')
    return;

  g_mutex_lock (&caller_lock);
  g_hash_table_remove (caller_uids, name);
  g_mutex_unlock (&caller_lock);
  g_hash_table_iter_init (&iter, checks_in_flight);
  while (g_hash_table_iter_next (&iter, &task, &check))
    {
      if (g_str_equal (((VbCheck *) check)->sender, name))
        g_cancellable_cancel (g_task_get_cancellable (task));
    }
}

void
vb_authz_init (GDBusConnection *bus)
{
  authz_bus = g_object_ref (bus);
  g_mutex_lock (&caller_lock);
  caller_uids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_mutex_unlock (&caller_lock);
  checks_in_flight = g_hash_table_new (NULL, NULL);
  name_owner_subscription = g_dbus_connection_signal_subscribe (
      bus, "org.freedesktop.DBus", "org.freedesktop.DBus", "NameOwnerChanged",
      "/org/freedesktop/DBus", NULL, G_DBUS_SIGNAL_FLAGS_NONE,
      on_name_owner_changed, NULL, NULL);
}

void
vb_authz_shutdown (void)
{
  GHashTableIter iter;
  gpointer task;

  if (authz_bus == NULL)
    return;

  g_hash_table_iter_init (&iter, checks_in_flight);
  while (g_hash_table_iter_next (&iter, &task, NULL))
    g_cancellable_cancel (g_task_get_cancellable (task));
  /* Cancelled checks complete from the main context; their calls are
   * answered before the bus goes. */
  while (g_hash_table_size (checks_in_flight) > 0)
    g_main_context_iteration (NULL, TRUE);

  g_dbus_connection_signal_unsubscribe (authz_bus, name_owner_subscription);
  name_owner_subscription = 0;
  g_clear_pointer (&checks_in_flight, g_hash_table_unref);
  g_mutex_lock (&caller_lock);
  g_clear_pointer (&caller_uids, g_hash_table_unref);
  g_mutex_unlock (&caller_lock);
  g_clear_object (&authority);
  g_clear_object (&authz_bus);
}

/* ---- polkit checks ----------------------------------------------------- */

static void
check_free (VbCheck *check)
{
  g_free (check->sender);
  g_strfreev (check->permissions);
  g_object_unref (check->subject);
  g_object_unref (check->details);
  g_free (check);
}

static PolkitDetails *
details_from_table (GHashTable *table)
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

static void
check_complete (GTask *task, GError *error)
{
  g_hash_table_remove (checks_in_flight, task);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static GError *
check_refusal (VbCheck *check, PolkitAuthorizationResult *result)
{
  g_autofree char *action = vb_authz_action_id (check->permissions[check->next]);

  if (!polkit->result_is_challenge (result))
    return g_error_new (G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                        "Not authorized for %s", action);
  /* polkit still answers "challenge" when interaction was allowed but no
   * authentication agent serves the caller: asking again would not help. */
  if (check->flags & POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION)
    return g_error_new (G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                        "Not authorized for %s: it needs authentication, and no "
                        "polkit authentication agent serves the caller", action);
  return g_error_new (VB_ERROR, VB_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                      "Authorization for %s needs interaction with the user; "
                      "call again with the ALLOW_INTERACTIVE_AUTHORIZATION "
                      "message flag to allow it", action);
}

static void check_next_permission (GTask *task);

static void
on_authorization_checked (GObject *source, GAsyncResult *async_result, gpointer data)
{
  GTask *task = data;
  VbCheck *check = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(PolkitAuthorizationResult) result =
      polkit->check_authorization_finish ((PolkitAuthority *) source, async_result, &error);

  if (result == NULL)
    {
      g_autofree char *action = vb_authz_action_id (check->permissions[check->next]);

      /* Fail closed: without an answer from polkit nothing is allowed. */
      check_complete (task, g_error_new (G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                                         "Not authorized for %s: %s", action,
                                         error->message));
      return;
    }
  if (!polkit->result_is_authorized (result))
    {
      check_complete (task, check_refusal (check, result));
      return;
    }
  check->next++;
  check_next_permission (task);
}

static void
ask_polkit (GTask *task)
{
  VbCheck *check = g_task_get_task_data (task);
  g_autofree char *action = vb_authz_action_id (check->permissions[check->next]);

  polkit->check_authorization (authority, check->subject, action, check->details,
                               check->flags, g_task_get_cancellable (task),
                               on_authorization_checked, task);
}

static void
on_authority (GObject *source, GAsyncResult *result, gpointer data)
{
  GTask *task = data;
  g_autoptr(GError) error = NULL;
  PolkitAuthority *found = polkit->authority_get_finish (result, &error);

  if (found == NULL)
    {
      check_complete (task, g_error_new (G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                                         "Cannot reach polkit to authorize the call: %s",
                                         error->message));
      return;
    }
  if (authority == NULL)
    authority = g_object_ref (found);
  g_object_unref (found);
  ask_polkit (task);
}

static void
check_next_permission (GTask *task)
{
  VbCheck *check = g_task_get_task_data (task);

  if (check->permissions[check->next] == NULL)
    check_complete (task, NULL);
  else if (authority != NULL)
    ask_polkit (task);
  else
    polkit->authority_get_async (g_task_get_cancellable (task), on_authority, task);
}

void
vb_authz_check_async (GDBusMessage *message, const char *const *permissions,
                      GHashTable *details, GAsyncReadyCallback callback, gpointer data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  GTask *task = g_task_new (NULL, cancellable, callback, data);
  g_autoptr(GError) error = NULL;
  VbCheck *check;

  /* The task returns its error itself rather than a bare "cancelled". */
  g_task_set_check_cancellable (task, FALSE);
  if (polkit == NULL)
    polkit = vb_polkit_load (&error);
  if (polkit == NULL)
    {
      /* Fail closed, as when polkit does not answer. */
      g_task_return_new_error (task, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                               "Cannot reach polkit to authorize the call: %s",
                               error->message);
      g_object_unref (task);
      return;
    }
  check = g_new0 (VbCheck, 1);
  check->sender = g_strdup (g_dbus_message_get_sender (message));
  check->permissions = g_strdupv ((char **) permissions);
  check->subject = polkit->system_bus_name_new (check->sender);
  check->details = details_from_table (details);
  if (g_dbus_message_get_flags (message) & G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION)
    check->flags = POLKIT_CHECK_AUTHORIZATION_FLAGS_ALLOW_USER_INTERACTION;
  g_task_set_task_data (task, check, (GDestroyNotify) check_free);
  g_hash_table_insert (checks_in_flight, task, check);
  check_next_permission (task);
}

gboolean
vb_authz_check_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
