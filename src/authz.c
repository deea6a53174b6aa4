#include "authz.h"

#include <grp.h>
#include <string.h>

#include "authz-queue.h"
#include "errors.h"

#define POLKIT_NAME "org.freedesktop.PolicyKit1"
/* Questions to the bus about callers in flight at once: with polkit's
 * checks (authz-queue.h) well below the bus's limit of pending replies on
 * one connection (dbus-daemon: 128), however many new callers arrive. */
#define MAX_IDENTIFICATIONS 64

/* Who a caller is, as the bus told us. */
typedef struct {
  guint32 uid;
  gboolean trusted;
} Caller;

static GDBusConnection *authz_bus;
static gboolean have_trusted_gid;
static gid_t trusted_gid;
/* Unique name -> Caller.  Written on the main thread, read also from
 * GDBus's worker thread and the workers (the bus layer's fast path),
 * hence the lock. */
static GMutex caller_lock;
static GHashTable *callers;
static GHashTable *identifying;        /* unique name -> GPtrArray of GTask */
static GQueue unasked;                 /* names waiting to be asked about */
static guint n_asked;                  /* questions in flight */
static guint name_owner_subscription;
static guint polkit_changed_subscription;

char *
vb_authz_action_id (const char *permission)
{
  g_autofree char *action = g_strconcat (VB_AUTHZ_ACTION_PREFIX, permission, NULL);

  g_strdelimit (action + strlen (VB_AUTHZ_ACTION_PREFIX), ":", '.');
  return g_steal_pointer (&action);
}

/* ---- callers ----------------------------------------------------------- */

static VbCallerKind
caller_kind (const Caller *caller)
{
  return caller->trusted ? VB_CALLER_TRUSTED : VB_CALLER_USER;
}

static gboolean
lookup_caller (const char *sender, Caller *out)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&caller_lock);
  Caller *caller;

  if (sender == NULL || callers == NULL)
    return FALSE;
  caller = g_hash_table_lookup (callers, sender);
  if (caller != NULL)
    *out = *caller;
  return caller != NULL;
}

VbCallerKind
vb_authz_lookup_caller (const char *sender)
{
  Caller caller;

  return lookup_caller (sender, &caller) ? caller_kind (&caller) : VB_CALLER_UNKNOWN;
}

/* The process's groups as the bus saw them when it connected: what the
 * kernel checks when the same process opens libvirt's socket. */
static gboolean
credentials_name_trusted_group (GVariant *credentials)
{
  g_autoptr(GVariant) groups = NULL;
  gsize n_groups = 0;
  const guint32 *gids;

  if (!have_trusted_gid)
    return FALSE;
  groups = g_variant_lookup_value (credentials, "UnixGroupIDs", G_VARIANT_TYPE ("au"));
  if (groups == NULL)
    return FALSE;
  gids = g_variant_get_fixed_array (groups, &n_groups, sizeof (guint32));
  for (gsize i = 0; i < n_groups; i++)
    {
      if (gids[i] == trusted_gid)
        return TRUE;
    }
  return FALSE;
}

static void
answer_identified (const char *sender, const Caller *caller, const GError *error)
{
  g_autoptr(GPtrArray) tasks = NULL;
  g_autofree char *name = NULL;

  if (identifying == NULL ||
      !g_hash_table_steal_extended (identifying, sender, (gpointer *) &name,
                                    (gpointer *) &tasks))
    return;
  for (guint i = 0; i < tasks->len; i++)
    {
      GTask *task = g_ptr_array_index (tasks, i);

      if (caller != NULL)
        g_task_return_int (task, caller_kind (caller));
      else
        g_task_return_error (task, g_error_copy (error));
      g_object_unref (task);
    }
}

static void ask_bus_next (void);

static void
on_caller_credentials (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autofree char *sender = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             result, &error);
  g_autoptr(GVariant) credentials = NULL;
  Caller caller = { 0 };

  n_asked--;
  ask_bus_next ();
  if (reply != NULL)
    {
      credentials = g_variant_get_child_value (reply, 0);
      if (!g_variant_lookup (credentials, "UnixUserID", "u", &caller.uid))
        g_set_error_literal (&error, G_DBUS_ERROR, G_DBUS_ERROR_FAILED,
                             "the bus does not know its user");
    }
  if (error != NULL)
    {
      g_autoptr(GError) refused = g_error_new (G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                                               "Cannot identify the caller %s: %s",
                                               sender, error->message);

      answer_identified (sender, NULL, refused);
      return;
    }
  caller.trusted = caller.uid == 0 || credentials_name_trusted_group (credentials);
  /* Unique names are never reused, and the bus reports a caller leaving
   * after any reply about it, so the entry is removed in time. */
  g_mutex_lock (&caller_lock);
  if (callers != NULL)
    g_hash_table_insert (callers, g_strdup (sender), g_memdup2 (&caller, sizeof caller));
  g_mutex_unlock (&caller_lock);
  answer_identified (sender, &caller, NULL);
}

void
vb_authz_identify_caller_async (const char *sender, GAsyncReadyCallback callback,
                                gpointer data)
{
  GTask *task = g_task_new (NULL, NULL, callback, data);
  GPtrArray *waiting = g_hash_table_lookup (identifying, sender);

  /* A client's first calls often come together (a page loading): one
   * question to the bus for all of them, and not one pending reply each. */
  if (waiting != NULL)
    {
      g_ptr_array_add (waiting, task);
      return;
    }
  waiting = g_ptr_array_new ();
  g_ptr_array_add (waiting, task);
  g_hash_table_insert (identifying, g_strdup (sender), waiting);
  g_queue_push_tail (&unasked, g_strdup (sender));
  ask_bus_next ();
}

static void
ask_bus_next (void)
{
  while (n_asked < MAX_IDENTIFICATIONS && !g_queue_is_empty (&unasked))
    {
      char *sender = g_queue_pop_head (&unasked);

      n_asked++;
      g_dbus_connection_call (authz_bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                              "org.freedesktop.DBus", "GetConnectionCredentials",
                              g_variant_new ("(s)", sender), G_VARIANT_TYPE ("(a{sv})"),
                              G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_caller_credentials,
                              sender);
    }
}

VbCallerKind
vb_authz_identify_caller_finish (GAsyncResult *result, GError **error)
{
  gssize kind = g_task_propagate_int (G_TASK (result), error);

  return kind < 0 ? VB_CALLER_UNKNOWN : (VbCallerKind) kind;
}

static void
forget_caller (const char *name)
{
  g_mutex_lock (&caller_lock);
  g_hash_table_remove (callers, name);
  g_mutex_unlock (&caller_lock);
  vb_decisions_forget_caller (name);
  /* A password prompt for a client that is gone helps nobody. */
  vb_polkit_queue_forget_caller (name);
}

static void
forget_all_decisions (void)
{
  vb_decisions_forget_all ();
  vb_polkit_queue_config_changed ();
}

/* A caller that leaves the bus, or polkitd coming or going. */
static void
on_name_owner_changed (GDBusConnection *bus, const char *sender_name,
                       const char *object_path, const char *interface_name,
                       const char *signal_name, GVariant *parameters, gpointer data)
{
  const char *name, *old_owner, *new_owner;

  g_variant_get (parameters, "(&s&s&s)", &name, &old_owner, &new_owner);
  if (g_str_equal (name, POLKIT_NAME))
    forget_all_decisions ();
  else if (name[0] == ':' && new_owner[0] == '\0')
    forget_caller (name);
}

/* polkit's actions, rules or temporary authorizations changed. */
static void
on_polkit_changed (GDBusConnection *bus, const char *sender_name,
                   const char *object_path, const char *interface_name,
                   const char *signal_name, GVariant *parameters, gpointer data)
{
  forget_all_decisions ();
}

static void
resolve_trusted_group (const char *name)
{
  struct group entry, *found = NULL;
  char buffer[16384];

  have_trusted_gid = FALSE;
  if (name == NULL || *name == '\0')
    return;
  if (getgrnam_r (name, &entry, buffer, sizeof buffer, &found) != 0 || found == NULL)
    {
      g_warning ("trusted group %s does not exist: only root is trusted", name);
      return;
    }
  trusted_gid = found->gr_gid;
  have_trusted_gid = TRUE;
}

void
vb_authz_init (GDBusConnection *bus, const VbAuthzSettings *settings)
{
  authz_bus = g_object_ref (bus);
  resolve_trusted_group (settings->trusted_group);
  g_mutex_lock (&caller_lock);
  callers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_mutex_unlock (&caller_lock);
  identifying = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  vb_decisions_init (settings->decision_lifetime);
  vb_polkit_queue_init (settings->polkit_timeout, settings->polkit_rate);
  name_owner_subscription = g_dbus_connection_signal_subscribe (
      bus, "org.freedesktop.DBus", "org.freedesktop.DBus", "NameOwnerChanged",
      "/org/freedesktop/DBus", NULL, G_DBUS_SIGNAL_FLAGS_NONE,
      on_name_owner_changed, NULL, NULL);
  polkit_changed_subscription = g_dbus_connection_signal_subscribe (
      bus, POLKIT_NAME, POLKIT_NAME ".Authority", "Changed",
      "/org/freedesktop/PolicyKit1/Authority", NULL, G_DBUS_SIGNAL_FLAGS_NONE,
      on_polkit_changed, NULL, NULL);
}

void
vb_authz_shutdown (void)
{
  if (authz_bus == NULL)
    return;

  vb_polkit_queue_shutdown ();
  /* Identifications still asked are answered by the bus or its closing;
   * their callers were told virtbusd is stopping by the bus layer. */
  while (g_hash_table_size (identifying) > 0 && !g_dbus_connection_is_closed (authz_bus))
    g_main_context_iteration (NULL, TRUE);
  g_dbus_connection_signal_unsubscribe (authz_bus, name_owner_subscription);
  g_dbus_connection_signal_unsubscribe (authz_bus, polkit_changed_subscription);
  name_owner_subscription = polkit_changed_subscription = 0;
  vb_decisions_shutdown ();
  g_queue_clear_full (&unasked, g_free);
  n_asked = 0;
  g_clear_pointer (&identifying, g_hash_table_unref);
  g_mutex_lock (&caller_lock);
  g_clear_pointer (&callers, g_hash_table_unref);
  g_mutex_unlock (&caller_lock);
  g_clear_object (&authz_bus);
}

/* ---- decisions ----------------------------------------------------------- */

/* The action of @permission, made once: the gate asks for it on every
 * call polkit judges.  The permissions are the tables' static strings. */
static const char *
cached_action_id (const char *permission)
{
  static GMutex lock;
  static GHashTable *actions;   /* permission -> action id */
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&lock);
  const char *action;

  if (actions == NULL)
    actions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  action = g_hash_table_lookup (actions, permission);
  if (action == NULL)
    {
      char *made = vb_authz_action_id (permission);

      g_hash_table_insert (actions, g_strdup (permission), made);
      action = made;
    }
  return action;
}

VbDecision
vb_authz_reused_decision (const char *sender, const char *permission, GHashTable *details)
{
  g_autoptr(GBytes) key = NULL;

  if (!vb_decisions_enabled ())
    return VB_DECISION_UNKNOWN;
  key = vb_decision_key_new (cached_action_id (permission), details);
  return vb_decisions_lookup (sender, key);
}

GError *
vb_authz_refusal (VbDecision decision, const char *permission, gboolean interactive)
{
  g_autofree char *action = vb_authz_action_id (permission);

  if (decision != VB_DECISION_CHALLENGE)
    return g_error_new (G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                        "Not authorized for %s", action);
  /* polkit still answers "challenge" when interaction was allowed but no
   * authentication agent serves the caller: asking again would not help. */
  if (interactive)
    return g_error_new (G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                        "Not authorized for %s: it needs authentication, and no "
                        "polkit authentication agent serves the caller", action);
  return g_error_new (VB_ERROR, VB_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                      "Authorization for %s needs interaction with the user; "
                      "call again with the ALLOW_INTERACTIVE_AUTHORIZATION "
                      "message flag to allow it", action);
}

/* One check: what the GTask carries. */
typedef struct {
  char *sender;
  char *permission;
  GHashTable *details;
  guint32 uid;
  gboolean interactive;
  gboolean asked_interactively;
} Check;

static void
check_free (Check *check)
{
  g_free (check->sender);
  g_free (check->permission);
  g_clear_pointer (&check->details, g_hash_table_unref);
  g_free (check);
}

static void ask_polkit (GTask *task, gboolean interactively);

static void
conclude (GTask *task, VbDecision decision)
{
  Check *check = g_task_get_task_data (task);

  if (decision == VB_DECISION_ALLOWED)
    g_task_return_boolean (task, TRUE);
  else if (decision == VB_DECISION_CHALLENGE && check->interactive &&
           !check->asked_interactively)
    {
      /* Never from a reused answer: polkit decides, and may ask. */
      ask_polkit (g_steal_pointer (&task), TRUE);
      return;
    }
  else
    g_task_return_error (task, vb_authz_refusal (decision, check->permission,
                                                 check->interactive));
  g_object_unref (task);
}

static void
on_polkit_answer (GObject *source, GAsyncResult *result, gpointer data)
{
  GTask *task = data;
  GError *error = NULL;
  VbDecision decision = vb_polkit_check_finish (result, &error);

  if (error != NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  conclude (task, decision);
}

static void
ask_polkit (GTask *task, gboolean interactively)
{
  Check *check = g_task_get_task_data (task);
  g_autofree char *action = vb_authz_action_id (check->permission);

  check->asked_interactively = interactively;
  vb_polkit_check_async (check->sender, check->uid, action, check->details, interactively,
                         on_polkit_answer, task);
}

void
vb_authz_check_async (const char *sender, gboolean interactive, const char *permission,
                      GHashTable *details, GAsyncReadyCallback callback, gpointer data)
{
  GTask *task = g_task_new (NULL, NULL, callback, data);
  Check *check = g_new0 (Check, 1);
  Caller caller = { 0 };
  VbDecision decision;

  check->sender = g_strdup (sender);
  check->permission = g_strdup (permission);
  check->details = details != NULL ? g_hash_table_ref (details) : NULL;
  check->interactive = interactive;
  g_task_set_task_data (task, check, (GDestroyNotify) check_free);
  if (!lookup_caller (sender, &caller))
    {
      g_task_return_new_error (task, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                               "Not authorized: the caller %s is not known", sender);
      g_object_unref (task);
      return;
    }
  check->uid = caller.uid;
  decision = vb_authz_reused_decision (sender, permission, details);
  if (decision != VB_DECISION_UNKNOWN)
    conclude (task, decision);
  else
    ask_polkit (task, FALSE);
}

gboolean
vb_authz_check_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
