/* Clients that misbehave: one that leaves with calls in flight, one that
 * never reads its replies, one that stops reading a stream, one that
 * sends 10,000 calls before reading any answer.  Through each, virtbusd
 * must go on answering a well-behaved client promptly, and end cleanly
 * (the teardown asserts exit status 0; under ASan the daemon runs with
 * leak detection, so a leak fails the case that caused it). */
#include <errno.h>
#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vb-test.h"

#define PROPERTIES_IFACE "org.freedesktop.DBus.Properties"
#define DOMAIN_IFACE "org.libvirt.Domain"
#define CONNECT_IFACE "org.libvirt.Connect"

/* What "promptly" means for the well-behaved client, on two shared cores
 * and under ASan. */
#define PROMPT_MS 5000
/* A FIFO's writer (a CoreDump) must appear within this when it is going
 * to. */
#define FIFO_WRITER_MS 20000

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/* The bus of most cases is GTestDBus's (vb_test_setup_with_args()); the
 * flooding cases need limits it does not set (dbus-daemon's built-in
 * defaults allow a connection 128 calls awaiting a reply and buffer
 * 127 MiB for a reader), so they get a dbus-daemon of their own. */
typedef struct {
  VbTestFixture vb;
  GSubprocess *bus_daemon;
  char *dir;
  char *socket_path;
  char *bus_log;
} ClientsFixture;

/* ---- the daemon seen from /proc ----------------------------------------- */

static const char *
daemon_pid (ClientsFixture *f)
{
  const char *pid = g_subprocess_get_identifier (f->vb.daemon);

  g_assert_nonnull (pid);
  return pid;
}

/* A "Name:   N kB" line of /proc/PID/status, in KiB. */
static guint64
daemon_status_kib (ClientsFixture *f, const char *field)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/status", daemon_pid (f));
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", 0);
  for (char **line = lines; *line != NULL; line++)
    if (g_str_has_prefix (*line, field))
      return g_ascii_strtoull (*line + strlen (field), NULL, 10);
  g_error ("no %s in %s", field, path);
}

static guint64
daemon_rss_kib (ClientsFixture *f)
{
  return daemon_status_kib (f, "VmRSS:");
}

/* User + system time of the whole daemon, in clock ticks. */
static guint64
daemon_cpu_ticks (ClientsFixture *f)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/stat", daemon_pid (f));
  g_autofree char *text = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after_name;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  /* The command name may hold spaces: count from its closing ')'. */
  after_name = strrchr (text, ')');
  g_assert_nonnull (after_name);
  fields = g_strsplit (after_name + 2, " ", 0);
  g_assert_cmpuint (g_strv_length (fields), >, 12);
  return g_ascii_strtoull (fields[11], NULL, 10) + g_ascii_strtoull (fields[12], NULL, 10);
}

/* Waits until the daemon has used no CPU for 300 ms: whatever the clients
 * left it to do (calls of a caller that has gone, replies nobody reads)
 * is done. */
static void
wait_for_daemon_idle (ClientsFixture *f)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  guint64 last = daemon_cpu_ticks (f);
  guint quiet = 0;

  while (quiet < 6)
    {
      guint64 now;

      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (50 * 1000);
      now = daemon_cpu_ticks (f);
      quiet = now == last ? quiet + 1 : 0;
      last = now;
    }
}

/* The daemon's descriptors that are pipes: each screenshot's pump holds
 * its end of one until the transfer ends. */
static guint
daemon_pipe_count (ClientsFixture *f)
{
  g_autofree char *dir_path = g_strdup_printf ("/proc/%s/fd", daemon_pid (f));
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *name;
  guint pipes = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *link_path = g_build_filename (dir_path, name, NULL);
      g_autofree char *target = g_file_read_link (link_path, NULL);

      if (target != NULL && g_str_has_prefix (target, "pipe:"))
        pipes++;
    }
  return pipes;
}

/* ---- buses --------------------------------------------------------------- */

static void
setup_test_bus (ClientsFixture *f, const char *const *args)
{
  vb_test_setup_with_args (&f->vb, args);
}

static gboolean
name_has_owner (GDBusConnection *bus, const char *name)
{
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync (
      bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "NameHasOwner", g_variant_new ("(s)", name), G_VARIANT_TYPE ("(b)"),
      G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  gboolean has_owner = FALSE;

  if (reply != NULL)
    g_variant_get (reply, "(b)", &has_owner);
  return has_owner;
}

/* A session-type dbus-daemon of our own with @limits (<limit> elements),
 * and virtbusd serving Test=test:///default on it. */
static void
setup_own_bus (ClientsFixture *f, const char *limits)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) bus_launcher = NULL;
  g_autoptr(GSubprocessLauncher) daemon_launcher = NULL;
  g_autoptr(GDataInputStream) output = NULL;
  g_autofree char *config_path = NULL;
  g_autofree char *config = NULL;
  g_autofree char *address = NULL;
  gint64 deadline;

  f->dir = g_dir_make_tmp ("virtbus-clients-XXXXXX", &error);
  g_assert_no_error (error);
  f->socket_path = g_build_filename (f->dir, "bus", NULL);
  config_path = g_build_filename (f->dir, "bus.conf", NULL);
  config = g_strdup_printf (
      "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
      " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
      "<busconfig>\n"
      "  <type>session</type>\n"
      "  <listen>unix:path=%s</listen>\n"
      "  <auth>EXTERNAL</auth>\n"
      "  <policy context=\"default\">\n"
      "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
      "    <allow eavesdrop=\"true\"/>\n"
      "    <allow own=\"*\"/>\n"
      "  </policy>\n"
      "%s"
      "</busconfig>\n",
      f->socket_path, limits);
  g_assert_true (g_file_set_contents (config_path, config, -1, &error));

  /* The launcher's parent-death signal takes the bus with a test that
   * dies. */
  bus_launcher = vb_test_daemon_launcher (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  /* Its complaints (a line per message refused) go to a file that the
   * cases read: thousands of lines, which would fill the test's log. */
  f->bus_log = g_build_filename (f->dir, "bus.log", NULL);
  g_subprocess_launcher_set_stderr_file_path (bus_launcher, f->bus_log);
  f->bus_daemon = g_subprocess_launcher_spawn (bus_launcher, &error, "dbus-daemon",
                                               "--nofork", "--nopidfile", "--print-address=1",
                                               "--config-file", config_path, NULL);
  g_assert_no_error (error);
  output = g_data_input_stream_new (g_subprocess_get_stdout_pipe (f->bus_daemon));
  address = g_data_input_stream_read_line (output, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (address);

  f->vb.bus = g_dbus_connection_new_for_address_sync (
      address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
          G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  g_assert_no_error (error);

  daemon_launcher = vb_test_daemon_launcher (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_setenv (daemon_launcher, "DBUS_SESSION_BUS_ADDRESS", address, TRUE);
  f->vb.daemon = g_subprocess_launcher_spawn (daemon_launcher, &error,
                                              vb_test_daemon_binary (), "--session",
                                              "--connect", "Test=test:///default", NULL);
  g_assert_no_error (error);
  deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (!name_has_owner (f->vb.bus, "org.libvirt"))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_assert_nonnull (g_subprocess_get_identifier (f->vb.daemon));
      g_usleep (5000);
    }
}

static void
teardown (ClientsFixture *f, gconstpointer data)
{
  if (f->bus_daemon == NULL)
    {
      vb_test_teardown (&f->vb, data);
      return;
    }
  vb_test_stop_daemon (&f->vb);
  g_dbus_connection_close_sync (f->vb.bus, NULL, NULL);
  g_clear_object (&f->vb.bus);
  vb_test_stop_process (&f->bus_daemon);
  vb_test_remove_flat_dir (f->dir);
  g_clear_pointer (&f->dir, g_free);
  g_clear_pointer (&f->socket_path, g_free);
  g_clear_pointer (&f->bus_log, g_free);
}

/* A second client on the fixture's bus. */
static GDBusConnection *
open_client (ClientsFixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;
  GDBusConnection *client;

  if (f->vb.test_bus != NULL)
    address = g_strdup (g_test_dbus_get_bus_address (f->vb.test_bus));
  else
    address = g_strconcat ("unix:path=", f->socket_path, NULL);
  client = g_dbus_connection_new_for_address_sync (
      address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
          G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  g_assert_no_error (error);
  return client;
}

/* ---- the well-behaved client --------------------------------------------- */

/* One call that must be answered, and within PROMPT_MS; returns how long
 * it took, in microseconds. */
static gint64
timed_call (GDBusConnection *bus, const char *path, const char *iface, const char *method,
            GVariant *args, const char *reply_type)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  gint64 start = g_get_monotonic_time ();
  gint64 took;

  reply = g_dbus_connection_call_sync (bus, "org.libvirt", path, iface, method, args,
                                       G_VARIANT_TYPE (reply_type), G_DBUS_CALL_FLAGS_NONE,
                                       PROMPT_MS, NULL, &error);
  took = g_get_monotonic_time () - start;
  if (error != NULL)
    g_test_message ("%s.%s on %s: no answer after %" G_GINT64_FORMAT " ms", iface, method,
                    path, took / 1000);
  g_assert_no_error (error);
  return took;
}

/* Reads of @domain (named @name) that must each be answered promptly;
 * returns the longest wait, in microseconds.  No list: a list of an
 * in-process driver takes every domain's lock, and some cases hold one. */
static gint64
assert_served_promptly (GDBusConnection *bus, const char *domain, const char *name)
{
  gint64 longest = 0;

  longest = MAX (longest, timed_call (bus, domain, PROPERTIES_IFACE, "Get",
                                      g_variant_new ("(ss)", DOMAIN_IFACE, "Active"), "(v)"));
  longest = MAX (longest, timed_call (bus, domain, PROPERTIES_IFACE, "GetAll",
                                      g_variant_new ("(s)", DOMAIN_IFACE), "(a{sv})"));
  longest = MAX (longest, timed_call (bus, domain, DOMAIN_IFACE, "GetXMLDesc",
                                      g_variant_new ("(u)", 0), "(s)"));
  longest = MAX (longest, timed_call (bus, domain, DOMAIN_IFACE, "GetState",
                                      g_variant_new ("(u)", 0), "((ii))"));
  longest = MAX (longest, timed_call (bus, VB_TEST_CONNECT_PATH, CONNECT_IFACE,
                                      "DomainLookupByName", g_variant_new ("(s)", name),
                                      "(o)"));
  return longest;
}

/* ---- calls whose answers are collected later ----------------------------- */

typedef struct {
  guint pending;
  guint answered;
  guint failed;
  GError *first_error;
} Collector;

static void
on_collected_reply (GObject *source, GAsyncResult *result, gpointer data)
{
  Collector *collector = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                             result, &error);

  collector->pending--;
  if (reply != NULL)
    collector->answered++;
  else
    {
      collector->failed++;
      if (collector->first_error == NULL)
        collector->first_error = g_steal_pointer (&error);
    }
}

static void
send_collected (GDBusConnection *bus, const char *path, const char *iface, const char *method,
                GVariant *args, const char *reply_type, gint timeout_ms, Collector *collector)
{
  collector->pending++;
  g_dbus_connection_call (bus, "org.libvirt", path, iface, method, args,
                          reply_type != NULL ? G_VARIANT_TYPE (reply_type) : NULL,
                          G_DBUS_CALL_FLAGS_NONE, timeout_ms, NULL, on_collected_reply,
                          collector);
}

static void
wait_for_collector (Collector *collector)
{
  while (collector->pending > 0)
    g_main_context_iteration (NULL, TRUE);
}

static char *
define_running_domain (ClientsFixture *f, const char *name)
{
  char *path = vb_test_define_domain (&f->vb, name);
  g_autoptr(GVariant) started = vb_test_call (&f->vb, path, DOMAIN_IFACE, "Create",
                                              g_variant_new ("(u)", 0), "()");

  return path;
}

/* ---- 1. a caller that leaves with calls in flight ------------------------ */

#define HELD_DUMPS 3
/* With the slow calls, below the 128 calls a connection of GTestDBus's
 * bus may have awaiting replies. */
#define CHEAP_CALLS 100

/* Reads what a CoreDump writes into @fifo, once a writer comes; FALSE if
 * none came within FIFO_WRITER_MS.  The reader is opened without waiting
 * (a blocking open would wait forever for a dump that never starts), and
 * a FIFO opened so reports no hang-up until a writer has come and gone. */
static gboolean
drain_fifo (const char *fifo, gsize *total)
{
  char buffer[65536];
  int fd = open (fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  gint64 deadline = g_get_monotonic_time () + FIFO_WRITER_MS * G_TIME_SPAN_MILLISECOND;
  gboolean ended = FALSE;

  g_assert_cmpint (fd, >=, 0);
  *total = 0;
  while (!ended)
    {
      struct pollfd ready = { .fd = fd, .events = POLLIN };
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
      int n_ready;

      if (*total == 0 && left <= 0)
        break;
      n_ready = poll (&ready, 1, *total == 0 ? (int) left : -1);
      g_assert_cmpint (n_ready, >=, 0);
      while (n_ready > 0)
        {
          ssize_t n = read (fd, buffer, sizeof buffer);

          if (n > 0)
            *total += (gsize) n;
          else if (n == 0)
            {
              ended = *total > 0 || (ready.revents & POLLHUP) != 0;
              break;
            }
          else
            {
              g_assert_cmpint (errno, ==, EAGAIN);
              break;
            }
        }
    }
  close (fd);
  return ended;
}

/* A caller sends slow calls (CoreDumps into FIFOs nobody reads yet: two
 * running, as many as the slow pool has threads, and one queued behind
 * them), a read stuck behind a held domain, and a few hundred cheap
 * calls, then leaves without waiting for any answer.  Another client is
 * answered promptly meanwhile; once the FIFOs are read the held calls
 * end, their answers go nowhere, and the daemon still serves and stops
 * cleanly. */
static void
test_caller_leaves_with_calls_in_flight (ClientsFixture *f, gconstpointer data)
{
  g_autofree char *dir = g_dir_make_tmp ("virtbus-fifo-XXXXXX", NULL);
  g_autofree char *bystander = vb_test_define_domain (&f->vb, "bystander");
  g_autofree char *held_b = define_running_domain (f, "held-b");
  g_autofree char *held_c = define_running_domain (f, "held-c");
  const char *held[HELD_DUMPS] = { VB_TEST_DOMAIN_PATH, held_b, held_c };
  char *fifos[HELD_DUMPS];
  g_autoptr(GDBusConnection) caller = open_client (f);
  Collector collector = { 0 };
  gint64 longest;
  guint dumps_run = 0;

  for (guint i = 0; i < HELD_DUMPS; i++)
    {
      g_autofree char *name = g_strdup_printf ("core-%u", i);

      fifos[i] = g_build_filename (dir, name, NULL);
      g_assert_cmpint (mkfifo (fifos[i], 0600), ==, 0);
      send_collected (caller, held[i], DOMAIN_IFACE, "CoreDump",
                      g_variant_new ("(suu)", fifos[i], 0, 0), NULL, 120000, &collector);
    }
  /* Long enough for the dumps to reach libvirt's open() of their FIFOs. */
  vb_test_spin_main_context (500);
  g_assert_cmpuint (collector.pending, ==, HELD_DUMPS);
  send_collected (caller, VB_TEST_DOMAIN_PATH, PROPERTIES_IFACE, "Get",
                  g_variant_new ("(ss)", DOMAIN_IFACE, "Active"), "(v)", 120000, &collector);
  for (guint i = 0; i < CHEAP_CALLS; i++)
    {
      switch (i % 4)
        {
        case 0:
          send_collected (caller, bystander, PROPERTIES_IFACE, "Get",
                          g_variant_new ("(ss)", DOMAIN_IFACE, "Name"), "(v)", 120000,
                          &collector);
          break;
        case 1:
          send_collected (caller, bystander, PROPERTIES_IFACE, "GetAll",
                          g_variant_new ("(s)", DOMAIN_IFACE), "(a{sv})", 120000, &collector);
          break;
        case 2:
          send_collected (caller, bystander, DOMAIN_IFACE, "GetXMLDesc",
                          g_variant_new ("(u)", 0), "(s)", 120000, &collector);
          break;
        default:
          send_collected (caller, VB_TEST_CONNECT_PATH, CONNECT_IFACE, "DomainLookupByName",
                          g_variant_new ("(s)", "bystander"), "(o)", 120000, &collector);
          break;
        }
    }
  /* Flushing first makes sure the calls reached the bus before the
   * caller goes. */
  g_assert_true (g_dbus_connection_flush_sync (caller, NULL, NULL));
  g_assert_true (g_dbus_connection_close_sync (caller, NULL, NULL));
  /* Every call of a closed connection fails at once, on our side. */
  wait_for_collector (&collector);
  g_test_message ("caller left: %u of its %u calls answered before", collector.answered,
                  HELD_DUMPS + 1 + CHEAP_CALLS);
  g_assert_cmpuint (collector.answered, <, HELD_DUMPS + 1 + CHEAP_CALLS);
  g_clear_error (&collector.first_error);
  g_clear_object (&caller);

  longest = assert_served_promptly (f->vb.bus, bystander, "bystander");
  vb_test_spin_main_context (200);
  longest = MAX (longest, assert_served_promptly (f->vb.bus, bystander, "bystander"));
  g_test_message ("while its calls were held: longest answer to another client %.1f ms",
                  longest / 1000.0);

  /* The running dumps end when read; then the queued one runs, unless the
   * daemon dropped it with its caller (either is right). */
  for (guint i = 0; i < HELD_DUMPS; i++)
    {
      gsize bytes = 0;

      if (drain_fifo (fifos[i], &bytes))
        dumps_run++;
      else
        g_assert_cmpuint (i, ==, HELD_DUMPS - 1);
      g_test_message ("dump %u: %" G_GSIZE_FORMAT " bytes", i, bytes);
      g_assert_cmpint (unlink (fifos[i]), ==, 0);
      g_free (fifos[i]);
    }
  g_test_message ("%u of %u dumps ran", dumps_run, HELD_DUMPS);
  g_assert_cmpuint (dumps_run, >=, HELD_DUMPS - 1);
  g_assert_cmpint (rmdir (dir), ==, 0);

  wait_for_daemon_idle (f);
  vb_test_assert_alive (&f->vb);
  assert_served_promptly (f->vb.bus, VB_TEST_DOMAIN_PATH, "test");
}

static void
setup_two_threads (ClientsFixture *f, gconstpointer data)
{
  const char *const args[] = { "--threads", "2", "--connect", "Test=test:///default", NULL };

  setup_test_bus (f, args);
}

/* ---- 2. a caller that never reads its replies ---------------------------- */

/* The bus buffers 1 MiB for a reader, then refuses what would go beyond
 * ("destination has a full message queue"). */
#define SMALL_OUTGOING_LIMITS \
  "  <limit name=\"max_outgoing_bytes\">1048576</limit>\n" \
  "  <limit name=\"max_replies_per_connection\">100000</limit>\n" \
  "  <limit name=\"reply_timeout\">300000</limit>\n"

#define UNREAD_CALLS 4000

static void
setup_small_outgoing (ClientsFixture *f, gconstpointer data)
{
  setup_own_bus (f, SMALL_OUTGOING_LIMITS);
}

static void
write_all (int fd, const void *data, gsize size)
{
  const char *bytes = data;

  while (size > 0)
    {
      ssize_t n = send (fd, bytes, size, MSG_NOSIGNAL);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        g_error ("writing to the bus: %s", g_strerror (errno));
      bytes += n;
      size -= (gsize) n;
    }
}

static void
send_raw_message (int fd, GDBusMessage *message, guint32 serial)
{
  g_autoptr(GError) error = NULL;
  g_autofree guchar *blob = NULL;
  gsize size = 0;

  g_dbus_message_set_serial (message, serial);
  blob = g_dbus_message_to_blob (message, &size, G_DBUS_CAPABILITY_FLAGS_NONE, &error);
  g_assert_no_error (error);
  write_all (fd, blob, size);
}

static guint
count_in_file (const char *path, const char *needle)
{
  g_autofree char *text = NULL;
  guint count = 0;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  for (const char *at = strstr (text, needle); at != NULL; at = strstr (at + 1, needle))
    count++;
  return count;
}

/* A client speaking D-Bus on a bare socket, which it never reads: the
 * authentication and Hello are sent without waiting for their answers
 * (the protocol allows that), and its receive buffer is made as small as
 * the kernel allows, so that what it leaves unread piles up in the bus. */
static int
connect_deaf_client (const char *socket_path)
{
  struct sockaddr_un address = { .sun_family = AF_UNIX };
  struct timeval send_timeout = { .tv_sec = 20 };
  int small = 4096;
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_autofree char *uid = g_strdup_printf ("%u", (unsigned) getuid ());
  g_autoptr(GString) auth = g_string_new (NULL);
  g_autoptr(GDBusMessage) hello = NULL;

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), ==, 0);
  /* A bus that stopped reading us would fail the test, not hang it. */
  g_assert_cmpint (setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout,
                               sizeof send_timeout), ==, 0);
  g_assert_cmpuint (strlen (socket_path), <, sizeof address.sun_path);
  strcpy (address.sun_path, socket_path);
  g_assert_cmpint (connect (fd, (struct sockaddr *) &address, sizeof address), ==, 0);

  /* EXTERNAL takes the uid, in decimal, hex-encoded. */
  g_string_append_c (auth, '\0');
  g_string_append (auth, "AUTH EXTERNAL ");
  for (const char *c = uid; *c != '\0'; c++)
    g_string_append_printf (auth, "%02x", (guchar) *c);
  g_string_append (auth, "\r\nBEGIN\r\n");
  write_all (fd, auth->str, auth->len);

  hello = g_dbus_message_new_method_call ("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                          "org.freedesktop.DBus", "Hello");
  send_raw_message (fd, hello, 1);
  return fd;
}

/* A raw client sends thousands of calls whose answers (the test domain's
 * XML, 1-2 KiB each) it never reads: the bus buffers them for it up to
 * its limit, then drops the rest.  Meanwhile, and after, another client
 * is answered promptly; the deaf one then goes, and the daemon stops
 * cleanly. */
static void
test_caller_never_reads_replies (ClientsFixture *f, gconstpointer data)
{
  g_autofree char *bystander = vb_test_define_domain (&f->vb, "bystander");
  int deaf = connect_deaf_client (f->socket_path);
  gint64 longest = 0;
  gint64 started = g_get_monotonic_time ();
  guint dropped;

  for (guint i = 0; i < UNREAD_CALLS; i++)
    {
      g_autoptr(GDBusMessage) call = NULL;

      if (i % 2 == 0)
        {
          call = g_dbus_message_new_method_call ("org.libvirt", VB_TEST_DOMAIN_PATH,
                                                 DOMAIN_IFACE, "GetXMLDesc");
          g_dbus_message_set_body (call, g_variant_new ("(u)", 0));
        }
      else
        {
          call = g_dbus_message_new_method_call ("org.libvirt", VB_TEST_CONNECT_PATH,
                                                 CONNECT_IFACE, "ListDomains");
          g_dbus_message_set_body (call, g_variant_new ("(u)", 0));
        }
      send_raw_message (deaf, call, i + 2);
      /* The well-behaved client, now and then while the flood goes on. */
      if (i % 500 == 250)
        longest = MAX (longest, assert_served_promptly (f->vb.bus, bystander, "bystander"));
    }
  g_test_message ("%u calls sent unread in %.0f ms; longest answer to another client "
                  "meanwhile %.1f ms", UNREAD_CALLS,
                  (g_get_monotonic_time () - started) / 1000.0, longest / 1000.0);

  wait_for_daemon_idle (f);
  longest = assert_served_promptly (f->vb.bus, bystander, "bystander");
  vb_test_assert_alive (&f->vb);
  dropped = count_in_file (f->bus_log, "destination has a full message queue");
  g_test_message ("after: longest answer %.1f ms; the bus dropped %u replies", longest / 1000.0,
                  dropped);
  /* The case is only what it says if the bus did drop some. */
  g_assert_cmpuint (dropped, >, 0);

  close (deaf);
  wait_for_daemon_idle (f);
  vb_test_assert_alive (&f->vb);
}

/* ---- 3. a stream whose reader stops -------------------------------------- */

#define UNREAD_SCREENSHOTS 8
#define PNG_SIGNATURE "\x89PNG\r\n\x1a\n"

typedef struct {
  gboolean done;
  GVariant *reply;
  GUnixFDList *fds;
  GError *error;
} Screenshot;

static void
on_screenshot (GObject *source, GAsyncResult *result, gpointer data)
{
  Screenshot *shot = data;

  shot->reply = g_dbus_connection_call_with_unix_fd_list_finish (
      G_DBUS_CONNECTION (source), &shot->fds, result, &shot->error);
  shot->done = TRUE;
}

/* The client's end of a screenshot's pipe. */
static int
screenshot_fd (Screenshot *shot)
{
  g_autoptr(GError) error = NULL;
  const char *mime_type = NULL;
  gint32 handle = -1;
  int fd;

  g_assert_no_error (shot->error);
  g_variant_get (shot->reply, "(h&s)", &handle, &mime_type);
  g_assert_cmpstr (mime_type, ==, "image/png");
  fd = g_unix_fd_list_get (shot->fds, handle, &error);
  g_assert_no_error (error);
  return fd;
}

static gsize
read_to_end (int fd, GString *into)
{
  char buffer[4096];
  gsize total = 0;
  ssize_t n;

  while ((n = read (fd, buffer, sizeof buffer)) > 0)
    {
      total += (gsize) n;
      if (into != NULL)
        g_string_append_len (into, buffer, n);
    }
  g_assert_cmpint (n, ==, 0);
  return total;
}

/* Waits until the daemon holds no more pipe ends than @count: the pumps
 * have ended.  Returns how long that took, in microseconds. */
static gint64
wait_for_pipes (ClientsFixture *f, guint count)
{
  gint64 start = g_get_monotonic_time ();

  while (daemon_pipe_count (f) > count)
    {
      g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
      g_usleep (10 * 1000);
    }
  return g_get_monotonic_time () - start;
}

/* Screenshots are the only stream the test driver offers (OpenConsole,
 * OpenChannel and volume transfers answer "not supported"); its image
 * (33 KiB) fits in a pipe's 64 KiB, so a pump never waits for a reader
 * here: what this checks is that screenshots whose readers stop, or never
 * start, or close at once, end and leave nothing behind while another
 * client is served, and that one read to the end is a whole image. */
static void
test_stream_reader_stops (ClientsFixture *f, gconstpointer data)
{
  g_autofree char *bystander = vb_test_define_domain (&f->vb, "bystander");
  g_autoptr(GDBusConnection) viewer = open_client (f);
  Screenshot shots[UNREAD_SCREENSHOTS] = { { 0 } };
  Screenshot whole = { 0 };
  int fds[UNREAD_SCREENSHOTS];
  guint baseline_pipes = daemon_pipe_count (f);
  g_autoptr(GString) image = g_string_new (NULL);
  gint64 longest, ended_in;
  char head[1000];

  for (guint i = 0; i < UNREAD_SCREENSHOTS; i++)
    g_dbus_connection_call_with_unix_fd_list (
        viewer, "org.libvirt", VB_TEST_DOMAIN_PATH, DOMAIN_IFACE, "Screenshot",
        g_variant_new ("(uu)", 0, 0), G_VARIANT_TYPE ("(hs)"), G_DBUS_CALL_FLAGS_NONE, 20000,
        NULL, NULL, on_screenshot, &shots[i]);
  for (guint i = 0; i < UNREAD_SCREENSHOTS; i++)
    {
      while (!shots[i].done)
        g_main_context_iteration (NULL, TRUE);
      fds[i] = screenshot_fd (&shots[i]);
    }

  /* A reader that takes the first bytes and stops; one that closes at
   * once (the pump may find no reader: SIGPIPE must not end the daemon);
   * the others never read. */
  g_assert_cmpint (read (fds[0], head, sizeof head), ==, sizeof head);
  g_assert_cmpint (memcmp (head, PNG_SIGNATURE, strlen (PNG_SIGNATURE)), ==, 0);
  close (fds[1]);
  fds[1] = -1;

  longest = assert_served_promptly (f->vb.bus, bystander, "bystander");
  longest = MAX (longest, assert_served_promptly (f->vb.bus, VB_TEST_DOMAIN_PATH, "test"));
  vb_test_assert_alive (&f->vb);
  ended_in = wait_for_pipes (f, baseline_pipes);
  g_test_message ("%u screenshots unread: the pumps ended within %.1f ms; longest answer to "
                  "another client %.1f ms", UNREAD_SCREENSHOTS, ended_in / 1000.0,
                  longest / 1000.0);

  for (guint i = 0; i < UNREAD_SCREENSHOTS; i++)
    {
      if (fds[i] >= 0)
        close (fds[i]);
      g_clear_pointer (&shots[i].reply, g_variant_unref);
      g_clear_object (&shots[i].fds);
    }
  g_assert_cmpuint (daemon_pipe_count (f), ==, baseline_pipes);

  /* The viewer, read to the end this time: a whole image, then the end. */
  g_dbus_connection_call_with_unix_fd_list (
      viewer, "org.libvirt", VB_TEST_DOMAIN_PATH, DOMAIN_IFACE, "Screenshot",
      g_variant_new ("(uu)", 0, 0), G_VARIANT_TYPE ("(hs)"), G_DBUS_CALL_FLAGS_NONE, 20000,
      NULL, NULL, on_screenshot, &whole);
  while (!whole.done)
    g_main_context_iteration (NULL, TRUE);
  {
    int fd = screenshot_fd (&whole);

    g_assert_cmpuint (read_to_end (fd, image), >, strlen (PNG_SIGNATURE));
    close (fd);
  }
  g_assert_true (g_str_has_prefix (image->str, PNG_SIGNATURE));
  /* A PNG ends with its IEND chunk and that chunk's CRC. */
  g_assert_cmpint (memcmp (image->str + image->len - 8, "IEND\xae\x42\x60\x82", 8), ==, 0);
  g_test_message ("a screenshot read to the end: %" G_GSIZE_FORMAT " bytes", image->len);
  g_clear_pointer (&whole.reply, g_variant_unref);
  g_clear_object (&whole.fds);

  /* The viewer leaves; nothing of its streams is left. */
  g_assert_true (g_dbus_connection_close_sync (viewer, NULL, NULL));
  wait_for_pipes (f, baseline_pipes);
  vb_test_assert_alive (&f->vb);
}

static void
setup_default (ClientsFixture *f, gconstpointer data)
{
  setup_test_bus (f, (const char *const[]) { "--connect", "Test=test:///default", NULL });
}

/* ---- 4. 10,000 calls before reading an answer ---------------------------- */

#define FLOOD_CALLS 10000
#define FLOOD_DOMAINS 10
#define FLOOD_ROUNDS 3
/* Resident memory the daemon may gain while flooded, and keep after.
 * Under ASan freed memory sits in its quarantine (256 MiB by default)
 * before it is reused, and its allocator keeps what it took per size
 * class: measured, the daemon levels off near +480 MiB there, so there
 * the bound only catches what grows without end. */
#define FLOOD_GROWTH_MIB (UNDER_ASAN ? 640 : 64)
/* What the last flood's peak may exceed the earlier ones' by.  The peak
 * of one flood varies with how many calls wait in the daemon at once
 * (24-46 MiB in eight floods in a row, in no rising order), so this only
 * catches memory that each flood adds to.  Not under ASan, whose
 * allocator grows in steps of its own (+274 MiB after one flood, +472
 * after two, then level) and whose leak check at exit covers leaks. */
#define FLOOD_REPEAT_MIB 32

/* The flooding caller may have all its calls awaiting replies at once. */
#define MANY_REPLIES_LIMITS \
  "  <limit name=\"max_replies_per_connection\">20000</limit>\n" \
  "  <limit name=\"reply_timeout\">300000</limit>\n"

static void
setup_many_replies (ClientsFixture *f, gconstpointer data)
{
  setup_own_bus (f, MANY_REPLIES_LIMITS);
}

typedef struct {
  ClientsFixture *f;
  guint64 peak_kib;
  guint samples;
} RssSampler;

static gboolean
on_sample_rss (gpointer data)
{
  RssSampler *sampler = data;

  sampler->peak_kib = MAX (sampler->peak_kib, daemon_rss_kib (sampler->f));
  sampler->samples++;
  return G_SOURCE_CONTINUE;
}

typedef struct {
  GDBusConnection *bus;
  const char *domain;
  gint64 longest;
  guint calls;
} Bystander;

/* The well-behaved client, on a thread of its own so that the main
 * thread keeps collecting the flood's answers meanwhile. */
static gpointer
run_bystander (gpointer data)
{
  Bystander *bystander = data;

  for (guint i = 0; i < 3; i++)
    {
      bystander->longest = MAX (bystander->longest,
                                assert_served_promptly (bystander->bus, bystander->domain,
                                                        "flood-0"));
      bystander->calls += 5;
    }
  return NULL;
}

static void
send_flood_call (GDBusConnection *bus, guint i, char **domains, Collector *collector)
{
  const char *domain = domains[i % FLOOD_DOMAINS];
  g_autofree char *name = g_strdup_printf ("flood-%u", i % FLOOD_DOMAINS);

  switch (i % 5)
    {
    case 0:
      send_collected (bus, domain, PROPERTIES_IFACE, "Get",
                      g_variant_new ("(ss)", DOMAIN_IFACE, "Active"), "(v)", 300000,
                      collector);
      break;
    case 1:
      send_collected (bus, domain, PROPERTIES_IFACE, "GetAll",
                      g_variant_new ("(s)", DOMAIN_IFACE), "(a{sv})", 300000, collector);
      break;
    case 2:
      send_collected (bus, domain, DOMAIN_IFACE, "GetXMLDesc", g_variant_new ("(u)", 0), "(s)",
                      300000, collector);
      break;
    case 3:
      send_collected (bus, VB_TEST_CONNECT_PATH, CONNECT_IFACE, "ListDomains",
                      g_variant_new ("(u)", 0), "(ao)", 300000, collector);
      break;
    default:
      send_collected (bus, VB_TEST_CONNECT_PATH, CONNECT_IFACE, "DomainLookupByName",
                      g_variant_new ("(s)", name), "(o)", 300000, collector);
      break;
    }
}

/* One flood: FLOOD_CALLS calls sent, then their answers collected, every
 * one; the daemon's resident memory sampled every 5 ms meanwhile and
 * another client served on a thread of its own.  Returns the peak, in
 * KiB. */
static guint64
flood_once (ClientsFixture *f, GDBusConnection *flooder, char **domains, guint round)
{
  Collector collector = { 0 };
  RssSampler sampler = { .f = f };
  Bystander bystander = { .bus = f->vb.bus, .domain = domains[0] };
  g_autoptr(GThread) bystander_thread = NULL;
  guint sampling;
  gint64 started, sent, answered;

  sampler.peak_kib = daemon_rss_kib (f);
  started = g_get_monotonic_time ();
  for (guint i = 0; i < FLOOD_CALLS; i++)
    send_flood_call (flooder, i, domains, &collector);
  sent = g_get_monotonic_time ();
  bystander_thread = g_thread_new ("bystander", run_bystander, &bystander);
  sampling = g_timeout_add (5, on_sample_rss, &sampler);
  wait_for_collector (&collector);
  answered = g_get_monotonic_time ();
  g_source_remove (sampling);
  on_sample_rss (&sampler);
  g_thread_join (g_steal_pointer (&bystander_thread));

  if (collector.first_error != NULL)
    g_test_message ("first failure: %s", collector.first_error->message);
  g_assert_no_error (collector.first_error);
  g_assert_cmpuint (collector.answered, ==, FLOOD_CALLS);
  g_assert_cmpuint (collector.failed, ==, 0);
  g_test_message ("flood %u: %u calls sent in %.0f ms, all answered after %.0f ms "
                  "(%.0f calls/s); another client's %u calls meanwhile: longest %.1f ms; "
                  "peak VmRSS %.1f MiB (%u samples)",
                  round, FLOOD_CALLS, (sent - started) / 1000.0,
                  (answered - started) / 1000.0,
                  FLOOD_CALLS / ((answered - started) / (double) G_USEC_PER_SEC),
                  bystander.calls, bystander.longest / 1000.0, sampler.peak_kib / 1024.0,
                  sampler.samples);
  return sampler.peak_kib;
}

/* One caller sends 10,000 mixed reads before it reads any answer, then
 * collects them: every one is answered, none lost nor failed; another
 * client is answered promptly meanwhile.  The daemon's resident memory
 * grows by less than FLOOD_GROWTH_MIB at the peak and keeps less than
 * that after; and as the same flood comes again, and again, the last
 * one's peak stays within FLOOD_REPEAT_MIB of the earlier ones' (memory
 * that every flood added to would show there long before it exhausted
 * anything). */
static void
test_ten_thousand_calls_unawaited (ClientsFixture *f, gconstpointer data)
{
  char *domains[FLOOD_DOMAINS + 1] = { NULL };
  g_autoptr(GDBusConnection) flooder = open_client (f);
  Collector warmup = { 0 };
  guint64 before_kib, after_kib, earlier_peak_kib = 0, peak_kib = 0;

  for (guint i = 0; i < FLOOD_DOMAINS; i++)
    {
      g_autofree char *name = g_strdup_printf ("flood-%u", i);

      domains[i] = vb_test_define_domain (&f->vb, name);
    }
  /* Every kind of call once, so that "before" includes what a first call
   * sets up (the libvirt connection, worker threads, GLib's caches). */
  for (guint i = 0; i < 5; i++)
    send_flood_call (flooder, i, domains, &warmup);
  wait_for_collector (&warmup);
  g_assert_cmpuint (warmup.failed, ==, 0);
  wait_for_daemon_idle (f);
  before_kib = daemon_rss_kib (f);

  for (guint round = 1; round <= FLOOD_ROUNDS; round++)
    {
      guint64 round_peak_kib = flood_once (f, flooder, domains, round);

      g_assert_cmpuint (round_peak_kib, <, before_kib + FLOOD_GROWTH_MIB * 1024);
      if (round == FLOOD_ROUNDS && !UNDER_ASAN)
        g_assert_cmpuint (round_peak_kib, <, earlier_peak_kib + FLOOD_REPEAT_MIB * 1024);
      else
        earlier_peak_kib = MAX (earlier_peak_kib, round_peak_kib);
      peak_kib = MAX (peak_kib, round_peak_kib);
      wait_for_daemon_idle (f);
    }
  vb_test_spin_main_context (500);
  after_kib = daemon_rss_kib (f);
  g_test_message ("virtbusd VmRSS: before %.1f MiB, peak %.1f MiB (+%.1f; before the last "
                  "flood +%.1f), after %.1f MiB (+%.1f); bounds +%d MiB, last flood +%d MiB%s",
                  before_kib / 1024.0, peak_kib / 1024.0,
                  ((gint64) peak_kib - (gint64) before_kib) / 1024.0,
                  ((gint64) earlier_peak_kib - (gint64) before_kib) / 1024.0,
                  after_kib / 1024.0, ((gint64) after_kib - (gint64) before_kib) / 1024.0,
                  FLOOD_GROWTH_MIB, FLOOD_REPEAT_MIB, UNDER_ASAN ? " (ASan)" : "");
  g_assert_cmpuint (after_kib, <, before_kib + FLOOD_GROWTH_MIB * 1024);

  vb_test_assert_alive (&f->vb);
  g_assert_true (g_dbus_connection_close_sync (flooder, NULL, NULL));
  for (guint i = 0; i < FLOOD_DOMAINS; i++)
    g_free (domains[i]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/clients/caller-leaves-with-calls-in-flight", ClientsFixture, NULL,
              setup_two_threads, test_caller_leaves_with_calls_in_flight, teardown);
  g_test_add ("/clients/caller-never-reads-replies", ClientsFixture, NULL,
              setup_small_outgoing, test_caller_never_reads_replies, teardown);
  g_test_add ("/clients/stream-reader-stops", ClientsFixture, NULL, setup_default,
              test_stream_reader_stops, teardown);
  g_test_add ("/clients/ten-thousand-calls-unawaited", ClientsFixture, NULL,
              setup_many_replies, test_ten_thousand_calls_unawaited, teardown);

  return g_test_run ();
}
