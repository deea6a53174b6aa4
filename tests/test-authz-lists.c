/* Lists show each caller the objects it may see, end to end, as root, in
 * the world of vb-authz-world.h: a test rule refuses the web user
 * org.libvirt.dbus.domain.getattr on the domain named hidden1, which then
 * is missing, with its snapshots, from every list the web user gets, and
 * from no one else's.  Signals stay broadcast: the web user still hears
 * hidden1's events, until a bus policy line keeps virtbusd's signals from
 * it. */
#include <string.h>
#include <unistd.h>

#include "vb-authz-world.h"

#define GETATTR_ACTION "org.libvirt.dbus.domain.getattr"

/* What the administrator adds to the bus configuration to keep virtbusd's
 * signals from one user (docs/authorization.md). */
#define DENY_SIGNALS_TO_WEB_USER \
  "  <policy user=\"vbauthz-web\">\n" \
  "    <deny receive_sender=\"org.libvirt\" receive_type=\"signal\"/>\n" \
  "  </policy>\n"

static VbPolkitMonitor *monitor;

typedef enum {
  LIST_DOMAINS,
  MANAGED_OBJECTS,
  DOMAIN_STATS,
  HIDDEN1_SNAPSHOTS,
  HIDDEN1_SNAPSHOT_CHILDREN,
  SWEEP_SNAPSHOTS,
  N_LISTS
} List;

/* Every list that shows hidden1 or its snapshots, and one that does not. */
static GPtrArray *
list_calls (void)
{
  GPtrArray *calls = g_ptr_array_new_with_free_func ((GDestroyNotify) vb_test_call_free);

  g_ptr_array_add (calls, vb_test_call_new (VB_AUTHZ_CONNECT_PATH, "org.libvirt.Connect",
                                            "ListDomains", g_variant_new ("(u)", 0),
                                            "connect:search-domains"));
  g_ptr_array_add (calls, vb_test_call_new (VB_AUTHZ_CONNECT_PATH,
                                            "org.freedesktop.DBus.ObjectManager",
                                            "GetManagedObjects", g_variant_new ("()"),
                                            "connect:search-domains"));
  g_ptr_array_add (calls, vb_test_call_new (VB_AUTHZ_CONNECT_PATH, "org.libvirt.Connect",
                                            "GetAllDomainStats", g_variant_new ("(uu)", 0, 0),
                                            "connect:search-domains"));
  g_ptr_array_add (calls, vb_test_call_new (world.hidden1, "org.libvirt.Domain",
                                            "ListDomainSnapshots", g_variant_new ("(u)", 0),
                                            "domain:read"));
  g_ptr_array_add (calls, vb_test_call_new (world.hidden1_snapshot, "org.libvirt.DomainSnapshot",
                                            "ListChildren", g_variant_new ("(u)", 0),
                                            "domain:read"));
  g_ptr_array_add (calls, vb_test_call_new (world.sweep_domain, "org.libvirt.Domain",
                                            "ListDomainSnapshots", g_variant_new ("(u)", 0),
                                            "domain:read"));
  return calls;
}

/* The objects a list's reply names: object paths, the keys of
 * GetManagedObjects, the domain names of GetAllDomainStats. */
static GPtrArray *
listed (const VbTestCall *call)
{
  GPtrArray *items = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GVariant) contents = NULL;
  GVariantIter iter;
  GVariant *entry;

  if (call->reply == NULL)
    g_error ("%s.%s on %s answered %s: %s", call->iface, call->member, call->path,
             call->error_name, call->error_message);
  contents = g_variant_get_child_value (call->reply, 0);
  g_variant_iter_init (&iter, contents);
  while ((entry = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr(GVariant) owned = entry;
      g_autoptr(GVariant) first = NULL;

      if (g_variant_is_of_type (entry, G_VARIANT_TYPE_OBJECT_PATH))
        {
          g_ptr_array_add (items, g_variant_dup_string (entry, NULL));
          continue;
        }
      /* {oa{sa{sv}}} or (sa{sv}) */
      first = g_variant_get_child_value (entry, 0);
      g_ptr_array_add (items, g_variant_dup_string (first, NULL));
    }
  return items;
}

static gboolean
has_item (GPtrArray *items, const char *item)
{
  return g_ptr_array_find_with_equal_func (items, item, g_str_equal, NULL);
}

static char *
items_text (GPtrArray *items)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; i < items->len; i++)
    g_string_append_printf (text, "%s%s", i > 0 ? " " : "",
                            (char *) g_ptr_array_index (items, i));
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* @shown is @all without @hidden (NULL-terminated), in the same order;
 * and @all has every one of @hidden. */
static void
assert_list_without (const char *what, GPtrArray *all, GPtrArray *shown,
                     const char *const *hidden)
{
  g_autoptr(GPtrArray) expected = g_ptr_array_new ();
  g_autofree char *all_text = items_text (all);
  g_autofree char *shown_text = items_text (shown);

  for (const char *const *h = hidden; *h != NULL; h++)
    if (!has_item (all, *h))
      g_error ("%s: %s missing for the plain user: %s", what, *h, all_text);
  for (guint i = 0; i < all->len; i++)
    if (!g_strv_contains (hidden, g_ptr_array_index (all, i)))
      g_ptr_array_add (expected, g_ptr_array_index (all, i));
  if (expected->len != shown->len)
    g_error ("%s: the web user sees %s; the plain user sees %s", what, shown_text, all_text);
  for (guint i = 0; i < expected->len; i++)
    if (!g_str_equal (g_ptr_array_index (expected, i), g_ptr_array_index (shown, i)))
      g_error ("%s: the web user sees %s; the plain user sees %s", what, shown_text, all_text);
}

/* The same lists as the web user (the rule hides hidden1) and as the plain
 * user and a libvirt group member (nothing hidden). */
static void
test_rule_hides_domain_from_lists (void)
{
  g_autoptr(GPtrArray) web_calls = list_calls ();
  g_autoptr(GPtrArray) plain_calls = list_calls ();
  g_autoptr(GPtrArray) admin_calls = list_calls ();
  const char *const hidden1_domain[] = { world.hidden1, NULL };
  const char *const hidden1_objects[] = { world.hidden1, world.hidden1_snapshot,
                                          world.hidden1_child_snapshot, NULL };
  const char *const hidden1_name[] = { "hidden1", NULL };
  const char *const hidden1_snapshots[] = { world.hidden1_snapshot,
                                            world.hidden1_child_snapshot, NULL };
  const char *const hidden1_child[] = { world.hidden1_child_snapshot, NULL };
  const char *const nothing[] = { NULL };
  const char *const *hidden[N_LISTS] = {
    [LIST_DOMAINS] = hidden1_domain,
    [MANAGED_OBJECTS] = hidden1_objects,
    [DOMAIN_STATS] = hidden1_name,
    [HIDDEN1_SNAPSHOTS] = hidden1_snapshots,
    [HIDDEN1_SNAPSHOT_CHILDREN] = hidden1_child,
    [SWEEP_SNAPSHOTS] = nothing,
  };

  vb_call_as (USER_WEB, web_calls, FALSE);
  vb_call_as (USER_PLAIN, plain_calls, FALSE);
  vb_call_as (USER_ADMIN, admin_calls, FALSE);
  for (List l = 0; l < N_LISTS; l++)
    {
      const VbTestCall *call = g_ptr_array_index (web_calls, l);
      g_autofree char *what = g_strdup_printf ("%s.%s on %s", call->iface, call->member,
                                               call->path);
      g_autoptr(GPtrArray) shown = listed (call);
      g_autoptr(GPtrArray) all = listed (g_ptr_array_index (plain_calls, l));
      g_autoptr(GPtrArray) admin = listed (g_ptr_array_index (admin_calls, l));

      g_test_message ("%s: %u of %u shown", what, shown->len, all->len);
      assert_list_without (what, all, shown, hidden[l]);
      assert_list_without (what, all, admin, nothing);
    }
}

/* Each domain of a list is checked (domain.getattr, with its name) once for
 * a caller, and then reused. */
static void
test_list_checks_reused (void)
{
  g_autoptr(VbHelper) web = vb_client_new (USER_WEB);
  g_autoptr(VbTestCall) list = vb_test_call_new (VB_AUTHZ_CONNECT_PATH, "org.libvirt.Connect",
                                                 "ListDomains", g_variant_new ("(u)", 0),
                                                 "connect:search-domains");
  g_autoptr(GVariant) all = vb_test_connect_call (&world.fixture, "ListDomains",
                                                  g_variant_new ("(u)", 0), "(ao)");
  g_autoptr(GVariant) all_paths = g_variant_get_child_value (all, 0);
  g_autofree char *web_name = vb_client_name (web);
  guint mark = vb_polkit_monitor_mark (monitor);

  vb_client_call (web, list, FALSE);
  g_assert_nonnull (list->reply);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, GETATTR_ACTION, web_name, 0), ==,
                    g_variant_n_children (all_paths));
  vb_client_call (web, list, FALSE);
  g_assert_nonnull (list->reply);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, GETATTR_ACTION, web_name, 0), ==,
                    g_variant_n_children (all_paths));
}

static gboolean
heard_event_of (GStrv signals, const char *path)
{
  for (char **s = signals; *s != NULL; s++)
    if (g_str_has_prefix (*s, "org.libvirt.Connect.DomainEvent ") && strstr (*s, path) != NULL)
      return TRUE;
  return FALSE;
}

static gboolean
heard_virtbusd (GStrv signals)
{
  for (char **s = signals; *s != NULL; s++)
    if (strstr (*s, "/org/libvirt") != NULL)
      return TRUE;
  return FALSE;
}

/* Root starts or stops hidden1 and hears its DomainEvent (after which the
 * bus has sent it to every listener). */
static void
root_changes_hidden1 (const char *member)
{
  g_autoptr(VbSignalRecorder) recorder = vb_signal_recorder_new (
      &world.fixture, "org.libvirt.Connect", "DomainEvent");
  g_autoptr(GVariant) reply = vb_test_call (&world.fixture, world.hidden1,
                                            "org.libvirt.Domain", member,
                                            g_variant_new ("(u)", 0), "()");
  g_autoptr(GVariant) event = vb_signal_recorder_wait_for_object (recorder, world.hidden1);
}

/* Signals are not filtered: the web user hears that hidden1 started
 * (documented in docs/authorization.md). */
static void
test_signals_stay_broadcast (void)
{
  g_autoptr(VbHelper) web = vb_client_new (USER_WEB);
  g_auto(GStrv) heard = NULL;

  vb_client_listen (web);
  root_changes_hidden1 ("Create");
  heard = vb_client_signals (web);
  g_assert_true (heard_event_of (heard, world.hidden1));
  root_changes_hidden1 ("Destroy");
}

/* The administrator's way to keep a user from hearing them: a bus policy
 * line denying it virtbusd's signals (the bus reloaded).  Its calls are
 * still answered, and the others still hear everything. */
static void
test_bus_policy_keeps_signals_from_user (void)
{
  g_autoptr(VbHelper) web = vb_client_new (USER_WEB);
  g_autoptr(VbHelper) plain = vb_client_new (USER_PLAIN);
  g_autoptr(VbTestCall) read = vb_test_call_domain_name (world.web1);
  g_auto(GStrv) web_heard = NULL, plain_heard = NULL;

  /* The policy first: a change notice of the case before, sent late by
   * virtbusd's notice thread, would otherwise reach a listener already
   * subscribed before the policy was in effect. */
  vb_authz_world_set_bus_policy (DENY_SIGNALS_TO_WEB_USER);
  vb_client_listen (web);
  vb_client_listen (plain);
  root_changes_hidden1 ("Create");
  web_heard = vb_client_signals (web);
  plain_heard = vb_client_signals (plain);
  vb_authz_world_set_bus_policy (NULL);
  root_changes_hidden1 ("Destroy");

  g_assert_true (heard_event_of (plain_heard, world.hidden1));
  if (heard_virtbusd (web_heard))
    g_error ("the web user heard virtbusd: %s", web_heard[0]);
  vb_client_call (web, read, FALSE);
  g_assert_null (read->error_name);
}

static void
add_tests (void)
{
  monitor = vb_polkit_monitor_new ();

  g_test_add_func ("/authz-lists/rule-hides-domain-and-snapshots",
                   test_rule_hides_domain_from_lists);
  g_test_add_func ("/authz-lists/per-object-checks-reused", test_list_checks_reused);
  g_test_add_func ("/authz-lists/signals/stay-broadcast", test_signals_stay_broadcast);
  g_test_add_func ("/authz-lists/signals/bus-policy-keeps-them-from-a-user",
                   test_bus_policy_keeps_signals_from_user);
}

static void
tear_down (void)
{
  vb_polkit_monitor_free (monitor);
}

int
main (int argc, char **argv)
{
  return vb_authz_test_main (argc, argv, "authz-lists", add_tests, tear_down);
}
