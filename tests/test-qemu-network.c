/* org.libvirt.Network against a real libvirtd (qemu:///system): a bridge
 * network defined, started, updated, stopped and undefined, with the
 * NetworkEvent of each step; a network with DHCP (dnsmasq) and its leases;
 * networks removed behind virtbus's back.  Every network is named
 * vbtest-<pid>-* on a bridge vbt<pid>* and removed at the end, even after a
 * failure. */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "vb-libvirtd.h"
#include "vb-test.h"

#define CONNECT_PATH "/org/libvirt/QEMU"
#define CONNECT "org.libvirt.Connect"
#define NETWORK "org.libvirt.Network"

#define PORTGROUP_XML "<portgroup name='vbtest-group'/>"
/* virNetworkEventLifecycleType */
enum { DEFINED = 0, UNDEFINED = 1, STARTED = 2, STOPPED = 3 };
/* virNetworkUpdateCommand, virNetworkUpdateSection, virNetworkUpdateFlags */
enum { COMMAND_MODIFY = 1, COMMAND_DELETE = 2, COMMAND_ADD_LAST = 3 };
enum { SECTION_IP_DHCP_HOST = 4, SECTION_PORTGROUP = 9 };
enum { AFFECT_LIVE = 1, AFFECT_CONFIG = 2 };

/* This run's networks (names, bridges, and a /24 for DHCP), apart from
 * those of a suite running beside it: made by main(). */
static char *bridge_net;
static char *dhcp_net;
static char *dhcp_bridge;
static char *subnet;             /* "192.168.N" */

static char *
bridge_xml (void)
{
  return g_strdup_printf ("<network><name>%s</name><bridge name='vbt%dn'/></network>",
                          bridge_net, (int) getpid ());
}

static char *
dhcp_xml (void)
{
  return g_strdup_printf ("<network><name>%s</name><bridge name='%s'/>"
                          "<ip address='%s.1' netmask='255.255.255.0'><dhcp>"
                          "<range start='%s.10' end='%s.20'/></dhcp></ip></network>",
                          dhcp_net, dhcp_bridge, subnet, subnet, subnet);
}

/* Where libvirt's dnsmasq lease helper keeps the leases of the bridge. */
static char *
leases_file (void)
{
  return g_strdup_printf ("/var/lib/libvirt/dnsmasq/%s.status", dhcp_bridge);
}

static void
make_names (void)
{
  int pid = (int) getpid ();

  bridge_net = vb_test_run_name ("net");
  dhcp_net = vb_test_run_name ("dhcp");
  dhcp_bridge = g_strdup_printf ("vbt%dd", pid);
  subnet = g_strdup_printf ("192.168.%d", 150 + pid % 100);
}

static void
remove_test_networks (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *names = vb_virsh ((const char *[]) { "net-list", "--all", "--name", NULL },
                                     &error);
  g_auto(GStrv) lines = g_strsplit (names != NULL ? names : "", "\n", -1);

  for (char **name = lines; *name != NULL; name++)
    {
      g_autofree char *destroyed = NULL;
      g_autofree char *undefined = NULL;

      g_strstrip (*name);
      if (!vb_test_run_name_is_removable (*name))
        continue;
      destroyed = vb_virsh ((const char *[]) { "net-destroy", *name, NULL }, NULL);
      undefined = vb_virsh ((const char *[]) { "net-undefine", *name, NULL }, NULL);
    }
}

static void
teardown (VbTestFixture *f, gconstpointer data)
{
  vb_test_teardown (f, data);
  remove_test_networks ();
}

static void
assert_event (VbSignalRecorder *events, const char *path, gint32 expected)
{
  g_autoptr(GVariant) event = vb_signal_recorder_wait_for_object (events, path);
  gint32 type;

  g_variant_get (event, "(&oi)", NULL, &type);
  g_assert_cmpint (type, ==, expected);
}

static char *
define_network (VbTestFixture *f, VbSignalRecorder *events, const char *method, const char *xml,
                gint32 event)
{
  g_autoptr(GVariant) reply = vb_test_call (f, CONNECT_PATH, CONNECT, method,
                                            g_variant_new ("(s)", xml), "(o)");
  char *path = vb_test_reply_path (reply);

  assert_event (events, path, event);
  return path;
}

/* Calls @method (no arguments), which must succeed and signal @event. */
static void
change (VbTestFixture *f, VbSignalRecorder *events, const char *path, const char *method,
        gint32 event)
{
  g_autoptr(GVariant) reply = vb_test_call (f, path, NETWORK, method, NULL, "()");

  assert_event (events, path, event);
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
update (VbTestFixture *f, const char *path, guint command, guint section, const char *xml,
        guint flags)
{
  g_autoptr(GVariant) reply = vb_test_call (f, path, NETWORK, "Update",
                                            g_variant_new ("(uuisu)", command, section, -1, xml,
                                                           flags),
                                            "()");
}

static void
set_autostart (VbTestFixture *f, const char *path, gboolean autostart)
{
  g_autoptr(GVariant) reply = vb_test_call (
      f, path, "org.freedesktop.DBus.Properties", "Set",
      g_variant_new ("(ssv)", NETWORK, "Autostart", g_variant_new_boolean (autostart)), "()");
}

static GVariant *
leases (VbTestFixture *f, const char *path, const char *mac)
{
  return vb_test_call (f, path, NETWORK, "GetDHCPLeases", g_variant_new ("(su)", mac, 0),
                       "(a(sxisssuss))");
}

static gsize
n_leases (GVariant *reply)
{
  g_autoptr(GVariant) list = g_variant_get_child_value (reply, 0);

  return g_variant_n_children (list);
}

/* ---- a bridge without addresses ---------------------------------------- */

static void
test_lifecycle (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "NetworkEvent");
  g_autofree char *xml = bridge_xml ();
  g_autofree char *path = define_network (f, events, "NetworkDefineXML", xml, DEFINED);
  g_autofree char *config = xml_desc (f, path, 1);   /* VIR_NETWORK_XML_INACTIVE */
  g_autofree char *name = g_strdup_printf ("<name>%s</name>", bridge_net);
  g_autoptr(GVariant) no_leases = NULL;

  g_assert_nonnull (strstr (config, name));
  g_assert_false (boolean_property (f, path, "Active"));
  set_autostart (f, path, TRUE);
  g_assert_true (boolean_property (f, path, "Autostart"));
  set_autostart (f, path, FALSE);
  g_assert_false (boolean_property (f, path, "Autostart"));

  change (f, events, path, "Create", STARTED);
  g_assert_true (boolean_property (f, path, "Active"));
  vb_test_assert_call_error (f, path, NETWORK, "Create", NULL, VB_ERROR_LIBVIRT_NAME,
                             "already active");
  no_leases = leases (f, path, "");
  g_assert_cmpuint (n_leases (no_leases), ==, 0);

  change (f, events, path, "Destroy", STOPPED);
  g_assert_false (boolean_property (f, path, "Active"));
  vb_test_assert_call_error (f, path, NETWORK, "Destroy", NULL, VB_ERROR_LIBVIRT_NAME,
                             "not active");
  change (f, events, path, "Undefine", UNDEFINED);
  vb_test_assert_object_gone (f, path, NETWORK);
}

static void
test_update (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "NetworkEvent");
  g_autofree char *xml = bridge_xml ();
  g_autofree char *path = define_network (f, events, "NetworkDefineXML", xml, DEFINED);
  g_autofree char *live = NULL;
  g_autofree char *config = NULL;
  g_autofree char *removed = NULL;

  change (f, events, path, "Create", STARTED);
  update (f, path, COMMAND_ADD_LAST, SECTION_PORTGROUP, PORTGROUP_XML, AFFECT_LIVE | AFFECT_CONFIG);
  live = xml_desc (f, path, 0);
  config = xml_desc (f, path, 1);
  g_assert_nonnull (strstr (live, "vbtest-group"));
  g_assert_nonnull (strstr (config, "vbtest-group"));

  vb_test_assert_call_error (f, path, NETWORK, "Update",
                             g_variant_new ("(uuisu)", COMMAND_ADD_LAST, SECTION_PORTGROUP, -1,
                                            PORTGROUP_XML, AFFECT_LIVE),
                             VB_ERROR_LIBVIRT_NAME, "vbtest-group");
  vb_test_assert_call_error (f, path, NETWORK, "Update",
                             g_variant_new ("(uuisu)", COMMAND_MODIFY, SECTION_PORTGROUP, -1,
                                            "<portgroup", AFFECT_LIVE),
                             VB_ERROR_LIBVIRT_NAME, NULL);
  vb_test_assert_call_error (f, path, NETWORK, "Update",
                             g_variant_new ("(uuisu)", 0, SECTION_PORTGROUP, -1,
                                            PORTGROUP_XML, AFFECT_LIVE),
                             VB_ERROR_LIBVIRT_NAME, NULL);
  vb_test_assert_call_error (f, path, NETWORK, "Update",
                             g_variant_new ("(uuisu)", COMMAND_DELETE, SECTION_PORTGROUP, -1,
                                            PORTGROUP_XML, 0x80000000),
                             VB_ERROR_LIBVIRT_NAME, "unsupported flags");

  update (f, path, COMMAND_DELETE, SECTION_PORTGROUP, PORTGROUP_XML, AFFECT_LIVE | AFFECT_CONFIG);
  removed = xml_desc (f, path, 0);
  g_assert_null (strstr (removed, "vbtest-group"));
}

/* libvirtd (unlike the test driver) keeps a running network whose
 * definition is removed, as a transient one until it stops. */
static void
test_undefine_running (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "NetworkEvent");
  g_autofree char *xml = bridge_xml ();
  g_autofree char *path = define_network (f, events, "NetworkDefineXML", xml, DEFINED);

  change (f, events, path, "Create", STARTED);
  change (f, events, path, "Undefine", UNDEFINED);
  g_assert_true (boolean_property (f, path, "Active"));
  g_assert_false (boolean_property (f, path, "Persistent"));
  vb_test_assert_call_error (f, path, "org.freedesktop.DBus.Properties", "Set",
                             g_variant_new ("(ssv)", NETWORK, "Autostart",
                                            g_variant_new_boolean (TRUE)),
                             VB_ERROR_LIBVIRT_NAME, "transient");
  change (f, events, path, "Destroy", STOPPED);
  vb_test_assert_object_gone (f, path, NETWORK);
}

/* ---- DHCP -------------------------------------------------------------- */

/* Stands in for dnsmasq's lease helper: no guest needs to ask. */
static void
write_lease (gint64 expiry)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *file = leases_file ();
  g_autofree char *json = g_strdup_printf (
      "[{\"ip-address\": \"%s.15\", \"mac-address\": \"52:54:00:00:00:15\","
      " \"hostname\": \"vbguest\", \"client-id\": \"01:52:54:00:00:00:15\","
      " \"expiry-time\": %" G_GINT64_FORMAT "}]", subnet, expiry);

  g_file_set_contents (file, json, -1, &error);
  g_assert_no_error (error);
}

static void
test_dhcp_leases (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "NetworkEvent");
  g_autofree char *xml = dhcp_xml ();
  g_autofree char *path = define_network (f, events, "NetworkCreateXML", xml, STARTED);
  g_autofree char *file = leases_file ();
  g_autofree char *ip = g_strdup_printf ("%s.15", subnet);
  g_autofree char *host = g_strdup_printf ("<host mac='52:54:00:00:00:07' name='vbhost' ip='%s.7'/>",
                                           subnet);
  g_autoptr(GVariant) none = leases (f, path, "");
  gint64 expiry = g_get_real_time () / G_USEC_PER_SEC + 3600;
  g_autoptr(GVariant) all = NULL;
  g_autoptr(GVariant) matching = NULL;
  g_autoptr(GVariant) other = NULL;
  g_autoptr(GVariant) expected = NULL;
  g_autofree char *with_host = NULL;

  g_assert_cmpuint (n_leases (none), ==, 0);
  write_lease (expiry);
  all = leases (f, path, "");
  matching = leases (f, path, "52:54:00:00:00:15");
  other = leases (f, path, "52:54:00:00:00:16");
  /* (iface, expirytime, type, mac, iaid, ipaddr, prefix, hostname,
   * clientid); no IAID for IPv4: an empty string */
  expected = g_variant_ref_sink (g_variant_new_parsed (
      "([(%s, %x, 0, '52:54:00:00:00:15', '', %s, uint32 24, 'vbguest',"
      " '01:52:54:00:00:00:15')],)", dhcp_bridge, expiry, ip));
  g_assert_true (g_variant_equal (all, expected));
  g_assert_true (g_variant_equal (matching, expected));
  g_assert_cmpuint (n_leases (other), ==, 0);
  vb_test_assert_call_error (f, path, NETWORK, "GetDHCPLeases",
                             g_variant_new ("(su)", "", 0x80000000), VB_ERROR_LIBVIRT_NAME,
                             "unsupported flags");

  update (f, path, COMMAND_ADD_LAST, SECTION_IP_DHCP_HOST, host, AFFECT_LIVE);
  with_host = xml_desc (f, path, 0);
  g_assert_nonnull (strstr (with_host, "52:54:00:00:00:07"));

  change (f, events, path, "Destroy", STOPPED);
  vb_test_assert_object_gone (f, path, NETWORK);
  g_assert_false (g_file_test (file, G_FILE_TEST_EXISTS));
}

/* ---- removed meanwhile, bad input -------------------------------------- */

static void
test_removed_behind_our_back (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "NetworkEvent");
  g_autofree char *xml = bridge_xml ();
  g_autofree char *path = define_network (f, events, "NetworkDefineXML", xml, DEFINED);
  g_autoptr(GError) error = NULL;
  g_autofree char *out = vb_virsh ((const char *[]) { "net-undefine", bridge_net, NULL }, &error);

  g_assert_no_error (error);
  assert_event (events, path, UNDEFINED);
  vb_test_assert_object_gone (f, path, NETWORK);
}

static void
test_sweep (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "NetworkEvent");
  g_autofree char *xml = bridge_xml ();
  g_autofree char *path = define_network (f, events, "NetworkCreateXML", xml, STARTED);

  vb_test_sweep_object (f, path, NETWORK, "<network><<", 0xffffffff, NULL);
  vb_test_sweep_object (f, path, NETWORK, "", 0x80000000, NULL);
  g_assert_true (boolean_property (f, path, "Active"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  make_names ();

#define ADD(name, func) \
  g_test_add ("/qemu-network/" name, VbTestFixture, NULL, vb_test_setup_libvirtd, func, teardown)

  ADD ("Define+Autostart+Create+Destroy+Undefine+NetworkEvent", test_lifecycle);
  ADD ("Update", test_update);
  ADD ("Undefine-running-network", test_undefine_running);
  ADD ("GetDHCPLeases", test_dhcp_leases);
  ADD ("removed-behind-our-back", test_removed_behind_our_back);
  ADD ("sweep", test_sweep);
#undef ADD

  return vb_test_run_with_libvirtd (remove_test_networks);
}
