/* Live state on test:///default: ObjectManager (GetManagedObjects,
 * InterfacesAdded, InterfacesRemoved), PropertiesChanged and the Domain
 * properties virtbus adds.  Every PropertiesChanged received in these tests
 * is checked against the interface XML's EmitsChangedSignal annotations. */
#include <string.h>

#include "vb-watch.h"

#define PROPERTIES "org.freedesktop.DBus.Properties"
#define OBJECT_MANAGER "org.freedesktop.DBus.ObjectManager"
#define DOMAIN "org.libvirt.Domain"

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
  g_autoptr(VbWatcher) watcher = vb_watcher_new (f);
  g_autofree char *path = define_domain (f, "live1");
  g_autoptr(GVariant) added = vb_watcher_expect_added (watcher, path, DOMAIN);
  g_autoptr(GVariant) started = NULL, paused = NULL, resumed = NULL, stopped = NULL;

  /* Every property, with its value now. */
  g_assert_cmpuint (g_variant_n_children (added), ==, 16);
  vb_assert_dict_value (added, "Name", "'live1'");
  vb_assert_dict_value (added, "Active", "false");
  vb_assert_dict_value (added, "State", "5");
  vb_assert_dict_value (added, "Memory", "uint64 65536");
  vb_assert_dict_value (added, "VCPUs", "uint32 1");

  domain_call (f, path, "Create", g_variant_new ("(u)", 0));
  started = vb_watcher_expect_changed (watcher, path, DOMAIN);
  vb_assert_dict_value (started, "Active", "true");
  vb_assert_dict_value (started, "State", "1");
  g_assert_cmpuint (g_variant_get_uint32 (g_variant_lookup_value (started, "Id", NULL)), >, 0);
  vb_assert_dict_lacks (started, "Name");
  vb_assert_dict_lacks (started, "UUID");

  domain_call (f, path, "Suspend", NULL);
  paused = vb_watcher_expect_changed (watcher, path, DOMAIN);
  vb_assert_dict_value (paused, "State", "3");
  vb_assert_dict_lacks (paused, "Active");

  domain_call (f, path, "Resume", NULL);
  resumed = vb_watcher_expect_changed (watcher, path, DOMAIN);
  vb_assert_dict_value (resumed, "State", "1");

  domain_call (f, path, "Destroy", g_variant_new ("(u)", 0));
  stopped = vb_watcher_expect_changed (watcher, path, DOMAIN);
  vb_assert_dict_value (stopped, "Active", "false");
  vb_assert_dict_value (stopped, "Id", "uint32 0");
  vb_assert_dict_value (stopped, "State", "5");

  domain_call (f, path, "Undefine", g_variant_new ("(u)", 0));
  vb_watcher_expect_removed (watcher, path, DOMAIN);
}

static void
test_transient_domain_comes_and_goes (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbWatcher) watcher = vb_watcher_new (f);
  g_autoptr(GVariant) reply = vb_test_connect_call (
      f, "DomainCreateXML",
      g_variant_new ("(su)", "<domain type='test'><name>live-transient</name>"
                     "<memory>65536</memory><os><type>hvm</type></os></domain>", 0),
      "(o)");
  g_autofree char *path = vb_test_reply_path (reply);
  g_autoptr(GVariant) added = vb_watcher_expect_added (watcher, path, DOMAIN);

  vb_assert_dict_value (added, "Persistent", "false");
  vb_assert_dict_value (added, "Active", "true");
  domain_call (f, path, "Destroy", g_variant_new ("(u)", 0));
  vb_watcher_expect_removed (watcher, path, DOMAIN);
}

/* A running domain undefined lives on, transient; it goes when stopped. */
static void
test_running_domain_undefined (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbWatcher) watcher = vb_watcher_new (f);
  g_autofree char *path = define_domain (f, "live2");
  g_autoptr(GVariant) added = vb_watcher_expect_added (watcher, path, DOMAIN);
  g_autoptr(GVariant) started = NULL, undefined = NULL;

  domain_call (f, path, "Create", g_variant_new ("(u)", 0));
  started = vb_watcher_expect_changed (watcher, path, DOMAIN);
  domain_call (f, path, "Undefine", g_variant_new ("(u)", 0));
  undefined = vb_watcher_expect_changed (watcher, path, DOMAIN);
  vb_assert_dict_value (undefined, "Persistent", "false");
  domain_call (f, path, "Destroy", g_variant_new ("(u)", 0));
  vb_watcher_expect_removed (watcher, path, DOMAIN);
}

/* Changes libvirt sends no lifecycle event for, made through virtbus. */
static void
test_changes_through_virtbus (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbWatcher) watcher = vb_watcher_new (f);
  g_autofree char *path = define_domain (f, "live3");
  g_autoptr(GVariant) added = vb_watcher_expect_added (watcher, path, DOMAIN);
  g_autoptr(GVariant) autostart = NULL, title = NULL, description = NULL, vcpus = NULL;
  g_autoptr(GVariant) memory = NULL, renamed = NULL, reply = NULL;

  reply = vb_test_call (f, path, PROPERTIES, "Set",
                        g_variant_new ("(ssv)", DOMAIN, "Autostart",
                                       g_variant_new_boolean (TRUE)), "()");
  autostart = vb_watcher_expect_changed (watcher, path, DOMAIN);
  vb_assert_dict_value (autostart, "Autostart", "true");

  domain_call (f, path, "SetMetadata",
               g_variant_new ("(isssu)", 1 /* TITLE */, "Web server", "", "", 0));
  title = vb_watcher_expect_changed (watcher, path, DOMAIN);
  vb_assert_dict_value (title, "Title", "'Web server'");
  domain_call (f, path, "SetMetadata",
               g_variant_new ("(isssu)", 0 /* DESCRIPTION */, "serves pages", "", "", 0));
  description = vb_watcher_expect_changed (watcher, path, DOMAIN);
  vb_assert_dict_value (description, "Description", "'serves pages'");

  domain_call (f, path, "SetVcpus", g_variant_new ("(uu)", 2, 2 /* CONFIG */));
  vcpus = vb_watcher_expect_changed (watcher, path, DOMAIN);
  vb_assert_dict_value (vcpus, "VCPUs", "uint32 2");
  domain_call (f, path, "SetMemory", g_variant_new ("(tu)", (guint64) 32768, 2));
  memory = vb_watcher_expect_changed (watcher, path, DOMAIN);
  vb_assert_dict_value (memory, "Memory", "uint64 32768");

  domain_call (f, path, "Rename", g_variant_new ("(su)", "live3-renamed", 0));
  renamed = vb_watcher_expect_changed (watcher, path, DOMAIN);
  vb_assert_dict_value (renamed, "Name", "'live3-renamed'");
}

static void
test_network_and_pool_lifecycle (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbWatcher) watcher = vb_watcher_new (f);
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
  g_autoptr(GVariant) net_added = vb_watcher_expect_added (watcher, net, "org.libvirt.Network");
  g_autoptr(GVariant) pool_added = vb_watcher_expect_added (watcher, pool, "org.libvirt.StoragePool");
  g_autoptr(GVariant) net_up = NULL, net_down = NULL, pool_up = NULL, pool_down = NULL;
  g_autoptr(GVariant) r1 = NULL, r2 = NULL, r3 = NULL, r4 = NULL, r5 = NULL, r6 = NULL;

  vb_assert_dict_value (net_added, "Name", "'live-net'");
  vb_assert_dict_value (pool_added, "Active", "false");

  r1 = vb_test_call (f, net, "org.libvirt.Network", "Create", NULL, "()");
  net_up = vb_watcher_expect_changed (watcher, net, "org.libvirt.Network");
  vb_assert_dict_value (net_up, "Active", "true");
  r2 = vb_test_call (f, net, "org.libvirt.Network", "Destroy", NULL, "()");
  net_down = vb_watcher_expect_changed (watcher, net, "org.libvirt.Network");
  vb_assert_dict_value (net_down, "Active", "false");
  r3 = vb_test_call (f, net, "org.libvirt.Network", "Undefine", NULL, "()");
  vb_watcher_expect_removed (watcher, net, "org.libvirt.Network");

  r4 = vb_test_call (f, pool, "org.libvirt.StoragePool", "Create",
                     g_variant_new ("(u)", 0), "()");
  pool_up = vb_watcher_expect_changed (watcher, pool, "org.libvirt.StoragePool");
  vb_assert_dict_value (pool_up, "Active", "true");
  r5 = vb_test_call (f, pool, "org.libvirt.StoragePool", "Destroy", NULL, "()");
  pool_down = vb_watcher_expect_changed (watcher, pool, "org.libvirt.StoragePool");
  vb_assert_dict_value (pool_down, "Active", "false");
  r6 = vb_test_call (f, pool, "org.libvirt.StoragePool", "Undefine", NULL, "()");
  vb_watcher_expect_removed (watcher, pool, "org.libvirt.StoragePool");
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

/* examples/vm-watcher, on ObjectManager and PropertiesChanged alone, shows
 * a VM defined, started, paused, stopped and undefined. */
static void
test_example_watcher_follows_a_vm (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *watcher_binary = g_test_build_filename (G_TEST_BUILT, "..", "examples",
                                                           "vm-watcher", NULL);
  const char *const argv[] = { watcher_binary, "--session", "Test", NULL };
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GSubprocess) watcher = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  const char *const expected[] = {
    "new      test                     running          2048 MiB  2 vCPU",
    "new      example                  shut off           64 MiB  1 vCPU",
    "changed  example                  running            64 MiB  1 vCPU",
    "changed  example                  paused             64 MiB  1 vCPU",
    "changed  example                  shut off           64 MiB  1 vCPU",
    "gone     example                  shut off           64 MiB  1 vCPU",
  };

  g_subprocess_launcher_setenv (launcher, "DBUS_SESSION_BUS_ADDRESS",
                                g_test_dbus_get_bus_address (f->test_bus), TRUE);
  watcher = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (watcher));
  for (gsize i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autofree char *line = g_data_input_stream_read_line (out, NULL, NULL, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (line, ==, expected[i]);
      /* Each step once the watcher has shown the one before. */
      if (i == 0)
        path = define_domain (f, "example");
      else if (i == 1)
        domain_call (f, path, "Create", g_variant_new ("(u)", 0));
      else if (i == 2)
        domain_call (f, path, "Suspend", NULL);
      else if (i == 3)
        domain_call (f, path, "Destroy", g_variant_new ("(u)", 0));
      else if (i == 4)
        domain_call (f, path, "Undefine", g_variant_new ("(u)", 0));
    }
  g_subprocess_force_exit (watcher);
  g_subprocess_wait (watcher, NULL, NULL);
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

  g_test_add ("/live/example-watcher-follows-a-vm", VbTestFixture, NULL, vb_test_setup,
              test_example_watcher_follows_a_vm, vb_test_teardown);

  return g_test_run ();
}
