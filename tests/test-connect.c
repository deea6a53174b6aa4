/* org.libvirt.Connect over a real bus against test:///default: every
 * method, property and signal, with its answers and its errors. */
#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "vb-test.h"

#define CONNECT "org.libvirt.Connect"
#define INVALID_ARGS "org.freedesktop.DBus.Error.InvalidArgs"
#define UNSUPPORTED_FLAGS "unsupported flags"

#define DOMAIN_XML \
  "<domain type='test'><name>vbtest1</name><memory>65536</memory>" \
  "<os><type>hvm</type></os></domain>"
#define NETWORK_XML "<network><name>vbnet</name><bridge name='vbbr0'/></network>"
#define POOL_XML \
  "<pool type='dir'><name>vbpool</name><target><path>/vbpool</path></target></pool>"
#define HOST_INTERFACE_XML \
  "<interface type='ethernet' name='vbeth0'><mac address='52:54:00:aa:bb:cc'/></interface>"
#define HOST_INTERFACE_PATH \
  "/org/libvirt/Test/interface/52_3a54_3a00_3aaa_3abb_3acc"
#define VHBA_XML \
  "<device><parent>scsi_host1</parent><capability type='scsi_host'>" \
  "<capability type='fc_host'><wwnn>2000000012341234</wwnn>" \
  "<wwpn>1000000012341234</wwpn></capability></capability></device>"
#define CPU_XML "<cpu><arch>x86_64</arch><model>Haswell</model></cpu>"

/* ---- helpers ---------------------------------------------------------- */

static void
assert_path_reply (GVariant *reply, const char *expected)
{
  const char *path;

  g_variant_get (reply, "(&o)", &path);
  g_assert_cmpstr (path, ==, expected);
}

static gboolean
path_list_contains (GVariant *reply, const char *expected)
{
  g_autoptr(GVariantIter) iter = NULL;
  const char *path;

  g_variant_get (reply, "(ao)", &iter);
  while (g_variant_iter_next (iter, "&o", &path))
    {
      if (g_str_equal (path, expected))
        return TRUE;
    }
  return FALSE;
}

static gsize
list_length (GVariant *reply)
{
  g_autoptr(GVariant) list = g_variant_get_child_value (reply, 0);

  return g_variant_n_children (list);
}

static char *
property_string (VbTestFixture *f, const char *path, const char *iface,
                 const char *name)
{
  g_autoptr(GVariant) value = vb_test_get_property (f, path, iface, name);

  return g_variant_dup_string (value, NULL);
}

static void
assert_not_supported (VbTestFixture *f, const char *method, GVariant *args)
{
  vb_test_assert_connect_error (f, method, args, VB_ERROR_LIBVIRT_NAME,
                                VB_NOT_SUPPORTED_BY_DRIVER);
}

/* ---- properties ------------------------------------------------------- */

static void
test_properties_get_all (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) all = vb_test_get_all (f, VB_TEST_CONNECT_PATH, CONNECT);
  gboolean encrypted = TRUE, secure = TRUE;
  const char *hostname = NULL;
  guint64 lib_version = 0, version = 0;

  g_assert_true (g_variant_lookup (all, "Encrypted", "b", &encrypted));
  g_assert_true (g_variant_lookup (all, "Secure", "b", &secure));
  g_assert_true (g_variant_lookup (all, "Hostname", "&s", &hostname));
  g_assert_true (g_variant_lookup (all, "LibVersion", "t", &lib_version));
  g_assert_true (g_variant_lookup (all, "Version", "t", &version));
  /* test:///default: local (so secure), unencrypted, driver version 2 */
  g_assert_false (encrypted);
  g_assert_true (secure);
  g_assert_cmpstr (hostname, ==, g_get_host_name ());
  g_assert_cmpuint (lib_version, >=, 9000000);
  g_assert_cmpuint (version, ==, 2);
  g_assert_cmpuint (g_variant_n_children (all), ==, 5);
}

static void
test_properties_get_each (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) encrypted = vb_test_get_property (f, VB_TEST_CONNECT_PATH, CONNECT, "Encrypted");
  g_autoptr(GVariant) secure = vb_test_get_property (f, VB_TEST_CONNECT_PATH, CONNECT, "Secure");
  g_autoptr(GVariant) lib_version = vb_test_get_property (f, VB_TEST_CONNECT_PATH, CONNECT, "LibVersion");
  g_autoptr(GVariant) version = vb_test_get_property (f, VB_TEST_CONNECT_PATH, CONNECT, "Version");
  g_autofree char *hostname = property_string (f, VB_TEST_CONNECT_PATH, CONNECT, "Hostname");

  g_assert_false (g_variant_get_boolean (encrypted));
  g_assert_true (g_variant_get_boolean (secure));
  g_assert_cmpuint (g_variant_get_uint64 (lib_version), >=, 9000000);
  g_assert_cmpuint (g_variant_get_uint64 (version), ==, 2);
  g_assert_cmpstr (hostname, ==, g_get_host_name ());
}

static void
test_properties_errors (VbTestFixture *f, gconstpointer data)
{
  vb_test_assert_call_error (f, VB_TEST_CONNECT_PATH, "org.freedesktop.DBus.Properties",
                             "Get", g_variant_new ("(ss)", CONNECT, "NoSuchProperty"),
                             INVALID_ARGS, "NoSuchProperty");
  vb_test_assert_call_error (f, VB_TEST_CONNECT_PATH, "org.freedesktop.DBus.Properties",
                             "Set", g_variant_new ("(ssv)", CONNECT, "Hostname",
                                                   g_variant_new_string ("x")),
                             INVALID_ARGS, "Hostname");
  vb_test_assert_call_error (f, VB_TEST_CONNECT_PATH, "org.freedesktop.DBus.Properties",
                             "GetAll", g_variant_new ("(s)", "org.libvirt.Nope"),
                             INVALID_ARGS, NULL);
}

/* ---- domains ---------------------------------------------------------- */

static void
test_list_domains (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) all = vb_test_connect_call (f, "ListDomains", g_variant_new ("(u)", 0), "(ao)");
  g_autoptr(GVariant) inactive = vb_test_connect_call (f, "ListDomains", g_variant_new ("(u)", 2), "(ao)");

  g_assert_cmpuint (list_length (all), ==, 1);
  g_assert_true (path_list_contains (all, VB_TEST_DOMAIN_PATH));
  g_assert_cmpuint (list_length (inactive), ==, 0);
  vb_test_assert_connect_error (f, "ListDomains", g_variant_new ("(u)", 0x80000000),
                                VB_ERROR_LIBVIRT_NAME, UNSUPPORTED_FLAGS);
}

static void
test_domain_define_xml (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "DomainEvent");
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "DomainDefineXML", g_variant_new ("(s)", DOMAIN_XML), "(o)");
  g_autofree char *path = vb_test_reply_path (reply);
  g_autofree char *name = property_string (f, path, "org.libvirt.Domain", "Name");
  g_autoptr(GVariant) event = NULL;
  g_autofree char *signal_path = NULL;
  const char *event_domain;
  gint32 event_type, detail;

  g_assert_true (g_str_has_prefix (path, "/org/libvirt/Test/domain/_"));
  g_assert_cmpstr (name, ==, "vbtest1");

  event = vb_signal_recorder_wait (events, &signal_path);
  g_variant_get (event, "(&oii)", &event_domain, &event_type, &detail);
  g_assert_cmpstr (signal_path, ==, VB_TEST_CONNECT_PATH);
  g_assert_cmpstr (event_domain, ==, path);
  g_assert_cmpint (event_type, ==, 0);   /* VIR_DOMAIN_EVENT_DEFINED */
  g_assert_cmpint (detail, ==, 0);       /* VIR_DOMAIN_EVENT_DEFINED_ADDED */

  vb_test_assert_connect_error (f, "DomainDefineXML", g_variant_new ("(s)", "<domain"),
                                VB_ERROR_LIBVIRT_NAME, NULL);
  vb_test_assert_connect_error (f, "DomainDefineXML", g_variant_new ("(s)", ""),
                                VB_ERROR_LIBVIRT_NAME, NULL);
}

static void
test_domain_create_xml (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "DomainEvent");
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "DomainCreateXML", g_variant_new ("(su)", DOMAIN_XML, 0), "(o)");
  g_autofree char *path = vb_test_reply_path (reply);
  g_autoptr(GVariant) active = vb_test_get_property (f, path, "org.libvirt.Domain", "Active");
  g_autoptr(GVariant) persistent = vb_test_get_property (f, path, "org.libvirt.Domain", "Persistent");
  g_autoptr(GVariant) event = NULL;
  g_autofree char *signal_path = NULL;
  const char *event_domain;
  gint32 event_type, detail;

  g_assert_true (g_variant_get_boolean (active));
  g_assert_false (g_variant_get_boolean (persistent));
  event = vb_signal_recorder_wait (events, &signal_path);
  g_variant_get (event, "(&oii)", &event_domain, &event_type, &detail);
  g_assert_cmpstr (event_domain, ==, path);
  g_assert_cmpint (event_type, ==, 2);   /* VIR_DOMAIN_EVENT_STARTED */

  /* the same name again: already exists */
  vb_test_assert_connect_error (f, "DomainCreateXML", g_variant_new ("(su)", DOMAIN_XML, 0),
                                VB_ERROR_LIBVIRT_NAME, "vbtest1");
  vb_test_assert_connect_error (f, "DomainCreateXML", g_variant_new ("(su)", "not xml", 0),
                                VB_ERROR_LIBVIRT_NAME, NULL);
  vb_test_assert_connect_error (f, "DomainCreateXML", g_variant_new ("(su)", DOMAIN_XML, 0x40000000),
                                VB_ERROR_LIBVIRT_NAME, UNSUPPORTED_FLAGS);
}

static void
test_domain_create_xml_with_files (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GVariant) active = NULL;
  gint32 handles[] = { 0 };
  gint32 bad_handles[] = { 3 };

  g_assert_cmpint (g_unix_fd_list_append (fds, STDIN_FILENO, NULL), ==, 0);
  reply = vb_test_call_with_fds (f, VB_TEST_CONNECT_PATH, CONNECT, "DomainCreateXMLWithFiles",
                                 g_variant_new ("(s@ahu)", DOMAIN_XML,
                                                g_variant_new_fixed_array (G_VARIANT_TYPE_HANDLE, handles, 1, sizeof (gint32)),
                                                0),
                                 fds, &error);
  g_assert_no_error (error);
  path = vb_test_reply_path (reply);
  active = vb_test_get_property (f, path, "org.libvirt.Domain", "Active");
  g_assert_true (g_variant_get_boolean (active));

  /* handles that name no fd of the message */
  vb_test_assert_connect_error (f, "DomainCreateXMLWithFiles",
                                g_variant_new ("(s@ahu)", DOMAIN_XML,
                                               g_variant_new_fixed_array (G_VARIANT_TYPE_HANDLE, handles, 1, sizeof (gint32)),
                                               0),
                                INVALID_ARGS, "handle 0");
  g_clear_pointer (&reply, g_variant_unref);
  reply = vb_test_call_with_fds (f, VB_TEST_CONNECT_PATH, CONNECT, "DomainCreateXMLWithFiles",
                                 g_variant_new ("(s@ahu)", DOMAIN_XML,
                                                g_variant_new_fixed_array (G_VARIANT_TYPE_HANDLE, bad_handles, 1, sizeof (gint32)),
                                                0),
                                 fds, &error);
  g_assert_null (reply);
  g_assert_true (g_dbus_error_is_remote_error (error));
  g_assert_nonnull (strstr (error->message, "handle 3"));
}

static void
test_domain_lookup_by_id (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "DomainLookupByID", g_variant_new ("(i)", 1), "(o)");

  assert_path_reply (reply, VB_TEST_DOMAIN_PATH);
  vb_test_assert_connect_error (f, "DomainLookupByID", g_variant_new ("(i)", 4242),
                                VB_ERROR_LIBVIRT_NAME, "Domain not found");
  vb_test_assert_connect_error (f, "DomainLookupByID", g_variant_new ("(i)", -1),
                                VB_ERROR_LIBVIRT_NAME, NULL);
}

static void
test_domain_lookup_by_name (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "DomainLookupByName", g_variant_new ("(s)", "test"), "(o)");

  assert_path_reply (reply, VB_TEST_DOMAIN_PATH);
  vb_test_assert_connect_error (f, "DomainLookupByName", g_variant_new ("(s)", "nope"),
                                VB_ERROR_LIBVIRT_NAME, "Domain not found");
  vb_test_assert_connect_error (f, "DomainLookupByName", g_variant_new ("(u)", 5),
                                INVALID_ARGS, NULL);
}

static void
test_domain_lookup_by_uuid (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "DomainLookupByUUID", g_variant_new ("(s)", VB_TEST_DOMAIN_UUID), "(o)");

  assert_path_reply (reply, VB_TEST_DOMAIN_PATH);
  vb_test_assert_connect_error (f, "DomainLookupByUUID", g_variant_new ("(s)", "not-a-uuid"),
                                VB_ERROR_LIBVIRT_NAME, "Invalid UUID");
  vb_test_assert_connect_error (f, "DomainLookupByUUID",
                                g_variant_new ("(s)", "00000000-0000-0000-0000-000000000001"),
                                VB_ERROR_LIBVIRT_NAME, "Domain not found");
}

/* The test driver's save image: magic, XML length, XML. */
static char *
write_test_save_image (const char *name)
{
  g_autofree char *xml = g_strdup_printf (
      "<domain type='test'><name>%s</name><memory>65536</memory>"
      "<os><type>hvm</type></os></domain>", name);
  gint32 length = (gint32) strlen (xml);
  g_autoptr(GByteArray) image = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (g_get_tmp_dir (), "virtbus-test-XXXXXX", NULL);
  int fd = g_mkstemp (path);

  g_assert_cmpint (fd, >=, 0);
  close (fd);
  g_byte_array_append (image, (const guint8 *) "TestGuestMagic", sizeof ("TestGuestMagic"));
  g_byte_array_append (image, (const guint8 *) &length, sizeof (length));
  g_byte_array_append (image, (const guint8 *) xml, (guint) length);
  g_file_set_contents (path, (const char *) image->data, image->len, &error);
  g_assert_no_error (error);
  return path;
}

static void
test_domain_save_image_get_xml_desc (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *image = write_test_save_image ("saved1");
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "DomainSaveImageGetXMLDesc", g_variant_new ("(su)", image, 0), "(s)");
  const char *xml;

  g_variant_get (reply, "(&s)", &xml);
  g_assert_nonnull (strstr (xml, "<name>saved1</name>"));
  vb_test_assert_connect_error (f, "DomainSaveImageGetXMLDesc",
                                g_variant_new ("(su)", "/nonexistent/image", 0),
                                VB_ERROR_LIBVIRT_NAME, "/nonexistent/image");
  g_unlink (image);
}

static void
test_domain_save_image_define_xml (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *image = write_test_save_image ("saved2");

  g_autoptr(GVariant) reply = vb_test_connect_call (
      f, "DomainSaveImageDefineXML",
      g_variant_new ("(ssu)", image,
                     "<domain type='test'><name>saved2</name><memory>65536</memory>"
                     "<os><type>hvm</type></os></domain>", 0),
      "()");
  g_assert_nonnull (reply);
  vb_test_assert_connect_error (f, "DomainSaveImageDefineXML",
                                g_variant_new ("(ssu)", "/nonexistent/image", "<domain/>", 0),
                                VB_ERROR_LIBVIRT_NAME, "/nonexistent/image");
  g_unlink (image);
}

static void
test_domain_restore (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *image = write_test_save_image ("restored");
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "DomainRestore", g_variant_new ("(ssu)", image, "", 0), "()");
  g_autoptr(GVariant) found = vb_test_connect_call (f, "DomainLookupByName", g_variant_new ("(s)", "restored"), "(o)");
  g_autofree char *path = vb_test_reply_path (found);
  g_autoptr(GVariant) active = vb_test_get_property (f, path, "org.libvirt.Domain", "Active");

  g_assert_nonnull (reply);
  g_assert_true (g_variant_get_boolean (active));
  vb_test_assert_connect_error (f, "DomainRestore", g_variant_new ("(ssu)", "/nonexistent/image", "", 0),
                                VB_ERROR_LIBVIRT_NAME, "/nonexistent/image");
  g_unlink (image);
}

static void
test_get_all_domain_stats (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "GetAllDomainStats", g_variant_new ("(uu)", 1, 0), "(a(sa{sv}))");
  g_autoptr(GVariant) records = g_variant_get_child_value (reply, 0);
  g_autoptr(GVariant) boxed = NULL;
  g_autoptr(GVariant) params = NULL;
  const char *name;
  gint32 state = -1;

  g_assert_cmpuint (g_variant_n_children (records), ==, 1);
  g_variant_get_child (records, 0, "(&s@a{sv})", &name, &boxed);
  params = vb_test_unbox_twice (boxed);
  g_assert_cmpstr (name, ==, "test");
  g_assert_true (g_variant_lookup (params, "state.state", "i", &state));
  g_assert_cmpint (state, ==, 1);   /* VIR_DOMAIN_RUNNING */
  vb_test_assert_connect_error (f, "GetAllDomainStats", g_variant_new ("(uu)", 1, 0x4000000),
                                VB_ERROR_LIBVIRT_NAME, NULL);
}

/* ---- host ------------------------------------------------------------- */

static void
test_baseline_cpu (VbTestFixture *f, gconstpointer data)
{
  const char *cpus[] = { CPU_XML, NULL };
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "BaselineCPU", g_variant_new ("(^asu)", cpus, 0), "(s)");
  const char *baseline;

  g_variant_get (reply, "(&s)", &baseline);
  g_assert_nonnull (strstr (baseline, "Haswell"));
  vb_test_assert_connect_error (f, "BaselineCPU", g_variant_new ("(^asu)", (const char *[]) { "<cpu", NULL }, 0),
                                VB_ERROR_LIBVIRT_NAME, NULL);
  vb_test_assert_connect_error (f, "BaselineCPU", g_variant_new ("(^asu)", (const char *[]) { NULL }, 0),
                                VB_ERROR_LIBVIRT_NAME, NULL);
}

static void
test_compare_cpu (VbTestFixture *f, gconstpointer data)
{
  assert_not_supported (f, "CompareCPU", g_variant_new ("(su)", CPU_XML, 0));
}

static void
test_get_capabilities (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "GetCapabilities", NULL, "(s)");
  const char *caps;

  g_variant_get (reply, "(&s)", &caps);
  g_assert_true (g_str_has_prefix (caps, "<capabilities>"));
  vb_test_assert_connect_error (f, "GetCapabilities", g_variant_new ("(u)", 0), INVALID_ARGS, NULL);
}

static void
test_get_cpu_model_names (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "GetCPUModelNames", g_variant_new ("(su)", "x86_64", 0), "(as)");
  g_autofree const char **models = NULL;

  g_variant_get (reply, "(^a&s)", &models);
  g_assert_true (g_strv_contains (models, "Haswell"));
  vb_test_assert_connect_error (f, "GetCPUModelNames", g_variant_new ("(su)", "no-such-arch", 0),
                                VB_ERROR_LIBVIRT_NAME, NULL);
}

static void
test_get_domain_capabilities (VbTestFixture *f, gconstpointer data)
{
  assert_not_supported (f, "GetDomainCapabilities", g_variant_new ("(ssssu)", "", "", "", "", 0));
}

static void
test_get_sysinfo (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "GetSysinfo", g_variant_new ("(u)", 0), "(s)");
  const char *sysinfo;

  g_variant_get (reply, "(&s)", &sysinfo);
  g_assert_true (g_str_has_prefix (sysinfo, "<sysinfo"));
  vb_test_assert_connect_error (f, "GetSysinfo", g_variant_new ("(u)", 1), VB_ERROR_LIBVIRT_NAME, UNSUPPORTED_FLAGS);
}

static void
test_node_get_cpu_map (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "NodeGetCPUMap", g_variant_new ("(u)", 0), "(ab)");
  g_autoptr(GVariant) map = g_variant_get_child_value (reply, 0);
  gboolean first;

  /* the test driver's host: 8 CPUs, 0, 2 and 4 online */
  g_assert_cmpuint (g_variant_n_children (map), ==, 8);
  g_variant_get_child (map, 0, "b", &first);
  g_assert_true (first);
  vb_test_assert_connect_error (f, "NodeGetCPUMap", g_variant_new ("(u)", 1), VB_ERROR_LIBVIRT_NAME, UNSUPPORTED_FLAGS);
}

static void
test_node_get_cpu_stats (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "NodeGetCPUStats", g_variant_new ("(iu)", -1, 0), "(a{st})");
  g_autoptr(GVariant) stats = g_variant_get_child_value (reply, 0);
  guint64 idle = 0;

  g_assert_true (g_variant_lookup (stats, "idle", "t", &idle));
  g_assert_cmpuint (idle, >, 0);
  vb_test_assert_connect_error (f, "NodeGetCPUStats", g_variant_new ("(iu)", -1, 1), VB_ERROR_LIBVIRT_NAME, UNSUPPORTED_FLAGS);
}

static void
test_node_get_free_memory (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "NodeGetFreeMemory", NULL, "(t)");
  guint64 free_memory;

  g_variant_get (reply, "(t)", &free_memory);
  g_assert_cmpuint (free_memory, >, 0);
  vb_test_assert_connect_error (f, "NodeGetFreeMemory", g_variant_new ("(u)", 0), INVALID_ARGS, NULL);
}

static void
test_node_get_memory_parameters (VbTestFixture *f, gconstpointer data)
{
  assert_not_supported (f, "NodeGetMemoryParameters", g_variant_new ("(u)", 0));
}

static void
test_node_set_memory_parameters (VbTestFixture *f, gconstpointer data)
{
  GVariantBuilder params;

  g_variant_builder_init (&params, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&params, "{sv}", "shm_pages_to_scan", g_variant_new_uint32 (10));
  assert_not_supported (f, "NodeSetMemoryParameters", g_variant_new ("(a{sv}u)", &params, 0));
}

static void
test_node_get_memory_stats (VbTestFixture *f, gconstpointer data)
{
  assert_not_supported (f, "NodeGetMemoryStats", g_variant_new ("(iu)", -1, 0));
}

static void
test_node_get_security_model (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "NodeGetSecurityModel", NULL, "((ss))");
  const char *model, *doi;

  g_variant_get (reply, "((&s&s))", &model, &doi);
  g_assert_cmpstr (model, ==, "testSecurity");
  g_assert_cmpstr (doi, ==, "");
}

static void
test_find_storage_pool_sources (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "FindStoragePoolSources", g_variant_new ("(ssu)", "logical", "", 0), "(s)");
  const char *sources;

  g_variant_get (reply, "(&s)", &sources);
  g_assert_nonnull (strstr (sources, "<name>testvg1</name>"));
  vb_test_assert_connect_error (f, "FindStoragePoolSources", g_variant_new ("(ssu)", "bogus-type", "", 0),
                                VB_ERROR_LIBVIRT_NAME, NULL);
}

/* ---- networks --------------------------------------------------------- */

static void
test_list_networks (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "ListNetworks", g_variant_new ("(u)", 0), "(ao)");

  g_assert_cmpuint (list_length (reply), ==, 1);
  g_assert_true (path_list_contains (reply, VB_TEST_NETWORK_PATH));
  vb_test_assert_connect_error (f, "ListNetworks", g_variant_new ("(u)", 0x80000000), VB_ERROR_LIBVIRT_NAME, UNSUPPORTED_FLAGS);
}

static void
assert_network_event (VbSignalRecorder *events, const char *path, gint32 expected)
{
  g_autofree char *signal_path = NULL;
  g_autoptr(GVariant) event = vb_signal_recorder_wait (events, &signal_path);
  const char *network;
  gint32 type;

  g_variant_get (event, "(&oi)", &network, &type);
  g_assert_cmpstr (network, ==, path);
  g_assert_cmpint (type, ==, expected);
}

static void
test_network_define_xml (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "NetworkEvent");
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "NetworkDefineXML", g_variant_new ("(s)", NETWORK_XML), "(o)");
  g_autofree char *path = vb_test_reply_path (reply);
  g_autofree char *name = property_string (f, path, "org.libvirt.Network", "Name");

  g_assert_cmpstr (name, ==, "vbnet");
  assert_network_event (events, path, 0);   /* VIR_NETWORK_EVENT_DEFINED */
  vb_test_assert_connect_error (f, "NetworkDefineXML", g_variant_new ("(s)", "<network>"), VB_ERROR_LIBVIRT_NAME, NULL);
}

static void
test_network_create_xml (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "NetworkEvent");
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "NetworkCreateXML", g_variant_new ("(s)", NETWORK_XML), "(o)");
  g_autofree char *path = vb_test_reply_path (reply);
  g_autoptr(GVariant) active = vb_test_get_property (f, path, "org.libvirt.Network", "Active");

  g_assert_true (g_variant_get_boolean (active));
  assert_network_event (events, path, 2);   /* VIR_NETWORK_EVENT_STARTED */
  vb_test_assert_connect_error (f, "NetworkCreateXML", g_variant_new ("(s)", "garbage"), VB_ERROR_LIBVIRT_NAME, NULL);
}

static void
test_network_lookup_by_name (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "NetworkLookupByName", g_variant_new ("(s)", "default"), "(o)");

  assert_path_reply (reply, VB_TEST_NETWORK_PATH);
  vb_test_assert_connect_error (f, "NetworkLookupByName", g_variant_new ("(s)", "nope"), VB_ERROR_LIBVIRT_NAME, "Network not found");
}

static void
test_network_lookup_by_uuid (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "NetworkLookupByUUID", g_variant_new ("(s)", VB_TEST_NETWORK_UUID), "(o)");

  assert_path_reply (reply, VB_TEST_NETWORK_PATH);
  vb_test_assert_connect_error (f, "NetworkLookupByUUID", g_variant_new ("(s)", "x"), VB_ERROR_LIBVIRT_NAME, "valid UUID");
}

/* ---- storage ---------------------------------------------------------- */

static void
test_list_storage_pools (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "ListStoragePools", g_variant_new ("(u)", 0), "(ao)");

  g_assert_cmpuint (list_length (reply), ==, 1);
  g_assert_true (path_list_contains (reply, VB_TEST_POOL_PATH));
  vb_test_assert_connect_error (f, "ListStoragePools", g_variant_new ("(u)", 0x80000000), VB_ERROR_LIBVIRT_NAME, UNSUPPORTED_FLAGS);
}

static void
assert_pool_event (VbSignalRecorder *events, const char *path, gint32 expected)
{
  g_autofree char *signal_path = NULL;
  g_autoptr(GVariant) event = vb_signal_recorder_wait (events, &signal_path);
  const char *pool;
  gint32 type, detail;

  g_variant_get (event, "(&oii)", &pool, &type, &detail);
  g_assert_cmpstr (pool, ==, path);
  g_assert_cmpint (type, ==, expected);
}

static void
test_storage_pool_define_xml (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "StoragePoolEvent");
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "StoragePoolDefineXML", g_variant_new ("(su)", POOL_XML, 0), "(o)");
  g_autofree char *path = vb_test_reply_path (reply);
  g_autoptr(GVariant) active = vb_test_get_property (f, path, "org.libvirt.StoragePool", "Active");

  g_assert_false (g_variant_get_boolean (active));
  assert_pool_event (events, path, 0);   /* VIR_STORAGE_POOL_EVENT_DEFINED */
  vb_test_assert_connect_error (f, "StoragePoolDefineXML", g_variant_new ("(su)", "<pool/>", 0), VB_ERROR_LIBVIRT_NAME, NULL);
}

static void
test_storage_pool_create_xml (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "StoragePoolEvent");
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "StoragePoolCreateXML", g_variant_new ("(su)", POOL_XML, 0), "(o)");
  g_autofree char *path = vb_test_reply_path (reply);
  g_autoptr(GVariant) active = vb_test_get_property (f, path, "org.libvirt.StoragePool", "Active");

  g_assert_true (g_variant_get_boolean (active));
  assert_pool_event (events, path, 2);   /* VIR_STORAGE_POOL_EVENT_STARTED */
  vb_test_assert_connect_error (f, "StoragePoolCreateXML", g_variant_new ("(su)", POOL_XML, 0x80000000),
                                VB_ERROR_LIBVIRT_NAME, UNSUPPORTED_FLAGS);
}

static void
test_storage_pool_lookup_by_name (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "StoragePoolLookupByName", g_variant_new ("(s)", "default-pool"), "(o)");

  assert_path_reply (reply, VB_TEST_POOL_PATH);
  vb_test_assert_connect_error (f, "StoragePoolLookupByName", g_variant_new ("(s)", "nope"),
                                VB_ERROR_LIBVIRT_NAME, "Storage pool not found");
}

static void
test_storage_pool_lookup_by_uuid (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "StoragePoolLookupByUUID", g_variant_new ("(s)", VB_TEST_POOL_UUID), "(o)");

  assert_path_reply (reply, VB_TEST_POOL_PATH);
  vb_test_assert_connect_error (f, "StoragePoolLookupByUUID", g_variant_new ("(s)", "00000000-0000-0000-0000-000000000001"),
                                VB_ERROR_LIBVIRT_NAME, "Storage pool not found");
}

static void
test_storage_vol_lookup_by_key (VbTestFixture *f, gconstpointer data)
{
  vb_test_assert_connect_error (f, "StorageVolLookupByKey", g_variant_new ("(s)", "/default-pool/nope.img"),
                                VB_ERROR_LIBVIRT_NAME, "Storage volume not found");
}

static void
test_storage_vol_lookup_by_path (VbTestFixture *f, gconstpointer data)
{
  vb_test_assert_connect_error (f, "StorageVolLookupByPath", g_variant_new ("(s)", "/default-pool/nope.img"),
                                VB_ERROR_LIBVIRT_NAME, "Storage volume not found");
}

/* ---- node devices ----------------------------------------------------- */

static void
test_list_node_devices (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "ListNodeDevices", g_variant_new ("(u)", 0), "(ao)");

  g_assert_cmpuint (list_length (reply), ==, 4);
  g_assert_true (path_list_contains (reply, "/org/libvirt/Test/nodedev/computer"));
  g_assert_true (path_list_contains (reply, "/org/libvirt/Test/nodedev/scsi_5fhost1"));
  vb_test_assert_connect_error (f, "ListNodeDevices", g_variant_new ("(u)", 0x80000000), VB_ERROR_LIBVIRT_NAME, UNSUPPORTED_FLAGS);
}

static void
test_node_device_create_xml (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "NodeDeviceEvent");
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "NodeDeviceCreateXML", g_variant_new ("(su)", VHBA_XML, 0), "(o)");
  g_autofree char *path = vb_test_reply_path (reply);
  g_autofree char *parent = property_string (f, path, "org.libvirt.NodeDevice", "Parent");
  g_autofree char *signal_path = NULL;
  g_autoptr(GVariant) event = vb_signal_recorder_wait (events, &signal_path);
  const char *device;
  gint32 type, detail;

  g_assert_cmpstr (path, ==, "/org/libvirt/Test/nodedev/scsi_5fhost12");
  g_assert_cmpstr (parent, ==, "scsi_host1");
  g_variant_get (event, "(&oii)", &device, &type, &detail);
  g_assert_cmpstr (device, ==, path);
  g_assert_cmpint (type, ==, 0);   /* VIR_NODE_DEVICE_EVENT_CREATED */
  vb_test_assert_connect_error (f, "NodeDeviceCreateXML", g_variant_new ("(su)", "<device>", 0), VB_ERROR_LIBVIRT_NAME, NULL);
}

static void
test_node_device_lookup_by_name (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "NodeDeviceLookupByName", g_variant_new ("(s)", "scsi_host2"), "(o)");

  assert_path_reply (reply, "/org/libvirt/Test/nodedev/scsi_5fhost2");
  vb_test_assert_connect_error (f, "NodeDeviceLookupByName", g_variant_new ("(s)", "nope"),
                                VB_ERROR_LIBVIRT_NAME, "Node device not found");
}

static void
test_node_device_lookup_scsi_host_by_wwn (VbTestFixture *f, gconstpointer data)
{
  assert_not_supported (f, "NodeDeviceLookupSCSIHostByWWN",
                        g_variant_new ("(ssu)", "2000000012341234", "1000000012341234", 0));
}

/* ---- host interfaces -------------------------------------------------- */

static void
test_list_interfaces (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "ListInterfaces", g_variant_new ("(u)", 0), "(ao)");

  g_assert_cmpuint (list_length (reply), ==, 1);
  g_assert_true (path_list_contains (reply, VB_TEST_INTERFACE_PATH));
  vb_test_assert_connect_error (f, "ListInterfaces", g_variant_new ("(u)", 0x80000000), VB_ERROR_LIBVIRT_NAME, UNSUPPORTED_FLAGS);
}

static void
test_interface_define_xml (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "InterfaceDefineXML", g_variant_new ("(su)", HOST_INTERFACE_XML, 0), "(o)");
  g_autofree char *name = property_string (f, HOST_INTERFACE_PATH, "org.libvirt.Interface", "Name");

  assert_path_reply (reply, HOST_INTERFACE_PATH);
  g_assert_cmpstr (name, ==, "vbeth0");
  vb_test_assert_connect_error (f, "InterfaceDefineXML", g_variant_new ("(su)", "<interface", 0), VB_ERROR_LIBVIRT_NAME, NULL);
}

static void
test_interface_lookup_by_mac (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "InterfaceLookupByMAC", g_variant_new ("(s)", "aa:bb:cc:dd:ee:ff"), "(o)");

  assert_path_reply (reply, VB_TEST_INTERFACE_PATH);
  vb_test_assert_connect_error (f, "InterfaceLookupByMAC", g_variant_new ("(s)", "00:00:00:00:00:01"),
                                VB_ERROR_LIBVIRT_NAME, "Interface not found");
}

static void
test_interface_lookup_by_name (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "InterfaceLookupByName", g_variant_new ("(s)", "eth1"), "(o)");

  assert_path_reply (reply, VB_TEST_INTERFACE_PATH);
  vb_test_assert_connect_error (f, "InterfaceLookupByName", g_variant_new ("(s)", "nope0"),
                                VB_ERROR_LIBVIRT_NAME, "Interface not found");
}

static void
test_interface_change_transaction (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) begin = NULL;
  g_autoptr(GVariant) commit = NULL;
  g_autoptr(GVariant) begin_again = NULL;
  g_autoptr(GVariant) rollback = NULL;

  vb_test_assert_connect_error (f, "InterfaceChangeCommit", g_variant_new ("(u)", 0),
                                VB_ERROR_LIBVIRT_NAME, "no transaction running");
  vb_test_assert_connect_error (f, "InterfaceChangeRollback", g_variant_new ("(u)", 0),
                                VB_ERROR_LIBVIRT_NAME, "no transaction running");
  begin = vb_test_connect_call (f, "InterfaceChangeBegin", g_variant_new ("(u)", 0), "()");
  vb_test_assert_connect_error (f, "InterfaceChangeBegin", g_variant_new ("(u)", 0),
                                VB_ERROR_LIBVIRT_NAME, "another transaction");
  commit = vb_test_connect_call (f, "InterfaceChangeCommit", g_variant_new ("(u)", 0), "()");
  begin_again = vb_test_connect_call (f, "InterfaceChangeBegin", g_variant_new ("(u)", 0), "()");
  rollback = vb_test_connect_call (f, "InterfaceChangeRollback", g_variant_new ("(u)", 0), "()");
  vb_test_assert_connect_error (f, "InterfaceChangeBegin", g_variant_new ("(u)", 1),
                                VB_ERROR_LIBVIRT_NAME, UNSUPPORTED_FLAGS);
}

/* ---- network filters and secrets: not in the test driver -------------- */

static void
test_nwfilter_methods_unsupported (VbTestFixture *f, gconstpointer data)
{
  assert_not_supported (f, "ListNWFilters", g_variant_new ("(u)", 0));
  assert_not_supported (f, "NWFilterDefineXML", g_variant_new ("(s)", "<filter name='x' chain='root'/>"));
  assert_not_supported (f, "NWFilterLookupByName", g_variant_new ("(s)", "clean-traffic"));
  assert_not_supported (f, "NWFilterLookupByUUID", g_variant_new ("(s)", VB_TEST_DOMAIN_UUID));
}

static void
test_secret_methods_unsupported (VbTestFixture *f, gconstpointer data)
{
  assert_not_supported (f, "ListSecrets", g_variant_new ("(u)", 0));
  assert_not_supported (f, "SecretDefineXML", g_variant_new ("(su)", "<secret/>", 0));
  assert_not_supported (f, "SecretLookupByUUID", g_variant_new ("(s)", VB_TEST_DOMAIN_UUID));
  assert_not_supported (f, "SecretLookupByUsage", g_variant_new ("(is)", 1, "vol"));
}

static void
test_secret_event_needs_secret_driver (VbTestFixture *f, gconstpointer data)
{
  /* SecretEvent needs a driver with secrets; the test driver has none.
   * The real-libvirtd suite (secrets) exercises it. */
  g_test_skip ("SecretEvent: test:///default has no secret driver");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) \
  g_test_add ("/connect/" name, VbTestFixture, NULL, vb_test_setup, func, vb_test_teardown)

  ADD ("properties/get-all", test_properties_get_all);
  ADD ("properties/get-each", test_properties_get_each);
  ADD ("properties/errors", test_properties_errors);
  ADD ("ListDomains", test_list_domains);
  ADD ("DomainDefineXML+DomainEvent", test_domain_define_xml);
  ADD ("DomainCreateXML+DomainEvent", test_domain_create_xml);
  ADD ("DomainCreateXMLWithFiles", test_domain_create_xml_with_files);
  ADD ("DomainLookupByID", test_domain_lookup_by_id);
  ADD ("DomainLookupByName", test_domain_lookup_by_name);
  ADD ("DomainLookupByUUID", test_domain_lookup_by_uuid);
  ADD ("DomainSaveImageGetXMLDesc", test_domain_save_image_get_xml_desc);
  ADD ("DomainSaveImageDefineXML", test_domain_save_image_define_xml);
  ADD ("DomainRestore", test_domain_restore);
  ADD ("GetAllDomainStats", test_get_all_domain_stats);
  ADD ("BaselineCPU", test_baseline_cpu);
  ADD ("CompareCPU", test_compare_cpu);
  ADD ("GetCapabilities", test_get_capabilities);
  ADD ("GetCPUModelNames", test_get_cpu_model_names);
  ADD ("GetDomainCapabilities", test_get_domain_capabilities);
  ADD ("GetSysinfo", test_get_sysinfo);
  ADD ("NodeGetCPUMap", test_node_get_cpu_map);
  ADD ("NodeGetCPUStats", test_node_get_cpu_stats);
  ADD ("NodeGetFreeMemory", test_node_get_free_memory);
  ADD ("NodeGetMemoryParameters", test_node_get_memory_parameters);
  ADD ("NodeSetMemoryParameters", test_node_set_memory_parameters);
  ADD ("NodeGetMemoryStats", test_node_get_memory_stats);
  ADD ("NodeGetSecurityModel", test_node_get_security_model);
  ADD ("FindStoragePoolSources", test_find_storage_pool_sources);
  ADD ("ListNetworks", test_list_networks);
  ADD ("NetworkDefineXML+NetworkEvent", test_network_define_xml);
  ADD ("NetworkCreateXML+NetworkEvent", test_network_create_xml);
  ADD ("NetworkLookupByName", test_network_lookup_by_name);
  ADD ("NetworkLookupByUUID", test_network_lookup_by_uuid);
  ADD ("ListStoragePools", test_list_storage_pools);
  ADD ("StoragePoolDefineXML+StoragePoolEvent", test_storage_pool_define_xml);
  ADD ("StoragePoolCreateXML+StoragePoolEvent", test_storage_pool_create_xml);
  ADD ("StoragePoolLookupByName", test_storage_pool_lookup_by_name);
  ADD ("StoragePoolLookupByUUID", test_storage_pool_lookup_by_uuid);
  ADD ("StorageVolLookupByKey", test_storage_vol_lookup_by_key);
  ADD ("StorageVolLookupByPath", test_storage_vol_lookup_by_path);
  ADD ("ListNodeDevices", test_list_node_devices);
  ADD ("NodeDeviceCreateXML+NodeDeviceEvent", test_node_device_create_xml);
  ADD ("NodeDeviceLookupByName", test_node_device_lookup_by_name);
  ADD ("NodeDeviceLookupSCSIHostByWWN", test_node_device_lookup_scsi_host_by_wwn);
  ADD ("ListInterfaces", test_list_interfaces);
  ADD ("InterfaceDefineXML", test_interface_define_xml);
  ADD ("InterfaceLookupByMAC", test_interface_lookup_by_mac);
  ADD ("InterfaceLookupByName", test_interface_lookup_by_name);
  ADD ("InterfaceChangeBegin+Commit+Rollback", test_interface_change_transaction);
  ADD ("NWFilter-methods-unsupported", test_nwfilter_methods_unsupported);
  ADD ("Secret-methods-unsupported", test_secret_methods_unsupported);
  ADD ("SecretEvent", test_secret_event_needs_secret_driver);
#undef ADD

  return g_test_run ();
}
