/* The object paths Connect returns: each answers Introspect with its
 * interface and Get/GetAll with its properties; writable Autostart;
 * unknown and malformed paths. */
#include <string.h>

#include "vb-test.h"

#define PROPERTIES "org.freedesktop.DBus.Properties"
#define UNKNOWN_OBJECT "org.freedesktop.DBus.Error.UnknownObject"
#define INVALID_ARGS "org.freedesktop.DBus.Error.InvalidArgs"

#define CUSTOM_VOLUME_PATH "/org/libvirt/Custom/storagevol/_2fvbpool_2fdisk1_2eimg"
#define CUSTOM_POOL_PATH "/org/libvirt/Custom/storagepool/_35bb2ad9_388a_cdfe_461a_b8907f6e53fe"

static void
setup_with_custom_host (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *node_file = g_test_build_filename (G_TEST_DIST, "data", "test-node.xml", NULL);
  g_autofree char *custom = g_strconcat ("Custom=test://", node_file, NULL);
  const char *const args[] = {
    "--connect", "Test=test:///default", "--connect", custom, NULL
  };

  vb_test_setup_with_args (f, args);
}

static char *
introspect (VbTestFixture *f, const char *path)
{
  g_autoptr(GVariant) reply = vb_test_call (f, path, "org.freedesktop.DBus.Introspectable",
                                            "Introspect", NULL, "(s)");
  char *xml;

  g_variant_get (reply, "(s)", &xml);
  return xml;
}

/* Introspect shows the interface with each of @properties. */
static void
assert_introspection (VbTestFixture *f, const char *path, const char *iface,
                      const char *const *properties)
{
  g_autofree char *xml = introspect (f, path);
  g_autoptr(GDBusNodeInfo) node = g_dbus_node_info_new_for_xml (xml, NULL);
  GDBusInterfaceInfo *info;

  g_assert_nonnull (node);
  info = g_dbus_node_info_lookup_interface (node, iface);
  g_assert_nonnull (info);
  for (const char *const *p = properties; *p != NULL; p++)
    g_assert_nonnull (g_dbus_interface_info_lookup_property (info, *p));
}

static void
assert_string_property (VbTestFixture *f, const char *path, const char *iface,
                        const char *name, const char *expected)
{
  g_autoptr(GVariant) value = vb_test_get_property (f, path, iface, name);

  g_assert_cmpstr (g_variant_get_string (value, NULL), ==, expected);
}

static void
assert_boolean_property (VbTestFixture *f, const char *path, const char *iface,
                         const char *name, gboolean expected)
{
  g_autoptr(GVariant) value = vb_test_get_property (f, path, iface, name);

  g_assert_cmpint (g_variant_get_boolean (value), ==, expected);
}

static void
assert_get_all_equals (VbTestFixture *f, const char *path, const char *iface,
                       const char *expected_text)
{
  g_autoptr(GVariant) all = vb_test_get_all (f, path, iface);
  g_autoptr(GVariant) expected = g_variant_parse (G_VARIANT_TYPE ("a{sv}"),
                                                  expected_text, NULL, NULL, NULL);
  g_autofree char *printed = g_variant_print (all, TRUE);

  g_assert_nonnull (expected);
  if (!g_variant_equal (all, expected))
    g_error ("GetAll %s on %s: got %s, expected %s", iface, path, printed, expected_text);
}

static void
set_property (VbTestFixture *f, const char *path, const char *iface,
              const char *name, GVariant *value)
{
  g_autoptr(GVariant) reply = vb_test_call (f, path, PROPERTIES, "Set",
                                            g_variant_new ("(ssv)", iface, name, value),
                                            "()");
}

/* ---- domain ----------------------------------------------------------- */

static void
test_domain_object (VbTestFixture *f, gconstpointer data)
{
  const char *const properties[] = { "Active", "Autostart", "Description", "Id", "MaxMemory",
                                     "Memory", "Name", "OSType", "Persistent", "SchedulerType",
                                     "State", "StateReason", "Title", "Updated", "UUID",
                                     "VCPUs", NULL };
  g_autoptr(GVariant) id = vb_test_get_property (f, VB_TEST_DOMAIN_PATH, "org.libvirt.Domain", "Id");
  g_autoptr(GVariant) scheduler = vb_test_get_property (f, VB_TEST_DOMAIN_PATH, "org.libvirt.Domain", "SchedulerType");

  assert_introspection (f, VB_TEST_DOMAIN_PATH, "org.libvirt.Domain", properties);
  assert_get_all_equals (f, VB_TEST_DOMAIN_PATH, "org.libvirt.Domain",
                         "{'Active': <true>, 'Autostart': <false>, 'Description': <''>,"
                         " 'Id': <uint32 1>, 'MaxMemory': <uint64 8388608>,"
                         " 'Memory': <uint64 2097152>, 'Name': <'test'>,"
                         " 'OSType': <'linux'>, 'Persistent': <true>,"
                         " 'SchedulerType': <('fair', 1)>, 'State': <1>, 'StateReason': <0>,"
                         " 'Title': <''>, 'Updated': <false>,"
                         " 'UUID': <'" VB_TEST_DOMAIN_UUID "'>, 'VCPUs': <uint32 2>}");
  g_assert_cmpuint (g_variant_get_uint32 (id), ==, 1);
  g_assert_true (g_variant_is_of_type (scheduler, G_VARIANT_TYPE ("(si)")));
  assert_string_property (f, VB_TEST_DOMAIN_PATH, "org.libvirt.Domain", "Name", "test");
  assert_string_property (f, VB_TEST_DOMAIN_PATH, "org.libvirt.Domain", "OSType", "linux");
  assert_string_property (f, VB_TEST_DOMAIN_PATH, "org.libvirt.Domain", "UUID", VB_TEST_DOMAIN_UUID);
  assert_boolean_property (f, VB_TEST_DOMAIN_PATH, "org.libvirt.Domain", "Active", TRUE);
  assert_boolean_property (f, VB_TEST_DOMAIN_PATH, "org.libvirt.Domain", "Persistent", TRUE);
  assert_boolean_property (f, VB_TEST_DOMAIN_PATH, "org.libvirt.Domain", "Updated", FALSE);
}

static void
test_domain_inactive_id_is_zero (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *path = vb_test_define_domain (f, "off");
  g_autoptr(GVariant) id = vb_test_get_property (f, path, "org.libvirt.Domain", "Id");

  g_assert_cmpuint (g_variant_get_uint32 (id), ==, 0);
  assert_boolean_property (f, path, "org.libvirt.Domain", "Active", FALSE);
}

static void
test_domain_autostart_writable (VbTestFixture *f, gconstpointer data)
{
  set_property (f, VB_TEST_DOMAIN_PATH, "org.libvirt.Domain", "Autostart", g_variant_new_boolean (TRUE));
  assert_boolean_property (f, VB_TEST_DOMAIN_PATH, "org.libvirt.Domain", "Autostart", TRUE);
  set_property (f, VB_TEST_DOMAIN_PATH, "org.libvirt.Domain", "Autostart", g_variant_new_boolean (FALSE));
  assert_boolean_property (f, VB_TEST_DOMAIN_PATH, "org.libvirt.Domain", "Autostart", FALSE);

  vb_test_assert_call_error (f, VB_TEST_DOMAIN_PATH, PROPERTIES, "Set",
                             g_variant_new ("(ssv)", "org.libvirt.Domain", "Autostart",
                                            g_variant_new_string ("yes")),
                             INVALID_ARGS, NULL);
  vb_test_assert_call_error (f, VB_TEST_DOMAIN_PATH, PROPERTIES, "Set",
                             g_variant_new ("(ssv)", "org.libvirt.Domain", "Name",
                                            g_variant_new_string ("renamed")),
                             INVALID_ARGS, NULL);
}

/* ---- network, storage pool -------------------------------------------- */

static void
test_network_object (VbTestFixture *f, gconstpointer data)
{
  const char *const properties[] = { "Active", "Autostart", "Name", "Persistent", "UUID", NULL };

  assert_introspection (f, VB_TEST_NETWORK_PATH, "org.libvirt.Network", properties);
  assert_get_all_equals (f, VB_TEST_NETWORK_PATH, "org.libvirt.Network",
                         "{'Active': <true>, 'Autostart': <false>, 'Name': <'default'>,"
                         " 'Persistent': <true>, 'UUID': <'" VB_TEST_NETWORK_UUID "'>}");
  assert_string_property (f, VB_TEST_NETWORK_PATH, "org.libvirt.Network", "Name", "default");
  assert_string_property (f, VB_TEST_NETWORK_PATH, "org.libvirt.Network", "UUID", VB_TEST_NETWORK_UUID);
  assert_boolean_property (f, VB_TEST_NETWORK_PATH, "org.libvirt.Network", "Active", TRUE);
  assert_boolean_property (f, VB_TEST_NETWORK_PATH, "org.libvirt.Network", "Persistent", TRUE);

  set_property (f, VB_TEST_NETWORK_PATH, "org.libvirt.Network", "Autostart", g_variant_new_boolean (TRUE));
  assert_boolean_property (f, VB_TEST_NETWORK_PATH, "org.libvirt.Network", "Autostart", TRUE);
}

static void
test_storage_pool_object (VbTestFixture *f, gconstpointer data)
{
  const char *const properties[] = { "Active", "Autostart", "Name", "Persistent", "UUID", NULL };

  assert_introspection (f, VB_TEST_POOL_PATH, "org.libvirt.StoragePool", properties);
  assert_get_all_equals (f, VB_TEST_POOL_PATH, "org.libvirt.StoragePool",
                         "{'Active': <true>, 'Autostart': <false>, 'Name': <'default-pool'>,"
                         " 'Persistent': <true>, 'UUID': <'" VB_TEST_POOL_UUID "'>}");
  assert_string_property (f, VB_TEST_POOL_PATH, "org.libvirt.StoragePool", "Name", "default-pool");
  assert_string_property (f, VB_TEST_POOL_PATH, "org.libvirt.StoragePool", "UUID", VB_TEST_POOL_UUID);
  assert_boolean_property (f, VB_TEST_POOL_PATH, "org.libvirt.StoragePool", "Active", TRUE);
  assert_boolean_property (f, VB_TEST_POOL_PATH, "org.libvirt.StoragePool", "Persistent", TRUE);

  set_property (f, VB_TEST_POOL_PATH, "org.libvirt.StoragePool", "Autostart", g_variant_new_boolean (TRUE));
  assert_boolean_property (f, VB_TEST_POOL_PATH, "org.libvirt.StoragePool", "Autostart", TRUE);
}

/* ---- storage volume (custom host) ------------------------------------- */

static void
test_storage_vol_object (VbTestFixture *f, gconstpointer data)
{
  const char *const properties[] = { "Name", "Key", "Path", NULL };
  g_autoptr(GVariant) by_key = vb_test_call (f, "/org/libvirt/Custom", "org.libvirt.Connect",
                                             "StorageVolLookupByKey",
                                             g_variant_new ("(s)", "/vbpool/disk1.img"), "(o)");
  g_autoptr(GVariant) by_path = vb_test_call (f, "/org/libvirt/Custom", "org.libvirt.Connect",
                                              "StorageVolLookupByPath",
                                              g_variant_new ("(s)", "/vbpool/disk1.img"), "(o)");
  g_autofree char *key_path = vb_test_reply_path (by_key);
  g_autofree char *path_path = vb_test_reply_path (by_path);

  g_assert_cmpstr (key_path, ==, CUSTOM_VOLUME_PATH);
  g_assert_cmpstr (path_path, ==, CUSTOM_VOLUME_PATH);
  assert_introspection (f, CUSTOM_VOLUME_PATH, "org.libvirt.StorageVol", properties);
  assert_get_all_equals (f, CUSTOM_VOLUME_PATH, "org.libvirt.StorageVol",
                         "{'Name': <'disk1.img'>, 'Key': <'/vbpool/disk1.img'>,"
                         " 'Path': <'/vbpool/disk1.img'>}");
  assert_string_property (f, CUSTOM_VOLUME_PATH, "org.libvirt.StorageVol", "Name", "disk1.img");
  assert_string_property (f, CUSTOM_VOLUME_PATH, "org.libvirt.StorageVol", "Key", "/vbpool/disk1.img");
  assert_string_property (f, CUSTOM_VOLUME_PATH, "org.libvirt.StorageVol", "Path", "/vbpool/disk1.img");
  assert_string_property (f, CUSTOM_POOL_PATH, "org.libvirt.StoragePool", "Name", "vbpool");

  vb_test_assert_call_error (f, "/org/libvirt/Custom/storagevol/_2fvbpool_2fnope", PROPERTIES,
                             "GetAll", g_variant_new ("(s)", "org.libvirt.StorageVol"),
                             UNKNOWN_OBJECT, "Storage volume not found");
}

/* ---- node device, host interface -------------------------------------- */

static void
test_node_device_object (VbTestFixture *f, gconstpointer data)
{
  const char *const properties[] = { "Name", "Parent", NULL };
  const char *path = "/org/libvirt/Test/nodedev/scsi_5fhost1";

  assert_introspection (f, path, "org.libvirt.NodeDevice", properties);
  assert_get_all_equals (f, path, "org.libvirt.NodeDevice",
                         "{'Name': <'scsi_host1'>, 'Parent': <'computer'>}");
  assert_string_property (f, path, "org.libvirt.NodeDevice", "Name", "scsi_host1");
  assert_string_property (f, path, "org.libvirt.NodeDevice", "Parent", "computer");

  /* The root device has no parent: Get fails, GetAll leaves it out. */
  assert_get_all_equals (f, "/org/libvirt/Test/nodedev/computer", "org.libvirt.NodeDevice",
                         "{'Name': <'computer'>}");
  vb_test_assert_call_error (f, "/org/libvirt/Test/nodedev/computer", PROPERTIES, "Get",
                             g_variant_new ("(ss)", "org.libvirt.NodeDevice", "Parent"),
                             VB_ERROR_LIBVIRT_NAME, "no parent");
}

static void
test_host_interface_object (VbTestFixture *f, gconstpointer data)
{
  const char *const properties[] = { "Active", "MAC", "Name", NULL };

  assert_introspection (f, VB_TEST_INTERFACE_PATH, "org.libvirt.Interface", properties);
  assert_get_all_equals (f, VB_TEST_INTERFACE_PATH, "org.libvirt.Interface",
                         "{'Active': <true>, 'MAC': <'aa:bb:cc:dd:ee:ff'>, 'Name': <'eth1'>}");
  assert_string_property (f, VB_TEST_INTERFACE_PATH, "org.libvirt.Interface", "Name", "eth1");
  assert_string_property (f, VB_TEST_INTERFACE_PATH, "org.libvirt.Interface", "MAC", "aa:bb:cc:dd:ee:ff");
  assert_boolean_property (f, VB_TEST_INTERFACE_PATH, "org.libvirt.Interface", "Active", TRUE);
}

/* ---- kinds the test driver has no objects of -------------------------- */

static void
test_nwfilter_secret_snapshot_introspect (VbTestFixture *f, gconstpointer data)
{
  const char *const nwfilter_properties[] = { "Name", "UUID", NULL };
  const char *const secret_properties[] = { "UUID", "UsageID", "UsageType", NULL };
  const char *const none[] = { NULL };
  const char *nwfilter = "/org/libvirt/Test/nwfilter/_6695eb01_f6a4_8304_79aa_97f2502e193f";
  const char *secret = "/org/libvirt/Test/secret/_6695eb01_f6a4_8304_79aa_97f2502e193f";
  const char *snapshot = "/org/libvirt/Test/domainsnapshot/_6695eb01_f6a4_8304_79aa_97f2502e193f_snap_2d1";

  assert_introspection (f, nwfilter, "org.libvirt.NWFilter", nwfilter_properties);
  assert_introspection (f, secret, "org.libvirt.Secret", secret_properties);
  assert_introspection (f, snapshot, "org.libvirt.DomainSnapshot", none);

  /* The lookup itself is what the test driver lacks. */
  vb_test_assert_call_error (f, nwfilter, PROPERTIES, "GetAll",
                             g_variant_new ("(s)", "org.libvirt.NWFilter"),
                             VB_ERROR_LIBVIRT_NAME, VB_NOT_SUPPORTED_BY_DRIVER);
  vb_test_assert_call_error (f, secret, PROPERTIES, "Get",
                             g_variant_new ("(ss)", "org.libvirt.Secret", "UsageID"),
                             VB_ERROR_LIBVIRT_NAME, VB_NOT_SUPPORTED_BY_DRIVER);
  /* DomainSnapshot has no properties: GDBus answers GetAll itself. */
  assert_get_all_equals (f, snapshot, "org.libvirt.DomainSnapshot", "@a{sv} {}");
}

/* ---- paths that name nothing ------------------------------------------ */

static void
test_unknown_objects (VbTestFixture *f, gconstpointer data)
{
  struct {
    const char *path;
    const char *iface;
  } unknown[] = {
    { "/org/libvirt/Test/domain/_00000000_0000_0000_0000_000000000001", "org.libvirt.Domain" },
    { "/org/libvirt/Test/domain/not_a_uuid", "org.libvirt.Domain" },
    { "/org/libvirt/Test/network/_00000000_0000_0000_0000_000000000001", "org.libvirt.Network" },
    { "/org/libvirt/Test/storagepool/_00000000_0000_0000_0000_000000000001", "org.libvirt.StoragePool" },
    { "/org/libvirt/Test/storagevol/_2fnope", "org.libvirt.StorageVol" },
    { "/org/libvirt/Test/storagevol/bad_zz", "org.libvirt.StorageVol" },
    { "/org/libvirt/Test/nodedev/nope", "org.libvirt.NodeDevice" },
    { "/org/libvirt/Test/interface/00_3a00", "org.libvirt.Interface" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (unknown); i++)
    vb_test_assert_call_error (f, unknown[i].path, PROPERTIES, "GetAll",
                               g_variant_new ("(s)", unknown[i].iface), UNKNOWN_OBJECT, NULL);

  /* Our interfaces on paths we do not serve at all */
  vb_test_assert_call_error (f, "/org/libvirt/Nope", "org.libvirt.Connect", "ListDomains",
                             g_variant_new ("(u)", 0), UNKNOWN_OBJECT, "/org/libvirt/Nope");
  vb_test_assert_call_error (f, "/org/libvirt/Test/domain", "org.libvirt.Domain", "Create",
                             g_variant_new ("(u)", 0), UNKNOWN_OBJECT, NULL);
  vb_test_assert_call_error (f, "/org/libvirt/Test/bogus/x", "org.libvirt.Domain", "Create",
                             g_variant_new ("(u)", 0), UNKNOWN_OBJECT, NULL);
  vb_test_assert_alive (f);
}

static void
test_unknown_member (VbTestFixture *f, gconstpointer data)
{
  vb_test_assert_call_error (f, VB_TEST_CONNECT_PATH, "org.libvirt.Connect", "NoSuchMethod",
                             NULL, "org.freedesktop.DBus.Error.UnknownMethod", "NoSuchMethod");
  vb_test_assert_call_error (f, VB_TEST_DOMAIN_PATH, "org.libvirt.Network", "Create",
                             NULL, "org.freedesktop.DBus.Error.UnknownMethod", NULL);
}

static void
test_tree_introspection (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *root = introspect (f, "/org/libvirt");
  g_autofree char *conn = introspect (f, VB_TEST_CONNECT_PATH);
  g_autoptr(GDBusNodeInfo) root_node = g_dbus_node_info_new_for_xml (root, NULL);
  g_autoptr(GDBusNodeInfo) conn_node = g_dbus_node_info_new_for_xml (conn, NULL);
  const char *const kinds[] = { "domain", "domainsnapshot", "interface", "network", "nodedev",
                                "nwfilter", "secret", "storagepool", "storagevol", NULL };

  g_assert_nonnull (root_node);
  g_assert_nonnull (conn_node);
  g_assert_nonnull (root_node->nodes);
  g_assert_cmpstr (root_node->nodes[0]->path, ==, "Test");
  g_assert_nonnull (g_dbus_node_info_lookup_interface (conn_node, "org.libvirt.Connect"));
  for (const char *const *kind = kinds; *kind != NULL; kind++)
    {
      gboolean found = FALSE;

      for (GDBusNodeInfo **child = conn_node->nodes; *child != NULL; child++)
        found = found || g_str_equal ((*child)->path, *kind);
      g_assert_true (found);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) \
  g_test_add ("/objects/" name, VbTestFixture, NULL, vb_test_setup, func, vb_test_teardown)

  ADD ("domain", test_domain_object);
  ADD ("domain/inactive-id-is-zero", test_domain_inactive_id_is_zero);
  ADD ("domain/autostart-writable", test_domain_autostart_writable);
  ADD ("network", test_network_object);
  ADD ("storagepool", test_storage_pool_object);
  g_test_add ("/objects/storagevol", VbTestFixture, NULL, setup_with_custom_host,
              test_storage_vol_object, vb_test_teardown);
  ADD ("nodedev", test_node_device_object);
  ADD ("interface", test_host_interface_object);
  ADD ("nwfilter-secret-snapshot", test_nwfilter_secret_snapshot_introspect);
  ADD ("unknown-objects", test_unknown_objects);
  ADD ("unknown-member", test_unknown_member);
  ADD ("tree", test_tree_introspection);
#undef ADD

  return g_test_run ();
}
