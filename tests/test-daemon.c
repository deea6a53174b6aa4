/* virtbusd as a program: its command line, a driver that cannot be
 * opened, and a sweep of malformed calls it must survive. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "vb-test.h"

#define INVALID_ARGS "org.freedesktop.DBus.Error.InvalidArgs"
#define PROPERTIES_IFACE "org.freedesktop.DBus.Properties"

/* ---- command line ----------------------------------------------------- */

static void
assert_rejected (const char *const *args, const char *message_part)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  vb_test_run_daemon (args, &status, &out, &err);
  g_assert_cmpint (status, ==, 1);
  g_assert_cmpstr (out, ==, "");
  /* one line, naming the program and the problem */
  g_assert_true (g_str_has_prefix (err, "virtbusd: "));
  g_assert_true (strchr (err, '\n') == err + strlen (err) - 1);
  if (strstr (err, message_part) == NULL)
    g_error ("message '%s' lacks '%s'", err, message_part);
}

static void
test_bad_command_lines (void)
{
  assert_rejected ((const char *[]) { "--bogus", NULL }, "--bogus");
  assert_rejected ((const char *[]) { "--threads", "0", NULL }, "--threads");
  assert_rejected ((const char *[]) { "--threads", "many", NULL }, "--threads");
  assert_rejected ((const char *[]) { "--threads", "100000", NULL }, "--threads");
  assert_rejected ((const char *[]) { "--threads", NULL }, "--threads");
  assert_rejected ((const char *[]) { "--connect", "Test", NULL }, "NAME=URI");
  assert_rejected ((const char *[]) { "--connect", "=test:///default", NULL }, "name ''");
  assert_rejected ((const char *[]) { "--connect", "Test=", NULL }, "NAME=URI");
  assert_rejected ((const char *[]) { "--connect", "my-host=test:///default", NULL }, "my-host");
  assert_rejected ((const char *[]) { "--connect", "A=test:///default", "--connect",
                                      "A=test:///default", NULL }, "twice");
  assert_rejected ((const char *[]) { "--system", "--session", NULL }, "exclude");
  assert_rejected ((const char *[]) { "extra", NULL }, "extra");
}

static void
test_version (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  vb_test_run_daemon ((const char *[]) { "--version", NULL }, &status, &out, &err);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out, ==, "virtbusd " VIRTBUS_VERSION "\n");
}

static void
test_help (void)
{
  const char *const options[] = { "--system", "--session", "--threads", "--connect",
                                  "--timeout", "--activated", "--config",
                                  "--version", "--help", NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  vb_test_run_daemon ((const char *[]) { "--help", NULL }, &status, &out, &err);
  g_assert_cmpint (status, ==, 0);
  for (const char *const *option = options; *option != NULL; option++)
    g_assert_nonnull (strstr (out, *option));
}

static void
test_no_bus (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;
  const char *saved = g_getenv ("DBUS_SESSION_BUS_ADDRESS");
  g_autofree char *saved_copy = g_strdup (saved);

  g_setenv ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus", TRUE);
  vb_test_run_daemon ((const char *[]) { "--session", NULL }, &status, &out, &err);
  if (saved_copy != NULL)
    g_setenv ("DBUS_SESSION_BUS_ADDRESS", saved_copy, TRUE);
  else
    g_unsetenv ("DBUS_SESSION_BUS_ADDRESS");
  g_assert_cmpint (status, ==, 1);
  g_assert_true (g_str_has_prefix (err, "virtbusd: cannot connect to the session bus"));
  /* one line: nothing else (no sanitizer report) on the way out */
  g_assert_true (strchr (err, '\n') == err + strlen (err) - 1);
}

/* ---- connections ------------------------------------------------------ */

static void
setup_with_broken_driver (VbTestFixture *f, gconstpointer data)
{
  const char *const args[] = {
    "--threads", "2",
    "--connect", "Test=test:///default",
    "--connect", "Broken=test:///nonexistent/host.xml",
    NULL
  };

  vb_test_setup_with_args (f, args);
}

static void
test_broken_driver_answers_libvirt_error (VbTestFixture *f, gconstpointer data)
{
  for (int i = 0; i < 3; i++)
    vb_test_assert_call_error (f, "/org/libvirt/Broken", "org.libvirt.Connect", "ListDomains",
                               g_variant_new ("(u)", 0), VB_ERROR_LIBVIRT_NAME,
                               "/nonexistent/host.xml");
  vb_test_assert_call_error (f, "/org/libvirt/Broken", "org.freedesktop.DBus.Properties", "Get",
                             g_variant_new ("(ss)", "org.libvirt.Connect", "Hostname"),
                             VB_ERROR_LIBVIRT_NAME, "/nonexistent/host.xml");
  vb_test_assert_alive (f);
}

static void
on_list_reply (GObject *source, GAsyncResult *result, gpointer data)
{
  guint *pending = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             result, &error);

  g_assert_no_error (error);
  g_assert_true (g_variant_is_of_type (reply, G_VARIANT_TYPE ("(ao)")));
  (*pending)--;
}

static void
test_many_calls_in_flight (VbTestFixture *f, gconstpointer data)
{
  guint pending = 0;

  /* the bus caps pending replies per connection at 128 */
  for (int i = 0; i < 100; i++)
    {
      pending++;
      g_dbus_connection_call (f->bus, "org.libvirt", VB_TEST_CONNECT_PATH,
                              "org.libvirt.Connect", "ListDomains", g_variant_new ("(u)", 0),
                              G_VARIANT_TYPE ("(ao)"), G_DBUS_CALL_FLAGS_NONE, 30000, NULL,
                              on_list_reply, &pending);
    }
  while (pending > 0)
    g_main_context_iteration (NULL, TRUE);
}

/* ---- reads answered in place while a slow call holds a domain --------- */

typedef struct {
  gboolean done;
  GVariant *reply;
  GError *error;
} PendingReply;

static void
on_pending_reply (GObject *source, GAsyncResult *result, gpointer data)
{
  PendingReply *pending = data;

  pending->reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result,
                                                  &pending->error);
  pending->done = TRUE;
}

static void
call_domain_async (VbTestFixture *f, const char *path, const char *iface,
                   const char *method, GVariant *args, PendingReply *pending)
{
  g_dbus_connection_call (f->bus, "org.libvirt", path, iface, method, args, NULL,
                          G_DBUS_CALL_FLAGS_NONE, 60000, NULL, on_pending_reply, pending);
}

static void
wait_for_reply (PendingReply *pending)
{
  while (!pending->done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (pending->error);
}

/* A call that must be answered within 5 s. */
static GVariant *
call_promptly (VbTestFixture *f, const char *path, const char *iface, const char *method,
               GVariant *args, const char *reply_type)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply = g_dbus_connection_call_sync (f->bus, "org.libvirt", path, iface, method,
                                                 args, G_VARIANT_TYPE (reply_type),
                                                 G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);

  g_assert_no_error (error);
  return reply;
}

/* Reads everything a writer sends into @fifo until it closes it. */
static gsize
drain_fifo (const char *fifo)
{
  char buffer[4096];
  gsize total = 0;
  ssize_t n;
  int fd = open (fifo, O_RDONLY);

  g_assert_cmpint (fd, >=, 0);
  while ((n = read (fd, buffer, sizeof buffer)) > 0)
    total += (gsize) n;
  g_assert_cmpint (n, ==, 0);
  close (fd);
  return total;
}

/* The test driver runs inside virtbusd, and virtbusd answers its reads of
 * one object on GDBus's own thread.  A CoreDump into a FIFO that nobody
 * reads holds its domain's lock inside libvirt until a reader comes: a
 * read of that domain answered in place would then stop GDBus's thread and
 * every other caller with it.  So while the dump runs, reads go to the
 * workers: the one on the held domain waits there, the others are
 * answered. */
static void
test_slow_call_does_not_stall_reads (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *dir = g_dir_make_tmp ("virtbus-fifo-XXXXXX", NULL);
  g_autofree char *fifo = g_build_filename (dir, "core", NULL);
  g_autofree char *bystander = vb_test_define_domain (f, "bystander");
  PendingReply dump = { 0 }, held_read = { 0 };
  g_autoptr(GVariant) active = NULL, value = NULL, all = NULL, xml = NULL, found = NULL;
  g_autoptr(GVariant) properties = NULL, state = NULL, held_value = NULL;
  g_autofree char *found_path = NULL;
  const char *description;

  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  call_domain_async (f, VB_TEST_DOMAIN_PATH, "org.libvirt.Domain", "CoreDump",
                     g_variant_new ("(suu)", fifo, 0, 0), &dump);
  /* Long enough for the dump to reach libvirt's open() of the FIFO. */
  vb_test_spin_main_context (500);
  g_assert_false (dump.done);

  call_domain_async (f, VB_TEST_DOMAIN_PATH, PROPERTIES_IFACE, "Get",
                     g_variant_new ("(ss)", "org.libvirt.Domain", "Active"), &held_read);
  vb_test_spin_main_context (100);

  /* Each of these would time out if the read above were stuck on GDBus's
   * thread. */
  active = call_promptly (f, bystander, PROPERTIES_IFACE, "Get",
                          g_variant_new ("(ss)", "org.libvirt.Domain", "Active"), "(v)");
  g_variant_get (active, "(v)", &value);
  g_assert_false (g_variant_get_boolean (value));
  all = call_promptly (f, bystander, PROPERTIES_IFACE, "GetAll",
                       g_variant_new ("(s)", "org.libvirt.Domain"), "(a{sv})");
  properties = g_variant_get_child_value (all, 0);
  g_assert_cmpuint (g_variant_n_children (properties), >, 10);
  xml = call_promptly (f, bystander, "org.libvirt.Domain", "GetXMLDesc",
                       g_variant_new ("(u)", 0), "(s)");
  g_variant_get (xml, "(&s)", &description);
  g_assert_nonnull (strstr (description, "<name>bystander</name>"));
  found = call_promptly (f, VB_TEST_CONNECT_PATH, "org.libvirt.Connect", "DomainLookupByName",
                         g_variant_new ("(s)", "bystander"), "(o)");
  found_path = vb_test_reply_path (found);
  g_assert_cmpstr (found_path, ==, bystander);
  state = call_promptly (f, bystander, "org.libvirt.Domain", "GetState",
                         g_variant_new ("(u)", 0), "((ii))");
  g_assert_false (dump.done);
  g_assert_false (held_read.done);

  g_assert_cmpuint (drain_fifo (fifo), >, 0);
  wait_for_reply (&dump);
  wait_for_reply (&held_read);
  g_assert_true (g_variant_is_of_type (held_read.reply, G_VARIANT_TYPE ("(v)")));
  g_variant_get (held_read.reply, "(v)", &held_value);
  g_assert_true (g_variant_get_boolean (held_value));
  g_clear_pointer (&dump.reply, g_variant_unref);
  g_clear_pointer (&held_read.reply, g_variant_unref);
  g_assert_cmpint (unlink (fifo), ==, 0);
  g_assert_cmpint (rmdir (dir), ==, 0);
  vb_test_assert_alive (f);
}

/* ---- one connection's calls never take another's workers -------------- */

#define LOCAL_PATH "/org/libvirt/Local"
#define HELD_READS 6

/* Test (test:///default) and Local (a test driver of its own), two
 * threads a pool. */
static void
setup_two_hosts (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *node_file = g_test_build_filename (G_TEST_DIST, "data", "test-node.xml",
                                                      NULL);
  g_autofree char *local = g_strconcat ("Local=test://", node_file, NULL);
  const char *const args[] = {
    "--threads", "2",
    "--connect", "Test=test:///default",
    "--connect", local,
    NULL
  };

  vb_test_setup_with_args (f, args);
}

/* A host whose calls all wait (here: reads of a domain that a CoreDump
 * into a FIFO holds, three times as many as a pool has threads, as calls
 * to a hung remote libvirtd would) holds up no call to another
 * connection: each connection has workers of its own.  With one set of
 * pools for all, Local's calls below waited for the dump. */
static void
test_connections_do_not_share_workers (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *dir = g_dir_make_tmp ("virtbus-fifo-XXXXXX", NULL);
  g_autofree char *fifo = g_build_filename (dir, "core", NULL);
  PendingReply dump = { 0 }, held[HELD_READS] = { { 0 } };
  g_autoptr(GVariant) listed = NULL, name = NULL, name_value = NULL, pools = NULL;
  g_autoptr(GVariant) domains = NULL;
  const char *local_domain = NULL;

  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  call_domain_async (f, VB_TEST_DOMAIN_PATH, "org.libvirt.Domain", "CoreDump",
                     g_variant_new ("(suu)", fifo, 0, 0), &dump);
  vb_test_spin_main_context (500);
  g_assert_false (dump.done);
  for (int i = 0; i < HELD_READS; i++)
    call_domain_async (f, VB_TEST_DOMAIN_PATH, "org.libvirt.Domain", "GetXMLDesc",
                       g_variant_new ("(u)", 0), &held[i]);
  vb_test_spin_main_context (200);

  listed = call_promptly (f, LOCAL_PATH, "org.libvirt.Connect", "ListDomains",
                          g_variant_new ("(u)", 0), "(ao)");
  domains = g_variant_get_child_value (listed, 0);
  g_assert_cmpuint (g_variant_n_children (domains), ==, 1);
  pools = call_promptly (f, LOCAL_PATH, "org.libvirt.Connect", "ListStoragePools",
                         g_variant_new ("(u)", 0), "(ao)");
  g_variant_get_child (domains, 0, "&o", &local_domain);
  /* An instant read: while a slow call runs in a driver inside virtbusd
   * it goes to the workers too, Local's. */
  name = call_promptly (f, local_domain, PROPERTIES_IFACE, "Get",
                        g_variant_new ("(ss)", "org.libvirt.Domain", "Name"), "(v)");
  g_variant_get (name, "(v)", &name_value);
  g_assert_cmpstr (g_variant_get_string (name_value, NULL), ==, "fv0");
  g_assert_false (dump.done);
  for (int i = 0; i < HELD_READS; i++)
    g_assert_false (held[i].done);

  g_assert_cmpuint (drain_fifo (fifo), >, 0);
  wait_for_reply (&dump);
  for (int i = 0; i < HELD_READS; i++)
    {
      const char *description = NULL;

      wait_for_reply (&held[i]);
      g_variant_get (held[i].reply, "(&s)", &description);
      g_assert_nonnull (strstr (description, "<name>test</name>"));
      g_clear_pointer (&held[i].reply, g_variant_unref);
    }
  g_clear_pointer (&dump.reply, g_variant_unref);
  g_assert_cmpint (unlink (fifo), ==, 0);
  g_assert_cmpint (rmdir (dir), ==, 0);
  vb_test_assert_alive (f);
}

/* ---- malformed calls -------------------------------------------------- */

static GDBusInterfaceInfo *
connect_interface_info (VbTestFixture *f, GDBusNodeInfo **out_node)
{
  g_autoptr(GVariant) reply = vb_test_call (f, VB_TEST_CONNECT_PATH,
                                            "org.freedesktop.DBus.Introspectable",
                                            "Introspect", NULL, "(s)");
  const char *xml;

  g_variant_get (reply, "(&s)", &xml);
  *out_node = g_dbus_node_info_new_for_xml (xml, NULL);
  g_assert_nonnull (*out_node);
  return g_dbus_node_info_lookup_interface (*out_node, "org.libvirt.Connect");
}

static void
test_wrong_signatures_rejected (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GDBusNodeInfo) node = NULL;
  GDBusInterfaceInfo *info = connect_interface_info (f, &node);

  for (GDBusMethodInfo **method = info->methods; *method != NULL; method++)
    {
      /* A tuple of three strings matches no Connect method. */
      vb_test_assert_call_error (f, VB_TEST_CONNECT_PATH, "org.libvirt.Connect",
                                 (*method)->name, g_variant_new ("(sss)", "a", "b", "c"),
                                 INVALID_ARGS, NULL);
      /* Nothing at all fits only the methods without arguments. */
      if ((*method)->in_args != NULL && (*method)->in_args[0] != NULL)
        vb_test_assert_call_error (f, VB_TEST_CONNECT_PATH, "org.libvirt.Connect",
                                   (*method)->name, NULL, INVALID_ARGS, NULL);
    }
  vb_test_assert_alive (f);
}

/* Fills each argument of @method with @text (strings), 0 (numbers), empty
 * containers. */
static GVariant *
arguments_of (GDBusMethodInfo *method, const char *text)
{
  GVariantBuilder args;

  g_variant_builder_init (&args, G_VARIANT_TYPE_TUPLE);
  for (GDBusArgInfo **arg = method->in_args; arg != NULL && *arg != NULL; arg++)
    {
      const GVariantType *type = G_VARIANT_TYPE ((*arg)->signature);

      if (g_variant_type_equal (type, G_VARIANT_TYPE_STRING))
        g_variant_builder_add (&args, "s", text);
      else if (g_variant_type_equal (type, G_VARIANT_TYPE ("as")))
        g_variant_builder_add_value (&args, g_variant_new_strv (&text, 1));
      else if (g_variant_type_is_array (type))
        g_variant_builder_add_value (&args, g_variant_new_array (g_variant_type_element (type), NULL, 0));
      else if (g_variant_type_equal (type, G_VARIANT_TYPE_UINT32))
        g_variant_builder_add (&args, "u", 0);
      else if (g_variant_type_equal (type, G_VARIANT_TYPE_INT32))
        g_variant_builder_add (&args, "i", 0);
      else
        g_error ("no filler for argument type %s", (*arg)->signature);
    }
  return g_variant_builder_end (&args);
}

/* Methods that would only change the test driver's state, not stress the
 * daemon, are left out: the transaction ones succeed on any input. */
static gboolean
is_stateful (const char *name)
{
  return g_str_has_prefix (name, "InterfaceChange");
}

static void
sweep_with_text (VbTestFixture *f, GDBusInterfaceInfo *info, const char *text)
{
  for (GDBusMethodInfo **method = info->methods; *method != NULL; method++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) reply = NULL;

      if (is_stateful ((*method)->name))
        continue;
      reply = g_dbus_connection_call_sync (f->bus, "org.libvirt", VB_TEST_CONNECT_PATH,
                                           "org.libvirt.Connect", (*method)->name,
                                           arguments_of (*method, text), NULL,
                                           G_DBUS_CALL_FLAGS_NONE, 30000, NULL, &error);
      /* Either answer is fine; a lost or malformed answer is not. */
      if (error != NULL)
        {
          g_autofree char *name = g_dbus_error_get_remote_error (error);

          g_assert_nonnull (name);
          g_assert_true (g_str_equal (name, VB_ERROR_LIBVIRT_NAME) ||
                         g_str_equal (name, INVALID_ARGS));
        }
    }
  vb_test_assert_alive (f);
}

static void
test_sweep_empty_strings (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GDBusNodeInfo) node = NULL;

  sweep_with_text (f, connect_interface_info (f, &node), "");
}

static void
test_sweep_invalid_xml (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GDBusNodeInfo) node = NULL;

  sweep_with_text (f, connect_interface_info (f, &node), "<domain><name>x</name><<<&bad;");
}

static void
test_sweep_huge_strings (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GDBusNodeInfo) node = NULL;
  g_autofree char *huge = g_strnfill (1024 * 1024, 'x');

  sweep_with_text (f, connect_interface_info (f, &node), huge);
  vb_test_assert_connect_error (f, "DomainLookupByName", g_variant_new ("(s)", huge),
                                VB_ERROR_LIBVIRT_NAME, "Domain not found");
}

static void
test_sweep_unknown_paths (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *long_segment = g_strnfill (64 * 1024, 'a');
  g_autofree char *long_path = g_strconcat ("/org/libvirt/Test/domain/", long_segment, NULL);
  const char *paths[] = {
    "/", "/org", "/org/libvirt", "/org/libvirt/Test/domain", "/org/libvirt/Test/domain/_",
    "/org/libvirt/Test/domain/__________________________________________",
    "/org/libvirt/Test/storagevol/_zz", "/org/libvirt/Test/storagevol/_00",
    "/org/libvirt/Test/nodedev/a_", "/org/libvirt/Test/x/y/z", long_path,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr(GError) error = vb_test_call_expecting_error (
          f, paths[i], "org.freedesktop.DBus.Properties", "GetAll",
          g_variant_new ("(s)", "org.libvirt.Domain"));
      g_autoptr(GError) method_error = vb_test_call_expecting_error (
          f, paths[i], "org.libvirt.Domain", "GetXMLDesc", g_variant_new ("(u)", 0));

      g_assert_nonnull (error);
      g_assert_nonnull (method_error);
    }
  vb_test_assert_alive (f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/daemon/command-line/rejected", test_bad_command_lines);
  g_test_add_func ("/daemon/command-line/version", test_version);
  g_test_add_func ("/daemon/command-line/help", test_help);
  g_test_add_func ("/daemon/no-bus", test_no_bus);
  g_test_add ("/daemon/broken-driver", VbTestFixture, NULL, setup_with_broken_driver,
              test_broken_driver_answers_libvirt_error, vb_test_teardown);
  g_test_add ("/daemon/many-calls-in-flight", VbTestFixture, NULL, setup_with_broken_driver,
              test_many_calls_in_flight, vb_test_teardown);
  g_test_add ("/daemon/slow-call-does-not-stall-reads", VbTestFixture, NULL, vb_test_setup,
              test_slow_call_does_not_stall_reads, vb_test_teardown);
  g_test_add ("/daemon/connections-do-not-share-workers", VbTestFixture, NULL,
              setup_two_hosts, test_connections_do_not_share_workers, vb_test_teardown);
  g_test_add ("/daemon/sweep/wrong-signatures", VbTestFixture, NULL, vb_test_setup,
              test_wrong_signatures_rejected, vb_test_teardown);
  g_test_add ("/daemon/sweep/empty-strings", VbTestFixture, NULL, vb_test_setup,
              test_sweep_empty_strings, vb_test_teardown);
  g_test_add ("/daemon/sweep/invalid-xml", VbTestFixture, NULL, vb_test_setup,
              test_sweep_invalid_xml, vb_test_teardown);
  g_test_add ("/daemon/sweep/huge-strings", VbTestFixture, NULL, vb_test_setup,
              test_sweep_huge_strings, vb_test_teardown);
  g_test_add ("/daemon/sweep/unknown-paths", VbTestFixture, NULL, vb_test_setup,
              test_sweep_unknown_paths, vb_test_teardown);

  return g_test_run ();
}
