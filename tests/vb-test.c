#include "vb-test.h"

#include <gio/gunixfdlist.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <string.h>

#define CALL_TIMEOUT_MS 20000
#define STARTUP_TIMEOUT_US (20 * G_USEC_PER_SEC)

/* Under meson each test program runs in a session of its own.  When it
 * dies of a failed assertion or a crash, its helpers (GTestDBus's watcher,
 * the bus, virtbusd) go with it instead of holding the runner's output
 * pipes open until the test's timeout. */
static void
on_fatal_signal (int signum)
{
  signal (signum, SIG_DFL);
  if (getsid (0) == getpid ())
    {
      signal (SIGTERM, SIG_IGN);
      kill (0, SIGTERM);
    }
  raise (signum);
}

__attribute__ ((constructor)) static void
install_fatal_signal_handlers (void)
{
  const int signals[] = { SIGABRT, SIGSEGV, SIGTRAP, SIGBUS, SIGFPE, SIGILL };

  for (gsize i = 0; i < G_N_ELEMENTS (signals); i++)
    signal (signals[i], on_fatal_signal);
}

const char *
vb_test_daemon_binary (void)
{
  const char *binary = g_getenv ("VIRTBUSD");

  g_assert_nonnull (binary);
  return binary;
}

/* In the child before exec: a test that dies (a failed assertion aborts)
 * takes its daemon with it, instead of leaving it to hold the test
 * runner's pipes open. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

GSubprocessLauncher *
vb_test_daemon_launcher (GSubprocessFlags flags)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (flags);

  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  /* The test programs run with leak detection off (GTestDBus forks a
   * watcher whose inherited threads LeakSanitizer cannot account for);
   * the daemon under test runs with it on. */
  g_subprocess_launcher_setenv (launcher, "ASAN_OPTIONS",
                                "detect_leaks=1:abort_on_error=0:halt_on_error=1", TRUE);
  return launcher;
}

void
vb_test_run_daemon (const char *const *args, int *status, char **out, char **err)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GSubprocessLauncher) launcher = vb_test_daemon_launcher (
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);

  g_ptr_array_add (argv, (char *) vb_test_daemon_binary ());
  for (const char *const *arg = args; *arg != NULL; arg++)
    g_ptr_array_add (argv, (char *) *arg);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, out, err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  *status = g_subprocess_get_exit_status (process);
}

static gboolean
name_has_owner (GDBusConnection *bus, const char *name)
{
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync (
      bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
      "org.freedesktop.DBus", "NameHasOwner", g_variant_new ("(s)", name),
      G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  gboolean has_owner = FALSE;

  if (reply != NULL)
    g_variant_get (reply, "(b)", &has_owner);
  return has_owner;
}

static void
wait_for_name (VbTestFixture *f)
{
  gint64 deadline = g_get_monotonic_time () + STARTUP_TIMEOUT_US;

  while (!name_has_owner (f->bus, "org.libvirt"))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      /* GSubprocess reaps the child at once: no identifier once it died. */
      g_assert_nonnull (g_subprocess_get_identifier (f->daemon));
      g_usleep (5000);
    }
}

void
vb_test_setup_with_args (VbTestFixture *f, const char *const *args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;

  f->test_bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (f->test_bus);
  f->bus = g_dbus_connection_new_for_address_sync (
      g_test_dbus_get_bus_address (f->test_bus),
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
          G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  g_assert_no_error (error);

  g_ptr_array_add (argv, (char *) vb_test_daemon_binary ());
  g_ptr_array_add (argv, "--session");
  for (const char *const *arg = args; arg != NULL && *arg != NULL; arg++)
    g_ptr_array_add (argv, (char *) *arg);
  g_ptr_array_add (argv, NULL);

  launcher = vb_test_daemon_launcher (G_SUBPROCESS_FLAGS_NONE);
  f->daemon = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata,
                                            &error);
  g_assert_no_error (error);
  wait_for_name (f);
}

void
vb_test_setup (VbTestFixture *f, gconstpointer data)
{
  const char *const args[] = { "--connect", "Test=test:///default", NULL };

  vb_test_setup_with_args (f, args);
}

void
vb_test_stop_daemon (VbTestFixture *f)
{
  g_autoptr(GError) error = NULL;

  if (f->daemon == NULL)
    return;
  g_subprocess_send_signal (f->daemon, SIGTERM);
  g_subprocess_wait (f->daemon, NULL, &error);
  g_assert_no_error (error);
  /* A sanitizer finding or a crash at exit fails the test here. */
  g_assert_true (g_subprocess_get_if_exited (f->daemon));
  g_assert_cmpint (g_subprocess_get_exit_status (f->daemon), ==, 0);
  g_clear_object (&f->daemon);
}

char *
vb_test_system_bus_config (const char *socket_path, const char *extra)
{
  return g_strdup_printf (
      "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
      " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
      "<busconfig>\n"
      "  <type>system</type>\n"
      "  <listen>unix:path=%s</listen>\n"
      "  <auth>EXTERNAL</auth>\n"
      "  <policy context=\"default\">\n"
      "    <allow user=\"*\"/>\n"
      "    <deny own=\"*\"/>\n"
      "    <deny send_type=\"method_call\"/>\n"
      "    <allow send_destination=\"org.freedesktop.DBus\"/>\n"
      "    <allow send_type=\"signal\"/>\n"
      "    <allow send_requested_reply=\"true\" send_type=\"method_return\"/>\n"
      "    <allow send_requested_reply=\"true\" send_type=\"error\"/>\n"
      "    <allow receive_type=\"method_call\"/>\n"
      "    <allow receive_type=\"method_return\"/>\n"
      "    <allow receive_type=\"error\"/>\n"
      "    <allow receive_type=\"signal\"/>\n"
      "  </policy>\n"
      "%s"
      "</busconfig>\n",
      socket_path, extra);
}

void
vb_test_stop_process (GSubprocess **process)
{
  if (*process == NULL)
    return;
  g_subprocess_send_signal (*process, SIGTERM);
  g_subprocess_wait (*process, NULL, NULL);
  g_clear_object (process);
}

void
vb_test_teardown (VbTestFixture *f, gconstpointer data)
{
  vb_test_stop_daemon (f);
  g_dbus_connection_close_sync (f->bus, NULL, NULL);
  g_clear_object (&f->bus);
  g_test_dbus_down (f->test_bus);
  g_clear_object (&f->test_bus);
}

GVariant *
vb_test_call_with_fds (VbTestFixture *f, const char *path, const char *iface,
                       const char *method, GVariant *args, GUnixFDList *fds,
                       GError **error)
{
  return g_dbus_connection_call_with_unix_fd_list_sync (
      f->bus, "org.libvirt", path, iface, method, args, NULL,
      G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, fds, NULL, NULL, error);
}

GVariant *
vb_test_call (VbTestFixture *f, const char *path, const char *iface,
              const char *method, GVariant *args, const char *reply_type)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply = g_dbus_connection_call_sync (
      f->bus, "org.libvirt", path, iface, method, args,
      reply_type != NULL ? G_VARIANT_TYPE (reply_type) : NULL,
      G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, &error);

  if (error != NULL)
    g_test_message ("%s.%s on %s failed", iface, method, path);
  g_assert_no_error (error);
  g_assert_nonnull (reply);
  return reply;
}

GError *
vb_test_call_expecting_error (VbTestFixture *f, const char *path,
                              const char *iface, const char *method,
                              GVariant *args)
{
  GError *error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync (
      f->bus, "org.libvirt", path, iface, method, args, NULL,
      G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, &error);

  return error;
}

void
vb_test_assert_call_error (VbTestFixture *f, const char *path,
                           const char *iface, const char *method,
                           GVariant *args, const char *error_name,
                           const char *message_part)
{
  g_autoptr(GError) error =
      vb_test_call_expecting_error (f, path, iface, method, args);
  g_autofree char *remote_name = NULL;

  if (error == NULL)
    g_error ("%s.%s on %s succeeded, expected %s", iface, method, path, error_name);
  remote_name = g_dbus_error_get_remote_error (error);
  g_assert_cmpstr (remote_name, ==, error_name);
  if (message_part != NULL && strstr (error->message, message_part) == NULL)
    g_error ("%s.%s: error message '%s' lacks '%s'", iface, method,
             error->message, message_part);
}

GVariant *
vb_test_connect_call (VbTestFixture *f, const char *method, GVariant *args,
                      const char *reply_type)
{
  return vb_test_call (f, VB_TEST_CONNECT_PATH, "org.libvirt.Connect", method,
                       args, reply_type);
}

void
vb_test_assert_connect_error (VbTestFixture *f, const char *method,
                              GVariant *args, const char *error_name,
                              const char *message_part)
{
  vb_test_assert_call_error (f, VB_TEST_CONNECT_PATH, "org.libvirt.Connect",
                             method, args, error_name, message_part);
}

GVariant *
vb_test_get_property (VbTestFixture *f, const char *path, const char *iface,
                      const char *name)
{
  g_autoptr(GVariant) reply = vb_test_call (f, path,
                                            "org.freedesktop.DBus.Properties",
                                            "Get",
                                            g_variant_new ("(ss)", iface, name),
                                            "(v)");
  GVariant *value = NULL;

  g_variant_get (reply, "(v)", &value);
  return value;
}

GVariant *
vb_test_unbox_twice (GVariant *dict)
{
  GVariantBuilder unboxed;
  GVariantIter iter;
  const char *name;
  GVariant *value;

  g_variant_builder_init (&unboxed, G_VARIANT_TYPE ("a{sv}"));
  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_next (&iter, "{&sv}", &name, &value))
    {
      g_autoptr(GVariant) inner = NULL;

      if (!g_variant_is_of_type (value, G_VARIANT_TYPE_VARIANT))
        g_error ("a{sv} value '%s' is not boxed twice", name);
      inner = g_variant_get_variant (value);
      g_variant_builder_add (&unboxed, "{sv}", name, inner);
      g_variant_unref (value);
    }
  return g_variant_ref_sink (g_variant_builder_end (&unboxed));
}

GVariant *
vb_test_get_all (VbTestFixture *f, const char *path, const char *iface)
{
  g_autoptr(GVariant) reply = vb_test_call (f, path,
                                            "org.freedesktop.DBus.Properties",
                                            "GetAll", g_variant_new ("(s)", iface),
                                            "(a{sv})");
  g_autoptr(GVariant) dict = NULL;

  g_variant_get (reply, "(@a{sv})", &dict);
  return vb_test_unbox_twice (dict);
}

void
vb_test_assert_alive (VbTestFixture *f)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "ListDomains",
                                                    g_variant_new ("(u)", 0),
                                                    "(ao)");
  g_autoptr(GVariant) paths = g_variant_get_child_value (reply, 0);

  g_assert_cmpuint (g_variant_n_children (paths), >=, 1);
}

char *
vb_test_define_domain (VbTestFixture *f, const char *name)
{
  g_autofree char *xml = g_strdup_printf ("<domain type='test'><name>%s</name>"
                                          "<memory>65536</memory><os><type>hvm</type></os>"
                                          "</domain>", name);
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "DomainDefineXML",
                                                    g_variant_new ("(s)", xml), "(o)");

  return vb_test_reply_path (reply);
}

char *
vb_test_reply_path (GVariant *reply)
{
  const char *path;

  g_variant_get (reply, "(&o)", &path);
  return g_strdup (path);
}

struct _VbSignalRecorder {
  GDBusConnection *bus;
  guint subscription;
  GQueue signals;   /* of GVariant "(os@*)": path, parameters */
};

static void
on_recorded_signal (GDBusConnection *bus, const char *sender, const char *path,
                    const char *iface, const char *signal_name,
                    GVariant *parameters, gpointer data)
{
  VbSignalRecorder *recorder = data;

  g_queue_push_tail (&recorder->signals,
                     g_variant_ref_sink (g_variant_new ("(s@*)", path, parameters)));
}

VbSignalRecorder *
vb_signal_recorder_new (VbTestFixture *f, const char *iface,
                        const char *signal_name)
{
  VbSignalRecorder *recorder = g_new0 (VbSignalRecorder, 1);

  recorder->bus = g_object_ref (f->bus);
  recorder->subscription = g_dbus_connection_signal_subscribe (
      f->bus, "org.libvirt", iface, signal_name, NULL, NULL,
      G_DBUS_SIGNAL_FLAGS_NONE, on_recorded_signal, recorder, NULL);
  /* A round trip to the bus makes sure the match rule is in place before
   * the test triggers anything. */
  g_assert_true (name_has_owner (f->bus, "org.libvirt"));
  return recorder;
}

static gboolean
on_signal_timeout (gpointer data)
{
  gboolean *timed_out = data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

GVariant *
vb_signal_recorder_wait (VbSignalRecorder *recorder, char **out_path)
{
  gboolean timed_out = FALSE;
  guint timeout = g_timeout_add_seconds (5, on_signal_timeout, &timed_out);
  g_autoptr(GVariant) entry = NULL;
  GVariant *parameters = NULL;

  while (g_queue_is_empty (&recorder->signals) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout);
  g_assert_false (g_queue_is_empty (&recorder->signals));

  entry = g_queue_pop_head (&recorder->signals);
  g_variant_get (entry, "(s@*)", out_path, &parameters);
  return parameters;
}

void
vb_signal_recorder_free (VbSignalRecorder *recorder)
{
  g_dbus_connection_signal_unsubscribe (recorder->bus, recorder->subscription);
  g_queue_clear_full (&recorder->signals, (GDestroyNotify) g_variant_unref);
  g_object_unref (recorder->bus);
  g_free (recorder);
}

/* ---- object kinds below a connection ---------------------------------- */

GDBusInterfaceInfo *
vb_test_introspect_interface (VbTestFixture *f, const char *path, const char *iface,
                              GDBusNodeInfo **out_node)
{
  g_autoptr(GVariant) reply = vb_test_call (f, path, "org.freedesktop.DBus.Introspectable",
                                            "Introspect", NULL, "(s)");
  g_autoptr(GError) error = NULL;
  const char *xml;
  GDBusInterfaceInfo *info;

  g_variant_get (reply, "(&s)", &xml);
  *out_node = g_dbus_node_info_new_for_xml (xml, &error);
  g_assert_no_error (error);
  info = g_dbus_node_info_lookup_interface (*out_node, iface);
  g_assert_nonnull (info);
  return info;
}

static GVariant *
filler_value (const GVariantType *type, const char *text, guint32 number)
{
  switch (g_variant_type_peek_string (type)[0])
    {
    case 's':
      return g_variant_new_string (text);
    case 'o':
      return g_variant_new_object_path ("/");
    case 'b':
      return g_variant_new_boolean (FALSE);
    case 'y':
      return g_variant_new_byte ((guchar) number);
    case 'i':
      return g_variant_new_int32 ((gint32) number);
    case 'u':
      return g_variant_new_uint32 (number);
    case 'x':
      return g_variant_new_int64 (number);
    case 't':
      return g_variant_new_uint64 (number);
    case 'h':
      return g_variant_new_handle ((gint32) number);
    case 'd':
      return g_variant_new_double (number);
    case 'a':
      return g_variant_new_array (g_variant_type_element (type), NULL, 0);
    default:
      g_error ("no filler for argument type %s", g_variant_type_peek_string (type));
    }
}

GVariant *
vb_test_filler_args (const GDBusMethodInfo *method, const char *text, guint32 number)
{
  GVariantBuilder args;

  g_variant_builder_init (&args, G_VARIANT_TYPE_TUPLE);
  for (GDBusArgInfo **arg = method->in_args; arg != NULL && *arg != NULL; arg++)
    g_variant_builder_add_value (&args, filler_value (G_VARIANT_TYPE ((*arg)->signature),
                                                      text, number));
  return g_variant_builder_end (&args);
}

#define UNKNOWN_OBJECT_NAME "org.freedesktop.DBus.Error.UnknownObject"
#define INVALID_ARGS_NAME "org.freedesktop.DBus.Error.InvalidArgs"

void
vb_test_assert_object_gone (VbTestFixture *f, const char *path, const char *iface)
{
  g_autoptr(GDBusNodeInfo) node = NULL;
  GDBusInterfaceInfo *info = vb_test_introspect_interface (f, path, iface, &node);

  vb_test_assert_call_error (f, path, "org.freedesktop.DBus.Properties", "GetAll",
                             g_variant_new ("(s)", iface), UNKNOWN_OBJECT_NAME, NULL);
  for (GDBusPropertyInfo **p = info->properties; p != NULL && *p != NULL; p++)
    vb_test_assert_call_error (f, path, "org.freedesktop.DBus.Properties", "Get",
                               g_variant_new ("(ss)", iface, (*p)->name),
                               UNKNOWN_OBJECT_NAME, NULL);
  for (GDBusMethodInfo **m = info->methods; m != NULL && *m != NULL; m++)
    vb_test_assert_call_error (f, path, iface, (*m)->name,
                               vb_test_filler_args (*m, "x", 0), UNKNOWN_OBJECT_NAME, NULL);
}

static void
assert_rejected_as_malformed (VbTestFixture *f, const char *path, const char *iface,
                              const char *method, GVariant *args)
{
  g_autoptr(GError) error = vb_test_call_expecting_error (f, path, iface, method, args);
  g_autofree char *name = NULL;

  if (error == NULL)
    g_error ("%s.%s on %s answered malformed arguments with a reply", iface, method, path);
  name = g_dbus_error_get_remote_error (error);
  if (g_strcmp0 (name, VB_ERROR_LIBVIRT_NAME) != 0 && g_strcmp0 (name, INVALID_ARGS_NAME) != 0)
    g_error ("%s.%s on %s: unexpected error %s: %s", iface, method, path, name, error->message);
}

/* The daemon still answers a libvirt call on the connection of @path
 * (<connection>/<kind>/<object>). */
static void
assert_connection_answers (VbTestFixture *f, const char *path)
{
  g_autofree char *conn_path = g_strdup (path);
  g_autoptr(GVariant) version = NULL;

  for (int i = 0; i < 2; i++)
    *strrchr (conn_path, '/') = '\0';
  version = vb_test_get_property (f, conn_path, "org.libvirt.Connect", "LibVersion");
  g_assert_cmpuint (g_variant_get_uint64 (version), >, 0);
}

void
vb_test_sweep_object (VbTestFixture *f, const char *path, const char *iface,
                      const char *text, guint32 number, const char *const *skip)
{
  g_autoptr(GDBusNodeInfo) node = NULL;
  GDBusInterfaceInfo *info = vb_test_introspect_interface (f, path, iface, &node);

  for (GDBusMethodInfo **m = info->methods; m != NULL && *m != NULL; m++)
    {
      gboolean has_args = (*m)->in_args != NULL && (*m)->in_args[0] != NULL;

      /* No method of ours takes four strings. */
      vb_test_assert_call_error (f, path, iface, (*m)->name,
                                 g_variant_new ("(ssss)", "a", "b", "c", "d"),
                                 INVALID_ARGS_NAME, NULL);
      if (!has_args || (skip != NULL && g_strv_contains (skip, (*m)->name)))
        continue;
      vb_test_assert_call_error (f, path, iface, (*m)->name, NULL, INVALID_ARGS_NAME, NULL);
      assert_rejected_as_malformed (f, path, iface, (*m)->name,
                                    vb_test_filler_args (*m, text, number));
    }
  assert_connection_answers (f, path);
}

/* ---- domain snapshots ---------------------------------------------------- */

#define SNAPSHOT_INTERFACE "org.libvirt.DomainSnapshot"

void
vb_test_assert_paths (GVariant *reply, const char *const *expected)
{
  g_autoptr(GVariant) paths = g_variant_get_child_value (reply, 0);
  g_autofree const char **got = g_variant_get_objv (paths, NULL);
  guint n_expected = g_strv_length ((char **) expected);

  if (g_strv_length ((char **) got) != n_expected)
    {
      g_autofree char *printed = g_variant_print (paths, FALSE);

      g_error ("expected %u paths, got %s", n_expected, printed);
    }
  for (const char *const *path = expected; *path != NULL; path++)
    {
      if (!g_strv_contains (got, *path))
        g_error ("%s is not among the paths answered", *path);
    }
}

GVariant *
vb_test_snapshot_call (VbTestFixture *f, const char *path, const char *method,
                       guint flags, const char *reply_type)
{
  return vb_test_call (f, path, SNAPSHOT_INTERFACE, method, g_variant_new ("(u)", flags),
                       reply_type);
}

void
vb_test_assert_snapshot_error (VbTestFixture *f, const char *path, const char *method,
                               guint flags, const char *error_name,
                               const char *message_part)
{
  vb_test_assert_call_error (f, path, SNAPSHOT_INTERFACE, method,
                             g_variant_new ("(u)", flags), error_name, message_part);
}

gboolean
vb_test_snapshot_is_current (VbTestFixture *f, const char *path)
{
  g_autoptr(GVariant) reply = vb_test_snapshot_call (f, path, "IsCurrent", 0, "(b)");
  gboolean current;

  g_variant_get (reply, "(b)", &current);
  return current;
}

char *
vb_test_snapshot_xml (VbTestFixture *f, const char *path, guint flags)
{
  g_autoptr(GVariant) reply = vb_test_snapshot_call (f, path, "GetXMLDesc", flags, "(s)");
  char *xml;

  g_variant_get (reply, "(s)", &xml);
  return xml;
}

void
vb_test_assert_snapshot_parent (VbTestFixture *f, const char *path, const char *expected)
{
  g_autoptr(GVariant) reply = vb_test_snapshot_call (f, path, "GetParent", 0, "(o)");
  g_autofree char *parent = vb_test_reply_path (reply);

  g_assert_cmpstr (parent, ==, expected);
}

void
vb_test_assert_snapshot_children (VbTestFixture *f, const char *path, guint flags,
                                  const char *const *expected)
{
  g_autoptr(GVariant) reply = vb_test_snapshot_call (f, path, "ListChildren", flags, "(ao)");

  vb_test_assert_paths (reply, expected);
}

void
vb_test_assert_snapshot_gone (VbTestFixture *f, const char *path)
{
  const char *const methods[] = { "Delete", "GetParent", "GetXMLDesc", "IsCurrent",
                                  "ListChildren", "Revert", NULL };

  for (const char *const *method = methods; *method != NULL; method++)
    vb_test_assert_snapshot_error (f, path, *method, 0, UNKNOWN_OBJECT_NAME, NULL);
}

GVariant *
vb_signal_recorder_wait_for_object (VbSignalRecorder *recorder, const char *object_path)
{
  for (;;)
    {
      g_autofree char *signal_path = NULL;
      GVariant *parameters = vb_signal_recorder_wait (recorder, &signal_path);
      g_autoptr(GVariant) object = g_variant_get_child_value (parameters, 0);

      if (g_str_equal (g_variant_get_string (object, NULL), object_path))
        return parameters;
      g_variant_unref (parameters);
    }
}

/* ---- programs against a real libvirtd ---------------------------------- */

#include "vb-libvirtd.h"

void
vb_test_setup_libvirtd (VbTestFixture *f, gconstpointer data)
{
  const char *const args[] = { VB_LIBVIRTD_DAEMON_ARGS, NULL };

  vb_test_setup_with_args (f, args);
}

int
vb_test_run_with_libvirtd (void (*cleanup) (void))
{
  g_autofree char *skip_reason = NULL;
  int status;

  if (!vb_libvirtd_ensure (&skip_reason))
    {
      g_test_skip (skip_reason);
      return 77;
    }
  cleanup ();
  status = g_test_run ();
  cleanup ();
  vb_libvirtd_release ();
  return status;
}

#include <glib/gstdio.h>

void
vb_test_remove_flat_dir (const char *dir)
{
  g_autoptr(GDir) entries = g_dir_open (dir, 0, NULL);
  const char *entry;

  while (entries != NULL && (entry = g_dir_read_name (entries)) != NULL)
    {
      g_autofree char *file = g_build_filename (dir, entry, NULL);

      g_unlink (file);
    }
  g_rmdir (dir);
}

GBytes *
vb_test_random_bytes (gsize size, guint32 seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  guint32 *words = g_malloc (size);

  for (gsize i = 0; i < size / sizeof (guint32); i++)
    words[i] = g_rand_int (rand);
  return g_bytes_new_take (words, size);
}

#include <errno.h>
#include <unistd.h>

#define RUN_NAME_PREFIX "vbtest-"

char *
vb_test_run_name (const char *what)
{
  return g_strdup_printf (RUN_NAME_PREFIX "%d-%s", (int) getpid (), what);
}

gboolean
vb_test_run_name_is_removable (const char *name)
{
  const char *digits;
  char *end = NULL;
  gint64 pid;

  if (!g_str_has_prefix (name, RUN_NAME_PREFIX))
    return FALSE;
  digits = name + strlen (RUN_NAME_PREFIX);
  pid = g_ascii_strtoll (digits, &end, 10);
  if (end == digits || *end != '-' || pid <= 0)
    return FALSE;
  return pid == getpid () || (kill ((pid_t) pid, 0) != 0 && errno == ESRCH);
}

void
vb_test_spin_main_context (guint milliseconds)
{
  gint64 until = g_get_monotonic_time () + milliseconds * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < until)
    {
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (1000);
    }
}
