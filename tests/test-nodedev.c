/* org.libvirt.NodeDevice over the bus against test:///default: every
 * method with its answers and errors, the NodeDeviceEvent signal, and
 * paths of removed devices.  Detach, ReAttach and Reset rebind host PCI
 * devices: only their errors are tested (the test driver has none, and a
 * test must not take a device away from the host running it). */
#include <string.h>

#include "vb-test.h"

#define CONNECT "org.libvirt.Connect"
#define NODE_DEVICE "org.libvirt.NodeDevice"

#define COMPUTER_PATH "/org/libvirt/Test/nodedev/computer"
#define SCSI_HOST_PATH "/org/libvirt/Test/nodedev/scsi_5fhost1"
#define VHBA_PATH "/org/libvirt/Test/nodedev/scsi_5fhost12"
#define VHBA_XML \
  "<device><parent>scsi_host1</parent><capability type='scsi_host'>" \
  "<capability type='fc_host'><wwnn>2000000012341234</wwnn>" \
  "<wwpn>1000000012341234</wwpn></capability></capability></device>"

/* virNodeDeviceEventLifecycleType */
enum { CREATED = 0, DELETED = 1 };

static void
assert_event (VbSignalRecorder *events, const char *path, gint32 expected)
{
  g_autofree char *signal_path = NULL;
  g_autoptr(GVariant) event = vb_signal_recorder_wait (events, &signal_path);
  const char *device;
  gint32 type, detail;

  g_variant_get (event, "(&oii)", &device, &type, &detail);
  g_assert_cmpstr (signal_path, ==, VB_TEST_CONNECT_PATH);
  g_assert_cmpstr (device, ==, path);
  g_assert_cmpint (type, ==, expected);
}

static char *
create_vhba (VbTestFixture *f, VbSignalRecorder *events)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "NodeDeviceCreateXML",
                                                    g_variant_new ("(su)", VHBA_XML, 0), "(o)");
  char *path = vb_test_reply_path (reply);

  g_assert_cmpstr (path, ==, VHBA_PATH);
  assert_event (events, path, CREATED);
  return path;
}

static char **
list_caps (VbTestFixture *f, const char *path)
{
  g_autoptr(GVariant) reply = vb_test_call (f, path, NODE_DEVICE, "ListCaps", NULL, "(as)");
  char **caps;

  g_variant_get (reply, "(^as)", &caps);
  return caps;
}

static void
test_get_xml_desc (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = vb_test_call (f, SCSI_HOST_PATH, NODE_DEVICE, "GetXMLDesc",
                                            g_variant_new ("(u)", 0), "(s)");
  const char *xml;

  g_variant_get (reply, "(&s)", &xml);
  g_assert_nonnull (strstr (xml, "<name>scsi_host1</name>"));
  g_assert_nonnull (strstr (xml, "<parent>computer</parent>"));
  g_assert_nonnull (strstr (xml, "<wwnn>2000000012341234</wwnn>"));
  vb_test_assert_call_error (f, SCSI_HOST_PATH, NODE_DEVICE, "GetXMLDesc",
                             g_variant_new ("(u)", 0x80000000), VB_ERROR_LIBVIRT_NAME,
                             "unsupported flags");
}

static void
test_list_caps (VbTestFixture *f, gconstpointer data)
{
  g_auto(GStrv) computer = list_caps (f, COMPUTER_PATH);
  g_auto(GStrv) scsi_host = list_caps (f, SCSI_HOST_PATH);
  const char *const expected_computer[] = { "system", NULL };
  const char *const expected_scsi_host[] = { "scsi_host", NULL };

  /* What the reference daemon answers for the test driver's devices. */
  g_assert_true (g_strv_equal ((const char *const *) computer, expected_computer));
  g_assert_true (g_strv_equal ((const char *const *) scsi_host, expected_scsi_host));
  vb_test_assert_call_error (f, SCSI_HOST_PATH, NODE_DEVICE, "ListCaps",
                             g_variant_new ("(u)", 0), "org.freedesktop.DBus.Error.InvalidArgs",
                             NULL);
}

static void
test_destroy (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "NodeDeviceEvent");
  g_autofree char *path = create_vhba (f, events);
  g_auto(GStrv) caps = list_caps (f, path);
  g_autoptr(GVariant) reply = NULL;

  g_assert_true (g_strv_contains ((const char *const *) caps, "scsi_host"));
  reply = vb_test_call (f, path, NODE_DEVICE, "Destroy", NULL, "()");
  assert_event (events, path, DELETED);
  vb_test_assert_object_gone (f, path, NODE_DEVICE);
  vb_test_assert_connect_error (f, "NodeDeviceLookupByName", g_variant_new ("(s)", "scsi_host12"),
                                VB_ERROR_LIBVIRT_NAME, "Node device not found");
}

static void
test_pci_operations_unsupported (VbTestFixture *f, gconstpointer data)
{
  vb_test_assert_call_error (f, SCSI_HOST_PATH, NODE_DEVICE, "Detach",
                             g_variant_new ("(su)", "vfio", 0), VB_ERROR_LIBVIRT_NAME,
                             VB_NOT_SUPPORTED_BY_DRIVER);
  vb_test_assert_call_error (f, SCSI_HOST_PATH, NODE_DEVICE, "Detach",
                             g_variant_new ("(su)", "", 0), VB_ERROR_LIBVIRT_NAME,
                             VB_NOT_SUPPORTED_BY_DRIVER);
  vb_test_assert_call_error (f, SCSI_HOST_PATH, NODE_DEVICE, "ReAttach", NULL,
                             VB_ERROR_LIBVIRT_NAME, VB_NOT_SUPPORTED_BY_DRIVER);
  vb_test_assert_call_error (f, SCSI_HOST_PATH, NODE_DEVICE, "Reset", NULL,
                             VB_ERROR_LIBVIRT_NAME, VB_NOT_SUPPORTED_BY_DRIVER);
}

static void
test_sweep (VbTestFixture *f, gconstpointer data)
{
  g_auto(GStrv) caps = NULL;

  vb_test_sweep_object (f, SCSI_HOST_PATH, NODE_DEVICE, "<device><<", 0xffffffff, NULL);
  vb_test_sweep_object (f, COMPUTER_PATH, NODE_DEVICE, "", 0x80000000, NULL);
  caps = list_caps (f, SCSI_HOST_PATH);
  g_assert_true (g_strv_contains ((const char *const *) caps, "scsi_host"));
}

static void
test_unknown_paths (VbTestFixture *f, gconstpointer data)
{
  vb_test_assert_object_gone (f, "/org/libvirt/Test/nodedev/nope", NODE_DEVICE);
  /* scsi_host1 unescaped: '_' must be written _5f */
  vb_test_assert_object_gone (f, "/org/libvirt/Test/nodedev/scsi_host1", NODE_DEVICE);
  vb_test_assert_alive (f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) \
  g_test_add ("/nodedev/" name, VbTestFixture, NULL, vb_test_setup, func, vb_test_teardown)

  ADD ("GetXMLDesc", test_get_xml_desc);
  ADD ("ListCaps", test_list_caps);
  ADD ("Destroy+NodeDeviceEvent", test_destroy);
  ADD ("Detach+ReAttach+Reset-unsupported-by-test-driver", test_pci_operations_unsupported);
  ADD ("sweep", test_sweep);
  ADD ("unknown-paths", test_unknown_paths);
#undef ADD

  return g_test_run ();
}
