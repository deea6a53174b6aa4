/* Live state on test:///default: ObjectManager (GetManagedObjects,
 * InterfacesAdded, InterfacesRemoved), PropertiesChanged and the Domain
 * properties virtbus adds.  Every PropertiesChanged received in these tests
 * is checked against the interface XML's EmitsChangedSignal annotations. */
#include <string.h>

#include "vb-test.h"

#define PROPERTIES "org.freedesktop.DBus.Properties"
#define OBJECT_MANAGER "org.freedesktop.DBus.ObjectManager"
#define DOMAIN "org.libvirt.Domain"
#define EMITS "org.freedesktop.DBus.Property.EmitsChangedSignal"

/* ---- a recorder of PropertiesChanged and InterfacesAdded/Removed -------- */

typedef struct {
  char *path;          /* the object: the signal's path or its first argument */
  char *member;
  GVariant *args;
} Notice;

typedef struct {
  VbTestFixture *f;
  GQueue notices;
  guint subscriptions[2];
  GHashTable *interfaces;  /* name -> GDBusNodeInfo holding it */
} Watcher;

static void
notice_free (Notice *notice)
{
  g_free (notice->path);
  g_free (notice->member);
  g_variant_unref (notice->args);
  g_free (notice);
}

static void
on_signal (GDBusConnection *bus, const char *sender, const char *path, const char *iface,
           const char *member, GVariant *args, gpointer data)
{
  Watcher *watcher = data;
  Notice *notice = g_new0 (Notice, 1);

  notice->member = g_strdup (member);
  notice->args = g_variant_ref (args);
  if (g_str_equal (iface, OBJECT_MANAGER))
    g_variant_get_child (args, 0, "o", &notice->path);
  else
    notice->path = g_strdup (path);
  g_queue_push_tail (&watcher->notices, notice);
}

static Watcher *
watcher_new (VbTestFixture *f)
{
  Watcher *watcher = g_new0 (Watcher, 1);
  const char *const ifaces[] = { PROPERTIES, OBJECT_MANAGER };

  watcher->f = f;
  watcher->interfaces = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                               (GDestroyNotify) g_dbus_node_info_unref);
  for (int i = 0; i < 2; i++)
    watcher->subscriptions[i] = g_dbus_connection_signal_subscribe (
        f->bus, "org.libvirt", ifaces[i], NULL, NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
        on_signal, watcher, NULL);
  /* The match rules are in place once a call has gone through. */
  vb_test_assert_alive (f);
  return watcher;
}

static void
watcher_free (Watcher *watcher)
{
  for (int i = 0; i < 2; i++)
    g_dbus_connection_signal_unsubscribe (watcher->f->bus, watcher->subscriptions[i]);
  g_queue_clear_full (&watcher->notices, (GDestroyNotify) notice_free);
  g_hash_table_unref (watcher->interfaces);
  g_free (watcher);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Watcher, watcher_free)

static GDBusInterfaceInfo *
interface_info (Watcher *watcher, const char *path, const char *name)
{
  GDBusNodeInfo *node = g_hash_table_lookup (watcher->interfaces, name);

  if (node == NULL)
    {
      vb_test_introspect_interface (watcher->f, path, name, &node);
      g_hash_table_insert (watcher->interfaces, g_strdup (name), node);
    }
  return g_dbus_node_info_lookup_interface (node, name);
}

static const char *
emits (GDBusInterfaceInfo *info, const char *property)
{
  GDBusPropertyInfo *p = g_dbus_interface_info_lookup_property (info, property);
  const char *value;

  g_assert_nonnull (p);
  value = g_dbus_annotation_info_lookup (p->annotations, EMITS);
  if (value == NULL)
    value = g_dbus_annotation_info_lookup (info->annotations, EMITS);
  return value != NULL ? value : "true";
}

/* What the XML promises: values only of "true" properties, names only of
 * "invalidates" ones, never a "const" or "false" one. */
static void
assert_annotations_kept (Watcher *watcher, const Notice *notice)
{
  const char *iface, *name;
  g_autoptr(GVariant) changed = NULL;
  g_autofree const char **invalidated = NULL;
  GDBusInterfaceInfo *info;
  GVariantIter iter;
  GVariant *value;

  g_variant_get (notice->args, "(&s@a{sv}^a&s)", &iface, &changed, &invalidated);
  info = interface_info (watcher, notice->path, iface);
  g_variant_iter_init (&iter, changed);
  while (g_variant_iter_loop (&iter, "{&sv}", &name, &value))
    {
      GDBusPropertyInfo *p = g_dbus_interface_info_lookup_property (info, name);

      if (!g_str_equal (emits (info, name), "true"))
        g_error ("%s.%s changed with a value, but its EmitsChangedSignal is %s", iface,
                 name, emits (info, name));
      g_assert_cmpstr (g_variant_get_type_string (value), ==, p->signature);
    }
  for (gsize i = 0; invalidated[i] != NULL; i++)
    if (!g_str_equal (emits (info, invalidated[i]), "invalidates"))
      g_error ("%s.%s invalidated, but its EmitsChangedSignal is %s", iface,
               invalidated[i], emits (info, invalidated[i]));
}

static gboolean
on_timeout (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* The next notice about @path (others are passed over), within 5 s. */
static Notice *
watcher_next (Watcher *watcher, const char *path)
{
  gboolean timed_out = FALSE;
  guint timeout = g_timeout_add_seconds (5, on_timeout, &timed_out);

  for (;;)
    {
      while (!g_queue_is_empty (&watcher->notices))
        {
          Notice *notice = g_queue_pop_head (&watcher->notices);

          if (g_str_equal (notice->member, "PropertiesChanged"))
            assert_annotations_kept (watcher, notice);
          if (g_str_equal (notice->path, path))
            {
              if (!timed_out)
                g_source_remove (timeout);
              return notice;
            }
          notice_free (notice);
        }
      if (timed_out)
        g_error ("no notice about %s within 5 s", path);
      g_main_context_iteration (NULL, TRUE);
    }
}

/* The next notice about @path is PropertiesChanged on @iface; returns its
 * changed values. */
static GVariant *
expect_changed (Watcher *watcher, const char *path, const char *iface)
{
  Notice *notice = watcher_next (watcher, path);
  const char *name;
  GVariant *changed;

  g_assert_cmpstr (notice->member, ==, "PropertiesChanged");
  g_variant_get (notice->args, "(&s@a{sv}as)", &name, &changed, NULL);
  g_assert_cmpstr (name, ==, iface);
  notice_free (notice);
  return changed;
}

/* The next notice about @path is InterfacesAdded of @iface; returns its
 * properties. */
static GVariant *
expect_added (Watcher *watcher, const char *path, const char *iface)
{
  Notice *notice = watcher_next (watcher, path);
  g_autoptr(GVariant) interfaces = NULL;
  GVariant *properties;

  g_assert_cmpstr (notice->member, ==, "InterfacesAdded");
  g_variant_get (notice->args, "(o@a{sa{sv}})", NULL, &interfaces);
  g_assert_cmpuint (g_variant_n_children (interfaces), ==, 1);
  properties = g_variant_lookup_value (interfaces, iface, G_VARIANT_TYPE ("a{sv}"));
  g_assert_nonnull (properties);
  notice_free (notice);
  return properties;
}

static void
expect_removed (Watcher *watcher, const char *path, const char *iface)
{
  Notice *notice = watcher_next (watcher, path);
  g_autofree const char **names = NULL;

  g_assert_cmpstr (notice->member, ==, "InterfacesRemoved");
  g_variant_get (notice->args, "(o^a&s)", NULL, &names);
  g_assert_cmpuint (g_strv_length ((char **) names), ==, 1);
  g_assert_cmpstr (names[0], ==, iface);
  notice_free (notice);
}

/* ---- helpers ------------------------------------------------------------ */

static void
assert_value (GVariant *dict, const char *name, const char *expected)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (dict, name, NULL);
  g_autofree char *text = NULL;

  if (value == NULL)
    {
      g_autofree char *all = g_variant_print (dict, TRUE);

      g_error ("%s missing from %s", name, all);
    }
  text = g_variant_print (value, TRUE);
  g_assert_cmpstr (text, ==, expected);
}

static void
assert_absent (GVariant *dict, const char *name)
{
  g_autoptr(GVariant) value = g_variant_lookup_value (dict, name, NULL);

  g_assert_null (value);
}

static char *
define_domain (VbTestFixture *f, const char *name)
{
  g_autofree char *xml = g_strdup_printf (
      "<domain type='test'><name>%s</name><memory>65536</memory><vcpu current='1'>2</vcpu>"
      "<os><type>hvm</type></os></domain>", name);
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "DomainDefineXML",
                                                    g_variant_new ("(s)", xml), "(o)");

  return vb_test_reply_path (reply);
}

static void
domain_call (VbTestFixture *f, const char *path, const char *method, GVariant *args)
{
  g_autoptr(GVariant) reply = vb_test_call (f, path, DOMAIN, method, args, NULL);
}

/* ---- tests -------------------------------------------------------------- */

static void
test_domain_lifecycle (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(Watcher) watcher = watcher_new (f);
  g_autofree char *path = define_domain (f, "live1");
  g_autoptr(GVariant) added = expect_added (watcher, path, DOMAIN);
  g_autoptr(GVariant) started = NULL, paused = NULL, resumed = NULL, stopped = NULL;

  /* Every property, with its value now. */
  g_assert_cmpuint (g_variant_n_children (added), ==, 16);
  assert_value (added, "Name", "'live1'");
  assert_value (added, "Active", "false");
  assert_value (added, "State", "5");
  assert_value (added, "Memory", "uint64 65536");
  assert_value (added, "VCPUs", "uint32 1");

  domain_call (f, path, "Create", g_variant_new ("(u)", 0));
  started = expect_changed (watcher, path, DOMAIN);
  assert_value (started, "Active", "true");
  assert_value (started, "State", "1");
  g_assert_cmpuint (g_variant_get_uint32 (g_variant_lookup_value (started, "Id", NULL)), >, 0);
  assert_absent (started, "Name");
  assert_absent (started, "UUID");

  domain_call (f, path, "Suspend", NULL);
  paused = expect_changed (watcher, path, DOMAIN);
  assert_value (paused, "State", "3");
  assert_absent (paused, "Active");

  domain_call (f, path, "Resume", NULL);
  resumed = expect_changed (watcher, path, DOMAIN);
  assert_value (resumed, "State", "1");

  domain_call (f, path, "Destroy", g_variant_new ("(u)", 0));
  stopped = expect_changed (watcher, path, DOMAIN);
  assert_value (stopped, "Active", "false");
  assert_value (stopped, "Id", "uint32 0");
  assert_value (stopped, "State", "5");

  domain_call (f, path, "Undefine", g_variant_new ("(u)", 0));
  expect_removed (watcher, path, DOMAIN);
}

static void
test_transient_domain_comes_and_goes (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(Watcher) watcher = watcher_new (f);
  g_autoptr(GVariant) reply = vb_test_connect_call (
      f, "DomainCreateXML",
      g_variant_new ("(su)", "<domain type='test'><name>live-transient</name>"
                     "<memory>65536</memory><os><type>hvm</type></os></domain>", 0),
      "(o)");
  g_autofree char *path = vb_test_reply_path (reply);
  g_autoptr(GVariant) added = expect_added (watcher, path, DOMAIN);

  assert_value (added, "Persistent", "false");
  assert_value (added, "Active", "true");
  domain_call (f, path, "Destroy", g_variant_new ("(u)", 0));
  expect_removed (watcher, path, DOMAIN);
}

/* A running domain undefined lives on, transient; it goes when stopped. */
static void
test_running_domain_undefined (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(Watcher) watcher = watcher_new (f);
  g_autofree char *path = define_domain (f, "live2");
  g_autoptr(GVariant) added = expect_added (watcher, path, DOMAIN);
  g_autoptr(GVariant) started = NULL, undefined = NULL;

  domain_call (f, path, "Create", g_variant_new ("(u)", 0));
  started = expect_changed (watcher, path, DOMAIN);
  domain_call (f, path, "Undefine", g_variant_new ("(u)", 0));
  undefined = expect_changed (watcher, path, DOMAIN);
  assert_value (undefined, "Persistent", "false");
  domain_call (f, path, "Destroy", g_variant_new ("(u)", 0));
  expect_removed (watcher, path, DOMAIN);
}

/* Changes libvirt sends no lifecycle event for, made through virtbus. */
static void
test_changes_through_virtbus (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(Watcher) watcher = watcher_new (f);
  g_autofree char *path = define_domain (f, "live3");
  g_autoptr(GVariant) added = expect_added (watcher, path, DOMAIN);
  g_autoptr(GVariant) autostart = NULL, title = NULL, description = NULL, vcpus = NULL;
  g_autoptr(GVariant) memory = NULL, renamed = NULL, reply = NULL;

  reply = vb_test_call (f, path, PROPERTIES, "Set",
                        g_variant_new ("(ssv)", DOMAIN, "Autostart",
                                       g_variant_new_boolean (TRUE)), "()");
  autostart = expect_changed (watcher, path, DOMAIN);
  assert_value (autostart, "Autostart", "true");

  domain_call (f, path, "SetMetadata",
               g_variant_new ("(isssu)", 1 /* TITLE */, "Web server", "", "", 0));
  title = expect_changed (watcher, path, DOMAIN);
  assert_value (title, "Title", "'Web server'");
  domain_call (f, path, "SetMetadata",
               g_variant_new ("(isssu)", 0 /* DESCRIPTION */, "serves pages", "", "", 0));
  description = expect_changed (watcher, path, DOMAIN);
  assert_value (description, "Description", "'serves pages'");

  domain_call (f, path, "SetVcpus", g_variant_new ("(uu)", 2, 2 /* CONFIG */));
  vcpus = expect_changed (watcher, path, DOMAIN);
  assert_value (vcpus, "VCPUs", "uint32 2");
  domain_call (f, path, "SetMemory", g_variant_new ("(tu)", (guint64) 32768, 2));
  memory = expect_changed (watcher, path, DOMAIN);
  assert_value (memory, "Memory", "uint64 32768");

  domain_call (f, path, "Rename", g_variant_new ("(su)", "live3-renamed", 0));
  renamed = expect_changed (watcher, path, DOMAIN);
  assert_value (renamed, "Name", "'live3-renamed'");
}

static void
test_network_and_pool_lifecycle (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(Watcher) watcher = watcher_new (f);
  g_autoptr(GVariant) net_reply = vb_test_connect_call (
      f, "NetworkDefineXML",
      g_variant_new ("(s)", "<network><name>live-net</name><bridge name='vblive0'/></network>"),
      "(o)");
  g_autofree char *net = vb_test_reply_path (net_reply);
  g_autoptr(GVariant) pool_reply = vb_test_connect_call (
      f, "StoragePoolDefineXML",
      g_variant_new ("(su)", "<pool type='dir'><name>live-pool</name>"
                     "<target><path>/nonexistent/live-pool</path></target></pool>", 0),
      "(o)");
  g_autofree char *pool = vb_test_reply_path (pool_reply);
  g_autoptr(GVariant) net_added = expect_added (watcher, net, "org.libvirt.Network");
  g_autoptr(GVariant) pool_added = expect_added (watcher, pool, "org.libvirt.StoragePool");
  g_autoptr(GVariant) net_up = NULL, net_down = NULL, pool_up = NULL, pool_down = NULL;
  g_autoptr(GVariant) r1 = NULL, r2 = NULL, r3 = NULL, r4 = NULL, r5 = NULL, r6 = NULL;

  assert_value (net_added, "Name", "'live-net'");
  assert_value (pool_added, "Active", "false");

  r1 = vb_test_call (f, net, "org.libvirt.Network", "Create", NULL, "()");
  net_up = expect_changed (watcher, net, "org.libvirt.Network");
  assert_value (net_up, "Active", "true");
  r2 = vb_test_call (f, net, "org.libvirt.Network", "Destroy", NULL, "()");
  net_down = expect_changed (watcher, net, "org.libvirt.Network");
  assert_value (net_down, "Active", "false");
  r3 = vb_test_call (f, net, "org.libvirt.Network", "Undefine", NULL, "()");
  expect_removed (watcher, net, "org.libvirt.Network");

  r4 = vb_test_call (f, pool, "org.libvirt.StoragePool", "Create",
                     g_variant_new ("(u)", 0), "()");
  pool_up = expect_changed (watcher, pool, "org.libvirt.StoragePool");
  assert_value (pool_up, "Active", "true");
  r5 = vb_test_call (f, pool, "org.libvirt.StoragePool", "Destroy", NULL, "()");
  pool_down = expect_changed (watcher, pool, "org.libvirt.StoragePool");
  assert_value (pool_down, "Active", "false");
  r6 = vb_test_call (f, pool, "org.libvirt.StoragePool", "Undefine", NULL, "()");
  expect_removed (watcher, pool, "org.libvirt.StoragePool");
}

/* ---- GetManagedObjects ---------------------------------------------------- */

static GVariant *
managed_objects (VbTestFixture *f)
{
  g_autoptr(GVariant) reply = vb_test_call (f, VB_TEST_CONNECT_PATH, OBJECT_MANAGER,
                                            "GetManagedObjects", NULL, "(a{oa{sa{sv}}})");

  return g_variant_get_child_value (reply, 0);
}

/* The paths of @managed that have @iface. */
static GPtrArray *
managed_paths (GVariant *managed, const char *iface)
{
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
  GVariantIter iter;
  const char *path;
  GVariant *interfaces;

  g_variant_iter_init (&iter, managed);
  while (g_variant_iter_loop (&iter, "{&o@a{sa{sv}}}", &path, &interfaces))
    if (g_variant_lookup_value (interfaces, iface, NULL) != NULL)
      g_ptr_array_add (paths, g_strdup (path));
  return paths;
}

static void
assert_same_paths (GPtrArray *managed, GVariant *listed, const char *what)
{
  g_autofree const char **paths = NULL;

  g_variant_get (listed, "(^a&o)", &paths);
  if (managed->len != g_strv_length ((char **) paths))
    g_error ("%s: GetManagedObjects has %u, the list %u", what, managed->len,
             g_strv_length ((char **) paths));
  for (guint i = 0; paths[i] != NULL; i++)
    if (!g_ptr_array_find_with_equal_func (managed, paths[i], g_str_equal, NULL))
      g_error ("%s: %s listed but not managed", what, paths[i]);
}

static void
test_managed_objects_match_lists (VbTestFixture *f, gconstpointer data)
{
  const struct {
    const char *iface;
    const char *list;
    const char *args;
  } kinds[] = {
    { DOMAIN, "ListDomains", "(u)" },
    { "org.libvirt.Network", "ListNetworks", "(u)" },
    { "org.libvirt.StoragePool", "ListStoragePools", "(u)" },
    { "org.libvirt.NodeDevice", "ListNodeDevices", "(u)" },
    { "org.libvirt.Interface", "ListInterfaces", "(u)" },
  };
  g_autofree char *extra = define_domain (f, "managed-extra");
  g_autoptr(GVariant) snapshot = vb_test_call (
      f, VB_TEST_DOMAIN_PATH, DOMAIN, "SnapshotCreateXML",
      g_variant_new ("(su)", "<domainsnapshot><name>m1</name></domainsnapshot>", 0), "(o)");
  g_autoptr(GVariant) managed = managed_objects (f);
  g_autoptr(GPtrArray) snapshots = managed_paths (managed, "org.libvirt.DomainSnapshot");
  g_autoptr(GPtrArray) volumes = managed_paths (managed, "org.libvirt.StorageVol");
  g_autoptr(GVariant) listed_snapshots = vb_test_call (f, VB_TEST_DOMAIN_PATH, DOMAIN,
                                                       "ListDomainSnapshots",
                                                       g_variant_new ("(u)", 0), "(ao)");
  g_autoptr(GVariant) listed_volumes = vb_test_call (f, VB_TEST_POOL_PATH,
                                                     "org.libvirt.StoragePool",
                                                     "ListStorageVolumes",
                                                     g_variant_new ("(u)", 0), "(ao)");

  for (gsize k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      g_autoptr(GPtrArray) paths = managed_paths (managed, kinds[k].iface);
      g_autoptr(GVariant) listed = vb_test_connect_call (f, kinds[k].list,
                                                         g_variant_new (kinds[k].args, 0),
                                                         "(ao)");

      g_assert_cmpuint (paths->len, >, 0);
      assert_same_paths (paths, listed, kinds[k].list);
    }
  assert_same_paths (snapshots, listed_snapshots, "ListDomainSnapshots");
  assert_same_paths (volumes, listed_volumes, "ListStorageVolumes");
}

/* An object's properties in GetManagedObjects are GetAll's (boxed once). */
static void
test_managed_properties_are_get_all (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) managed = managed_objects (f);
  g_autoptr(GVariant) interfaces = g_variant_lookup_value (managed, VB_TEST_DOMAIN_PATH,
                                                           NULL);
  g_autoptr(GVariant) properties = g_variant_lookup_value (interfaces, DOMAIN, NULL);
  g_autoptr(GVariant) get_all = vb_test_get_all (f, VB_TEST_DOMAIN_PATH, DOMAIN);

  g_assert_nonnull (properties);
  g_assert_true (g_variant_equal (properties, get_all));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/live/domain/lifecycle", VbTestFixture, NULL, vb_test_setup,
              test_domain_lifecycle, vb_test_teardown);
  g_test_add ("/live/domain/transient-comes-and-goes", VbTestFixture, NULL, vb_test_setup,
              test_transient_domain_comes_and_goes, vb_test_teardown);
  g_test_add ("/live/domain/running-undefined", VbTestFixture, NULL, vb_test_setup,
              test_running_domain_undefined, vb_test_teardown);
  g_test_add ("/live/domain/changes-through-virtbus", VbTestFixture, NULL, vb_test_setup,
              test_changes_through_virtbus, vb_test_teardown);
  g_test_add ("/live/network-and-pool", VbTestFixture, NULL, vb_test_setup,
              test_network_and_pool_lifecycle, vb_test_teardown);
  g_test_add ("/live/managed-objects/match-lists", VbTestFixture, NULL, vb_test_setup,
              test_managed_objects_match_lists, vb_test_teardown);
  g_test_add ("/live/managed-objects/properties-are-get-all", VbTestFixture, NULL,
              vb_test_setup, test_managed_properties_are_get_all, vb_test_teardown);

  return g_test_run ();
}
