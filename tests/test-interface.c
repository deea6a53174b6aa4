/* org.libvirt.Interface (host network interfaces) over the bus against
 * test:///default: every method with its answers and errors, and paths of
 * removed interfaces.  libvirt has no interface events. */
#include <string.h>

#include "vb-test.h"

#define HOST_INTERFACE "org.libvirt.Interface"

#define ETHERNET_XML \
  "<interface type='ethernet' name='vbeth0'><mac address='52:54:00:aa:bb:cc'/></interface>"
#define ETHERNET_PATH "/org/libvirt/Test/interface/52_3a54_3a00_3aaa_3abb_3acc"

static char *
define_ethernet (VbTestFixture *f)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "InterfaceDefineXML",
                                                    g_variant_new ("(su)", ETHERNET_XML, 0), "(o)");
  char *path = vb_test_reply_path (reply);

  g_assert_cmpstr (path, ==, ETHERNET_PATH);
  return path;
}

static gboolean
is_active (VbTestFixture *f, const char *path)
{
  g_autoptr(GVariant) value = vb_test_get_property (f, path, HOST_INTERFACE, "Active");

  return g_variant_get_boolean (value);
}

static void
call_with_flags (VbTestFixture *f, const char *path, const char *method)
{
  g_autoptr(GVariant) reply = vb_test_call (f, path, HOST_INTERFACE, method,
                                            g_variant_new ("(u)", 0), "()");
}

static void
test_get_xml_desc (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) live = vb_test_call (f, VB_TEST_INTERFACE_PATH, HOST_INTERFACE,
                                           "GetXMLDesc", g_variant_new ("(u)", 0), "(s)");
  const char *xml;

  g_variant_get (live, "(&s)", &xml);
  g_assert_nonnull (strstr (xml, "name='eth1'"));
  g_assert_nonnull (strstr (xml, "aa:bb:cc:dd:ee:ff"));
  /* The test driver has no VIR_INTERFACE_XML_INACTIVE. */
  vb_test_assert_call_error (f, VB_TEST_INTERFACE_PATH, HOST_INTERFACE, "GetXMLDesc",
                             g_variant_new ("(u)", 1), VB_ERROR_LIBVIRT_NAME,
                             "unsupported flags (0x1)");
  vb_test_assert_call_error (f, VB_TEST_INTERFACE_PATH, HOST_INTERFACE, "GetXMLDesc",
                             g_variant_new ("(u)", 0x80000000), VB_ERROR_LIBVIRT_NAME,
                             "unsupported flags");
}

static void
test_create_destroy (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *path = define_ethernet (f);

  g_assert_false (is_active (f, path));
  call_with_flags (f, path, "Create");
  g_assert_true (is_active (f, path));
  vb_test_assert_call_error (f, path, HOST_INTERFACE, "Create", g_variant_new ("(u)", 0),
                             VB_ERROR_LIBVIRT_NAME, "Requested operation is not valid");

  call_with_flags (f, path, "Destroy");
  g_assert_false (is_active (f, path));
  vb_test_assert_call_error (f, path, HOST_INTERFACE, "Destroy", g_variant_new ("(u)", 0),
                             VB_ERROR_LIBVIRT_NAME, "Requested operation is not valid");
}

static void
test_bad_flags (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *path = define_ethernet (f);

  vb_test_assert_call_error (f, path, HOST_INTERFACE, "Create", g_variant_new ("(u)", 0x80000000),
                             VB_ERROR_LIBVIRT_NAME, "unsupported flags");
  g_assert_false (is_active (f, path));
  vb_test_assert_call_error (f, VB_TEST_INTERFACE_PATH, HOST_INTERFACE, "Destroy",
                             g_variant_new ("(u)", 0x80000000), VB_ERROR_LIBVIRT_NAME,
                             "unsupported flags");
  g_assert_true (is_active (f, VB_TEST_INTERFACE_PATH));
}

static void
test_undefine (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *path = define_ethernet (f);
  g_autoptr(GVariant) reply = vb_test_call (f, path, HOST_INTERFACE, "Undefine", NULL, "()");

  vb_test_assert_object_gone (f, path, HOST_INTERFACE);
  vb_test_assert_connect_error (f, "InterfaceLookupByName", g_variant_new ("(s)", "vbeth0"),
                                VB_ERROR_LIBVIRT_NAME, "Interface not found");
  vb_test_assert_call_error (f, path, HOST_INTERFACE, "Undefine", g_variant_new ("(u)", 0),
                             "org.freedesktop.DBus.Error.InvalidArgs", NULL);
}

static void
test_sweep (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *path = define_ethernet (f);

  vb_test_sweep_object (f, VB_TEST_INTERFACE_PATH, HOST_INTERFACE, "<interface<<",
                        0xffffffff, NULL);
  vb_test_sweep_object (f, path, HOST_INTERFACE, "", 0x80000000, NULL);
  g_assert_true (is_active (f, VB_TEST_INTERFACE_PATH));
  g_assert_false (is_active (f, path));
}

static void
test_unknown_paths (VbTestFixture *f, gconstpointer data)
{
  vb_test_assert_object_gone (f, "/org/libvirt/Test/interface/00_3a00_3a00_3a00_3a00_3a01",
                              HOST_INTERFACE);
  vb_test_assert_object_gone (f, "/org/libvirt/Test/interface/eth1", HOST_INTERFACE);
  vb_test_assert_alive (f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) \
  g_test_add ("/interface/" name, VbTestFixture, NULL, vb_test_setup, func, vb_test_teardown)

  ADD ("GetXMLDesc", test_get_xml_desc);
  ADD ("Create+Destroy", test_create_destroy);
  ADD ("bad-flags", test_bad_flags);
  ADD ("Undefine", test_undefine);
  ADD ("sweep", test_sweep);
  ADD ("unknown-paths", test_unknown_paths);
#undef ADD

  return g_test_run ();
}
