/* Cockpit's Virtual Machines page as a client of virtbus, end to end, as
 * root: in a private mount namespace (this project's polkit policy and
 * rules over polkit's directories, a test user outside group libvirt in
 * /etc/passwd and /etc/group), a system-type dbus-daemon with this
 * project's bus policy, polkitd, virtbusd --system serving qemu:///system
 * as /org/libvirt/QEMU (what Cockpit Machines calls), a real libvirtd with
 * two QEMU guests, and Debian's cockpit-ws + cockpit-bridge +
 * cockpit-machines on loopback, run as the user of each case.  The page is
 * driven in Debian's headless chromium by driver.mjs (Playwright's
 * library, pinned, installed by `npm ci` into the build directory).
 *
 * What the page shows is checked as a person sees it (a screenshot of each
 * state is left in the build directory), and what it did is checked in
 * libvirt (virsh).  Every process started here is stopped here, by PID. */
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "vb-libvirtd.h"
#include "vb-system.h"
#include "vb-test.h"

#define LIMITED_USER "vbcockpit-limited"
#define QEMU_PATH "/org/libvirt/QEMU"
#define STARTUP_TIMEOUT_US (60 * G_USEC_PER_SEC)
/* Each driver command waits up to 90 s for the page; this is the limit
 * beyond that for one answer. */
#define DRIVER_TIMEOUT_S 150
/* Defined guests besides the two: Cockpit's page sends ~6 calls per VM at
 * once, far beyond dbus-daemon's default of 128 pending replies (see
 * data/dbus/org.libvirt.conf and docs/cockpit.md). */
#define BULK_GUESTS 300
/* What the benchmark's cockpit mode measures: a page of 100 VMs. */
#define MEASURED_BULK_GUESTS 98

typedef struct {
  char *dir;                  /* scratch, 0755, removed at the end */
  char *address;              /* of the private system bus */
  char *out_dir;              /* the build directory: screenshots, logs, node_modules */
  uid_t limited_uid;
  GSubprocess *dbus_daemon;
  GSubprocess *polkitd;
  GSubprocess *monitor;       /* dbus-monitor, logging the whole bus */
  char *monitor_log;
  VbTestFixture fixture;      /* root's connection and virtbusd */
  char *virtbusd_name;        /* virtbusd's unique name on the bus */
  char *running;              /* guest names: one running, one shut off */
  char *shut_off;
  GPtrArray *bulk;            /* n_bulk more, shut off */
  guint n_bulk;
  char *pool, *network;       /* defined, inactive */
  /* A guest with an operating system that powers off on ACPI shutdown
   * (tests/guest-os/make-guest), and its serial console's file; NULL when
   * the kernel and busybox packages were not downloaded. */
  char *with_os, *with_os_console;
  char *rules_dir;            /* polkit's rules.d, as polkitd sees it */
} World;

static World world;

/* A page session: cockpit-ws (with its bridge) as one user, and the
 * browser driver on it. */
typedef struct {
  const char *role;           /* "admin" or "limited": in file names */
  GSubprocess *cockpit_ws;
  GSubprocess *driver;
  GDataInputStream *answers;
  GOutputStream *commands;
  char *url;
} Session;

static Session *admin_session, *limited_session;

/* ---- the world: namespace, user, bus, polkitd, virtbusd, guests --------- */

/* /etc/passwd and /etc/group as they are, plus the limited user (in a
 * group of its own, not in libvirt) and the service's user that the bus
 * policy names, as an install makes it. */
static void
add_test_users (void)
{
  g_autofree char *passwd = NULL, *group = NULL;
  g_autoptr(GString) new_passwd = NULL, new_group = NULL;
  g_autofree char *home = vb_system_make_dir (world.dir, "home", 0700);
  g_autoptr(GError) error = NULL;

  g_file_get_contents ("/etc/passwd", &passwd, NULL, &error);
  g_assert_no_error (error);
  g_file_get_contents ("/etc/group", &group, NULL, &error);
  g_assert_no_error (error);
  new_passwd = g_string_new (passwd);
  new_group = g_string_new (group);

  world.limited_uid = vb_system_free_id (64300);
  g_string_append_printf (new_passwd, "%s:x:%u:%u::%s:/bin/sh\n", LIMITED_USER,
                          (unsigned) world.limited_uid, (unsigned) world.limited_uid, home);
  g_string_append_printf (new_group, "%s:x:%u:\n", LIMITED_USER, (unsigned) world.limited_uid);
  g_assert_cmpint (chown (home, world.limited_uid, world.limited_uid), ==, 0);
  if (getpwnam ("virtbus") == NULL)
    {
      uid_t id = vb_system_free_id (world.limited_uid + 1);

      g_string_append_printf (new_passwd, "virtbus:x:%u:%u::/nonexistent:/usr/sbin/nologin\n",
                              (unsigned) id, (unsigned) id);
      g_string_append_printf (new_group, "virtbus:x:%u:\n", (unsigned) id);
    }
  vb_system_write_file (world.dir, "passwd", new_passwd->str);
  vb_system_write_file (world.dir, "group", new_group->str);
}

/* The project's data/, where the polkit files and the bus policy are. */
static char *
data_dir (void)
{
  return g_test_build_filename (G_TEST_DIST, "..", "..", "data", NULL);
}

/* Its own users, and polkit reads only this project's actions and rules. */
static void
enter_private_namespace (void)
{
  g_autofree char *data = data_dir ();

  vb_system_enter_namespace ();
  add_test_users ();
  vb_system_bind_users (world.dir);
  world.rules_dir = vb_system_bind_polkit_files (world.dir, data, NULL, NULL);
}

static GSubprocess *
spawn (const char *const *argv, const char *log_name)
{
  g_autoptr(GSubprocessLauncher) launcher = vb_test_daemon_launcher (
      log_name != NULL ? G_SUBPROCESS_FLAGS_STDERR_MERGE : G_SUBPROCESS_FLAGS_NONE);
  g_autoptr(GError) error = NULL;
  GSubprocess *process;

  g_subprocess_launcher_setenv (launcher, "DBUS_SYSTEM_BUS_ADDRESS", world.address, TRUE);
  if (log_name != NULL)
    {
      g_autofree char *log = g_build_filename (world.out_dir, log_name, NULL);

      g_subprocess_launcher_set_stdout_file_path (launcher, log);
    }
  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  return process;
}

static void
start_bus_and_services (void)
{
  g_autofree char *data = data_dir ();
  g_autofree char *socket = g_build_filename (world.dir, "system_bus_socket", NULL);
  g_autofree char *extra = vb_system_bus_config_extra (data, NULL);
  g_autofree char *config = vb_test_system_bus_config (socket, extra);
  g_autofree char *config_path = g_build_filename (world.dir, "bus.conf", NULL);
  g_autofree char *config_arg = g_strconcat ("--config-file=", config_path, NULL);
  const char *const bus_argv[] = { "dbus-daemon", config_arg, "--nofork", "--nopidfile", NULL };
  const char *const polkit_argv[] = { "/usr/lib/polkit-1/polkitd", "--no-debug", NULL };
  const char *const monitor_argv[] = { "dbus-monitor", "--system", NULL };
  const char *const daemon_argv[] = { vb_test_daemon_binary (), "--system",
                                      VB_LIBVIRTD_DAEMON_ARGS, NULL };

  vb_system_write_file (world.dir, "bus.conf", config);
  world.address = g_strdup_printf ("unix:path=%s", socket);
  world.dbus_daemon = spawn (bus_argv, NULL);
  world.fixture.bus = vb_system_connect (world.address);
  /* Everything on the bus, for the lead to read when a check fails, and
   * for the check that virtbusd made no error of its own. */
  world.monitor_log = g_build_filename (world.out_dir, "cockpit-bus.log", NULL);
  world.monitor = spawn (monitor_argv, "cockpit-bus.log");
  world.polkitd = spawn (polkit_argv, NULL);
  g_free (vb_system_wait_for_name (world.fixture.bus, "org.freedesktop.PolicyKit1", NULL,
                                   world.polkitd));
  world.fixture.daemon = spawn (daemon_argv, NULL);
  world.virtbusd_name = vb_system_wait_for_name (world.fixture.bus, "org.libvirt", NULL,
                                                 world.fixture.daemon);
}

/* Guests named vbtest-<pid>-cockpit-*: this run's, or left by a run that
 * is gone. */
static gboolean
is_ours_to_remove (const char *name)
{
  return strstr (name, "-cockpit-") != NULL && vb_test_run_name_is_removable (name);
}

static void
remove_test_guests (void)
{
  vb_libvirtd_remove_guests (is_ours_to_remove);
}

/* 64 MiB, no disk, software emulation; a VNC password, so that the XML
 * with and without secrets differ as on a real host. */
static void
define_guest (const char *name)
{
  g_autofree char *xml = g_strdup_printf (
      "<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
      "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
      "<devices><graphics type='vnc' port='-1' listen='127.0.0.1' passwd='vbsecret'/>"
      "<video><model type='vga'/></video></devices></domain>", name);
  g_autofree char *file = g_strdup_printf ("%s/%s.xml", vb_libvirtd_scratch_dir (), name);
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;

  g_file_set_contents (file, xml, -1, &error);
  g_assert_no_error (error);
  out = vb_virsh ((const char *[]) { "define", file, NULL }, &error);
  g_assert_no_error (error);
}

/* The guests of @names (their XML as define_guest's), through one virsh
 * reading its commands from stdin: hundreds of virsh processes would take
 * minutes. */
static void
define_guests (GPtrArray *names)
{
  g_autoptr(GString) commands = g_string_new (NULL);
  g_autoptr(GSubprocess) virsh = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autofree char *xml = g_strdup_printf (
          "<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
          "<os><type arch='x86_64' machine='pc'>hvm</type></os></domain>", name);
      g_autofree char *file = g_strdup_printf ("%s/%s.xml", vb_libvirtd_scratch_dir (), name);

      g_file_set_contents (file, xml, -1, &error);
      g_assert_no_error (error);
      g_string_append_printf (commands, "define %s\n", file);
    }
  virsh = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                G_SUBPROCESS_FLAGS_STDERR_PIPE,
                            &error, "virsh", "-q", "-c", VB_LIBVIRTD_URI, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (virsh, commands->str, NULL, NULL, &err, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (virsh) || *err != '\0')
    g_error ("defining %u guests: %s", names->len, err);
}

#define GUEST_OS_DEBS "/var/cache/virtbus-tests/guest-os"

/* The guest with an operating system, when scripts/install-deps could
 * download what it needs. */
static void
define_guest_with_os (void)
{
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "..", "guest-os", "make-guest",
                                                   NULL);
  g_autofree char *dir = g_build_filename (vb_libvirtd_scratch_dir (), "os", NULL);
  g_autofree char *xml = NULL, *file = NULL, *out = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  if (!g_file_test (GUEST_OS_DEBS, G_FILE_TEST_IS_DIR))
    return;
  g_spawn_sync (NULL, (char *[]) { script, GUEST_OS_DEBS, dir, NULL }, NULL, 0, NULL, NULL,
                NULL, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  /* QEMU (its own user) writes the console's file here. */
  g_assert_cmpint (g_chmod (dir, 0777), ==, 0);
  world.with_os = vb_test_run_name ("cockpit-os");
  world.with_os_console = g_build_filename (dir, "console.log", NULL);
  xml = g_strdup_printf (
      "<domain type='qemu'><name>%s</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>"
      "<os><type arch='x86_64' machine='pc'>hvm</type><kernel>%s/vmlinuz</kernel>"
      "<initrd>%s/initrd.gz</initrd><cmdline>console=ttyS0 quiet</cmdline></os>"
      "<features><acpi/></features>"
      "<devices><serial type='file'><source path='%s'/></serial></devices></domain>",
      world.with_os, dir, dir, world.with_os_console);
  file = g_build_filename (dir, "guest.xml", NULL);
  g_file_set_contents (file, xml, -1, &error);
  g_assert_no_error (error);
  out = vb_virsh ((const char *[]) { "define", file, NULL }, &error);
  g_assert_no_error (error);
}

static void
define_pool_and_network (void)
{
  g_autofree char *pool_dir = g_build_filename (vb_libvirtd_scratch_dir (), "pool", NULL);
  g_autofree char *net_file = g_build_filename (vb_libvirtd_scratch_dir (), "net.xml", NULL);
  g_autofree char *net_xml = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;

  world.pool = vb_test_run_name ("cockpit-pool");
  world.network = vb_test_run_name ("cockpit-net");
  g_assert_cmpint (g_mkdir_with_parents (pool_dir, 0755), ==, 0);
  out = vb_virsh ((const char *[]) { "pool-define-as", world.pool, "dir", "--target", pool_dir,
                                     NULL },
                  &error);
  g_assert_no_error (error);
  net_xml = g_strdup_printf ("<network><name>%s</name><bridge name='vbcockpit0'/>"
                             "<ip address='192.0.2.1' netmask='255.255.255.0'/></network>",
                             world.network);
  g_file_set_contents (net_file, net_xml, -1, &error);
  g_assert_no_error (error);
  g_free (out);
  out = vb_virsh ((const char *[]) { "net-define", net_file, NULL }, &error);
  g_assert_no_error (error);
}

/* Undefines every pool (@kind "pool") or network ("net") of this run, or
 * of a run that is gone (a failed case aborts before the clean-up). */
static void
remove_ours (const char *kind)
{
  g_autofree char *list = g_strconcat (kind, "-list", NULL);
  g_autofree char *undefine = g_strconcat (kind, "-undefine", NULL);
  g_autofree char *names = vb_virsh ((const char *[]) { list, "--all", "--name", NULL }, NULL);
  g_auto(GStrv) lines = g_strsplit (names != NULL ? names : "", "\n", -1);

  for (char **line = lines; *line != NULL; line++)
    {
      g_strstrip (*line);
      if (**line != '\0' && is_ours_to_remove (*line))
        g_free (vb_virsh ((const char *[]) { undefine, *line, NULL }, NULL));
    }
}

static void
remove_pool_and_network (void)
{
  remove_ours ("pool");
  remove_ours ("net");
}

static char *
guest_state (const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = vb_virsh ((const char *[]) { "domstate", name, NULL }, &error);

  g_assert_no_error (error);
  return g_strdup (g_strstrip (out));
}

static void
create_guests (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *running_state = NULL;

  world.running = vb_test_run_name ("cockpit-web");
  world.shut_off = vb_test_run_name ("cockpit-db");
  define_guest (world.running);
  define_guest (world.shut_off);
  out = vb_virsh ((const char *[]) { "start", world.running, NULL }, &error);
  g_assert_no_error (error);
  running_state = guest_state (world.running);
  g_assert_cmpstr (running_state, ==, "running");

  world.bulk = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < world.n_bulk; i++)
    {
      g_autofree char *suffix = g_strdup_printf ("cockpit-bulk%03d", i);

      g_ptr_array_add (world.bulk, vb_test_run_name (suffix));
    }
  define_guests (world.bulk);
  define_pool_and_network ();
  /* Not for the benchmark, whose page lists exactly 100. */
  if (g_getenv ("VB_COCKPIT_MEASURE") == NULL)
    define_guest_with_os ();
}

/* The rows the page lists: the suite's guests. */
static guint
listed_guests (void)
{
  return world.n_bulk + 2 + (world.with_os != NULL ? 1 : 0);
}

/* ---- what virtbusd answered, from dbus-monitor's log --------------------- */

/* Every error virtbusd sent, as "Interface.Member on path -> ErrorName:
 * message", in order. */
static GPtrArray *
virtbusd_errors (void)
{
  g_autofree char *log = NULL;
  gsize length = 0;
  g_autoptr(GPtrArray) lines = g_ptr_array_new ();
  g_autoptr(GHashTable) calls = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GPtrArray *errors = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *sender = g_strdup_printf (" sender=%s ", world.virtbusd_name);

  if (!g_file_get_contents (world.monitor_log, &log, &length, NULL))
    return errors;
  /* Split in place, line by line: the log runs to tens of MB, and
   * g_strsplit's strstr per line is quadratic under ASan (whose strstr
   * measures the whole rest of the text each time). */
  for (char *line = log; line != NULL && *line != '\0';)
    {
      char *end = memchr (line, '\n', (gsize) (log + length - line));

      g_ptr_array_add (lines, line);
      if (end == NULL)
        break;
      *end = '\0';
      line = end + 1;
    }
  g_ptr_array_add (lines, NULL);
  for (guint i = 0; lines->pdata[i] != NULL; i++)
    {
      const char *line = lines->pdata[i];

      if (g_str_has_prefix (line, "method call "))
        {
          /* "method call time=T sender=S -> destination=D serial=N path=P;
           *  interface=I; member=M" */
          g_autofree char *from = NULL, *serial = NULL, *path = NULL, *iface = NULL, *member = NULL;
          g_auto(GStrv) fields = g_strsplit_set (line, " ;", -1);

          for (char **f = fields; *f != NULL; f++)
            {
              if (g_str_has_prefix (*f, "sender="))
                from = g_strdup (*f + 7);
              else if (g_str_has_prefix (*f, "serial="))
                serial = g_strdup (*f + 7);
              else if (g_str_has_prefix (*f, "path="))
                path = g_strdup (*f + 5);
              else if (g_str_has_prefix (*f, "interface="))
                iface = g_strdup (*f + 10);
              else if (g_str_has_prefix (*f, "member="))
                member = g_strdup (*f + 7);
            }
          if (from != NULL && serial != NULL)
            g_hash_table_insert (calls, g_strdup_printf ("%s/%s", from, serial),
                                 g_strdup_printf ("%s.%s on %s", iface, member, path));
        }
      else if (g_str_has_prefix (line, "error ") && strstr (line, sender) != NULL)
        {
          g_autofree char *to = NULL, *name = NULL, *serial = NULL, *key = NULL;
          g_auto(GStrv) fields = g_strsplit (line, " ", -1);
          const char *message = lines->pdata[i + 1] != NULL ? g_strstrip (lines->pdata[i + 1]) : "";

          for (char **f = fields; *f != NULL; f++)
            {
              if (g_str_has_prefix (*f, "destination="))
                to = g_strdup (*f + 12);
              else if (g_str_has_prefix (*f, "error_name="))
                name = g_strdup (*f + 11);
              else if (g_str_has_prefix (*f, "reply_serial="))
                serial = g_strdup (*f + 13);
            }
          key = g_strdup_printf ("%s/%s", to, serial);
          g_ptr_array_add (errors, g_strdup_printf (
              "%s -> %s: %s",
              (const char *) g_hash_table_lookup (calls, key) ?: "(a call not seen)",
              name, message));
        }
    }
  return errors;
}

/* The errors virtbusd sent since the last call, one line each. */
static char *
new_virtbusd_errors (void)
{
  static guint seen;
  g_autoptr(GPtrArray) errors = virtbusd_errors ();
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = seen; i < errors->len; i++)
    g_string_append_printf (text, "\n  %s", (const char *) errors->pdata[i]);
  seen = errors->len;
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* ---- page sessions -------------------------------------------------------- */

static gboolean
on_timeout (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static guint16
free_port (void)
{
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address = { .sin_family = AF_INET,
                                 .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t length = sizeof address;

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &address, sizeof address), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *) &address, &length), ==, 0);
  close (fd);
  return ntohs (address.sin_port);
}

static gboolean
port_answers (guint16 port)
{
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons (port),
                                 .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  gboolean answers = connect (fd, (struct sockaddr *) &address, sizeof address) == 0;

  close (fd);
  return answers;
}

/* cockpit-ws with a local session: no login, one bridge for every page,
 * run as the user cockpit-ws runs as; listening on loopback only.  The
 * bridge finds the private bus through DBUS_SYSTEM_BUS_ADDRESS. */
static void
start_cockpit_ws (Session *session, gboolean as_root)
{
  guint16 port = free_port ();
  g_autofree char *port_text = g_strdup_printf ("%u", port);
  g_autofree char *reuid = g_strdup_printf ("--reuid=%u", (unsigned) world.limited_uid);
  g_autofree char *regid = g_strdup_printf ("--regid=%u", (unsigned) world.limited_uid);
  g_autofree char *home = as_root ? g_strdup ("/root") : g_build_filename (world.dir, "home", NULL);
  g_autofree char *log_name = g_strdup_printf ("cockpit-ws-%s.log", session->role);
  g_autofree char *log = g_build_filename (world.out_dir, log_name, NULL);
  g_autoptr(GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  gint64 deadline;
  const char *const environment[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG=C.UTF-8", NULL,
  };

  if (!as_root)
    {
      g_ptr_array_add (argv, "setpriv");
      g_ptr_array_add (argv, reuid);
      g_ptr_array_add (argv, regid);
      g_ptr_array_add (argv, "--init-groups");
    }
  g_ptr_array_add (argv, "/usr/lib/cockpit/cockpit-ws");
  g_ptr_array_add (argv, "--no-tls");
  g_ptr_array_add (argv, "--address=127.0.0.1");
  g_ptr_array_add (argv, "--port");
  g_ptr_array_add (argv, port_text);
  g_ptr_array_add (argv, "--local-session=cockpit-bridge");
  g_ptr_array_add (argv, NULL);

  g_subprocess_launcher_set_environ (launcher, (char **) environment);
  g_subprocess_launcher_setenv (launcher, "HOME", home, TRUE);
  g_subprocess_launcher_setenv (launcher, "DBUS_SYSTEM_BUS_ADDRESS", world.address, TRUE);
  g_subprocess_launcher_set_stdout_file_path (launcher, log);
  session->cockpit_ws = g_subprocess_launcher_spawnv (launcher,
                                                      (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);

  deadline = g_get_monotonic_time () + STARTUP_TIMEOUT_US;
  while (!port_answers (port))
    {
      if (g_subprocess_get_identifier (session->cockpit_ws) == NULL)
        g_error ("cockpit-ws exited at start; see %s", log);
      if (g_get_monotonic_time () > deadline)
        g_error ("cockpit-ws does not listen on port %u; see %s", port, log);
      g_usleep (50000);
    }
  session->url = g_strdup_printf ("http://127.0.0.1:%u/cockpit/@localhost/machines/index.html",
                                  port);
}

/* A process as /proc shows it now; it is signalled later only if its PID
 * still names the same process (same start time). */
typedef struct {
  GPid pid;
  GPid parent;
  guint64 start_time;
} ProcessId;

static gboolean
read_stat (GPid pid, GPid *parent, guint64 *start_time)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *stat = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after_name;

  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return FALSE;
  /* The name (field 2) may hold spaces; the fields after it follow ") ". */
  after_name = strrchr (stat, ')');
  if (after_name == NULL)
    return FALSE;
  fields = g_strsplit (after_name + 2, " ", -1);
  if (g_strv_length (fields) < 20)
    return FALSE;
  *parent = (GPid) g_ascii_strtoll (fields[1], NULL, 10);      /* field 4 */
  *start_time = g_ascii_strtoull (fields[19], NULL, 10);       /* field 22 */
  return TRUE;
}

/* Every process below @root (children, their children, ...). */
static GArray *
descendants_of (GPid root)
{
  GArray *found = g_array_new (FALSE, FALSE, sizeof (ProcessId));
  g_autoptr(GArray) all = g_array_new (FALSE, FALSE, sizeof (ProcessId));
  g_autoptr(GHashTable) ours = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *entry;
  gboolean grew = TRUE;

  while ((entry = g_dir_read_name (proc)) != NULL)
    {
      ProcessId id = { .pid = (GPid) g_ascii_strtoll (entry, NULL, 10) };

      if (g_ascii_isdigit (entry[0]) && read_stat (id.pid, &id.parent, &id.start_time))
        g_array_append_val (all, id);
    }
  g_hash_table_add (ours, GINT_TO_POINTER (root));
  while (grew)
    {
      grew = FALSE;
      for (guint i = 0; i < all->len; i++)
        {
          ProcessId *id = &g_array_index (all, ProcessId, i);

          if (!g_hash_table_contains (ours, GINT_TO_POINTER (id->pid)) &&
              g_hash_table_contains (ours, GINT_TO_POINTER (id->parent)))
            {
              g_hash_table_add (ours, GINT_TO_POINTER (id->pid));
              g_array_append_val (found, *id);
              grew = TRUE;
            }
        }
    }
  return found;
}

static void
stop_descendants (GArray *processes)
{
  for (guint i = 0; i < processes->len; i++)
    {
      ProcessId *id = &g_array_index (processes, ProcessId, i);
      GPid parent;
      guint64 start_time;

      if (read_stat (id->pid, &parent, &start_time) && start_time == id->start_time)
        kill (id->pid, SIGTERM);
    }
}

/* Every process running as @uid (the limited user exists only in this
 * test's namespace, so they are all this test's): what its page started
 * and that left its parent, e.g. the session libvirtd that libvirt's
 * client starts for qemu:///session. */
static void
stop_processes_of (uid_t uid)
{
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *entry;

  while ((entry = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *status_path = NULL;
      g_autofree char *status = NULL;
      g_autofree char *wanted = g_strdup_printf ("\nUid:\t%u\t", (unsigned) uid);

      if (!g_ascii_isdigit (entry[0]))
        continue;
      status_path = g_strdup_printf ("/proc/%s/status", entry);
      if (g_file_get_contents (status_path, &status, NULL, NULL) && strstr (status, wanted) != NULL)
        {
          /* "Name:\t<command>\n" is the first line. */
          g_autofree char *name = g_strndup (status + 6, strcspn (status + 6, "\n"));

          g_test_message ("stopping %s (%s) of %s", name, entry, LIMITED_USER);
          kill ((pid_t) g_ascii_strtoll (entry, NULL, 10), SIGTERM);
        }
    }
}

static Session *
session_open (const char *role)
{
  Session *session = g_new0 (Session, 1);
  g_autofree char *driver = g_build_filename (world.out_dir, "driver.mjs", NULL);
  g_autofree char *log_name = g_strdup_printf ("cockpit-driver-%s.log", role);
  g_autofree char *log = g_build_filename (world.out_dir, log_name, NULL);
  g_autoptr(GSubprocessLauncher) launcher = vb_test_daemon_launcher (
      G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GError) error = NULL;
  const char *const argv[] = { "node", driver, NULL };

  session->role = role;
  start_cockpit_ws (session, g_str_equal (role, "admin"));
  g_subprocess_launcher_set_stderr_file_path (launcher, log);
  session->driver = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  session->commands = g_subprocess_get_stdin_pipe (session->driver);
  session->answers = g_data_input_stream_new (g_subprocess_get_stdout_pipe (session->driver));
  return session;
}

static void
on_process_exit (GObject *process, GAsyncResult *result, gpointer data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (process), result, NULL);
  *(gboolean *) data = TRUE;
}

/* Waits up to @seconds for @process to exit by itself, then stops it. */
static void
wait_or_stop (GSubprocess **process, guint seconds)
{
  gboolean exited = FALSE, timed_out = FALSE;
  guint timeout = g_timeout_add_seconds (seconds, on_timeout, &timed_out);

  g_subprocess_wait_async (*process, NULL, on_process_exit, &exited);
  while (!exited && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout);
  vb_test_stop_process (process);
  /* The async wait is answered once the process is gone. */
  while (!exited)
    g_main_context_iteration (NULL, TRUE);
}

/* Closes the browser (the driver exits when its input ends), then
 * cockpit-ws, then what its bridge started (a session bus of its own). */
static void
session_close (Session **session_pointer)
{
  Session *session = *session_pointer;
  g_autoptr(GArray) below_ws = NULL;

  if (session == NULL)
    return;
  g_output_stream_close (session->commands, NULL, NULL);
  wait_or_stop (&session->driver, 30);
  g_clear_object (&session->answers);
  below_ws = descendants_of ((GPid) g_ascii_strtoll (
      g_subprocess_get_identifier (session->cockpit_ws), NULL, 10));
  vb_test_stop_process (&session->cockpit_ws);
  stop_descendants (below_ws);
  if (g_str_equal (session->role, "limited"))
    stop_processes_of (world.limited_uid);
  g_free (session->url);
  g_free (session);
  *session_pointer = NULL;
}

typedef struct {
  char *line;
  gboolean done;
} AnswerWait;

static void
on_answer (GObject *stream, GAsyncResult *result, gpointer data)
{
  AnswerWait *wait = data;

  wait->line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (stream),
                                                          result, NULL, NULL);
  wait->done = TRUE;
}

/* Sends one command; returns the answer's text, or NULL (and the error in
 * @error_text) when the driver answered ERR.  Without @error_text an ERR
 * fails the test. */
static char *
drive (Session *session, char **error_text, const char *command, ...)
{
  g_autoptr(GString) line = g_string_new (command);
  g_autoptr(GError) error = NULL;
  g_autofree char *answer = NULL;
  AnswerWait wait = { 0 };
  gboolean timed_out = FALSE;
  guint timeout;
  const char *arg;
  va_list args;

  va_start (args, command);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_string_append_printf (line, "\t%s", arg);
  va_end (args);
  g_string_append_c (line, '\n');
  g_output_stream_write_all (session->commands, line->str, line->len, NULL, NULL, &error);
  g_assert_no_error (error);

  g_data_input_stream_read_line_async (session->answers, G_PRIORITY_DEFAULT, NULL,
                                       on_answer, &wait);
  timeout = g_timeout_add_seconds (DRIVER_TIMEOUT_S, on_timeout, &timed_out);
  while (!wait.done && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!wait.done)
    g_error ("the browser driver did not answer \"%s\" within %d s; see cockpit-driver-%s.log",
             command, DRIVER_TIMEOUT_S, session->role);
  g_source_remove (timeout);
  answer = wait.line;
  if (answer == NULL)
    g_error ("the browser driver exited; see cockpit-driver-%s.log", session->role);
  if (g_str_has_prefix (answer, "OK\t"))
    return g_strdup (answer + 3);
  g_assert_true (g_str_has_prefix (answer, "ERR\t"));
  if (error_text == NULL)
    g_error ("%s page, %s: %s", session->role, command, answer + 4);
  *error_text = g_strdup (answer + 4);
  return NULL;
}

static void
screenshot (Session *session, const char *what)
{
  g_autofree char *name = g_strdup_printf ("cockpit-%s-%s.png", session->role, what);
  g_autofree char *path = g_build_filename (world.out_dir, name, NULL);
  g_autofree char *answer = drive (session, NULL, "shot", path, NULL);

  g_test_message ("screenshot: %s", path);
}

/* Opens the page and waits until it has loaded its list. */
static void
open_page (Session *session)
{
  g_autofree char *notes = drive (session, NULL, "open", session->url, NULL);

  if (*notes != '\0')
    g_test_message ("%s page: %s", session->role, notes);
}

/* The page shows @state for @name (waiting for it), or the test fails
 * with what it shows and what virtbusd refused meanwhile. */
static void
assert_page_state (Session *session, const char *name, const char *state)
{
  g_autofree char *failure = NULL;
  g_autofree char *shown = drive (session, &failure, "wait-state", name, state, NULL);

  if (shown == NULL)
    {
      g_autofree char *errors = new_virtbusd_errors ();

      /* One line each, so that they stay comments in the TAP output. */
      if (*errors == '\0')
        g_test_message ("virtbusd sent no error meanwhile");
      else
        {
          g_auto(GStrv) lines = g_strsplit (errors + 1, "\n", -1);

          g_test_message ("virtbusd's errors on the bus meanwhile:");
          for (char **line = lines; *line != NULL; line++)
            g_test_message ("%s", *line);
        }
      g_error ("%s page: %s", session->role, failure);
    }
}

static void
assert_guest_state (const char *name, const char *expected)
{
  g_autofree char *state = guest_state (name);

  g_assert_cmpstr (state, ==, expected);
}

/* The guest reaches @expected in libvirt within a generous time. */
static void
wait_guest_state (const char *name, const char *expected)
{
  gint64 deadline = g_get_monotonic_time () + STARTUP_TIMEOUT_US;

  for (;;)
    {
      g_autofree char *state = guest_state (name);

      if (g_str_equal (state, expected))
        return;
      if (g_get_monotonic_time () > deadline)
        g_assert_cmpstr (state, ==, expected);
      g_usleep (100000);
    }
}

/* ---- the cases ------------------------------------------------------------ */

/* The case's page session: the one a previous case left open, or a new
 * one (so that each case can also be run alone, with -p). */
static Session *
page (Session **session, const char *role)
{
  if (*session == NULL)
    {
      *session = session_open (role);
      open_page (*session);
    }
  return *session;
}

/* Every guest is a row, with its state (waiting until the page has all
 * BULK_GUESTS + 2). */
static void
assert_every_row (Session *session)
{
  g_autofree char *count = g_strdup_printf ("%u", listed_guests ());
  g_autofree char *listed = drive (session, NULL, "rows", count, NULL);
  g_auto(GStrv) rows = g_strsplit (listed, "\t", -1);
  g_autoptr(GHashTable) states = g_hash_table_new (g_str_hash, g_str_equal);

  for (char **row = rows; *row != NULL; row++)
    {
      char *equals = strchr (*row, '=');

      g_assert_nonnull (equals);
      *equals = '\0';
      g_hash_table_insert (states, *row, equals + 1);
    }
  g_test_message ("%s page: %u rows", session->role, g_hash_table_size (states));
  g_assert_cmpstr (g_hash_table_lookup (states, world.running), ==, "Running");
  g_assert_cmpstr (g_hash_table_lookup (states, world.shut_off), ==, "Shut off");
  for (guint i = 0; i < world.bulk->len; i++)
    g_assert_cmpstr (g_hash_table_lookup (states, world.bulk->pdata[i]), ==, "Shut off");
  if (world.with_os != NULL)
    g_assert_cmpstr (g_hash_table_lookup (states, world.with_os), ==, "Shut off");
}

static void
test_admin_lists_guests (void)
{
  page (&admin_session, "admin");
  assert_page_state (admin_session, world.running, "Running");
  assert_every_row (admin_session);
  screenshot (admin_session, "list");
}

/* The driver's @command on @vm; then libvirt says @in_libvirt and the
 * page shows @on_page. */
static void
act_and_see (Session *session, const char *command, const char *vm, const char *in_libvirt,
             const char *on_page)
{
  g_autofree char *answer = drive (session, NULL, command, vm, NULL);

  wait_guest_state (vm, in_libvirt);
  assert_page_state (session, vm, on_page);
}

static void
test_admin_pauses_and_resumes (void)
{
  page (&admin_session, "admin");
  act_and_see (admin_session, "pause", world.running, "paused", "Paused");
  screenshot (admin_session, "paused");
  act_and_see (admin_session, "resume", world.running, "running", "Running");
}

/* Waits until the guest with an OS has started its power-button handler
 * (it says so on its console). */
static void
wait_guest_with_os_ready (void)
{
  gint64 deadline = g_get_monotonic_time () + 120 * G_TIME_SPAN_SECOND;

  for (;;)
    {
      g_autofree char *console = NULL;

      if (g_file_get_contents (world.with_os_console, &console, NULL, NULL) &&
          strstr (console, "vbguest-ready") != NULL)
        return;
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (200 * 1000);
    }
}

/* Shut down (an ACPI shutdown, Domain.Shutdown) on a guest whose system
 * powers off when asked: off in libvirt and on the page. */
static void
test_admin_shuts_down (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;

  if (world.with_os == NULL)
    {
      g_test_skip ("no guest with an operating system: scripts/install-deps downloads its "
                   "kernel and busybox into " GUEST_OS_DEBS);
      return;
    }
  page (&admin_session, "admin");
  out = vb_virsh ((const char *[]) { "start", world.with_os, NULL }, &error);
  g_assert_no_error (error);
  assert_page_state (admin_session, world.with_os, "Running");
  wait_guest_with_os_ready ();
  act_and_see (admin_session, "shut-down", world.with_os, "shut off", "Shut off");
}

/* A guest started and stopped with virsh, behind the page's back: the
 * page follows without a reload (virtbus's DomainEvent signals). */
static void
test_admin_sees_changes_made_elsewhere (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;

  page (&admin_session, "admin");
  out = vb_virsh ((const char *[]) { "start", world.shut_off, NULL }, &error);
  g_assert_no_error (error);
  assert_page_state (admin_session, world.shut_off, "Running");
  g_free (out);
  out = vb_virsh ((const char *[]) { "destroy", world.shut_off, NULL }, &error);
  g_assert_no_error (error);
  assert_page_state (admin_session, world.shut_off, "Shut off");
}

/* The page @command opens (pools, networks) lists @name; back to the
 * list after a screenshot. */
static void
assert_listing_page (Session *session, const char *command, const char *name)
{
  g_autofree char *listed = drive (session, NULL, command, NULL);
  g_auto(GStrv) names = g_strsplit (listed, "\t", -1);
  g_autofree char *answer = NULL;

  g_assert_true (g_strv_contains ((const char *const *) names, name));
  screenshot (session, command);
  answer = drive (session, NULL, "back", NULL);
}

static void
test_admin_details_pools_networks (void)
{
  g_autofree char *details = NULL, *answer = NULL;

  page (&admin_session, "admin");
  details = drive (admin_session, NULL, "details", world.running, NULL);
  g_assert_nonnull (strstr (details, world.running));
  g_assert_nonnull (strstr (details, "Running"));
  screenshot (admin_session, "details");
  answer = drive (admin_session, NULL, "back", NULL);
  assert_listing_page (admin_session, "pools", world.pool);
  assert_listing_page (admin_session, "networks", world.network);
  session_close (&admin_session);
}

static void
test_admin_runs_and_forces_off (void)
{
  page (&admin_session, "admin");
  act_and_see (admin_session, "run", world.shut_off, "running", "Running");
  screenshot (admin_session, "started");
  act_and_see (admin_session, "force-off", world.shut_off, "shut off", "Shut off");
  assert_page_state (admin_session, world.running, "Running");
  screenshot (admin_session, "forced-off");
}

static void
test_limited_lists_guests (void)
{
  /* The admin's errors, if any, are not this case's. */
  g_free (new_virtbusd_errors ());
  page (&limited_session, "limited");
  /* Taken first: when the guests are missing, the picture shows how. */
  screenshot (limited_session, "list");
  assert_page_state (limited_session, world.running, "Running");
  assert_every_row (limited_session);
}

static void
test_limited_run_refused (void)
{
  g_autofree char *answer = NULL;
  g_auto(GStrv) popover = NULL;

  page (&limited_session, "limited");
  answer = drive (limited_session, NULL, "run", world.shut_off, NULL);
  g_free (answer);
  answer = drive (limited_session, NULL, "failure", world.shut_off, NULL);
  popover = g_strsplit (answer, "\t", 2);
  g_assert_cmpuint (g_strv_length (popover), ==, 2);
  {
    g_autofree char *title = g_strdup_printf ("VM %s failed to start", world.shut_off);

    g_assert_cmpstr (popover[0], ==, title);
  }
  g_assert_cmpstr (popover[1], ==, "Not authorized for org.libvirt.dbus.domain.start");
  screenshot (limited_session, "refused");

  assert_guest_state (world.shut_off, "shut off");
  assert_page_state (limited_session, world.shut_off, "Shut off");
  session_close (&limited_session);
}

static void
on_authority_changed (GDBusConnection *bus, const char *sender, const char *path,
                      const char *iface, const char *signal, GVariant *params, gpointer data)
{
  *(gboolean *) data = TRUE;
}

/* Installs (@rules not NULL) or removes rules.d/@name as an administrator
 * would, and waits until polkitd has read it (its Changed signal). */
static void
set_polkit_rules (const char *name, const char *rules)
{
  g_autofree char *path = g_build_filename (world.rules_dir, name, NULL);
  gboolean changed = FALSE, timed_out = FALSE;
  guint subscription = g_dbus_connection_signal_subscribe (
      world.fixture.bus, "org.freedesktop.PolicyKit1", "org.freedesktop.PolicyKit1.Authority",
      "Changed", NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_authority_changed, &changed, NULL);
  guint timeout;
  g_autoptr(GError) error = NULL;

  /* A round trip: the match rule is in place before the change. */
  g_free (vb_system_name_owner (world.fixture.bus, "org.freedesktop.PolicyKit1"));
  if (rules != NULL)
    {
      g_file_set_contents (path, rules, -1, &error);
      g_assert_no_error (error);
    }
  else
    g_assert_cmpint (g_unlink (path), ==, 0);
  timeout = g_timeout_add_seconds (20, on_timeout, &timed_out);
  while (!changed && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (changed);
  g_source_remove (timeout);
  g_dbus_connection_signal_unsubscribe (world.fixture.bus, subscription);
  /* The bus delivered Changed to virtbusd before it reached us; a moment
   * for virtbusd to drop the decisions it reuses. */
  g_usleep (200 * 1000);
}

/* A per-VM rule (docs/cockpit.md): the limited user may start and stop
 * the shut-off guest, and only that one. */
static void
test_limited_rule_for_one_guest (void)
{
  g_autofree char *rules = g_strdup_printf (
      "polkit.addRule(function(action, subject) {\n"
      "  if ((action.id == 'org.libvirt.dbus.domain.start' ||\n"
      "       action.id == 'org.libvirt.dbus.domain.stop') &&\n"
      "      subject.user == '%s' && action.lookup('domain_name') == '%s')\n"
      "    return polkit.Result.YES;\n"
      "});\n",
      LIMITED_USER, world.shut_off);
  const char *other = world.bulk->pdata[0];
  g_autofree char *answer = NULL;
  g_auto(GStrv) popover = NULL;

  set_polkit_rules ("50-vbcockpit-one-guest.rules", rules);
  page (&limited_session, "limited");
  act_and_see (limited_session, "run", world.shut_off, "running", "Running");
  screenshot (limited_session, "rule-started");
  act_and_see (limited_session, "force-off", world.shut_off, "shut off", "Shut off");

  answer = drive (limited_session, NULL, "run", other, NULL);
  g_free (answer);
  answer = drive (limited_session, NULL, "failure", other, NULL);
  popover = g_strsplit (answer, "\t", 2);
  g_assert_cmpuint (g_strv_length (popover), ==, 2);
  g_assert_cmpstr (popover[1], ==, "Not authorized for org.libvirt.dbus.domain.start");
  assert_guest_state (other, "shut off");
  set_polkit_rules ("50-vbcockpit-one-guest.rules", NULL);
  session_close (&limited_session);
}

/* libvirt's own refusal, passed on as libvirt-dbus does: the details page
 * asks for a running guest's addresses from every source, and a guest
 * without a guest agent (or, on this machine, libvirt's netlink ARP
 * reader) answers with an error. */
static gboolean
is_libvirt_refusal (const char *line)
{
  return g_str_has_prefix (line, "org.libvirt.Domain.InterfaceAddresses on ") &&
         strstr (line, " -> org.libvirt.Error: ") != NULL;
}

/* virtbusd still answers, and every error it sent during the suite is
 * a refusal by policy (AccessDenied) or libvirt's own answer to a call
 * the page makes knowing it may fail, none of virtbus's making. */
static void
test_virtbusd_alive_without_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync (
      world.fixture.bus, "org.libvirt", QEMU_PATH, "org.libvirt.Connect", "ListDomains",
      g_variant_new ("(u)", 0), G_VARIANT_TYPE ("(ao)"), G_DBUS_CALL_FLAGS_NONE, 20000,
      NULL, &error);
  g_autoptr(GPtrArray) errors = virtbusd_errors ();
  guint own = 0;

  g_assert_no_error (error);
  g_assert_nonnull (world.fixture.daemon);
  g_assert_nonnull (g_subprocess_get_identifier (world.fixture.daemon));
  for (guint i = 0; i < errors->len; i++)
    {
      const char *line = errors->pdata[i];

      g_test_message ("virtbusd answered %s", line);
      if (strstr (line, " -> org.freedesktop.DBus.Error.AccessDenied: ") == NULL &&
          !is_libvirt_refusal (line))
        own++;
    }
  g_assert_cmpuint (own, ==, 0);
}

/* ---- measuring: the benchmark's cockpit mode ------------------------------ */

/* A dbus-monitor of its own for one measurement, one line per message
 * (--profile), line-buffered so that nothing is lost when it is stopped. */
static GSubprocess *
start_call_counter (const char *log_name)
{
  const char *const argv[] = { "stdbuf", "-oL", "dbus-monitor", "--system", "--profile", NULL };
  g_autofree char *log = g_build_filename (world.out_dir, log_name, NULL);
  GSubprocess *monitor = spawn (argv, log_name);
  gint64 deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
  g_autofree char *text = NULL;

  /* It prints its header once it is a monitor. */
  while (!g_file_get_contents (log, &text, NULL, NULL) || *text == '\0')
    {
      g_clear_pointer (&text, g_free);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (20 * 1000);
    }
  return monitor;
}

/* Stops the counter and counts the method calls to org.libvirt (by its
 * name or @daemon_name) it saw. */
static guint
stop_call_counter (GSubprocess **monitor, const char *log_name, const char *daemon_name)
{
  g_autofree char *log = g_build_filename (world.out_dir, log_name, NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  guint calls = 0;

  vb_test_stop_process (monitor);
  g_assert_true (g_file_get_contents (log, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (char **line = lines; *line != NULL; line++)
    {
      /* "mc TIME SERIAL SENDER DESTINATION PATH INTERFACE MEMBER" */
      g_auto(GStrv) fields = g_strsplit (*line, "\t", -1);

      if (g_strv_length (fields) >= 5 && g_str_equal (fields[0], "mc") &&
          (g_str_equal (fields[4], "org.libvirt") || g_str_equal (fields[4], daemon_name)))
        calls++;
    }
  return calls;
}

/* User and system CPU seconds of @pid so far. */
static double
cpu_seconds (const char *pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/stat", pid);
  g_autofree char *stat = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after_name;

  g_assert_true (g_file_get_contents (path, &stat, NULL, NULL));
  /* Fields after the command name, which may hold spaces: state is the
   * 3rd field, utime the 14th and stime the 15th. */
  after_name = strrchr (stat, ')') + 2;
  fields = g_strsplit (after_name, " ", -1);
  return (g_ascii_strtod (fields[11], NULL) + g_ascii_strtod (fields[12], NULL)) /
         (double) sysconf (_SC_CLK_TCK);
}

/* One page load by the administrator against @daemon_argv's daemon:
 * prints a JSON line with the seconds until every row was listed, the
 * calls the page made and the daemon's CPU seconds meanwhile. */
static void
measure_page_load (const char *label, const char *const *daemon_argv)
{
  g_autofree char *count = g_strdup_printf ("%u", world.n_bulk + 2);
  Session *session;
  g_autofree char *answer = NULL;
  const char *pid;
  GSubprocess *counter;
  double cpu_before, seconds;
  gint64 started;

  world.fixture.daemon = spawn (daemon_argv, NULL);
  g_free (world.virtbusd_name);
  world.virtbusd_name = vb_system_wait_for_name (world.fixture.bus, "org.libvirt", NULL,
                                                 world.fixture.daemon);
  pid = g_subprocess_get_identifier (world.fixture.daemon);
  session = session_open ("admin");
  counter = start_call_counter ("cockpit-measure-calls.log");
  cpu_before = cpu_seconds (pid);
  started = g_get_monotonic_time ();
  open_page (session);
  answer = drive (session, NULL, "rows", count, NULL);
  seconds = (g_get_monotonic_time () - started) / 1e6;
  /* Calls made after the last row showed (the page goes on reading) are
   * counted too: what a load costs the daemon. */
  g_usleep (G_USEC_PER_SEC);
  {
    double cpu = cpu_seconds (pid) - cpu_before;

    g_print ("{\"daemon\": \"%s\", \"vms\": %u, \"seconds\": %.3f, \"calls\": %u, "
             "\"cpu_seconds\": %.3f}\n",
             label, world.n_bulk + 2, seconds,
             stop_call_counter (&counter, "cockpit-measure-calls.log", world.virtbusd_name), cpu);
  }
  session_close (&session);
  vb_test_stop_process (&world.fixture.daemon);
}

/* VB_COCKPIT_MEASURE=ROUNDS: no tests; the page loaded ROUNDS times with
 * each daemon, alternating (virtbusd first in even rounds). */
static void
measure (guint rounds)
{
  const char *const virtbusd_argv[] = { vb_test_daemon_binary (), "--system",
                                        VB_LIBVIRTD_DAEMON_ARGS, NULL };
  const char *const reference_argv[] = { "/usr/sbin/libvirt-dbus", "--system", NULL };

  vb_test_stop_process (&world.fixture.daemon);
  for (guint round = 0; round < rounds; round++)
    {
      gboolean ours_first = round % 2 == 0;

      measure_page_load (ours_first ? "virtbusd" : "libvirt-dbus",
                         ours_first ? virtbusd_argv : reference_argv);
      measure_page_load (ours_first ? "libvirt-dbus" : "virtbusd",
                         ours_first ? reference_argv : virtbusd_argv);
    }
  /* tear_down_world() stops a virtbusd: the last one measured is gone. */
  world.fixture.daemon = spawn (virtbusd_argv, NULL);
  g_free (vb_system_wait_for_name (world.fixture.bus, "org.libvirt", NULL, world.fixture.daemon));
}

/* ---- set-up of what the browser needs ------------------------------------- */

/* What the suite needs from Debian; NULL when all is there. */
static char *
missing_programs (void)
{
  const char *const needed[] = {
    "/usr/lib/cockpit/cockpit-ws", "/usr/bin/cockpit-bridge",
    "/usr/share/cockpit/machines/manifest.json", "/usr/bin/chromium",
    "/usr/bin/node", "/usr/bin/npm", "/usr/lib/polkit-1/polkitd", "/usr/bin/dbus-monitor",
  };
  g_autoptr(GString) missing = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (needed); i++)
    if (!g_file_test (needed[i], G_FILE_TEST_EXISTS))
      g_string_append_printf (missing, " %s", needed[i]);
  if (missing->len == 0)
    return NULL;
  return g_strdup_printf ("missing%s (scripts/install-deps installs them)", missing->str);
}

/* Playwright's library from package-lock.json into the build directory
 * (`npm ci`, never a browser download), unless this lock file is what
 * was installed last. */
static void
install_driver (void)
{
  g_autofree char *lock = g_build_filename (world.out_dir, "package-lock.json", NULL);
  g_autofree char *stamp = g_build_filename (world.out_dir, "node_modules", ".virtbus-lock", NULL);
  g_autofree char *wanted = NULL, *installed = NULL, *out = NULL;
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autoptr(GSubprocess) npm = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (lock, &wanted, NULL, &error);
  g_assert_no_error (error);
  if (g_file_get_contents (stamp, &installed, NULL, NULL) && g_str_equal (installed, wanted))
    return;

  g_subprocess_launcher_set_cwd (launcher, world.out_dir);
  g_subprocess_launcher_setenv (launcher, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1", TRUE);
  npm = g_subprocess_launcher_spawn (launcher, &error, "npm", "ci", "--ignore-scripts",
                                     "--no-audit", "--no-fund", "--loglevel=error", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (npm, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (npm))
    g_error ("npm ci in %s failed:\n%s", world.out_dir, out);
  g_file_set_contents (stamp, wanted, -1, &error);
  g_assert_no_error (error);
}

/* The scratch directory and everything in it (the polkit copies, the
 * limited user's home and what cockpit-bridge wrote there); symbolic links
 * are removed, never followed. */
static void
remove_tree (const char *path)
{
  g_autoptr(GDir) entries = g_dir_open (path, 0, NULL);
  const char *entry;

  while (entries != NULL && (entry = g_dir_read_name (entries)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, entry, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
tear_down_world (void)
{
  session_close (&admin_session);
  session_close (&limited_session);
  remove_test_guests ();
  remove_pool_and_network ();
  vb_test_stop_daemon (&world.fixture);
  g_dbus_connection_close_sync (world.fixture.bus, NULL, NULL);
  g_clear_object (&world.fixture.bus);
  vb_test_stop_process (&world.polkitd);
  vb_test_stop_process (&world.monitor);
  vb_test_stop_process (&world.dbus_daemon);
  vb_libvirtd_release ();
  /* The bind mounts go with the namespace when this process exits. */
}

static const char *skip_reason;

static void
skip (void)
{
  g_test_skip (skip_reason);
}

/* Nothing to run here: one case, skipped with @reason.  The status is
 * g_test_run()'s (0): under meson's TAP protocol the skip is the TAP
 * line, and an exit status 77 would count as an error. */
static int
skip_all (const char *path, const char *reason)
{
  skip_reason = reason;
  g_test_add_func (path, skip);
  return g_test_run ();
}

int
main (int argc, char **argv)
{
  g_autofree char *missing = NULL;
  g_autofree char *no_libvirtd = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  if (geteuid () != 0)
    return skip_all ("/cockpit/needs-root",
                     "needs root: makes a user, a mount namespace and a system bus");
  if ((missing = missing_programs ()) != NULL)
    return skip_all ("/cockpit/needs-cockpit-and-chromium", missing);

  world.out_dir = g_strdup (g_getenv ("COCKPIT_BUILD_DIR"));
  g_assert_nonnull (world.out_dir);
  world.dir = g_dir_make_tmp ("virtbus-cockpit-XXXXXX", &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (world.dir, 0755), ==, 0);
  /* Before any thread: unshare(CLONE_NEWNS) refuses a process that has
   * more than one. */
  enter_private_namespace ();
  install_driver ();

  if (!vb_libvirtd_ensure (&no_libvirtd))
    {
      status = skip_all ("/cockpit/needs-libvirtd", no_libvirtd);
      remove_tree (world.dir);
      return status;
    }
  remove_test_guests ();
  remove_pool_and_network ();
  start_bus_and_services ();
  world.n_bulk = g_getenv ("VB_COCKPIT_MEASURE") != NULL ? MEASURED_BULK_GUESTS : BULK_GUESTS;
  create_guests ();
  if (g_getenv ("VB_COCKPIT_MEASURE") != NULL)
    {
      measure ((guint) g_ascii_strtoull (g_getenv ("VB_COCKPIT_MEASURE"), NULL, 10));
      tear_down_world ();
      remove_tree (world.dir);
      return 0;
    }

  g_test_add_func ("/cockpit/admin/lists-guests-with-states", test_admin_lists_guests);
  g_test_add_func ("/cockpit/admin/run-starts-guest-force-off-stops-it",
                   test_admin_runs_and_forces_off);
  g_test_add_func ("/cockpit/limited/lists-guests-with-states", test_limited_lists_guests);
  g_test_add_func ("/cockpit/admin/pause-and-resume", test_admin_pauses_and_resumes);
  g_test_add_func ("/cockpit/admin/shut-down", test_admin_shuts_down);
  g_test_add_func ("/cockpit/admin/follows-changes-made-with-virsh",
                   test_admin_sees_changes_made_elsewhere);
  g_test_add_func ("/cockpit/admin/details-pools-networks", test_admin_details_pools_networks);
  g_test_add_func ("/cockpit/limited/run-refused-nothing-started", test_limited_run_refused);
  g_test_add_func ("/cockpit/limited/rule-for-one-guest", test_limited_rule_for_one_guest);
  g_test_add_func ("/cockpit/after-all/virtbusd-alive-no-error-of-its-own",
                   test_virtbusd_alive_without_errors);

  status = g_test_run ();
  tear_down_world ();
  remove_tree (world.dir);
  return status;
}
