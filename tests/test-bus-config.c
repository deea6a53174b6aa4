/* What the bus configuration virtbus installs (data/dbus/org.libvirt.conf)
 * does to a system-type dbus-daemon: a caller may have thousands of calls
 * to org.libvirt waiting at once (Cockpit's page sends ~6 per VM at once;
 * dbus-daemon's default of 128 pending replies per connection dropped the
 * VMs beyond ~20 of them, issue 15).  A service of the test's own owns
 * org.libvirt here and holds every call, so that what is measured is the
 * bus alone.  As root (the buses run as root). */
#include "vb-system.h"
#include "vb-test.h"

#include <glib/gstdio.h>
#include <unistd.h>

#define CALLS 2000
#define DEFAULT_LIMIT 128

typedef struct {
  GPtrArray *held;           /* GDBusMethodInvocation, never answered */
  guint answered;
  guint refused;             /* LimitsExceeded */
  guint other_errors;
} Counts;

static void
on_held_call (GDBusConnection *bus, const char *sender, const char *path,
              const char *iface, const char *method, GVariant *params,
              GDBusMethodInvocation *invocation, gpointer data)
{
  Counts *counts = data;

  g_ptr_array_add (counts->held, g_object_ref (invocation));
}

static void
on_answer (GObject *source, GAsyncResult *result, gpointer data)
{
  Counts *counts = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                              result, &error);
  g_autofree char *name = error != NULL ? g_dbus_error_get_remote_error (error) : NULL;

  if (error == NULL)
    counts->answered++;
  else if (g_strcmp0 (name, "org.freedesktop.DBus.Error.LimitsExceeded") == 0)
    counts->refused++;
  else
    counts->other_errors++;
}

static char *
data_dir (void)
{
  return g_test_build_filename (G_TEST_DIST, "..", "data", NULL);
}

/* CALLS calls from one connection to a service that holds them, on a bus
 * configured with @extra; returns how they fared. */
static Counts
flood (const char *extra)
{
  g_autofree char *dir = g_dir_make_tmp ("virtbus-bus-config-XXXXXX", NULL);
  g_autofree char *socket = g_build_filename (dir, "bus_socket", NULL);
  g_autofree char *config = vb_test_system_bus_config (socket, extra);
  g_autofree char *config_path = g_build_filename (dir, "bus.conf", NULL);
  g_autofree char *config_arg = g_strconcat ("--config-file=", config_path, NULL);
  g_autofree char *address = g_strdup_printf ("unix:path=%s", socket);
  g_autoptr(GSubprocess) bus_daemon = NULL;
  g_autoptr(GDBusConnection) service = NULL;
  g_autoptr(GDBusConnection) caller = NULL;
  g_autoptr(GDBusNodeInfo) node = g_dbus_node_info_new_for_xml (
      "<node><interface name='org.libvirt.Connect'><method name='ListDomains'>"
      "<arg type='u' direction='in'/><arg type='ao' direction='out'/></method>"
      "</interface></node>",
      NULL);
  const GDBusInterfaceVTable vtable = { on_held_call, NULL, NULL, { 0 } };
  Counts counts = { .held = g_ptr_array_new_with_free_func (g_object_unref) };
  g_autoptr(GError) error = NULL;
  gint64 deadline;

  vb_system_write_file (dir, "bus.conf", config);
  bus_daemon = g_subprocess_new (G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error, "dbus-daemon",
                                 config_arg, "--nofork", "--nopidfile", NULL);
  g_assert_no_error (error);
  service = vb_system_connect (address);
  g_dbus_connection_register_object (service, "/org/libvirt/QEMU", node->interfaces[0],
                                     &vtable, &counts, NULL, &error);
  g_assert_no_error (error);
  g_bus_own_name_on_connection (service, "org.libvirt", G_BUS_NAME_OWNER_FLAGS_NONE, NULL,
                                NULL, NULL, NULL);
  g_free (vb_system_wait_for_name (service, "org.libvirt", NULL, bus_daemon));

  caller = vb_system_connect (address);
  for (guint i = 0; i < CALLS; i++)
    g_dbus_connection_call (caller, "org.libvirt", "/org/libvirt/QEMU", "org.libvirt.Connect",
                            "ListDomains", g_variant_new ("(u)", 0), NULL,
                            G_DBUS_CALL_FLAGS_NONE, 60000, NULL, on_answer, &counts);
  /* Every call either reaches the service or is refused by the bus. */
  deadline = g_get_monotonic_time () + 30 * G_TIME_SPAN_SECOND;
  while (counts.held->len + counts.refused + counts.other_errors < CALLS)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  /* Then all are answered, so that nothing is left pending. */
  for (guint i = 0; i < counts.held->len; i++)
    g_dbus_method_invocation_return_value (g_object_ref (counts.held->pdata[i]),
                                           g_variant_new ("(ao)", NULL));
  while (counts.answered + counts.refused + counts.other_errors < CALLS)
    g_main_context_iteration (NULL, TRUE);

  g_dbus_connection_close_sync (caller, NULL, NULL);
  g_dbus_connection_close_sync (service, NULL, NULL);
  vb_test_stop_process (&bus_daemon);
  g_unlink (config_path);
  g_rmdir (dir);
  return counts;
}

/* dbus-daemon's default: beyond 128 calls waiting, the bus refuses. */
static void
test_default_bus_refuses (void)
{
  Counts counts = flood ("  <policy user=\"root\">\n"
                         "    <allow own=\"org.libvirt\"/>\n"
                         "    <allow send_destination=\"org.libvirt\"/>\n"
                         "  </policy>\n");

  g_test_message ("default bus: %u of %d calls held, %u refused", counts.held->len, CALLS,
                  counts.refused);
  g_assert_cmpuint (counts.held->len, ==, DEFAULT_LIMIT);
  g_assert_cmpuint (counts.refused, ==, CALLS - DEFAULT_LIMIT);
  g_assert_cmpuint (counts.other_errors, ==, 0);
  g_ptr_array_unref (counts.held);
}

/* With virtbus's file included (as /usr/share/dbus-1/system.d/ is), all
 * reach the service. */
static void
test_virtbus_policy_lifts_the_limit (void)
{
  g_autofree char *data = data_dir ();
  g_autofree char *extra = vb_system_bus_config_extra (data, NULL);
  Counts counts = flood (extra);

  g_test_message ("with org.libvirt.conf: %u of %d calls held, %u refused", counts.held->len,
                  CALLS, counts.refused);
  g_assert_cmpuint (counts.refused, ==, 0);
  g_assert_cmpuint (counts.other_errors, ==, 0);
  g_assert_cmpuint (counts.held->len, ==, CALLS);
  g_assert_cmpuint (counts.answered, ==, CALLS);
  g_ptr_array_unref (counts.held);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (getuid () != 0)
    {
      g_test_skip ("runs system-type buses as root");
      return g_test_run ();
    }
  g_test_add_func ("/bus-config/pending-replies/default-bus-refuses-beyond-128",
                   test_default_bus_refuses);
  g_test_add_func ("/bus-config/pending-replies/virtbus-policy-lifts-the-limit",
                   test_virtbus_policy_lifts_the_limit);
  return g_test_run ();
}
