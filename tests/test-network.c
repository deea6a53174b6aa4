/* org.libvirt.Network over the bus against test:///default: every method
 * with its answers and errors, the NetworkEvent signal of each lifecycle
 * change, and paths of removed networks. */
#include <string.h>

#include "vb-test.h"

#define CONNECT "org.libvirt.Connect"
#define NETWORK "org.libvirt.Network"
#define UNKNOWN_OBJECT "org.freedesktop.DBus.Error.UnknownObject"

#define NETWORK_XML "<network><name>vbnet</name><bridge name='vbbr0'/></network>"
#define DHCP_HOST_XML "<host mac='52:54:00:00:00:07' name='vbhost' ip='192.168.122.7'/>"

/* virNetworkEventLifecycleType */
enum { DEFINED = 0, UNDEFINED = 1, STARTED = 2, STOPPED = 3 };

/* virNetworkUpdateCommand, virNetworkUpdateSection, virNetworkUpdateFlags */
enum { COMMAND_DELETE = 2, COMMAND_ADD_LAST = 3 };
enum { SECTION_IP_DHCP_HOST = 4 };
enum { AFFECT_LIVE = 1 };

static char *
define_network (VbTestFixture *f)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "NetworkDefineXML",
                                                    g_variant_new ("(s)", NETWORK_XML), "(o)");

  return vb_test_reply_path (reply);
}

static void
call_network (VbTestFixture *f, const char *path, const char *method)
{
  g_autoptr(GVariant) reply = vb_test_call (f, path, NETWORK, method, NULL, "()");
}

static gboolean
boolean_property (VbTestFixture *f, const char *path, const char *name)
{
  g_autoptr(GVariant) value = vb_test_get_property (f, path, NETWORK, name);

  return g_variant_get_boolean (value);
}

static char *
xml_desc (VbTestFixture *f, const char *path, guint flags)
{
  g_autoptr(GVariant) reply = vb_test_call (f, path, NETWORK, "GetXMLDesc",
                                            g_variant_new ("(u)", flags), "(s)");
  char *xml;

  g_variant_get (reply, "(s)", &xml);
  return xml;
}

static void
assert_event (VbSignalRecorder *events, const char *path, gint32 expected)
{
  g_autofree char *signal_path = NULL;
  g_autoptr(GVariant) event = vb_signal_recorder_wait (events, &signal_path);
  const char *network;
  gint32 type;

  g_variant_get (event, "(&oi)", &network, &type);
  g_assert_cmpstr (signal_path, ==, VB_TEST_CONNECT_PATH);
  g_assert_cmpstr (network, ==, path);
  g_assert_cmpint (type, ==, expected);
}

/* Calls @method, which must succeed and signal @event. */
static void
change (VbTestFixture *f, VbSignalRecorder *events, const char *path,
        const char *method, gint32 event)
{
  call_network (f, path, method);
  assert_event (events, path, event);
}

/* ---- GetXMLDesc ------------------------------------------------------- */

static void
test_get_xml_desc (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *live = xml_desc (f, VB_TEST_NETWORK_PATH, 0);

  g_assert_nonnull (strstr (live, "<name>default</name>"));
  g_assert_nonnull (strstr (live, "<uuid>" VB_TEST_NETWORK_UUID "</uuid>"));
  /* The test driver has no VIR_NETWORK_XML_INACTIVE (test-qemu-network
   * reads it from libvirtd). */
  vb_test_assert_call_error (f, VB_TEST_NETWORK_PATH, NETWORK, "GetXMLDesc",
                             g_variant_new ("(u)", 1), VB_ERROR_LIBVIRT_NAME,
                             "unsupported flags (0x1)");
  vb_test_assert_call_error (f, VB_TEST_NETWORK_PATH, NETWORK, "GetXMLDesc",
                             g_variant_new ("(u)", 0x80000000), VB_ERROR_LIBVIRT_NAME,
                             "unsupported flags");
}

/* ---- lifecycle -------------------------------------------------------- */

static void
test_create_destroy (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "NetworkEvent");
  g_autofree char *path = define_network (f);

  assert_event (events, path, DEFINED);
  g_assert_false (boolean_property (f, path, "Active"));
  change (f, events, path, "Create", STARTED);
  g_assert_true (boolean_property (f, path, "Active"));
  vb_test_assert_call_error (f, path, NETWORK, "Create", NULL, VB_ERROR_LIBVIRT_NAME,
                             "already running");

  change (f, events, path, "Destroy", STOPPED);
  g_assert_false (boolean_property (f, path, "Active"));
  g_assert_true (boolean_property (f, path, "Persistent"));
}

static void
test_undefine (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "NetworkEvent");
  g_autofree char *path = define_network (f);

  assert_event (events, path, DEFINED);
  change (f, events, path, "Undefine", UNDEFINED);
  /* The old path answers UnknownObject for everything, Undefine too. */
  vb_test_assert_object_gone (f, path, NETWORK);
  vb_test_assert_connect_error (f, "NetworkLookupByName", g_variant_new ("(s)", "vbnet"),
                                VB_ERROR_LIBVIRT_NAME, "Network not found");
}

/* The test driver keeps a running network's definition (libvirtd turns it
 * into a transient one: test-qemu-network). */
static void
test_undefine_running (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "NetworkEvent");
  g_autofree char *path = define_network (f);

  assert_event (events, path, DEFINED);
  change (f, events, path, "Create", STARTED);
  vb_test_assert_call_error (f, path, NETWORK, "Undefine", NULL, VB_ERROR_LIBVIRT_NAME,
                             "still running");
  g_assert_true (boolean_property (f, path, "Persistent"));

  change (f, events, path, "Destroy", STOPPED);
  change (f, events, path, "Undefine", UNDEFINED);
  vb_test_assert_object_gone (f, path, NETWORK);
}

/* A transient network is gone once stopped. */
static void
test_destroy_transient (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "NetworkEvent");
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "NetworkCreateXML",
                                                    g_variant_new ("(s)", NETWORK_XML), "(o)");
  g_autofree char *path = vb_test_reply_path (reply);

  assert_event (events, path, STARTED);
  g_assert_false (boolean_property (f, path, "Persistent"));
  vb_test_assert_call_error (f, path, NETWORK, "Undefine", NULL, VB_ERROR_LIBVIRT_NAME,
                             "still running");
  change (f, events, path, "Destroy", STOPPED);
  vb_test_assert_object_gone (f, path, NETWORK);
}

static void
set_autostart (VbTestFixture *f, const char *path, GVariant *value)
{
  g_autoptr(GVariant) reply = vb_test_call (f, path, "org.freedesktop.DBus.Properties", "Set",
                                            g_variant_new ("(ssv)", NETWORK, "Autostart", value),
                                            "()");
}

static void
test_autostart (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *path = define_network (f);

  set_autostart (f, path, g_variant_new_boolean (TRUE));
  g_assert_true (boolean_property (f, path, "Autostart"));
  set_autostart (f, path, g_variant_new_boolean (FALSE));
  g_assert_false (boolean_property (f, path, "Autostart"));
  vb_test_assert_call_error (f, path, "org.freedesktop.DBus.Properties", "Set",
                             g_variant_new ("(ssv)", NETWORK, "Autostart",
                                            g_variant_new_uint32 (1)),
                             "org.freedesktop.DBus.Error.InvalidArgs", NULL);
}

/* ---- Update ----------------------------------------------------------- */

static void
update (VbTestFixture *f, guint command, const char *xml)
{
  g_autoptr(GVariant) reply = vb_test_call (
      f, VB_TEST_NETWORK_PATH, NETWORK, "Update",
      g_variant_new ("(uuisu)", command, SECTION_IP_DHCP_HOST, -1, xml, AFFECT_LIVE), "()");
}

static void
test_update (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *added = NULL;
  g_autofree char *deleted = NULL;

  update (f, COMMAND_ADD_LAST, DHCP_HOST_XML);
  added = xml_desc (f, VB_TEST_NETWORK_PATH, 0);
  g_assert_nonnull (strstr (added, "52:54:00:00:00:07"));
  update (f, COMMAND_DELETE, DHCP_HOST_XML);
  deleted = xml_desc (f, VB_TEST_NETWORK_PATH, 0);
  g_assert_null (strstr (deleted, "52:54:00:00:00:07"));
}

static void
test_update_errors (VbTestFixture *f, gconstpointer data)
{
  struct {
    guint command, section;
    gint32 parent_index;
    const char *xml;
    guint flags;
    const char *message;
  } bad[] = {
    { 0, SECTION_IP_DHCP_HOST, -1, DHCP_HOST_XML, AFFECT_LIVE, "command" },    /* COMMAND_NONE */
    { 99, SECTION_IP_DHCP_HOST, -1, DHCP_HOST_XML, AFFECT_LIVE, NULL },
    { COMMAND_ADD_LAST, 0, -1, DHCP_HOST_XML, AFFECT_LIVE, NULL },              /* SECTION_NONE */
    { COMMAND_ADD_LAST, 99, -1, DHCP_HOST_XML, AFFECT_LIVE, NULL },
    { COMMAND_ADD_LAST, SECTION_IP_DHCP_HOST, -1, "<host", AFFECT_LIVE, NULL },
    { COMMAND_ADD_LAST, SECTION_IP_DHCP_HOST, -1, "", AFFECT_LIVE, NULL },
    { COMMAND_ADD_LAST, SECTION_IP_DHCP_HOST, 7, DHCP_HOST_XML, AFFECT_LIVE, NULL },
    { COMMAND_ADD_LAST, SECTION_IP_DHCP_HOST, -1, DHCP_HOST_XML, 0x80000000, "unsupported flags" },
    { COMMAND_DELETE, SECTION_IP_DHCP_HOST, -1, DHCP_HOST_XML, AFFECT_LIVE, NULL },   /* not there */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    vb_test_assert_call_error (f, VB_TEST_NETWORK_PATH, NETWORK, "Update",
                               g_variant_new ("(uuisu)", bad[i].command, bad[i].section,
                                              bad[i].parent_index, bad[i].xml, bad[i].flags),
                               VB_ERROR_LIBVIRT_NAME, bad[i].message);
  vb_test_assert_alive (f);
}

/* ---- GetDHCPLeases ---------------------------------------------------- */

/* The test driver keeps no leases; the real daemon is in
 * test-qemu-network. */
static void
test_get_dhcp_leases (VbTestFixture *f, gconstpointer data)
{
  vb_test_assert_call_error (f, VB_TEST_NETWORK_PATH, NETWORK, "GetDHCPLeases",
                             g_variant_new ("(su)", "", 0), VB_ERROR_LIBVIRT_NAME,
                             VB_NOT_SUPPORTED_BY_DRIVER);
  vb_test_assert_call_error (f, VB_TEST_NETWORK_PATH, NETWORK, "GetDHCPLeases",
                             g_variant_new ("(su)", "52:54:00:00:00:07", 0),
                             VB_ERROR_LIBVIRT_NAME, VB_NOT_SUPPORTED_BY_DRIVER);
}

/* ---- bad input -------------------------------------------------------- */

static void
test_sweep (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *path = define_network (f);

  vb_test_sweep_object (f, VB_TEST_NETWORK_PATH, NETWORK, "<network><<", 0xffffffff, NULL);
  vb_test_sweep_object (f, path, NETWORK, "", 0x80000000, NULL);
  /* The networks are still there and unchanged. */
  g_assert_true (boolean_property (f, VB_TEST_NETWORK_PATH, "Active"));
  g_assert_false (boolean_property (f, path, "Active"));
}

static void
test_unknown_paths (VbTestFixture *f, gconstpointer data)
{
  vb_test_assert_object_gone (f, "/org/libvirt/Test/network/_00000000_0000_0000_0000_000000000001",
                              NETWORK);
  vb_test_assert_object_gone (f, "/org/libvirt/Test/network/default", NETWORK);
  vb_test_assert_alive (f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) \
  g_test_add ("/network/" name, VbTestFixture, NULL, vb_test_setup, func, vb_test_teardown)

  ADD ("GetXMLDesc", test_get_xml_desc);
  ADD ("Create+Destroy+NetworkEvent", test_create_destroy);
  ADD ("Undefine+NetworkEvent", test_undefine);
  ADD ("Undefine-running-network", test_undefine_running);
  ADD ("Destroy-transient-network", test_destroy_transient);
  ADD ("Autostart", test_autostart);
  ADD ("Update", test_update);
  ADD ("Update-errors", test_update_errors);
  ADD ("GetDHCPLeases", test_get_dhcp_leases);
  ADD ("sweep", test_sweep);
  ADD ("unknown-paths", test_unknown_paths);
#undef ADD

  return g_test_run ();
}
