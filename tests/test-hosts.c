/* Several hosts through libvirt's remote transport: the real libvirtd of
 * this machine as "Local" (qemu:///system) and a second libvirtd started
 * here as "Far", a host of its own (own mount namespace, state, host UUID)
 * reached over TLS on 127.0.0.1 (tests/far-host/far-libvirtd).  Checks that
 * each host's objects are at their own paths with their own signals, that
 * a host that hangs or dies never delays the other nor crashes virtbusd,
 * that calls to it fail in bounded time naming it, and that when it comes
 * back what changed meanwhile is announced. */
#include "vb-libvirtd.h"
#include "vb-test.h"

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define FAR_HOST_UUID "5b1f7c2e-93a4-4d6e-8c0b-1e2f3a4b5c6d"
#define DOMAIN "org.libvirt.Domain"
#define CONNECT "org.libvirt.Connect"
#define PROPERTIES "org.freedesktop.DBus.Properties"
#define OBJECT_MANAGER "org.freedesktop.DBus.ObjectManager"
#define GUEST_PREFIX "vbhosts-"
/* What a call to a host that hangs may take: libvirt's keepalive finds it
 * dead after VB_CONN_KEEPALIVE_INTERVAL * (COUNT + 1) = 20 s, and a
 * connection being opened is waited for VB_CONN_OPEN_TIMEOUT = 20 s. */
#define HANGING_HOST_BOUND_S 30
#define OPEN_TIMEOUT_S 20

static GSubprocess *far;
static char *far_state;
static char *far_uri;

/* ---- the second host ------------------------------------------------------ */

static guint16
free_loopback_port (void)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_socket_bind (socket, any, FALSE, &error));
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

static void
virsh_far (const char *const *args)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = vb_virsh_on (far_uri, args, &error);

  g_assert_no_error (error);
}

static void
virsh_local (const char *const *args)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = vb_virsh (args, &error);

  g_assert_no_error (error);
}

static void
wait_for_far (void)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;

  for (;;)
    {
      g_autofree char *out = vb_virsh_on (far_uri, (const char *[]) { "version", NULL }, NULL);

      if (out != NULL)
        return;
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_assert_nonnull (g_subprocess_get_identifier (far));
      g_usleep (100000);
    }
}

/* Starts the far host on @port (0: a free one, the first time; then its
 * old port, the URI virtbusd knows). */
static void
start_far (guint16 port)
{
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "far-host", "far-libvirtd", NULL);
  g_autofree char *log = g_build_filename (far_state, "far-libvirtd.out", NULL);
  g_autoptr(GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_INHERIT);
  g_autoptr(GError) error = NULL;
  g_autofree char *port_text = NULL;

  if (port == 0)
    {
      port = free_loopback_port ();
      g_free (far_uri);
      far_uri = g_strdup_printf ("qemu+tls://127.0.0.1:%u/system?pkipath=%s/pki/client",
                                 (unsigned) port, far_state);
    }
  port_text = g_strdup_printf ("%u", (unsigned) port);
  g_subprocess_launcher_set_stdout_file_path (launcher, log);
  g_subprocess_launcher_take_stderr_fd (launcher, -1);
  g_clear_object (&far);
  far = g_subprocess_launcher_spawn (launcher, &error, "unshare", "-m", "--propagation",
                                     "private", script, far_state, port_text, FAR_HOST_UUID,
                                     NULL);
  g_assert_no_error (error);
  wait_for_far ();
}

/* Starts the far host again where virtbusd knows it. */
static void
restart_far (void)
{
  const char *colon = strrchr (far_uri, ':');

  start_far ((guint16) g_ascii_strtoull (colon + 1, NULL, 10));
}

static void
signal_far (int signo)
{
  g_subprocess_send_signal (far, signo);
}

static void
kill_far (void)
{
  g_autoptr(GError) error = NULL;

  signal_far (SIGKILL);
  g_subprocess_wait (far, NULL, &error);
  g_assert_no_error (error);
  /* Its guests' QEMUs outlive it; the next start takes them back. */
}

static void
stop_far (void)
{
  g_autoptr(GError) error = NULL;

  if (far == NULL)
    return;
  signal_far (SIGCONT);
  g_free (vb_virsh_on (far_uri, (const char *[]) { "destroy", GUEST_PREFIX "far", NULL }, NULL));
  vb_test_stop_process (&far);
}

/* ---- bus helpers ------------------------------------------------------------ */

static char *
guest_xml (const char *name)
{
  return g_strdup_printf (
      "<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
      "<os><type arch='x86_64' machine='pc'>hvm</type><bios useserial='yes'/></os>"
      "<devices><serial type='pty'/><console type='pty'/></devices></domain>",
      name);
}

static void
define_guest (void (*virsh) (const char *const *), const char *name)
{
  g_autofree char *xml = guest_xml (name);
  g_autofree char *file = g_build_filename (far_state, "guest.xml", NULL);

  g_assert_true (g_file_set_contents (file, xml, -1, NULL));
  virsh ((const char *[]) { "define", file, NULL });
}

/* The path of guest @name on connection @conn_name, from LookupByName. */
static char *
guest_path (VbTestFixture *f, const char *conn_name, const char *name)
{
  g_autofree char *conn_path = g_strconcat ("/org/libvirt/", conn_name, NULL);
  g_autoptr(GVariant) reply = vb_test_call (f, conn_path, CONNECT, "DomainLookupByName",
                                            g_variant_new ("(s)", name), "(o)");

  return vb_test_reply_path (reply);
}

static gboolean
list_has (VbTestFixture *f, const char *conn_name, const char *method, const char *path)
{
  g_autofree char *conn_path = g_strconcat ("/org/libvirt/", conn_name, NULL);
  g_autoptr(GVariant) reply = vb_test_call (f, conn_path, CONNECT, method,
                                            g_variant_new ("(u)", 0), "(ao)");
  g_autoptr(GVariantIter) iter = NULL;
  const char *listed;

  g_variant_get (reply, "(ao)", &iter);
  while (g_variant_iter_next (iter, "&o", &listed))
    if (g_str_equal (listed, path))
      return TRUE;
  return FALSE;
}

/* The daemon answers on @conn_path. */
static void
assert_serving_on (VbTestFixture *f, const char *conn_path)
{
  g_autoptr(GVariant) reply = vb_test_call (f, conn_path, CONNECT, "ListDomains",
                                            g_variant_new ("(u)", 0), "(ao)");
}

static void
assert_serving (VbTestFixture *f)
{
  assert_serving_on (f, "/org/libvirt/Local");
}

/* Signals from org.libvirt, kept for the test to look through. */
typedef struct {
  GDBusConnection *bus;
  guint subscription;
  GPtrArray *seen;           /* "path member" strings */
} Heard;

static void
on_signal (GDBusConnection *bus, const char *sender, const char *path, const char *iface,
           const char *member, GVariant *params, gpointer data)
{
  Heard *heard = data;
  const char *object = NULL;

  /* ObjectManager's signals name the object in their first argument. */
  if (g_str_equal (iface, OBJECT_MANAGER))
    g_variant_get_child (params, 0, "&o", &object);
  g_ptr_array_add (heard->seen, g_strdup_printf ("%s %s%s%s", path, member,
                                                 object != NULL ? " " : "",
                                                 object != NULL ? object : ""));
}

static Heard *
heard_new (VbTestFixture *f)
{
  Heard *heard = g_new0 (Heard, 1);

  heard->bus = g_object_ref (f->bus);
  heard->seen = g_ptr_array_new_with_free_func (g_free);
  heard->subscription = g_dbus_connection_signal_subscribe (
      f->bus, "org.libvirt", NULL, NULL, NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_signal,
      heard, NULL);
  assert_serving (f);
  return heard;
}

static void
heard_free (Heard *heard)
{
  g_dbus_connection_signal_unsubscribe (heard->bus, heard->subscription);
  g_object_unref (heard->bus);
  g_ptr_array_unref (heard->seen);
  g_free (heard);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Heard, heard_free)

static gboolean
on_wait_timeout (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Waits up to @seconds for a signal whose "path member [object]" text
 * starts with @what. */
static void
heard_wait (Heard *heard, const char *what, guint seconds)
{
  gboolean timed_out = FALSE;
  guint timeout = g_timeout_add_seconds (seconds, on_wait_timeout, &timed_out);

  for (;;)
    {
      for (guint i = 0; i < heard->seen->len; i++)
        if (g_str_has_prefix (g_ptr_array_index (heard->seen, i), what))
          {
            g_source_remove (timeout);
            return;
          }
      if (timed_out)
        g_error ("no signal \"%s\" within %u s", what, seconds);
      g_main_context_iteration (NULL, TRUE);
    }
}

/* Async calls, counted as they are answered. */
typedef struct {
  guint pending;
  guint failed;
  GPtrArray *errors;
  gint64 last_answer;
} Flight;

static void
on_flight_answer (GObject *source, GAsyncResult *result, gpointer data)
{
  Flight *flight = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                              result, &error);

  if (error != NULL)
    {
      flight->failed++;
      g_ptr_array_add (flight->errors, g_strdup (error->message));
    }
  flight->pending--;
  flight->last_answer = g_get_monotonic_time ();
}

static void
send_state_reads (VbTestFixture *f, const char *path, guint n, Flight *flight)
{
  for (guint i = 0; i < n; i++)
    {
      flight->pending++;
      g_dbus_connection_call (f->bus, "org.libvirt", path, PROPERTIES, "Get",
                              g_variant_new ("(ss)", DOMAIN, "State"), G_VARIANT_TYPE ("(v)"),
                              G_DBUS_CALL_FLAGS_NONE, 120000, NULL, on_flight_answer, flight);
    }
}

static void
wait_for_flight (Flight *flight)
{
  while (flight->pending > 0)
    g_main_context_iteration (NULL, TRUE);
}

/* Properties.Get of @path's State, timed; TRUE if answered with a value. */
static gboolean
timed_state_read (VbTestFixture *f, const char *path, gint64 *microseconds)
{
  gint64 start = g_get_monotonic_time ();
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync (
      f->bus, "org.libvirt", path, PROPERTIES, "Get", g_variant_new ("(ss)", DOMAIN, "State"),
      G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, 120000, NULL, NULL);

  *microseconds = g_get_monotonic_time () - start;
  return reply != NULL;
}

static int
compare_int64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

/* The 99th percentile of @n timed reads of @path, in microseconds. */
static gint64
state_read_p99 (VbTestFixture *f, const char *path, guint n)
{
  g_autofree gint64 *times = g_new (gint64, n);

  for (guint i = 0; i < n; i++)
    g_assert_true (timed_state_read (f, path, &times[i]));
  qsort (times, n, sizeof *times, compare_int64);
  return times[(n * 99) / 100 - (n >= 100 ? 1 : 0)];
}

/* Waits until a read of @path answers again (the host is back). */
static void
wait_until_answering (VbTestFixture *f, const char *path)
{
  gint64 deadline = g_get_monotonic_time () + 90 * G_TIME_SPAN_SECOND;
  gint64 took;

  while (!timed_state_read (f, path, &took))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (200000);
    }
}

/* ---- fixture ---------------------------------------------------------------- */

static void
setup (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *far_spec = g_strconcat ("Far=", far_uri, NULL);
  const char *const args[] = { "--connect", "Local=" VB_LIBVIRTD_URI, "--connect", far_spec,
                               NULL };

  vb_test_setup_with_args (f, args);
}

static void
teardown (VbTestFixture *f, gconstpointer data)
{
  vb_test_teardown (f, data);
}

/* ---- cases ------------------------------------------------------------------ */

static void
test_each_host_its_own (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *local = guest_path (f, "Local", GUEST_PREFIX "local");
  g_autofree char *remote = guest_path (f, "Far", GUEST_PREFIX "far");
  g_autoptr(GVariant) far_caps = NULL, local_caps = NULL;
  g_autoptr(GVariant) objects = NULL;
  const char *caps;
  g_autoptr(GVariant) entry = NULL;

  g_assert_true (g_str_has_prefix (local, "/org/libvirt/Local/domain/_"));
  g_assert_true (g_str_has_prefix (remote, "/org/libvirt/Far/domain/_"));
  g_assert_true (list_has (f, "Local", "ListDomains", local));
  g_assert_false (list_has (f, "Local", "ListDomains", remote));
  g_assert_true (list_has (f, "Far", "ListDomains", remote));
  g_assert_false (list_has (f, "Far", "ListDomains", local));
  vb_test_assert_call_error (f, "/org/libvirt/Local", CONNECT, "DomainLookupByName",
                             g_variant_new ("(s)", GUEST_PREFIX "far"), VB_ERROR_LIBVIRT_NAME,
                             GUEST_PREFIX "far");

  /* The far host is another host: its own UUID, its own networks and
   * pools. */
  far_caps = vb_test_call (f, "/org/libvirt/Far", CONNECT, "GetCapabilities", NULL, "(s)");
  g_variant_get (far_caps, "(&s)", &caps);
  g_assert_nonnull (strstr (caps, "<uuid>" FAR_HOST_UUID "</uuid>"));
  local_caps = vb_test_call (f, "/org/libvirt/Local", CONNECT, "GetCapabilities", NULL, "(s)");
  g_variant_get (local_caps, "(&s)", &caps);
  g_assert_null (strstr (caps, FAR_HOST_UUID));
  {
    g_autofree char *net = vb_test_reply_path (vb_test_call (
        f, "/org/libvirt/Far", CONNECT, "NetworkLookupByName",
        g_variant_new ("(s)", GUEST_PREFIX "net"), "(o)"));
    g_autofree char *pool = vb_test_reply_path (vb_test_call (
        f, "/org/libvirt/Far", CONNECT, "StoragePoolLookupByName",
        g_variant_new ("(s)", GUEST_PREFIX "pool"), "(o)"));

    g_assert_true (g_str_has_prefix (net, "/org/libvirt/Far/network/_"));
    g_assert_true (g_str_has_prefix (pool, "/org/libvirt/Far/storagepool/_"));
    g_assert_true (list_has (f, "Far", "ListNetworks", net));
    g_assert_true (list_has (f, "Far", "ListStoragePools", pool));
    g_assert_false (list_has (f, "Local", "ListNetworks", net));
    g_assert_false (list_has (f, "Local", "ListStoragePools", pool));
  }
  objects = vb_test_call (f, "/org/libvirt/Far", OBJECT_MANAGER, "GetManagedObjects", NULL,
                          "(a{oa{sa{sv}}})");
  entry = g_variant_get_child_value (objects, 0);
  g_assert_true (g_variant_lookup (entry, remote, "@a{sa{sv}}", NULL));
  g_assert_false (g_variant_lookup (entry, local, "@a{sa{sv}}", NULL));
}

static void
test_signals_from_both (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *local = guest_path (f, "Local", GUEST_PREFIX "local");
  g_autofree char *remote = guest_path (f, "Far", GUEST_PREFIX "far");
  g_autofree char *local_event = g_strdup_printf ("/org/libvirt/Local DomainEvent");
  g_autofree char *far_changed = g_strdup_printf ("%s PropertiesChanged", remote);
  g_autofree char *local_changed = g_strdup_printf ("%s PropertiesChanged", local);
  g_autoptr(Heard) heard = heard_new (f);

  virsh_far ((const char *[]) { "start", GUEST_PREFIX "far", NULL });
  virsh_local ((const char *[]) { "start", GUEST_PREFIX "local", NULL });
  heard_wait (heard, "/org/libvirt/Far DomainEvent", 30);
  heard_wait (heard, local_event, 30);
  heard_wait (heard, far_changed, 30);
  heard_wait (heard, local_changed, 30);
  virsh_local ((const char *[]) { "destroy", GUEST_PREFIX "local", NULL });
  /* The far guest keeps running for the cases that follow. */
}

/* Far's libvirtd stopped (SIGSTOP) with 16 calls to it waiting: calls to
 * Local answer as fast as when Far was idle, and Far's calls all fail,
 * naming it, within the documented bound; after SIGCONT Far answers. */
static void
test_stalled_host (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *local = guest_path (f, "Local", GUEST_PREFIX "local");
  g_autofree char *remote = guest_path (f, "Far", GUEST_PREFIX "far");
  Flight flight = { .errors = g_ptr_array_new_with_free_func (g_free) };
  gint64 idle_p99, stalled_p99, stopped_at;

  idle_p99 = state_read_p99 (f, local, 200);
  signal_far (SIGSTOP);
  stopped_at = g_get_monotonic_time ();
  send_state_reads (f, remote, 16, &flight);
  /* Let the 16 reach virtbusd and take Far's workers. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_usleep (500000);
  stalled_p99 = state_read_p99 (f, local, 200);
  g_test_message ("Local Properties.Get p99: %" G_GINT64_FORMAT " us idle, %" G_GINT64_FORMAT
                  " us with 16 calls to a stopped Far",
                  idle_p99, stalled_p99);
  /* Local was served while Far's calls were all still waiting. */
  g_assert_cmpuint (flight.pending, ==, 16);

  wait_for_flight (&flight);
  g_test_message ("Far's 16 calls failed after %.1f s",
                  (flight.last_answer - stopped_at) / 1e6);
  g_assert_cmpuint (flight.failed, ==, 16);
  g_assert_cmpint (flight.last_answer - stopped_at, <,
                   HANGING_HOST_BOUND_S * G_TIME_SPAN_SECOND);
  for (guint i = 0; i < flight.errors->len; i++)
    g_assert_true (g_str_has_prefix (g_ptr_array_index (flight.errors, i),
                                     "GDBus.Error:org.libvirt.Error: Far ("));
  g_ptr_array_unref (flight.errors);

  signal_far (SIGCONT);
  wait_until_answering (f, remote);
}

/* Far killed with calls in flight, once after libvirt's keepalive gave up
 * on it (what crashed virtbusd: libvirt's client left a stale socket watch
 * behind) and twice at once; each time virtbusd serves Local, and Far
 * again once it is back. */
static void
test_host_killed_with_calls_in_flight (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *local = guest_path (f, "Local", GUEST_PREFIX "local");
  g_autofree char *remote = guest_path (f, "Far", GUEST_PREFIX "far");

  for (int round = 0; round < 3; round++)
    {
      Flight flight = { .errors = g_ptr_array_new_with_free_func (g_free) };
      gint64 took;

      signal_far (SIGSTOP);
      send_state_reads (f, remote, 16, &flight);
      if (round == 0)
        wait_for_flight (&flight);
      else
        g_usleep (300000);
      kill_far ();
      wait_for_flight (&flight);
      g_assert_cmpuint (flight.failed, ==, 16);
      g_ptr_array_unref (flight.errors);
      g_assert_true (timed_state_read (f, local, &took));
      assert_serving (f);
      restart_far ();
      wait_until_answering (f, remote);
    }
}

/* What Far defined and undefined while it was away from virtbusd is
 * announced when it is back: its configuration is changed while its
 * libvirtd is down, as another admin on that host might have. */
static void
test_resync_after_host_returns (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *remote = guest_path (f, "Far", GUEST_PREFIX "far");
  g_autofree char *gone = NULL;
  g_autofree char *gone_signal = NULL;
  g_autofree char *added = NULL;
  g_autofree char *added_signal = NULL;
  g_autoptr(Heard) heard = NULL;
  g_autofree char *old_config = NULL;
  g_autofree char *new_config = NULL;
  g_autofree char *xml = NULL;

  define_guest (virsh_far, GUEST_PREFIX "far-old");
  gone = guest_path (f, "Far", GUEST_PREFIX "far-old");
  heard = heard_new (f);

  kill_far ();
  /* libvirtd keeps a persistent guest's definition in qemu/NAME.xml. */
  old_config = g_build_filename (far_state, "etc", "qemu", GUEST_PREFIX "far-old.xml", NULL);
  g_assert_cmpint (g_unlink (old_config), ==, 0);
  new_config = g_build_filename (far_state, "etc", "qemu", GUEST_PREFIX "far-new.xml", NULL);
  xml = guest_xml (GUEST_PREFIX "far-new");
  g_assert_true (g_file_set_contents (new_config, xml, -1, NULL));
  restart_far ();

  added = guest_path (f, "Far", GUEST_PREFIX "far-new");
  added_signal = g_strdup_printf ("/org/libvirt/Far InterfacesAdded %s", added);
  gone_signal = g_strdup_printf ("/org/libvirt/Far InterfacesRemoved %s", gone);
  heard_wait (heard, added_signal, 90);
  heard_wait (heard, gone_signal, 90);
  wait_until_answering (f, remote);
  virsh_far ((const char *[]) { "undefine", GUEST_PREFIX "far-new", NULL });
}

/* ---- live migration ----------------------------------------------------------- */

#define VIR_MIGRATE_LIVE_FLAG 1u
#define VIR_MIGRATE_PEER2PEER_FLAG 2u
#define VIR_DOMAIN_JOB_UNBOUNDED_TYPE 2
#define VIR_DOMAIN_RUNNING_STATE 1

/* Far's way back to Local: far-libvirtd binds Local's socket into its
 * state directory before hiding /run/libvirt. */
static char *
local_uri_from_far (void)
{
  return g_strdup_printf ("qemu+unix:///system?socket=%s/local-libvirt-sock", far_state);
}

static GVariant *
migration_params (guint64 bandwidth_mib)
{
  GVariantBuilder params;

  g_variant_builder_init (&params, G_VARIANT_TYPE ("a{sv}"));
  /* QEMU to QEMU on loopback only. */
  g_variant_builder_add (&params, "{sv}", "migrate_uri", g_variant_new_string ("tcp://127.0.0.1"));
  g_variant_builder_add (&params, "{sv}", "listen_address", g_variant_new_string ("127.0.0.1"));
  if (bandwidth_mib > 0)
    g_variant_builder_add (&params, "{sv}", "bandwidth", g_variant_new_uint64 (bandwidth_mib));
  return g_variant_builder_end (&params);
}

typedef struct {
  gboolean done;
  GError *error;
} Migration;

static void
on_migrated (GObject *source, GAsyncResult *result, gpointer data)
{
  Migration *migration = data;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                              result, &migration->error);

  migration->done = TRUE;
}

static void
start_migration (VbTestFixture *f, const char *path, const char *destination,
                 guint64 bandwidth_mib, Migration *migration)
{
  g_dbus_connection_call (f->bus, "org.libvirt", path, DOMAIN, "MigrateToURI3",
                          g_variant_new ("(s@a{sv}u)", destination,
                                         migration_params (bandwidth_mib),
                                         VIR_MIGRATE_LIVE_FLAG | VIR_MIGRATE_PEER2PEER_FLAG),
                          G_VARIANT_TYPE ("()"), G_DBUS_CALL_FLAGS_NONE, 300000, NULL,
                          on_migrated, migration);
}

static void
wait_for_migration (Migration *migration)
{
  while (!migration->done)
    g_main_context_iteration (NULL, TRUE);
}

/* Waits until @path's job is a migration that has moved data, reading
 * its progress through GetJobInfo and GetJobStats. */
static void
wait_for_progress (VbTestFixture *f, const char *path, Migration *migration)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;

  for (;;)
    {
      g_autoptr(GVariant) info = NULL;
      g_autoptr(GVariant) stats = NULL;
      g_autoptr(GVariant) dict = NULL;
      gint32 type, stats_type;
      guint64 elapsed, processed, total;

      g_assert_false (migration->done);
      info = vb_test_call (f, path, DOMAIN, "GetJobInfo", NULL, "((ittttttttttt))");
      g_variant_get (info, "((ittttttttttt))", &type, &elapsed, NULL, &total, &processed, NULL,
                     NULL, NULL, NULL, NULL, NULL, NULL);
      stats = vb_test_call (f, path, DOMAIN, "GetJobStats", g_variant_new ("(u)", 0),
                            "((ia{sv}))");
      g_variant_get (stats, "((i@a{sv}))", &stats_type, &dict);
      if (type == VIR_DOMAIN_JOB_UNBOUNDED_TYPE && processed > 0)
        {
          guint64 stats_processed = 0;

          g_autoptr(GVariant) values = vb_test_unbox_twice (dict);

          g_assert_cmpint (stats_type, ==, VIR_DOMAIN_JOB_UNBOUNDED_TYPE);
          g_assert_true (g_variant_lookup (values, "data_processed", "t", &stats_processed));
          g_assert_cmpuint (stats_processed, >, 0);
          g_test_message ("migration in progress: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                          " bytes after %" G_GUINT64_FORMAT " ms",
                          processed, total, elapsed);
          return;
        }
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (50000);
    }
}

static gint32
domain_state (VbTestFixture *f, const char *path)
{
  g_autoptr(GVariant) reply = vb_test_call (f, path, DOMAIN, "GetState",
                                            g_variant_new ("(u)", 0), "((ii))");
  gint32 state, reason;

  g_variant_get (reply, "((ii))", &state, &reason);
  return state;
}

/* A running guest goes from Local to Far and back through the bus
 * (MigrateToURI3, peer to peer, QEMU's stream on 127.0.0.1): its progress
 * readable while it moves, its events and state on both connections; a
 * migration aborted halfway leaves it where it was; and QEMU's direct
 * mode (no PEER2PEER) is refused with libvirt's reason. */
static void
test_live_migration (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *local = guest_path (f, "Local", GUEST_PREFIX "migrant");
  g_autofree char *uuid_segment = g_strdup (strrchr (local, '/'));
  g_autofree char *remote = g_strconcat ("/org/libvirt/Far/domain", uuid_segment, NULL);
  g_autofree char *far_event = NULL;
  g_autofree char *local_uri = local_uri_from_far ();
  g_autoptr(Heard) heard = heard_new (f);
  Migration there = { 0 }, aborted = { 0 }, back = { 0 };
  g_autoptr(GVariant) started = vb_test_call (f, local, DOMAIN, "Create",
                                              g_variant_new ("(u)", 0), "()");

  vb_test_assert_call_error (f, local, DOMAIN, "MigrateToURI3",
                             g_variant_new ("(s@a{sv}u)", far_uri, migration_params (0),
                                            VIR_MIGRATE_LIVE_FLAG),
                             VB_ERROR_LIBVIRT_NAME, NULL);

  /* 1 MiB/s: the guest's 4 GiB of zero pages take seconds. */
  start_migration (f, local, far_uri, 1, &there);
  wait_for_progress (f, local, &there);
  wait_for_migration (&there);
  g_assert_no_error (there.error);
  g_clear_error (&there.error);
  g_assert_cmpint (domain_state (f, remote), ==, VIR_DOMAIN_RUNNING_STATE);
  g_assert_cmpint (domain_state (f, local), !=, VIR_DOMAIN_RUNNING_STATE);
  far_event = g_strdup_printf ("/org/libvirt/Far DomainEvent");
  heard_wait (heard, far_event, 30);
  heard_wait (heard, "/org/libvirt/Local DomainEvent", 30);
  /* Live state on both: the guest appeared on Far (transient there) and
   * stopped on Local. */
  {
    g_autofree char *far_added = g_strdup_printf ("/org/libvirt/Far InterfacesAdded %s", remote);
    g_autofree char *local_changed = g_strdup_printf ("%s PropertiesChanged", local);

    heard_wait (heard, far_added, 30);
    heard_wait (heard, local_changed, 30);
  }

  start_migration (f, remote, local_uri, 1, &aborted);
  wait_for_progress (f, remote, &aborted);
  {
    g_autoptr(GVariant) reply = vb_test_call (f, remote, DOMAIN, "AbortJob", NULL, "()");
  }
  wait_for_migration (&aborted);
  g_assert_nonnull (aborted.error);
  {
    g_autofree char *name = g_dbus_error_get_remote_error (aborted.error);

    g_assert_cmpstr (name, ==, VB_ERROR_LIBVIRT_NAME);
    g_test_message ("aborted: %s", aborted.error->message);
  }
  g_clear_error (&aborted.error);
  g_assert_cmpint (domain_state (f, remote), ==, VIR_DOMAIN_RUNNING_STATE);

  start_migration (f, remote, local_uri, 0, &back);
  wait_for_migration (&back);
  g_assert_no_error (back.error);
  g_assert_cmpint (domain_state (f, local), ==, VIR_DOMAIN_RUNNING_STATE);
  virsh_local ((const char *[]) { "destroy", GUEST_PREFIX "migrant", NULL });
}

/* A listener that accepts TCP connections and never answers: a host whose
 * libvirtd hangs before the TLS handshake. */
static GSocket *
silent_listener (guint16 *port)
{
  g_autoptr(GError) error = NULL;
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                  G_SOCKET_PROTOCOL_TCP, &error);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, any, FALSE, &error));
  g_socket_set_listen_backlog (socket, 64);
  g_assert_true (g_socket_listen (socket, &error));
  bound = g_socket_get_local_address (socket, &error);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  return socket;
}

/* 16 hosts configured, half of them unreachable (4 refusing, 4 silent):
 * the daemon starts and serves the reachable ones at once; calls to an
 * unreachable one fail naming it. */
static void
test_unreachable_hosts_at_start (void)
{
  VbTestFixture fixture = { 0 };
  VbTestFixture *f = &fixture;
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GSocket) silent = NULL;
  guint16 silent_port, refused_port = free_loopback_port ();
  g_autofree char *remote = NULL;
  gint64 took, started;

  silent = silent_listener (&silent_port);
  for (int i = 0; i < 4; i++)
    {
      g_ptr_array_add (args, g_strdup ("--connect"));
      g_ptr_array_add (args, g_strdup_printf ("Silent%d=qemu+tls://127.0.0.1:%u/system", i,
                                              silent_port));
      g_ptr_array_add (args, g_strdup ("--connect"));
      g_ptr_array_add (args, g_strdup_printf ("Refusing%d=qemu+tls://127.0.0.1:%u/system", i,
                                              refused_port));
      g_ptr_array_add (args, g_strdup ("--connect"));
      g_ptr_array_add (args, g_strdup_printf ("Local%d=" VB_LIBVIRTD_URI, i));
      g_ptr_array_add (args, g_strdup ("--connect"));
      g_ptr_array_add (args, g_strdup_printf ("Far%d=%s", i, far_uri));
    }
  g_ptr_array_add (args, NULL);

  started = g_get_monotonic_time ();
  vb_test_setup_with_args (f, (const char *const *) args->pdata);
  {
    g_autoptr(GVariant) reply = vb_test_call (f, "/org/libvirt/Far3", CONNECT,
                                              "DomainLookupByName",
                                              g_variant_new ("(s)", GUEST_PREFIX "far"), "(o)");

    remote = vb_test_reply_path (reply);
  }
  g_assert_true (timed_state_read (f, remote, &took));
  g_test_message ("started and served Far3 after %.2f s",
                  (g_get_monotonic_time () - started) / 1e6);
  /* Served while the silent hosts' opens still wait. */
  g_assert_cmpint (g_get_monotonic_time () - started, <,
                   OPEN_TIMEOUT_S * G_TIME_SPAN_SECOND);
  vb_test_assert_call_error (f, "/org/libvirt/Refusing2", CONNECT, "ListDomains",
                             g_variant_new ("(u)", 0), VB_ERROR_LIBVIRT_NAME,
                             "Refusing2 (qemu+tls://127.0.0.1:");
  vb_test_assert_call_error (f, "/org/libvirt/Silent1", CONNECT, "ListDomains",
                             g_variant_new ("(u)", 0), VB_ERROR_LIBVIRT_NAME,
                             "Silent1 (qemu+tls://127.0.0.1:");
  assert_serving_on (f, "/org/libvirt/Local2");
  vb_test_teardown (f, NULL);
}

/* ---- main ------------------------------------------------------------------- */

static gboolean
is_ours (const char *name)
{
  return g_str_has_prefix (name, GUEST_PREFIX);
}

static void
prepare_hosts (void)
{
  g_autofree char *pool_dir = g_build_filename (far_state, "pool", NULL);
  g_autofree char *net_file = g_build_filename (far_state, "net.xml", NULL);
  g_autofree char *net_xml = g_strdup_printf (
      "<network><name>%snet</name><bridge name='vbhosts0'/>"
      "<ip address='192.0.2.1' netmask='255.255.255.0'/></network>",
      GUEST_PREFIX);

  vb_libvirtd_remove_guests (is_ours);
  define_guest (virsh_local, GUEST_PREFIX "local");
  define_guest (virsh_far, GUEST_PREFIX "far");
  {
    g_autofree char *migrant = g_strdup_printf (
        "<domain type='qemu'><name>%smigrant</name><memory unit='GiB'>4</memory><vcpu>1</vcpu>"
        "<os><type arch='x86_64' machine='pc'>hvm</type><bios useserial='yes'/></os>"
        "<devices><serial type='pty'/><console type='pty'/></devices></domain>",
        GUEST_PREFIX);
    g_autofree char *file = g_build_filename (far_state, "migrant.xml", NULL);

    g_assert_true (g_file_set_contents (file, migrant, -1, NULL));
    virsh_local ((const char *[]) { "define", file, NULL });
  }
  g_assert_true (g_file_set_contents (net_file, net_xml, -1, NULL));
  virsh_far ((const char *[]) { "net-define", net_file, NULL });
  g_mkdir_with_parents (pool_dir, 0755);
  virsh_far ((const char *[]) { "pool-define-as", GUEST_PREFIX "pool", "dir", "--target",
                                pool_dir, NULL });
}

int
main (int argc, char **argv)
{
  g_autofree char *skip_reason = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  if (getuid () != 0 || g_find_program_in_path ("unshare") == NULL)
    {
      g_test_skip ("needs root and unshare for a second libvirtd");
      return g_test_run ();
    }
  if (!vb_libvirtd_ensure (&skip_reason))
    {
      g_test_skip (skip_reason);
      return g_test_run ();
    }
  far_state = g_dir_make_tmp ("virtbus-far-XXXXXX", NULL);
  g_chmod (far_state, 0755);
  start_far (0);
  prepare_hosts ();

  g_test_add ("/hosts/each-host-its-own", VbTestFixture, NULL, setup, test_each_host_its_own,
              teardown);
  g_test_add ("/hosts/signals-from-both", VbTestFixture, NULL, setup, test_signals_from_both,
              teardown);
  g_test_add ("/hosts/stalled-host", VbTestFixture, NULL, setup, test_stalled_host, teardown);
  g_test_add ("/hosts/host-killed-with-calls-in-flight", VbTestFixture, NULL, setup,
              test_host_killed_with_calls_in_flight, teardown);
  g_test_add ("/hosts/resync-after-host-returns", VbTestFixture, NULL, setup,
              test_resync_after_host_returns, teardown);
  g_test_add ("/hosts/live-migration", VbTestFixture, NULL, setup, test_live_migration,
              teardown);
  g_test_add_func ("/hosts/unreachable-hosts-at-start", test_unreachable_hosts_at_start);
  status = g_test_run ();

  vb_libvirtd_remove_guests (is_ours);
  stop_far ();
  vb_libvirtd_release ();
  /* Made by root for root (keys, QEMU's files): removed the same way. */
  g_spawn_sync (NULL, (char *[]) { "rm", "-rf", far_state, NULL }, NULL, G_SPAWN_SEARCH_PATH,
                NULL, NULL, NULL, NULL, NULL, NULL);
  return status;
}
