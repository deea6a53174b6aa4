/* virtbusd as a service.
 *
 * Its life cycle as the bus and systemd see it, with the built daemon on a
 * private bus: the idle exit and what holds it off, SIGTERM answering the
 * calls in flight (within a bound), sd_notify.
 *
 * Then installed for real: `meson install` into a temporary prefix, every
 * file where it belongs, the unit checked by systemd-analyze, and a
 * system-type dbus-daemon whose service and policy directories are the
 * prefix's, activating the installed virtbusd on the first call, seeing
 * it exit when idle, and activating it again, with no call failing. */
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "authz.h"
#include "config-file.h"
#include "config.h"
#include "vb-system.h"
#include "vb-test.h"

#define CALL_TIMEOUT_MS 30000
#define EXIT_TIMEOUT_S 15.0

static double
seconds_since (gint64 start_us)
{
  return (double) (g_get_monotonic_time () - start_us) / G_USEC_PER_SEC;
}

/* A client that connects, calls once and leaves, as busctl does. */
static GVariant *
one_shot_call (const char *address, const char *path, const char *iface,
               const char *method, GVariant *args, const char *reply_type)
{
  g_autoptr(GDBusConnection) bus = vb_system_connect (address);
  g_autoptr(GError) error = NULL;
  GVariant *reply = g_dbus_connection_call_sync (
      bus, "org.libvirt", path, iface, method, args,
      reply_type != NULL ? G_VARIANT_TYPE (reply_type) : NULL,
      G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, &error);

  g_assert_no_error (error);
  g_dbus_connection_close_sync (bus, NULL, NULL);
  return reply;
}

static void
one_shot_list_domains (const char *address)
{
  g_autoptr(GVariant) reply = one_shot_call (address, VB_TEST_CONNECT_PATH,
                                             "org.libvirt.Connect", "ListDomains",
                                             g_variant_new ("(u)", 0), "(ao)");
  g_autoptr(GVariant) domains = g_variant_get_child_value (reply, 0);

  g_assert_cmpuint (g_variant_n_children (domains), ==, 1);
}

/* org.freedesktop.DBus.Peer.Ping on org.libvirt: its reply comes after
 * every call @bus sent the daemon before. */
static void
ping_daemon (GDBusConnection *bus)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync (
      bus, "org.libvirt", "/", "org.freedesktop.DBus.Peer", "Ping", NULL, NULL,
      G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, &error);

  g_assert_no_error (error);
}

static void
iterate_for (double seconds)
{
  gint64 start = g_get_monotonic_time ();

  while (seconds_since (start) < seconds)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10000);
    }
}

static gboolean
daemon_running (GSubprocess *daemon)
{
  /* GSubprocess reaps the child at once: no identifier once it exited. */
  return g_subprocess_get_identifier (daemon) != NULL;
}

/* Waits for the fixture's daemon to exit by itself, asserts status 0, and
 * returns how long it took. */
static double
wait_for_own_exit (VbTestFixture *f)
{
  gint64 start = g_get_monotonic_time ();

  while (daemon_running (f->daemon))
    {
      g_assert_cmpfloat (seconds_since (start), <, EXIT_TIMEOUT_S);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
    }
  g_assert_true (g_subprocess_get_if_exited (f->daemon));
  g_assert_cmpint (g_subprocess_get_exit_status (f->daemon), ==, 0);
  g_clear_object (&f->daemon);
  return seconds_since (start);
}

static void
setup_idle_daemon (VbTestFixture *f, gconstpointer data)
{
  const char *const args[] = { "--timeout", "1", "--connect", "Test=test:///default", NULL };

  vb_test_setup_with_args (f, args);
}

/* ---- idle exit ------------------------------------------------------------- */

static void
test_unused_daemon_exits (VbTestFixture *f, gconstpointer data)
{
  double took = wait_for_own_exit (f);

  g_test_message ("never called: exited %.2f s after owning the name (timeout 1 s)", took);
  g_assert_cmpfloat (took, >=, 0.9);
}

static void
test_one_shot_caller_lets_it_exit (VbTestFixture *f, gconstpointer data)
{
  double took;

  one_shot_list_domains (g_test_dbus_get_bus_address (f->test_bus));
  took = wait_for_own_exit (f);
  g_test_message ("exited %.2f s after a one-shot caller left (timeout 1 s)", took);
  g_assert_cmpfloat (took, >=, 0.9);
}

/* A client that called and is still connected may be waiting for
 * signals: it keeps the daemon, however long it stays silent. */
static void
test_connected_caller_keeps_it (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "ListDomains",
                                                    g_variant_new ("(u)", 0), "(ao)");
  gint64 left;
  double took;

  iterate_for (3.0);
  g_assert_true (daemon_running (f->daemon));
  vb_test_assert_alive (f);

  left = g_get_monotonic_time ();
  g_dbus_connection_close_sync (f->bus, NULL, NULL);
  took = wait_for_own_exit (f);
  g_test_message ("exited %.2f s after its last client left (timeout 1 s)",
                  seconds_since (left));
  g_assert_cmpfloat (took, >=, 0.9);
}

/* What the rule is for: an applet that made one call (a Ping will do),
 * then only listens, still hears events long after the timeout. */
static void
test_listener_hears_later_events (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, "org.libvirt.Connect",
                                                               "DomainEvent");
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) event = NULL;
  g_autoptr(GVariant) event_type = NULL;

  ping_daemon (f->bus);
  iterate_for (2.5);
  g_assert_true (daemon_running (f->daemon));

  reply = one_shot_call (g_test_dbus_get_bus_address (f->test_bus), VB_TEST_DOMAIN_PATH,
                         "org.libvirt.Domain", "Suspend", NULL, "()");
  event = vb_signal_recorder_wait_for_object (events, VB_TEST_DOMAIN_PATH);
  /* virDomainEventType 3: suspended */
  event_type = g_variant_get_child_value (event, 1);
  g_assert_cmpint (g_variant_get_int32 (event_type), ==, 3);
}

/* ---- calls in flight: idle exit and SIGTERM ------------------------------------ */

typedef struct {
  VbTestFixture bus;
  char *dir;
  GSocket *silent_libvirt;   /* accepts connections, never answers */
} StuckFixture;

/* A libvirt URI whose server never answers: a call on it stays in flight
 * for as long as the test likes. */
static GSocket *
listen_silently (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (path);
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, &error);

  g_assert_no_error (error);
  g_socket_bind (socket, address, FALSE, &error);
  g_assert_no_error (error);
  g_socket_listen (socket, &error);
  g_assert_no_error (error);
  return socket;
}

static void
stuck_setup (StuckFixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *socket_path = NULL;
  g_autofree char *config_path = NULL;
  g_autofree char *config = NULL;
  const char *args[] = { "--timeout", "1", "--config", NULL, NULL };

  f->dir = g_dir_make_tmp ("vbtest-stuck-XXXXXX", &error);
  g_assert_no_error (error);
  socket_path = g_build_filename (f->dir, "libvirt-sock", NULL);
  config_path = g_build_filename (f->dir, "virtbusd.conf", NULL);
  f->silent_libvirt = listen_silently (socket_path);
  config = g_strdup_printf ("[service]\nshutdown-timeout=1\n[connections]\n"
                            "Test=test:///default\n"
                            "Stuck=qemu+unix:///system?socket=%s\n", socket_path);
  g_assert_true (g_file_set_contents (config_path, config, -1, NULL));
  args[3] = config_path;
  vb_test_setup_with_args (&f->bus, args);
}

static void
stuck_teardown (StuckFixture *f, gconstpointer data)
{
  vb_test_teardown (&f->bus, NULL);
  g_socket_close (f->silent_libvirt, NULL);
  g_clear_object (&f->silent_libvirt);
  vb_test_remove_flat_dir (f->dir);
  g_free (f->dir);
}

static void
on_stuck_reply (GObject *source, GAsyncResult *result, gpointer data)
{
  gboolean *answered = data;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             result, NULL);

  *answered = TRUE;
}

/* A caller that sends a call and leaves before the answer. */
static void
leave_a_call_in_flight (StuckFixture *f)
{
  g_autoptr(GDBusConnection) caller = vb_system_connect (g_test_dbus_get_bus_address (f->bus.test_bus));
  gboolean answered = FALSE;

  g_dbus_connection_call (caller, "org.libvirt", "/org/libvirt/Stuck", "org.libvirt.Connect",
                          "ListDomains", g_variant_new ("(u)", 0), NULL,
                          G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_stuck_reply, &answered);
  ping_daemon (caller);
  g_dbus_connection_close_sync (caller, NULL, NULL);
  /* the reply callback runs (with an error) once the connection closed */
  while (!answered)
    g_main_context_iteration (NULL, TRUE);
}

static void
test_call_in_flight_keeps_it_then_sigterm_gives_up (StuckFixture *f, gconstpointer data)
{
  gint64 signalled;
  double took;

  leave_a_call_in_flight (f);
  /* no client any more, but a call in flight: past the idle timeout */
  iterate_for (3.0);
  g_assert_true (daemon_running (f->bus.daemon));

  /* shutdown-timeout=1: one second for the stuck call, then out, with 0 */
  signalled = g_get_monotonic_time ();
  g_subprocess_send_signal (f->bus.daemon, SIGTERM);
  took = wait_for_own_exit (&f->bus);
  g_test_message ("SIGTERM with a call stuck in libvirt: exited after %.2f s "
                  "(shutdown-timeout 1 s)", seconds_since (signalled));
  g_assert_cmpfloat (took, >=, 0.9);
  g_assert_cmpfloat (took, <, 5.0);
}

#define DRAIN_CALLS 100

typedef struct {
  guint answered;
  guint failed;
} DrainCount;

static void
on_drain_reply (GObject *source, GAsyncResult *result, gpointer data)
{
  DrainCount *count = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             result, &error);

  count->answered++;
  if (error != NULL)
    {
      g_test_message ("call failed during the drain: %s", error->message);
      count->failed++;
    }
}

/* SIGTERM: every call already sent is answered, then exit status 0. */
static void
test_sigterm_answers_calls_in_flight (VbTestFixture *f, gconstpointer data)
{
  DrainCount count = { 0 };
  gint64 signalled;

  for (guint i = 0; i < DRAIN_CALLS; i++)
    g_dbus_connection_call (f->bus, "org.libvirt", VB_TEST_DOMAIN_PATH, "org.libvirt.Domain",
                            "GetXMLDesc", g_variant_new ("(u)", 0), G_VARIANT_TYPE ("(s)"),
                            G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, on_drain_reply,
                            &count);
  ping_daemon (f->bus);
  signalled = g_get_monotonic_time ();
  g_subprocess_send_signal (f->daemon, SIGTERM);

  while (count.answered < DRAIN_CALLS)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (count.failed, ==, 0);
  wait_for_own_exit (f);
  g_test_message ("SIGTERM with %u calls sent: all answered, exited 0 after %.2f s",
                  DRAIN_CALLS, seconds_since (signalled));
}

/* The bus going away is no request to stop: exit status 1 (a critical on
 * the way out, as from the name lost with the connection, would trap under
 * the tests' G_DEBUG=fatal-criticals instead). */
static void
test_bus_gone_exits_1 (VbTestFixture *f, gconstpointer data)
{
  gint64 start = g_get_monotonic_time ();

  g_dbus_connection_close_sync (f->bus, NULL, NULL);
  g_test_dbus_down (f->test_bus);
  while (daemon_running (f->daemon))
    {
      g_assert_cmpfloat (seconds_since (start), <, EXIT_TIMEOUT_S);
      g_usleep (5000);
    }
  g_assert_true (g_subprocess_get_if_exited (f->daemon));
  g_assert_cmpint (g_subprocess_get_exit_status (f->daemon), ==, 1);
}

static void
bus_gone_teardown (VbTestFixture *f, gconstpointer data)
{
  g_clear_object (&f->daemon);
  g_clear_object (&f->bus);
  g_clear_object (&f->test_bus);
}

/* ---- sd_notify ----------------------------------------------------------------- */

typedef struct {
  VbTestFixture bus;
  char *dir;
  GSocket *notify_socket;
  GPtrArray *messages;       /* of char *, as received */
} NotifyFixture;

static void
notify_setup (NotifyFixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GSocketAddress) address = NULL;

  if (!HAVE_LIBSYSTEMD)
    return;
  f->dir = g_dir_make_tmp ("vbtest-notify-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (f->dir, "notify", NULL);
  address = g_unix_socket_address_new (path);
  f->notify_socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM, 0, &error);
  g_assert_no_error (error);
  g_socket_bind (f->notify_socket, address, FALSE, &error);
  g_assert_no_error (error);
  f->messages = g_ptr_array_new_with_free_func (g_free);

  /* as systemd would run it, with WatchdogSec=0.2s */
  g_setenv ("NOTIFY_SOCKET", path, TRUE);
  g_setenv ("WATCHDOG_USEC", "200000", TRUE);
  vb_test_setup (&f->bus, NULL);
  g_unsetenv ("NOTIFY_SOCKET");
  g_unsetenv ("WATCHDOG_USEC");
}

static void
notify_teardown (NotifyFixture *f, gconstpointer data)
{
  if (!HAVE_LIBSYSTEMD)
    return;
  vb_test_teardown (&f->bus, NULL);
  g_clear_object (&f->notify_socket);
  g_ptr_array_unref (f->messages);
  vb_test_remove_flat_dir (f->dir);
  g_free (f->dir);
}

/* Collects notifications for @seconds. */
static void
receive_notifications (NotifyFixture *f, double seconds)
{
  gint64 start = g_get_monotonic_time ();
  char buffer[4096];

  while (seconds_since (start) < seconds)
    {
      gssize size;

      if (!g_socket_condition_timed_wait (f->notify_socket, G_IO_IN, 50000, NULL, NULL))
        continue;
      size = g_socket_receive (f->notify_socket, buffer, sizeof buffer - 1, NULL, NULL);
      g_assert_cmpint (size, >, 0);
      buffer[size] = '\0';
      g_ptr_array_add (f->messages, g_strdup (buffer));
    }
}

static guint
count_messages (NotifyFixture *f, const char *message)
{
  guint count = 0;

  for (guint i = 0; i < f->messages->len; i++)
    count += g_str_equal (g_ptr_array_index (f->messages, i), message);
  return count;
}

static void
test_notify (NotifyFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) reply = NULL;
  guint watchdogs;

  if (!HAVE_LIBSYSTEMD)
    {
      g_test_skip ("built without libsystemd");
      return;
    }

  /* the name is owned (setup waited for it): ready was sent with it */
  receive_notifications (f, 1.0);
  g_assert_cmpuint (count_messages (f, "READY=1\nSTATUS=Serving 1 libvirt connection(s) "
                                       "to 0 bus client(s)"), ==, 1);
  /* every 0.1 s, half the watchdog interval */
  watchdogs = count_messages (f, "WATCHDOG=1");
  g_test_message ("%u watchdog pings in 1 s with WatchdogSec=0.2s", watchdogs);
  g_assert_cmpuint (watchdogs, >=, 4);

  reply = vb_test_connect_call (&f->bus, "ListDomains", g_variant_new ("(u)", 0), "(ao)");
  receive_notifications (f, 0.5);
  g_assert_cmpuint (count_messages (f, "STATUS=Serving 1 libvirt connection(s) "
                                       "to 1 bus client(s)"), ==, 1);

  vb_test_stop_daemon (&f->bus);
  receive_notifications (f, 0.2);
  g_assert_cmpuint (count_messages (f, "STOPPING=1\nSTATUS=Stopping: 0 call(s) in flight"),
                    ==, 1);
}

/* ---- the install ------------------------------------------------------------------ */

typedef struct {
  char *dir;                 /* everything below goes with it */
  char *prefix;
  char *shipped_config;      /* etc/virtbus/virtbusd.conf as installed */
} Install;

static Install install;

static void
run_or_fail (const char *const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *output = NULL;
  g_autofree char *errors = NULL;
  int status;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &output,
                &errors, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("%s %s failed:\n%s%s", argv[0], argv[1], output, errors);
}

static char *
prefix_path (const char *relative)
{
  return g_build_filename (install.prefix, relative, NULL);
}

static char *
read_installed (const char *relative)
{
  g_autofree char *path = prefix_path (relative);
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    g_error ("not installed: %s", path);
  return text;
}

/* `meson setup --prefix` of this source tree, only virtbusd built, and
 * `meson install`: once, for every test that needs it. */
static gboolean
ensure_installed (void)
{
  g_autofree char *source_root = NULL;
  g_autofree char *build = NULL;
  g_autofree char *prefix_option = NULL;
  g_autofree char *meson = NULL;
  g_autofree char *ninja = NULL;
  gint64 start = g_get_monotonic_time ();

  if (install.prefix != NULL)
    return TRUE;
  meson = g_find_program_in_path ("meson");
  ninja = g_find_program_in_path ("ninja");
  if (meson == NULL || ninja == NULL)
    {
      g_test_skip ("meson or ninja is not installed");
      return FALSE;
    }

  source_root = g_path_get_dirname (g_getenv ("G_TEST_SRCDIR"));
  install.dir = g_dir_make_tmp ("vbtest-install-XXXXXX", NULL);
  install.prefix = g_build_filename (install.dir, "prefix", NULL);
  build = g_build_filename (install.dir, "build", NULL);
  prefix_option = g_strconcat ("--prefix=", install.prefix, NULL);

  run_or_fail ((const char *[]) { "meson", "setup", prefix_option, build, source_root, NULL });
  run_or_fail ((const char *[]) { "ninja", "-C", build, "src/virtbusd", NULL });
  run_or_fail ((const char *[]) { "meson", "install", "-C", build, "--no-rebuild", NULL });
  install.shipped_config = read_installed ("etc/virtbus/virtbusd.conf");
  g_test_message ("configured, built and installed into %s in %.1f s", install.prefix,
                  seconds_since (start));
  return TRUE;
}

static void
assert_installed_with (const char *relative, const char *const *lines)
{
  g_autofree char *text = read_installed (relative);
  g_auto(GStrv) text_lines = g_strsplit (text, "\n", -1);

  for (const char *const *line = lines; *line != NULL; line++)
    {
      g_autofree char *wanted = NULL;
      g_autoptr(GString) expanded = g_string_new (*line);

      g_string_replace (expanded, "PREFIX", install.prefix, 0);
      wanted = g_string_free (g_steal_pointer (&expanded), FALSE);
      if (!g_strv_contains ((const char *const *) text_lines, wanted))
        g_error ("%s lacks the line '%s'", relative, wanted);
    }
}

static void
test_installed_files (void)
{
  const char *const interfaces[] = { "Connect", "Domain", "DomainSnapshot", "Interface",
                                     "Network", "NodeDevice", "NWFilter", "Secret",
                                     "StoragePool", "StorageVol", NULL };
  g_autofree char *daemon = NULL;

  if (!ensure_installed ())
    return;

  daemon = prefix_path ("sbin/virtbusd");
  g_assert_true (g_file_test (daemon, G_FILE_TEST_IS_EXECUTABLE));
  for (const char *const *name = interfaces; *name != NULL; name++)
    {
      g_autofree char *relative = g_strdup_printf ("share/dbus-1/interfaces/org.libvirt.%s.xml",
                                                   *name);
      g_autofree char *text = read_installed (relative);
    }
  g_free (read_installed ("share/man/man8/virtbusd.8"));
  g_free (read_installed ("share/polkit-1/actions/org.libvirt.dbus.policy"));
  g_free (read_installed ("share/polkit-1/rules.d/org.libvirt.dbus.rules"));
  assert_installed_with ("share/dbus-1/system.d/org.libvirt.conf",
                         (const char *[]) { "    <allow own=\"org.libvirt\"/>", NULL });

  assert_installed_with ("share/dbus-1/system-services/org.libvirt.service",
                         (const char *[]) { "[D-BUS Service]", "Name=org.libvirt",
                                            "Exec=PREFIX/sbin/virtbusd --system --activated",
                                            "User=virtbus", "SystemdService=virtbusd.service",
                                            NULL });
  assert_installed_with ("share/dbus-1/services/org.libvirt.service",
                         (const char *[]) { "[D-BUS Service]", "Name=org.libvirt",
                                            "Exec=PREFIX/sbin/virtbusd --session --activated",
                                            NULL });
  assert_installed_with ("lib/systemd/system/virtbusd.service",
                         (const char *[]) { "Type=dbus", "BusName=org.libvirt",
                                            "ExecStart=PREFIX/sbin/virtbusd --system --activated",
                                            "User=virtbus", "SupplementaryGroups=libvirt",
                                            "NoNewPrivileges=yes", "ProtectSystem=strict",
                                            "ProtectHome=yes", "PrivateTmp=yes",
                                            "RestrictAddressFamilies=AF_UNIX", NULL });
  assert_installed_with ("lib/sysusers.d/virtbus.conf",
                         (const char *[]) { "m virtbus libvirt", NULL });
}

/* The shipped configuration sets nothing, and says the truth: with every
 * commented-out setting taken in, it reads as the defaults it names. */
static void
test_shipped_config (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *uncommented_path = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GString) uncommented = g_string_new ("");
  g_auto(VbConfig) shipped = { 0 };
  g_auto(VbConfig) all_set = { 0 };

  if (!ensure_installed ())
    return;

  path = g_build_filename (install.dir, "shipped.conf", NULL);
  g_assert_true (g_file_set_contents (path, install.shipped_config, -1, NULL));
  g_assert_true (vb_config_load (&shipped, path, TRUE, &error));
  g_assert_no_error (error);
  g_assert_false (shipped.has_threads || shipped.has_timeout || shipped.has_shutdown_timeout);
  g_assert_false (shipped.has_decision_lifetime || shipped.has_polkit_timeout ||
                  shipped.has_polkit_rate);
  g_assert_null (shipped.trusted_group);
  g_assert_null (shipped.connections);

  lines = g_strsplit (install.shipped_config, "\n", -1);
  for (char **line = lines; *line != NULL; line++)
    {
      /* "#key = value" and "#[group]" are settings; "# words" are prose */
      gboolean setting = (*line)[0] == '#' && (*line)[1] != ' ' && (*line)[1] != '\0';

      g_string_append_printf (uncommented, "%s\n", setting ? *line + 1 : *line);
    }
  uncommented_path = g_build_filename (install.dir, "uncommented.conf", NULL);
  g_assert_true (g_file_set_contents (uncommented_path, uncommented->str, -1, NULL));
  g_assert_true (vb_config_load (&all_set, uncommented_path, TRUE, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (all_set.threads, ==, 4);
  g_assert_cmpuint (all_set.timeout, ==, 120);
  g_assert_cmpuint (all_set.shutdown_timeout, ==, 10);
  g_assert_cmpstr (all_set.trusted_group, ==, VB_DEFAULT_TRUSTED_GROUP);
  g_assert_cmpuint (all_set.decision_lifetime, ==, VB_DEFAULT_DECISION_LIFETIME);
  g_assert_cmpuint (all_set.polkit_timeout, ==, VB_DEFAULT_POLKIT_TIMEOUT);
  g_assert_cmpuint (all_set.polkit_rate, ==, VB_DEFAULT_POLKIT_CHECKS_PER_SECOND);
  g_assert_nonnull (all_set.connections);
  g_assert_cmpuint (all_set.connections->len, ==, 2);
}

static gboolean
find_systemd_analyze (void)
{
  g_autofree char *path = g_find_program_in_path ("systemd-analyze");

  if (path == NULL)
    g_test_skip ("systemd-analyze is not installed (scripts/install-deps installs systemd)");
  return path != NULL;
}

static void
test_unit_verifies (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *unit = NULL;
  g_autofree char *man_path = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) analyze = NULL;

  if (!ensure_installed () || !find_systemd_analyze ())
    return;

  unit = prefix_path ("lib/systemd/system/virtbusd.service");
  /* verify runs man for Documentation=: the page must be in the prefix */
  man_path = prefix_path ("share/man");
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "MANPATH", man_path, TRUE);
  analyze = g_subprocess_launcher_spawn (launcher, &error, "systemd-analyze", "verify",
                                         unit, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (analyze, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("systemd-analyze verify: %s%s", out, err);
  g_assert_cmpstr (err, ==, "");
  g_assert_true (g_subprocess_get_successful (analyze));
}

static void
test_unit_exposure (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *unit = NULL;
  g_autofree char *out = NULL;
  g_autoptr(GSubprocess) analyze = NULL;
  const char *overall;
  double exposure;

  if (!ensure_installed () || !find_systemd_analyze ())
    return;

  unit = prefix_path ("lib/systemd/system/virtbusd.service");
  analyze = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                              &error, "systemd-analyze", "security", "--offline=true", unit,
                              NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (analyze, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);

  overall = strstr (out, "Overall exposure level for virtbusd.service: ");
  g_assert_nonnull (overall);
  exposure = g_ascii_strtod (strchr (overall, ':') + 1, NULL);
  g_test_message ("systemd-analyze security: exposure %.1f (docs/install.md)", exposure);
  g_assert_cmpfloat (exposure, <, 3.0);
}

/* ---- bus activation on a system-type bus ------------------------------------------ */

typedef struct {
  char *dir;
  char *address;
  char *log_path;            /* the bus's stderr, and the activated daemons' */
  GSubprocess *bus_daemon;
  GDBusConnection *watcher;  /* follows org.libvirt; never calls it */
  guint owner_subscription;
  gboolean owned;
  guint activations;         /* owners org.libvirt has had */
  GHashTable *daemons;       /* unique name -> GPid of each daemon that answered */
} SystemBus;

/* The bus as the system bus is configured, but for its directories:
 * services and policy come from the prefix only.  Method calls are
 * denied unless a policy file allows them, as on the real system bus, so
 * the installed org.libvirt.conf is what lets root own the name and
 * everyone call it.  No <servicehelper>: dbus-daemon-launch-helper reads
 * the system's own configuration, not this one, so the bus starts the
 * service itself (as root: the User= line does not apply). */
static char *
system_bus_config (const char *socket_path)
{
  g_autofree char *services = prefix_path ("share/dbus-1/system-services");
  g_autofree char *policies = prefix_path ("share/dbus-1/system.d");

  g_autofree char *extra = g_strdup_printf ("  <servicedir>%s</servicedir>\n"
                                            "  <includedir>%s</includedir>\n",
                                            services, policies);

  return vb_test_system_bus_config (socket_path, extra);
}

static void
on_owner_changed (GDBusConnection *watcher, const char *sender, const char *path,
                  const char *iface, const char *signal_name, GVariant *parameters,
                  gpointer data)
{
  SystemBus *f = data;
  const char *new_owner;

  g_variant_get (parameters, "(&s&s&s)", NULL, NULL, &new_owner);
  f->owned = *new_owner != '\0';
  f->activations += f->owned;
}

static void
wait_for_bus_socket (SystemBus *f)
{
  gint64 start = g_get_monotonic_time ();
  GDBusConnection *bus = NULL;

  while (bus == NULL)
    {
      g_assert_cmpfloat (seconds_since (start), <, 10.0);
      g_usleep (10000);
      bus = g_dbus_connection_new_for_address_sync (
          f->address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                           G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
          NULL, NULL, NULL);
    }
  f->watcher = bus;
}

static void
system_bus_setup (SystemBus *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *socket_path = NULL;
  g_autofree char *config_path = NULL;
  g_autofree char *config = NULL;
  g_autofree char *service_config = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;

  if (getuid () != 0)
    return;
  if (!ensure_installed ())
    return;

  f->daemons = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  f->dir = g_dir_make_tmp ("vbtest-sysbus-XXXXXX", &error);
  g_assert_no_error (error);
  socket_path = g_build_filename (f->dir, "system_bus_socket", NULL);
  f->address = g_strconcat ("unix:path=", socket_path, NULL);
  f->log_path = g_build_filename (f->dir, "bus.log", NULL);
  config_path = g_build_filename (f->dir, "system.conf", NULL);
  config = system_bus_config (socket_path);
  g_assert_true (g_file_set_contents (config_path, config, -1, NULL));

  /* The installed virtbusd reads PREFIX/etc/virtbus/virtbusd.conf: the
   * test driver only (no libvirtd needed), and a short idle timeout. */
  service_config = prefix_path ("etc/virtbus/virtbusd.conf");
  g_assert_true (g_file_set_contents (service_config,
                                      "[service]\ntimeout=1\n"
                                      "[connections]\nTest=test:///default\n", -1, NULL));

  /* Activated services inherit the bus's environment: this is how
   * `virtbusd --system` finds this bus. */
  launcher = vb_test_daemon_launcher (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_subprocess_launcher_setenv (launcher, "DBUS_SYSTEM_BUS_ADDRESS", f->address, TRUE);
  g_subprocess_launcher_set_stderr_file_path (launcher, f->log_path);
  f->bus_daemon = g_subprocess_launcher_spawn (launcher, &error, "dbus-daemon", "--nofork",
                                               "--config-file", config_path, NULL);
  g_assert_no_error (error);
  wait_for_bus_socket (f);
  f->owner_subscription = g_dbus_connection_signal_subscribe (
      f->watcher, "org.freedesktop.DBus", "org.freedesktop.DBus", "NameOwnerChanged",
      "/org/freedesktop/DBus", "org.libvirt", G_DBUS_SIGNAL_FLAGS_NONE, on_owner_changed, f,
      NULL);
}

static void
system_bus_teardown (SystemBus *f, gconstpointer data)
{
  g_autofree char *log = NULL;

  if (f->bus_daemon == NULL)
    return;
  g_dbus_connection_signal_unsubscribe (f->watcher, f->owner_subscription);
  g_dbus_connection_close_sync (f->watcher, NULL, NULL);
  g_clear_object (&f->watcher);
  g_subprocess_send_signal (f->bus_daemon, SIGTERM);
  g_subprocess_wait (f->bus_daemon, NULL, NULL);
  g_clear_object (&f->bus_daemon);
  if (g_file_get_contents (f->log_path, &log, NULL, NULL))
    g_test_message ("the bus and the activated daemons said:\n%s", log);
  vb_test_remove_flat_dir (f->dir);
  g_free (f->dir);
  g_free (f->address);
  g_free (f->log_path);
  g_hash_table_unref (f->daemons);
}

static gboolean
system_bus_skipped (SystemBus *f)
{
  if (f->bus_daemon != NULL)
    return FALSE;
  if (getuid () != 0)
    g_test_skip ("a system-type bus that activates services needs root");
  return TRUE;
}

static double
wait_until_owned (SystemBus *f, gboolean owned)
{
  gint64 start = g_get_monotonic_time ();
  g_autoptr(GVariant) reply = NULL;

  /* The bus sends the watcher every NameOwnerChanged so far before this
   * reply: once it is here, they are all queued for the main loop. */
  reply = g_dbus_connection_call_sync (f->watcher, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "GetId", NULL, NULL,
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  g_assert_nonnull (reply);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  while (f->owned != owned)
    {
      g_assert_cmpfloat (seconds_since (start), <, EXIT_TIMEOUT_S);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return seconds_since (start);
}

/* Notes which daemon answered @reply, asking the bus for its process
 * while we are still connected (which keeps a new daemon there).  A
 * daemon that was already stopping may be gone: we met it before. */
static void
note_answering_daemon (SystemBus *f, GDBusConnection *bus, GDBusMessage *reply)
{
  const char *daemon = g_dbus_message_get_sender (reply);
  g_autoptr(GVariant) pid_reply = NULL;
  guint32 pid;

  if (g_hash_table_contains (f->daemons, daemon))
    return;
  pid_reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                           "org.freedesktop.DBus", "GetConnectionUnixProcessID",
                                           g_variant_new ("(s)", daemon), G_VARIANT_TYPE ("(u)"),
                                           G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  if (pid_reply == NULL)
    g_error ("daemon %s answered and left before we could know it", daemon);
  g_variant_get (pid_reply, "(u)", &pid);
  g_hash_table_insert (f->daemons, g_strdup (daemon), GINT_TO_POINTER ((GPid) pid));
}

/* A one-shot caller (connected beforehand so that its call leaves at
 * @send_at, monotonic µs) listing the domains.  Returns when it has
 * left. */
static gint64
call_at (SystemBus *f, gint64 send_at)
{
  g_autoptr(GDBusConnection) bus = vb_system_connect (f->address);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusMessage) call = g_dbus_message_new_method_call (
      "org.libvirt", VB_TEST_CONNECT_PATH, "org.libvirt.Connect", "ListDomains");
  g_autoptr(GDBusMessage) reply = NULL;
  gint64 now = g_get_monotonic_time ();

  g_dbus_message_set_body (call, g_variant_new ("(u)", 0));
  if (send_at > now)
    g_usleep ((gulong) (send_at - now));
  reply = g_dbus_connection_send_message_with_reply_sync (
      bus, call, G_DBUS_SEND_MESSAGE_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, NULL, &error);
  g_assert_no_error (error);
  g_dbus_message_to_gerror (reply, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_dbus_message_get_signature (reply), ==, "ao");
  note_answering_daemon (f, bus, reply);
  g_dbus_connection_close_sync (bus, NULL, NULL);
  return g_get_monotonic_time ();
}

/* The activated daemons are orphans of the bus's launcher: this process,
 * a subreaper, collects them and their exit status. */
static void
assert_exited_cleanly (GPid pid)
{
  gint64 start = g_get_monotonic_time ();
  int status = 0;
  pid_t reaped;

  while ((reaped = waitpid (pid, &status, WNOHANG)) == 0)
    {
      g_assert_cmpfloat (seconds_since (start), <, EXIT_TIMEOUT_S);
      g_usleep (10000);
    }
  g_assert_cmpint (reaped, ==, pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
}

static void
assert_all_exited_cleanly (SystemBus *f)
{
  GHashTableIter iter;
  gpointer pid;

  g_hash_table_iter_init (&iter, f->daemons);
  while (g_hash_table_iter_next (&iter, NULL, &pid))
    assert_exited_cleanly (GPOINTER_TO_INT (pid));
}

static GPid
only_daemon (SystemBus *f)
{
  g_autoptr(GList) pids = g_hash_table_get_values (f->daemons);
  g_autofree char *exe_link = NULL;
  g_autofree char *exe = NULL;
  g_autofree char *installed = prefix_path ("sbin/virtbusd");
  GPid pid;

  g_assert_cmpuint (g_list_length (pids), ==, 1);
  pid = GPOINTER_TO_INT (pids->data);
  /* the installed one */
  exe_link = g_strdup_printf ("/proc/%d/exe", pid);
  exe = g_file_read_link (exe_link, NULL);
  g_assert_cmpstr (exe, ==, installed);
  return pid;
}

static void
test_activation_and_idle_exit (SystemBus *f, gconstpointer data)
{
  gint64 start;
  double activation, idle_exit;
  GPid first, second;

  if (system_bus_skipped (f))
    return;

  start = g_get_monotonic_time ();
  call_at (f, 0);
  activation = seconds_since (start);
  wait_until_owned (f, TRUE);
  first = only_daemon (f);

  idle_exit = wait_until_owned (f, FALSE);
  assert_all_exited_cleanly (f);
  g_test_message ("first call answered %.3f s after it was sent (activation included); "
                  "the daemon exited %.3f s after its caller left (timeout 1 s)",
                  activation, idle_exit);
  g_assert_cmpfloat (idle_exit, >=, 0.8);

  g_hash_table_remove_all (f->daemons);
  call_at (f, 0);
  wait_until_owned (f, TRUE);
  second = only_daemon (f);
  g_assert_cmpint (second, !=, first);
  wait_until_owned (f, FALSE);
  assert_all_exited_cleanly (f);
  g_assert_cmpuint (f->activations, ==, 2);
}

/* Calls timed to reach the daemon just as it decides to leave: every one
 * is answered, by the daemon that is leaving or by the next one. */
#define STRAIN_SWEEPS 2
#define STRAIN_STEPS 12

static guint
count_in_log (SystemBus *f, const char *text)
{
  g_autofree char *log = NULL;
  guint count = 0;

  g_assert_true (g_file_get_contents (f->log_path, &log, NULL, NULL));
  for (const char *at = strstr (log, text); at != NULL; at = strstr (at + 1, text))
    count++;
  return count;
}

static void
test_no_call_fails_across_exits (SystemBus *f, gconstpointer data)
{
  gint64 left, exit_delay;
  guint calls = 1;

  if (system_bus_skipped (f))
    return;

  /* How long after its caller leaves the daemon goes, here and now. */
  left = call_at (f, 0);
  wait_until_owned (f, TRUE);
  wait_until_owned (f, FALSE);
  exit_delay = g_get_monotonic_time () - left;

  /* From 6 ms before that moment to 5 ms after, in steps of 1 ms. */
  for (guint sweep = 0; sweep < STRAIN_SWEEPS; sweep++)
    for (gint step = -6; step < STRAIN_STEPS - 6; step++, calls++)
      left = call_at (f, left + exit_delay + step * 1000);
  wait_until_owned (f, FALSE);

  g_test_message ("%u calls timed around the idle exit (%.3f s after each caller left), "
                  "all answered; %u activations of virtbusd; %u call(s) reached a daemon "
                  "already stopping and were answered by it",
                  calls, (double) exit_delay / G_USEC_PER_SEC, f->activations,
                  count_in_log (f, "arrived while stopping"));
  /* every daemon the bus started answered a call */
  g_assert_cmpuint (g_hash_table_size (f->daemons), ==, f->activations);
  g_assert_cmpuint (f->activations, >=, 2);
  assert_all_exited_cleanly (f);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  /* See assert_exited_cleanly(). */
  prctl (PR_SET_CHILD_SUBREAPER, 1);

  g_test_add ("/install/idle/unused-daemon-exits", VbTestFixture, NULL, setup_idle_daemon,
              test_unused_daemon_exits, vb_test_teardown);
  g_test_add ("/install/idle/one-shot-caller-lets-it-exit", VbTestFixture, NULL,
              setup_idle_daemon, test_one_shot_caller_lets_it_exit, vb_test_teardown);
  g_test_add ("/install/idle/connected-caller-keeps-it", VbTestFixture, NULL,
              setup_idle_daemon, test_connected_caller_keeps_it, vb_test_teardown);
  g_test_add ("/install/idle/listener-hears-later-events", VbTestFixture, NULL,
              setup_idle_daemon, test_listener_hears_later_events, vb_test_teardown);
  g_test_add ("/install/stop/call-in-flight-keeps-it-then-sigterm-gives-up", StuckFixture,
              NULL, stuck_setup, test_call_in_flight_keeps_it_then_sigterm_gives_up,
              stuck_teardown);
  g_test_add ("/install/stop/sigterm-answers-calls-in-flight", VbTestFixture, NULL,
              vb_test_setup, test_sigterm_answers_calls_in_flight, vb_test_teardown);
  g_test_add ("/install/stop/bus-gone-exits-1", VbTestFixture, NULL, vb_test_setup,
              test_bus_gone_exits_1, bus_gone_teardown);
  g_test_add ("/install/notify", NotifyFixture, NULL, notify_setup, test_notify,
              notify_teardown);

  g_test_add_func ("/install/files", test_installed_files);
  g_test_add_func ("/install/shipped-config", test_shipped_config);
  g_test_add_func ("/install/unit/verify", test_unit_verifies);
  g_test_add_func ("/install/unit/exposure", test_unit_exposure);
  g_test_add ("/install/activation/activates-and-exits-when-idle", SystemBus, NULL,
              system_bus_setup, test_activation_and_idle_exit, system_bus_teardown);
  g_test_add ("/install/activation/no-call-fails-across-exits", SystemBus, NULL,
              system_bus_setup, test_no_call_fails_across_exits, system_bus_teardown);

  status = g_test_run ();
  if (install.dir != NULL)
    {
      g_autofree char *rm = g_strdup_printf ("rm -rf '%s'", install.dir);

      /* the prefix and build trees are deep: no flat-directory helper */
      g_spawn_command_line_sync (rm, NULL, NULL, NULL, NULL);
    }
  g_free (install.dir);
  g_free (install.prefix);
  g_free (install.shipped_config);
  return status;
}
