/* virtbusd side by side with the reference daemon (Debian's libvirt-dbus)
 * on the same test driver: the same interfaces, members, signatures and
 * annotations, the same object paths and the same answers.  Skipped when
 * libvirt-dbus is not installed. */
#include <signal.h>
#include <string.h>

#include "vb-test.h"

#define REFERENCE_DAEMON "/usr/sbin/libvirt-dbus"

typedef struct {
  VbTestFixture ours;
  GSubprocess *reference_bus;
  GSubprocess *reference;
  GDBusConnection *reference_connection;
} CompareFixture;

static char *
read_bus_address (GSubprocess *bus)
{
  g_autoptr(GDataInputStream) lines =
      g_data_input_stream_new (g_subprocess_get_stdout_pipe (bus));
  g_autoptr(GError) error = NULL;
  char *address = g_data_input_stream_read_line (lines, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (address);
  return address;
}

static void
wait_for_reference (CompareFixture *f)
{
  for (int i = 0; i < 2000; i++)
    {
      g_autoptr(GVariant) reply = g_dbus_connection_call_sync (
          f->reference_connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
          "org.freedesktop.DBus", "NameHasOwner", g_variant_new ("(s)", "org.libvirt"),
          G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
      gboolean owned = FALSE;

      g_assert_nonnull (reply);
      g_variant_get (reply, "(b)", &owned);
      if (owned)
        return;
      g_usleep (5000);
    }
  g_error ("the reference daemon did not take org.libvirt");
}

static void
compare_setup (CompareFixture *f, gconstpointer data)
{
  g_autofree char *config = g_test_build_filename (G_TEST_DIST, "..", "data", "dbus",
                                                   "private-session-bus.conf", NULL);
  g_autofree char *config_arg = g_strconcat ("--config-file=", config, NULL);
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;

  vb_test_setup (&f->ours, data);

  f->reference_bus = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, "dbus-daemon",
                                       config_arg, "--nofork", "--print-address=1", NULL);
  g_assert_no_error (error);
  address = read_bus_address (f->reference_bus);
  f->reference_connection = g_dbus_connection_new_for_address_sync (
      address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  g_assert_no_error (error);

  g_subprocess_launcher_setenv (launcher, "DBUS_SESSION_BUS_ADDRESS", address, TRUE);
  f->reference = g_subprocess_launcher_spawn (launcher, &error, REFERENCE_DAEMON, "--session", NULL);
  g_assert_no_error (error);
  wait_for_reference (f);
}

static void
compare_teardown (CompareFixture *f, gconstpointer data)
{
  g_subprocess_send_signal (f->reference, SIGTERM);
  g_subprocess_wait (f->reference, NULL, NULL);
  g_clear_object (&f->reference);
  g_dbus_connection_close_sync (f->reference_connection, NULL, NULL);
  g_clear_object (&f->reference_connection);
  g_subprocess_send_signal (f->reference_bus, SIGTERM);
  g_subprocess_wait (f->reference_bus, NULL, NULL);
  g_clear_object (&f->reference_bus);
  vb_test_teardown (&f->ours, data);
}

/* Calls both; returns both replies, or errors as "error:<name>:<message>". */
static GVariant *
call_one (GDBusConnection *bus, const char *path, const char *iface,
          const char *method, GVariant *args)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply = g_dbus_connection_call_sync (bus, "org.libvirt", path, iface, method,
                                                 args, NULL, G_DBUS_CALL_FLAGS_NONE,
                                                 20000, NULL, &error);
  g_autofree char *name = NULL;

  if (reply != NULL)
    return reply;
  name = g_dbus_error_get_remote_error (error);
  g_dbus_error_strip_remote_error (error);
  return g_variant_ref_sink (g_variant_new_printf ("error:%s:%s", name, error->message));
}

static void
assert_same_answer (CompareFixture *f, const char *path, const char *iface,
                    const char *method, GVariant *args)
{
  g_autoptr(GVariant) args_ref = args != NULL ? g_variant_ref_sink (args) : NULL;
  g_autoptr(GVariant) ours = call_one (f->ours.bus, path, iface, method, args_ref);
  g_autoptr(GVariant) theirs = call_one (f->reference_connection, path, iface, method, args_ref);
  g_autofree char *ours_text = g_variant_print (ours, TRUE);
  g_autofree char *theirs_text = g_variant_print (theirs, TRUE);

  if (!g_variant_equal (ours, theirs))
    g_error ("%s.%s on %s: virtbusd answered %s, libvirt-dbus %s", iface, method, path,
             ours_text, theirs_text);
}

/* GetAll of a domain: every property the reference reports, with the same
 * value, plus exactly the properties virtbus adds (docs/live-state.md). */
static void
assert_same_domain_properties_plus_additions (CompareFixture *f, const char *path)
{
  const char *const additions[] = { "Description", "MaxMemory", "Memory", "State",
                                    "StateReason", "Title", "VCPUs", NULL };
  g_autoptr(GVariant) args = g_variant_ref_sink (g_variant_new ("(s)", "org.libvirt.Domain"));
  g_autoptr(GVariant) ours = call_one (f->ours.bus, path, "org.freedesktop.DBus.Properties",
                                       "GetAll", args);
  g_autoptr(GVariant) theirs = call_one (f->reference_connection, path,
                                         "org.freedesktop.DBus.Properties", "GetAll", args);
  g_autoptr(GVariant) ours_dict = g_variant_get_child_value (ours, 0);
  g_autoptr(GVariant) theirs_dict = g_variant_get_child_value (theirs, 0);
  GVariantIter iter;
  const char *name;
  GVariant *value;

  g_variant_iter_init (&iter, theirs_dict);
  while (g_variant_iter_loop (&iter, "{&sv}", &name, &value))
    {
      g_autoptr(GVariant) mine = g_variant_lookup_value (ours_dict, name, NULL);

      if (mine == NULL || !g_variant_equal (mine, value))
        g_error ("Domain property %s differs from the reference's", name);
    }
  g_variant_iter_init (&iter, ours_dict);
  while (g_variant_iter_loop (&iter, "{&sv}", &name, &value))
    {
      g_autoptr(GVariant) reference = g_variant_lookup_value (theirs_dict, name, NULL);

      if (reference == NULL && !g_strv_contains (additions, name))
        g_error ("Domain property %s is neither the reference's nor an addition", name);
    }
  g_assert_cmpuint (g_variant_n_children (ours_dict), ==,
                    g_variant_n_children (theirs_dict) + g_strv_length ((char **) additions));
}

/* Lists compared as sets: libvirt's order is not part of the contract. */
static void
assert_same_path_set (CompareFixture *f, const char *method)
{
  g_autoptr(GVariant) ours = call_one (f->ours.bus, VB_TEST_CONNECT_PATH, "org.libvirt.Connect",
                                       method, g_variant_new ("(u)", 0));
  g_autoptr(GVariant) theirs = call_one (f->reference_connection, VB_TEST_CONNECT_PATH,
                                         "org.libvirt.Connect", method, g_variant_new ("(u)", 0));
  g_autofree const char **ours_paths = NULL;
  g_autofree const char **theirs_paths = NULL;

  g_assert_true (g_variant_is_of_type (ours, G_VARIANT_TYPE ("(ao)")));
  g_assert_true (g_variant_is_of_type (theirs, G_VARIANT_TYPE ("(ao)")));
  g_variant_get (ours, "(^a&o)", &ours_paths);
  g_variant_get (theirs, "(^a&o)", &theirs_paths);
  g_assert_cmpuint (g_strv_length ((char **) ours_paths), ==, g_strv_length ((char **) theirs_paths));
  for (const char **p = theirs_paths; *p != NULL; p++)
    g_assert_true (g_strv_contains (ours_paths, *p));
}

/* ---- introspection ---------------------------------------------------- */

static GDBusNodeInfo *
introspect (GDBusConnection *bus, const char *path)
{
  g_autoptr(GVariant) reply = call_one (bus, path, "org.freedesktop.DBus.Introspectable",
                                        "Introspect", NULL);
  g_autoptr(GError) error = NULL;
  const char *xml;
  GDBusNodeInfo *node;

  g_assert_true (g_variant_is_of_type (reply, G_VARIANT_TYPE ("(s)")));
  g_variant_get (reply, "(&s)", &xml);
  node = g_dbus_node_info_new_for_xml (xml, &error);
  g_assert_no_error (error);
  return node;
}

static char *
args_signature (GDBusArgInfo **args)
{
  GString *signature = g_string_new ("");

  for (GDBusArgInfo **arg = args; arg != NULL && *arg != NULL; arg++)
    g_string_append_printf (signature, "%s:%s,", (*arg)->name, (*arg)->signature);
  return g_string_free (signature, FALSE);
}

/* What a property's EmitsChangedSignal says, its interface's annotation
 * and D-Bus's default ("true") applying where it has none. */
static const char *
emits_changed (GDBusInterfaceInfo *iface, GDBusPropertyInfo *property)
{
  const char *key = "org.freedesktop.DBus.Property.EmitsChangedSignal";
  const char *value = g_dbus_annotation_info_lookup (property->annotations, key);

  if (value == NULL)
    value = g_dbus_annotation_info_lookup (iface->annotations, key);
  return value != NULL ? value : "true";
}

/* Properties the reference never signals and virtbus does (PropertiesChanged,
 * docs/live-state.md): on these interfaces "false" may become "true" or
 * "invalidates". */
static gboolean
emits_where_reference_does_not (GDBusInterfaceInfo *iface, const char *ours,
                                const char *theirs)
{
  const char *const live[] = { "org.libvirt.Domain", "org.libvirt.Network",
                               "org.libvirt.StoragePool", NULL };

  return g_strv_contains (live, iface->name) && g_str_equal (theirs, "false") &&
         (g_str_equal (ours, "true") || g_str_equal (ours, "invalidates"));
}

static void
assert_same_methods (GDBusInterfaceInfo *ours, GDBusInterfaceInfo *theirs)
{
  for (GDBusMethodInfo **m = theirs->methods; m != NULL && *m != NULL; m++)
    {
      GDBusMethodInfo *mine = g_dbus_interface_info_lookup_method (ours, (*m)->name);
      g_autofree char *in_ours = NULL, *in_theirs = NULL, *out_ours = NULL, *out_theirs = NULL;

      if (mine == NULL)
        g_error ("%s.%s missing", theirs->name, (*m)->name);
      in_ours = args_signature (mine->in_args);
      in_theirs = args_signature ((*m)->in_args);
      out_ours = args_signature (mine->out_args);
      out_theirs = args_signature ((*m)->out_args);
      g_assert_cmpstr (in_ours, ==, in_theirs);
      g_assert_cmpstr (out_ours, ==, out_theirs);
    }
}

static void
assert_same_properties (GDBusInterfaceInfo *ours, GDBusInterfaceInfo *theirs)
{
  for (GDBusPropertyInfo **p = theirs->properties; p != NULL && *p != NULL; p++)
    {
      GDBusPropertyInfo *mine = g_dbus_interface_info_lookup_property (ours, (*p)->name);

      if (mine == NULL)
        g_error ("%s.%s missing", theirs->name, (*p)->name);
      g_assert_cmpstr (mine->signature, ==, (*p)->signature);
      g_assert_cmpint (mine->flags, ==, (*p)->flags);
      if (!emits_where_reference_does_not (ours, emits_changed (ours, mine),
                                           emits_changed (theirs, *p)))
        g_assert_cmpstr (emits_changed (ours, mine), ==, emits_changed (theirs, *p));
    }
}

static void
assert_same_signals (GDBusInterfaceInfo *ours, GDBusInterfaceInfo *theirs)
{
  for (GDBusSignalInfo **s = theirs->signals; s != NULL && *s != NULL; s++)
    {
      GDBusSignalInfo *mine = g_dbus_interface_info_lookup_signal (ours, (*s)->name);
      g_autofree char *args_ours = NULL, *args_theirs = NULL;

      if (mine == NULL)
        g_error ("%s.%s missing", theirs->name, (*s)->name);
      args_ours = args_signature (mine->args);
      args_theirs = args_signature ((*s)->args);
      g_assert_cmpstr (args_ours, ==, args_theirs);
    }
}

/* Everything the reference declares, we declare alike; we may add
 * members (SetBlockThreshold and BlockThreshold, which 1.4.1 lacks). */
static void
assert_same_interface (CompareFixture *f, const char *path, const char *name)
{
  g_autoptr(GDBusNodeInfo) ours = introspect (f->ours.bus, path);
  g_autoptr(GDBusNodeInfo) theirs = introspect (f->reference_connection, path);
  GDBusInterfaceInfo *our_iface = g_dbus_node_info_lookup_interface (ours, name);
  GDBusInterfaceInfo *their_iface = g_dbus_node_info_lookup_interface (theirs, name);

  g_assert_nonnull (their_iface);
  g_assert_nonnull (our_iface);
  assert_same_methods (our_iface, their_iface);
  assert_same_properties (our_iface, their_iface);
  assert_same_signals (our_iface, their_iface);
}

static void
test_introspection_matches (CompareFixture *f, gconstpointer data)
{
  const char *uuid_segment = "_6695eb01_f6a4_8304_79aa_97f2502e193f";
  struct {
    const char *kind;
    const char *iface;
    const char *segment;
  } kinds[] = {
    { "domain", "org.libvirt.Domain", uuid_segment },
    { "domainsnapshot", "org.libvirt.DomainSnapshot", "_6695eb01_f6a4_8304_79aa_97f2502e193f_s" },
    { "interface", "org.libvirt.Interface", "aa_3abb_3acc_3add_3aee_3aff" },
    { "network", "org.libvirt.Network", uuid_segment },
    { "nodedev", "org.libvirt.NodeDevice", "computer" },
    { "nwfilter", "org.libvirt.NWFilter", uuid_segment },
    { "secret", "org.libvirt.Secret", uuid_segment },
    { "storagepool", "org.libvirt.StoragePool", uuid_segment },
    { "storagevol", "org.libvirt.StorageVol", "_2fdefault_2dpool_2fa" },
  };

  assert_same_interface (f, VB_TEST_CONNECT_PATH, "org.libvirt.Connect");
  for (gsize i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/%s/%s", VB_TEST_CONNECT_PATH,
                                               kinds[i].kind, kinds[i].segment);

      assert_same_interface (f, path, kinds[i].iface);
    }
}

/* ---- answers ---------------------------------------------------------- */

static void
assert_same_connect_answer (CompareFixture *f, const char *method, GVariant *args)
{
  assert_same_answer (f, VB_TEST_CONNECT_PATH, "org.libvirt.Connect", method, args);
}

static void
assert_same_properties_answer (CompareFixture *f, const char *path, const char *iface)
{
  assert_same_answer (f, path, "org.freedesktop.DBus.Properties", "GetAll",
                      g_variant_new ("(s)", iface));
}

static void
test_lists_match (CompareFixture *f, gconstpointer data)
{
  const char *lists[] = { "ListDomains", "ListNetworks", "ListStoragePools",
                          "ListNodeDevices", "ListInterfaces", NULL };

  for (const char **list = lists; *list != NULL; list++)
    assert_same_path_set (f, *list);
  assert_same_connect_answer (f, "ListSecrets", g_variant_new ("(u)", 0));
  assert_same_connect_answer (f, "ListNWFilters", g_variant_new ("(u)", 0));
  assert_same_connect_answer (f, "ListDomains", g_variant_new ("(u)", 0x40000000));
}

static void
test_lookups_match (CompareFixture *f, gconstpointer data)
{
  assert_same_connect_answer (f, "DomainLookupByName", g_variant_new ("(s)", "test"));
  assert_same_connect_answer (f, "DomainLookupByName", g_variant_new ("(s)", "nope"));
  assert_same_connect_answer (f, "DomainLookupByID", g_variant_new ("(i)", 1));
  assert_same_connect_answer (f, "DomainLookupByUUID", g_variant_new ("(s)", VB_TEST_DOMAIN_UUID));
  assert_same_connect_answer (f, "NetworkLookupByName", g_variant_new ("(s)", "default"));
  assert_same_connect_answer (f, "NetworkLookupByUUID", g_variant_new ("(s)", VB_TEST_NETWORK_UUID));
  assert_same_connect_answer (f, "StoragePoolLookupByName", g_variant_new ("(s)", "default-pool"));
  assert_same_connect_answer (f, "StoragePoolLookupByUUID", g_variant_new ("(s)", VB_TEST_POOL_UUID));
  assert_same_connect_answer (f, "NodeDeviceLookupByName", g_variant_new ("(s)", "scsi_host1"));
  assert_same_connect_answer (f, "InterfaceLookupByName", g_variant_new ("(s)", "eth1"));
  assert_same_connect_answer (f, "InterfaceLookupByMAC", g_variant_new ("(s)", "aa:bb:cc:dd:ee:ff"));
  assert_same_connect_answer (f, "StorageVolLookupByPath", g_variant_new ("(s)", "/nope"));
  assert_same_connect_answer (f, "SecretLookupByUUID", g_variant_new ("(s)", VB_TEST_DOMAIN_UUID));
}

static void
test_definitions_match (CompareFixture *f, gconstpointer data)
{
  const char *domain =
      "<domain type='test'><name>same</name><uuid>11111111-2222-3333-4444-555555555555</uuid>"
      "<memory>65536</memory><os><type>hvm</type></os></domain>";
  const char *network =
      "<network><name>samenet</name><uuid>11111111-2222-3333-4444-666666666666</uuid></network>";

  assert_same_connect_answer (f, "DomainDefineXML", g_variant_new ("(s)", domain));
  assert_same_connect_answer (f, "DomainDefineXML", g_variant_new ("(s)", "<domain"));
  assert_same_connect_answer (f, "NetworkDefineXML", g_variant_new ("(s)", network));
  assert_same_connect_answer (f, "DomainCreateXML",
                              g_variant_new ("(su)", "<domain type='test'><name>same</name></domain>", 0));
}

static void
test_host_answers_match (CompareFixture *f, gconstpointer data)
{
  const char *cpus[] = { "<cpu><arch>x86_64</arch><model>Haswell</model></cpu>", NULL };

  assert_same_connect_answer (f, "GetCapabilities", NULL);
  assert_same_connect_answer (f, "GetSysinfo", g_variant_new ("(u)", 0));
  assert_same_connect_answer (f, "GetCPUModelNames", g_variant_new ("(su)", "x86_64", 0));
  assert_same_connect_answer (f, "BaselineCPU", g_variant_new ("(^asu)", cpus, 0));
  assert_same_connect_answer (f, "CompareCPU", g_variant_new ("(su)", cpus[0], 0));
  assert_same_connect_answer (f, "NodeGetCPUMap", g_variant_new ("(u)", 0));
  assert_same_connect_answer (f, "NodeGetFreeMemory", NULL);
  assert_same_connect_answer (f, "NodeGetSecurityModel", NULL);
  assert_same_connect_answer (f, "NodeGetMemoryStats", g_variant_new ("(iu)", -1, 0));
  assert_same_connect_answer (f, "GetAllDomainStats", g_variant_new ("(uu)", 0, 0));
  assert_same_connect_answer (f, "FindStoragePoolSources", g_variant_new ("(ssu)", "logical", "", 0));
  assert_same_connect_answer (f, "GetDomainCapabilities", g_variant_new ("(ssssu)", "", "", "", "", 0));
}

static void
test_object_properties_match (CompareFixture *f, gconstpointer data)
{
  assert_same_domain_properties_plus_additions (f, VB_TEST_DOMAIN_PATH);
  assert_same_properties_answer (f, VB_TEST_NETWORK_PATH, "org.libvirt.Network");
  assert_same_properties_answer (f, VB_TEST_POOL_PATH, "org.libvirt.StoragePool");
  assert_same_properties_answer (f, VB_TEST_INTERFACE_PATH, "org.libvirt.Interface");
  assert_same_properties_answer (f, "/org/libvirt/Test/nodedev/scsi_5fhost1", "org.libvirt.NodeDevice");
  assert_same_properties_answer (f, "/org/libvirt/Test/nodedev/computer", "org.libvirt.NodeDevice");
  assert_same_answer (f, VB_TEST_DOMAIN_PATH, "org.freedesktop.DBus.Properties", "Get",
                      g_variant_new ("(ss)", "org.libvirt.Domain", "SchedulerType"));
  /* Connect: all but Secure, where the reference reports
   * virConnectIsEncrypted() and we report virConnectIsSecure(). */
  assert_same_answer (f, VB_TEST_CONNECT_PATH, "org.freedesktop.DBus.Properties", "Get",
                      g_variant_new ("(ss)", "org.libvirt.Connect", "Hostname"));
  assert_same_answer (f, VB_TEST_CONNECT_PATH, "org.freedesktop.DBus.Properties", "Get",
                      g_variant_new ("(ss)", "org.libvirt.Connect", "Encrypted"));
  assert_same_answer (f, VB_TEST_CONNECT_PATH, "org.freedesktop.DBus.Properties", "Get",
                      g_variant_new ("(ss)", "org.libvirt.Connect", "LibVersion"));
  assert_same_answer (f, VB_TEST_CONNECT_PATH, "org.freedesktop.DBus.Properties", "Get",
                      g_variant_new ("(ss)", "org.libvirt.Connect", "Version"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  if (!g_file_test (REFERENCE_DAEMON, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip (REFERENCE_DAEMON " is not installed");
      return 77;
    }

#define ADD(name, func) \
  g_test_add ("/reference/" name, CompareFixture, NULL, compare_setup, func, compare_teardown)
  ADD ("introspection", test_introspection_matches);
  ADD ("lists", test_lists_match);
  ADD ("lookups", test_lookups_match);
  ADD ("definitions", test_definitions_match);
  ADD ("host", test_host_answers_match);
  ADD ("object-properties", test_object_properties_match);
#undef ADD

  return g_test_run ();
}
