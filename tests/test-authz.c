/* Per-call polkit authorization, end to end, as root: a private mount
 * namespace puts this project's polkit policy and rules (and a test rule)
 * where polkitd reads them, and three users made for the test into
 * /etc/passwd and /etc/group; then a system-type dbus-daemon, polkitd and
 * virtbusd (--system, test:///default) run on a socket of our own, and the
 * users call virtbusd through a copy of this program (--client mode) run
 * with their uid.  Which members each user may call is derived from the
 * interface tables, so every member of every interface is covered. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>
#define POLKIT_AGENT_I_KNOW_API_IS_SUBJECT_TO_CHANGE
#include <polkitagent/polkitagent.h>

#include "bus.h"
#include "authz.h"
#include "vb-test.h"

#define ACCESS_DENIED "org.freedesktop.DBus.Error.AccessDenied"
#define INTERACTION_REQUIRED "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired"
#define CONNECT_PATH "/org/libvirt/Test"
#define NO_NWFILTER_PATH "/org/libvirt/Test/nwfilter/_0b0c0d0e_0000_4000_8000_000000000001"
#define NO_SECRET_PATH "/org/libvirt/Test/secret/_0b0c0d0e_0000_4000_8000_000000000002"
#define CLIENT_TIMEOUT_MS 60000

typedef enum {
  USER_PLAIN,     /* in no group of interest */
  USER_ADMIN,     /* in the libvirt group */
  USER_WEB,       /* granted domain start/stop on web1 by the test rule */
  N_USERS
} UserRole;

static const char *const user_names[N_USERS] = {
  "vbauthz-plain", "vbauthz-admin", "vbauthz-web",
};

typedef struct {
  char *dir;                  /* scratch, 0755 */
  char *address;              /* of the private system bus */
  char *client;               /* this program, copied where users can run it */
  uid_t uids[N_USERS];
  GSubprocess *dbus_daemon;
  GSubprocess *polkitd;
  VbTestFixture fixture;      /* root's connection and virtbusd */
  /* Objects made by root at start: */
  char *sweep_domain, *sweep_snapshot, *sweep_volume, *node_device;
  char *web1, *web2;
} World;

static World world;

/* ---- client mode: runs as a test user ----------------------------------- */

/* Reads "flags\tpath\tinterface\tmember\targs" lines; answers each with
 * "OK" or "ERR\t<D-Bus error name>\t<message>". */
static int
run_client (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = g_dbus_connection_new_for_address_sync (
      g_getenv ("DBUS_SYSTEM_BUS_ADDRESS"),
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
          G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  char line[8192];

  if (bus == NULL)
    {
      g_printerr ("client: %s\n", error->message);
      return 1;
    }
  while (fgets (line, sizeof line, stdin) != NULL)
    {
      g_auto(GStrv) fields = g_strsplit (g_strchomp (line), "\t", 5);
      g_autoptr(GVariant) args = NULL;
      g_autoptr(GVariant) reply = NULL;
      g_autoptr(GError) call_error = NULL;
      g_autofree char *name = NULL;

      g_assert_cmpuint (g_strv_length (fields), ==, 5);
      args = g_variant_parse (NULL, fields[4], NULL, NULL, &call_error);
      g_assert_no_error (call_error);
      reply = g_dbus_connection_call_sync (
          bus, "org.libvirt", fields[1], fields[2], fields[3], args, NULL,
          g_str_equal (fields[0], "interactive")
              ? G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION
              : G_DBUS_CALL_FLAGS_NONE,
          CLIENT_TIMEOUT_MS, NULL, &call_error);
      if (reply != NULL)
        {
          printf ("OK\n");
        }
      else
        {
          name = g_dbus_error_get_remote_error (call_error);
          g_dbus_error_strip_remote_error (call_error);
          g_strdelimit (call_error->message, "\t\n", ' ');
          printf ("ERR\t%s\t%s\n", name != NULL ? name : "(local)", call_error->message);
        }
      fflush (stdout);
    }
  return 0;
}

/* ---- agent mode: an authentication agent that never answers -------------- */

/* Registered (as root) for one process; announces each authentication it
 * is asked for with "ASKED <action> <message>" and then sits at the
 * "prompt" until its stdin closes, when it exits and polkit gives up. */
typedef struct {
  PolkitAgentListener parent;
} VbTestAgent;

typedef struct {
  PolkitAgentListenerClass parent_class;
} VbTestAgentClass;

static GType vb_test_agent_get_type (void);
G_DEFINE_TYPE (VbTestAgent, vb_test_agent, POLKIT_AGENT_TYPE_LISTENER)

static void
agent_initiate_authentication (PolkitAgentListener *listener, const char *action_id,
                               const char *message, const char *icon_name,
                               PolkitDetails *details, const char *cookie,
                               GList *identities, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer data)
{
  printf ("ASKED %s %s\n", action_id, message);
  fflush (stdout);
  /* The task is dropped unanswered: the agent exits instead. */
  g_object_unref (g_task_new (listener, cancellable, callback, data));
}

static gboolean
agent_initiate_authentication_finish (PolkitAgentListener *listener, GAsyncResult *result,
                                      GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
vb_test_agent_class_init (VbTestAgentClass *klass)
{
  PolkitAgentListenerClass *listener_class = POLKIT_AGENT_LISTENER_CLASS (klass);

  listener_class->initiate_authentication = agent_initiate_authentication;
  listener_class->initiate_authentication_finish = agent_initiate_authentication_finish;
}

static void
vb_test_agent_init (VbTestAgent *agent)
{
}

static gboolean
on_agent_stdin (int fd, GIOCondition condition, gpointer loop)
{
  char buffer[64];

  if (read (fd, buffer, sizeof buffer) > 0)
    return G_SOURCE_CONTINUE;
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static int
run_agent (const char *pid_text)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(PolkitAgentListener) agent = g_object_new (vb_test_agent_get_type (), NULL);
  g_autoptr(PolkitSubject) process = polkit_unix_process_new_for_owner (
      (gint) g_ascii_strtoll (pid_text, NULL, 10), 0, -1);
  g_autoptr(GError) error = NULL;
  gpointer registration = polkit_agent_listener_register (
      agent, POLKIT_AGENT_REGISTER_FLAGS_NONE, process,
      "/org/libvirt/virtbus/TestAgent", NULL, &error);

  if (registration == NULL)
    {
      g_printerr ("agent: %s\n", error->message);
      return 1;
    }
  printf ("REGISTERED\n");
  fflush (stdout);
  g_unix_fd_add (0, G_IO_IN | G_IO_HUP | G_IO_ERR, on_agent_stdin, loop);
  g_main_loop_run (loop);
  polkit_agent_listener_unregister (registration);
  return 0;
}

/* ---- the world: namespace, users, bus, polkitd, virtbusd --------------- */

static void
write_file (const char *dir, const char *name, const char *contents)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, 0644), ==, 0);
}

static char *
make_dir (const char *name)
{
  char *path = g_build_filename (world.dir, name, NULL);

  g_assert_cmpint (g_mkdir (path, 0755), ==, 0);
  return path;
}

static void
copy_file (const char *from, const char *dir, const char *name)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (from, &contents, NULL, &error);
  g_assert_no_error (error);
  write_file (dir, name, contents);
}

static void
bind_over (const char *source, const char *target)
{
  if (mount (source, target, NULL, MS_BIND, NULL) != 0)
    g_error ("cannot bind %s over %s: %s", source, target, g_strerror (errno));
}

static uid_t
free_id (uid_t from)
{
  while (getpwuid (from) != NULL || getgrgid (from) != NULL)
    from++;
  return from;
}

/* /etc/passwd and /etc/group as they are, plus the test users (each with
 * a group of its own; the admin also in "libvirt"). */
static void
add_test_users (void)
{
  g_autofree char *passwd = NULL, *group = NULL;
  g_autoptr(GString) new_passwd = NULL, new_group = NULL;
  gboolean has_libvirt_group = getgrnam ("libvirt") != NULL;
  g_autoptr(GError) error = NULL;
  uid_t next = 64100;

  g_file_get_contents ("/etc/passwd", &passwd, NULL, &error);
  g_assert_no_error (error);
  g_file_get_contents ("/etc/group", &group, NULL, &error);
  g_assert_no_error (error);
  new_passwd = g_string_new (passwd);
  new_group = g_string_new (NULL);

  /* The admin joins libvirt's line; other lines are kept as they are. */
  {
    g_auto(GStrv) lines = g_strsplit (group, "\n", -1);

    for (char **l = lines; *l != NULL; l++)
      {
        if (**l == '\0')
          continue;
        g_string_append (new_group, *l);
        if (g_str_has_prefix (*l, "libvirt:"))
          g_string_append_printf (new_group, "%s%s",
                                  g_str_has_suffix (*l, ":") ? "" : ",",
                                  user_names[USER_ADMIN]);
        g_string_append_c (new_group, '\n');
      }
  }
  if (!has_libvirt_group)
    g_string_append_printf (new_group, "libvirt:x:%u:%s\n",
                            (unsigned) (next = free_id (next)), user_names[USER_ADMIN]);

  for (int u = 0; u < N_USERS; u++)
    {
      world.uids[u] = next = free_id (next + 1);
      g_string_append_printf (new_passwd, "%s:x:%u:%u::/nonexistent:/usr/sbin/nologin\n",
                              user_names[u], (unsigned) next, (unsigned) next);
      g_string_append_printf (new_group, "%s:x:%u:\n", user_names[u], (unsigned) next);
    }
  /* The service's own user, named by the bus policy, as an install makes it. */
  if (getpwnam ("virtbus") == NULL)
    {
      next = free_id (next + 1);
      g_string_append_printf (new_passwd, "virtbus:x:%u:%u::/nonexistent:/usr/sbin/nologin\n",
                              (unsigned) next, (unsigned) next);
      g_string_append_printf (new_group, "virtbus:x:%u:\n", (unsigned) next);
    }
  write_file (world.dir, "passwd", new_passwd->str);
  write_file (world.dir, "group", new_group->str);
}

static const char test_rules[] =
  "// Test rule: vbauthz-web may start and stop the domain named web1,\n"
  "// and is asked to authenticate (AUTH_ADMIN) to reset it.\n"
  "polkit.addRule(function(action, subject) {\n"
  "    if (subject.user != \"vbauthz-web\" || action.lookup(\"domain_name\") != \"web1\")\n"
  "        return polkit.Result.NOT_HANDLED;\n"
  "    if (action.id == \"org.libvirt.dbus.domain.start\" ||\n"
  "        action.id == \"org.libvirt.dbus.domain.stop\")\n"
  "        return polkit.Result.YES;\n"
  "    if (action.id == \"org.libvirt.dbus.domain.reset\")\n"
  "        return polkit.Result.AUTH_ADMIN;\n"
  "    return polkit.Result.NOT_HANDLED;\n"
  "});\n";

/* polkit reads only this project's actions and rules, and the test's. */
static void
set_up_polkit_files (void)
{
  g_autofree char *actions = make_dir ("actions");
  g_autofree char *rules = make_dir ("rules");
  g_autofree char *no_rules = make_dir ("no-rules");
  g_autofree char *policy = g_test_build_filename (G_TEST_DIST, "..", "data", "polkit",
                                                   "org.libvirt.dbus.policy", NULL);
  g_autofree char *rule = g_test_build_filename (G_TEST_DIST, "..", "data", "polkit",
                                                 "org.libvirt.dbus.rules", NULL);

  copy_file (policy, actions, "org.libvirt.dbus.policy");
  copy_file (rule, rules, "50-org.libvirt.dbus.rules");
  write_file (rules, "40-vbauthz-test.rules", test_rules);
  bind_over (actions, "/usr/share/polkit-1/actions");
  bind_over (rules, "/etc/polkit-1/rules.d");
  bind_over (no_rules, "/usr/share/polkit-1/rules.d");
}

static void
enter_private_namespace (void)
{
  g_autofree char *passwd = NULL, *group = NULL;

  if (unshare (CLONE_NEWNS) != 0)
    g_error ("unshare(CLONE_NEWNS): %s", g_strerror (errno));
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    g_error ("cannot make / private: %s", g_strerror (errno));

  add_test_users ();
  passwd = g_build_filename (world.dir, "passwd", NULL);
  group = g_build_filename (world.dir, "group", NULL);
  bind_over (passwd, "/etc/passwd");
  bind_over (group, "/etc/group");
  set_up_polkit_files ();
}

/* polkitd runs as root here (it then becomes polkitd), and calls the
 * test's agent; polkit's own bus policy and ours are in effect. */
static const char bus_config_extra[] =
  "  <policy user=\"root\">\n"
  "    <allow own=\"org.freedesktop.PolicyKit1\"/>\n"
  "    <allow send_type=\"method_call\"/>\n"
  "  </policy>\n"
  "  <include>/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf</include>\n"
  "  <include>%s</include>\n";

static GSubprocess *
spawn (const char *const *argv)
{
  g_autoptr(GSubprocessLauncher) launcher = vb_test_daemon_launcher (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr(GError) error = NULL;
  GSubprocess *process;

  g_subprocess_launcher_setenv (launcher, "DBUS_SYSTEM_BUS_ADDRESS", world.address, TRUE);
  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  return process;
}

static GDBusConnection *
connect_root (void)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      GDBusConnection *bus = g_dbus_connection_new_for_address_sync (
          world.address,
          G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
              G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
          NULL, NULL, &error);

      if (bus != NULL)
        return bus;
      if (g_get_monotonic_time () > deadline)
        g_error ("the private system bus does not answer: %s", error->message);
      g_usleep (20000);
    }
}

static void
wait_for_name (const char *name)
{
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  for (;;)
    {
      g_autoptr(GVariant) reply = g_dbus_connection_call_sync (
          world.fixture.bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
          "org.freedesktop.DBus", "NameHasOwner", g_variant_new ("(s)", name),
          G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
      gboolean owned = FALSE;

      if (reply != NULL)
        g_variant_get (reply, "(b)", &owned);
      if (owned)
        return;
      if (g_get_monotonic_time () > deadline)
        g_error ("nobody took %s on the private system bus", name);
      g_usleep (20000);
    }
}

static void
start_bus_and_services (void)
{
  g_autofree char *policy = g_test_build_filename (G_TEST_DIST, "..", "data", "dbus",
                                                   "org.libvirt.conf", NULL);
  g_autofree char *socket = g_build_filename (world.dir, "system_bus_socket", NULL);
  g_autofree char *extra = g_strdup_printf (bus_config_extra, policy);
  g_autofree char *config = vb_test_system_bus_config (socket, extra);
  g_autofree char *config_path = g_build_filename (world.dir, "bus.conf", NULL);
  g_autofree char *config_arg = g_strconcat ("--config-file=", config_path, NULL);
  const char *const bus_argv[] = { "dbus-daemon", config_arg, "--nofork", "--nopidfile", NULL };
  const char *const polkit_argv[] = { "/usr/lib/polkit-1/polkitd", "--no-debug", NULL };
  const char *const daemon_argv[] = { vb_test_daemon_binary (), "--system", "--connect",
                                      "Test=test:///default", NULL };

  write_file (world.dir, "bus.conf", config);
  world.address = g_strdup_printf ("unix:path=%s/system_bus_socket", world.dir);
  world.dbus_daemon = spawn (bus_argv);
  world.fixture.bus = connect_root ();
  world.polkitd = spawn (polkit_argv);
  wait_for_name ("org.freedesktop.PolicyKit1");
  world.fixture.daemon = spawn (daemon_argv);
  wait_for_name ("org.libvirt");
}

/* A copy of this program that the test users may run. */
static void
install_client (void)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (self);
  g_file_get_contents (self, &contents, &length, &error);
  g_assert_no_error (error);
  world.client = g_build_filename (world.dir, "client", NULL);
  g_file_set_contents (world.client, contents, (gssize) length, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (world.client, 0755), ==, 0);
}

static char *
define_domain (const char *name)
{
  g_autofree char *xml = g_strdup_printf (
      "<domain type='test'><name>%s</name><memory>65536</memory>"
      "<os><type>hvm</type></os></domain>", name);
  g_autoptr(GVariant) reply = vb_test_connect_call (&world.fixture, "DomainDefineXML",
                                                    g_variant_new ("(s)", xml), "(o)");

  return vb_test_reply_path (reply);
}

static char *
first_node_device (void)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (&world.fixture, "ListNodeDevices",
                                                    g_variant_new ("(u)", 0), "(ao)");
  g_autoptr(GVariant) paths = g_variant_get_child_value (reply, 0);
  const char *first = NULL;

  g_assert_cmpuint (g_variant_n_children (paths), >, 0);
  g_variant_get_child (paths, 0, "&o", &first);
  return g_strdup (first);
}

/* Root makes the objects the sweeps call (no polkit involved). */
static void
create_objects (void)
{
  g_autoptr(GVariant) snapshot = NULL, volume = NULL;

  world.sweep_domain = define_domain ("sweep");
  world.web1 = define_domain ("web1");
  world.web2 = define_domain ("web2");
  snapshot = vb_test_call (&world.fixture, world.sweep_domain, "org.libvirt.Domain",
                           "SnapshotCreateXML",
                           g_variant_new ("(su)", "<domainsnapshot><name>s1</name>"
                                          "</domainsnapshot>", 0), "(o)");
  world.sweep_snapshot = vb_test_reply_path (snapshot);
  volume = vb_test_call (&world.fixture, VB_TEST_POOL_PATH, "org.libvirt.StoragePool",
                         "StorageVolCreateXML",
                         g_variant_new ("(su)", "<volume><name>sweep.img</name>"
                                        "<capacity>1048576</capacity></volume>", 0),
                         "(o)");
  world.sweep_volume = vb_test_reply_path (volume);
  world.node_device = first_node_device ();
}

static void
set_up_world (void)
{
  g_autoptr(GError) error = NULL;

  world.dir = g_dir_make_tmp ("virtbus-authz-XXXXXX", &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (world.dir, 0755), ==, 0);
  enter_private_namespace ();
  install_client ();
  start_bus_and_services ();
  create_objects ();
}

static void
tear_down_world (void)
{
  vb_test_stop_daemon (&world.fixture);
  g_dbus_connection_close_sync (world.fixture.bus, NULL, NULL);
  g_clear_object (&world.fixture.bus);
  vb_test_stop_process (&world.polkitd);
  vb_test_stop_process (&world.dbus_daemon);
  /* The bind mounts go with the namespace when this process exits. */
}

/* ---- calls as a test user ------------------------------------------------ */

typedef struct {
  const char *path;
  const char *iface;
  const char *member;
  GVariant *args;            /* owned */
  char *permission;          /* what the table says it needs */
  /* the answer: */
  char *error_name;          /* NULL: a reply */
  char *error_message;
} Call;

static void
call_free (Call *call)
{
  g_variant_unref (call->args);
  g_free (call->permission);
  g_free (call->error_name);
  g_free (call->error_message);
  g_free (call);
}

static Call *
call_new (const char *path, const char *iface, const char *member, GVariant *args,
          const char *permission)
{
  Call *call = g_new0 (Call, 1);

  call->path = path;
  call->iface = iface;
  call->member = member;
  call->args = g_variant_ref_sink (args);
  call->permission = g_strdup (permission);
  return call;
}

/* This program in --client or --agent mode, with pipes to talk to it; leak
 * checks are for the daemon, not for these helpers. */
static GSubprocess *
spawn_helper (const char *const *argv)
{
  g_autoptr(GSubprocessLauncher) launcher = vb_test_daemon_launcher (
      G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GError) error = NULL;
  GSubprocess *helper;

  g_subprocess_launcher_setenv (launcher, "DBUS_SYSTEM_BUS_ADDRESS", world.address, TRUE);
  g_subprocess_launcher_setenv (launcher, "ASAN_OPTIONS", "detect_leaks=0", TRUE);
  helper = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  return helper;
}

static GSubprocess *
spawn_client_as (UserRole role)
{
  g_autofree char *reuid = g_strdup_printf ("--reuid=%u", (unsigned) world.uids[role]);
  g_autofree char *regid = g_strdup_printf ("--regid=%u", (unsigned) world.uids[role]);
  const char *const argv[] = { "setpriv", reuid, regid, "--init-groups",
                               world.client, "--client", NULL };

  return spawn_helper (argv);
}

static char *
call_line (const Call *call, gboolean interactive)
{
  g_autofree char *args = g_variant_print (call->args, TRUE);

  return g_strdup_printf ("%s\t%s\t%s\t%s\t%s\n", interactive ? "interactive" : "plain",
                          call->path, call->iface, call->member, args);
}

static void
parse_answer (Call *call, const char *line)
{
  g_auto(GStrv) fields = NULL;

  g_clear_pointer (&call->error_name, g_free);
  g_clear_pointer (&call->error_message, g_free);
  if (g_str_equal (line, "OK"))
    return;
  fields = g_strsplit (line, "\t", 3);
  g_assert_cmpstr (fields[0], ==, "ERR");
  g_assert_nonnull (fields[1]);
  call->error_name = g_strdup (fields[1]);
  call->error_message = g_strdup (fields[2] != NULL ? fields[2] : "");
}

/* Makes every call of @calls as @role, in order, and records the answers. */
static void
call_as (UserRole role, GPtrArray *calls, gboolean interactive)
{
  g_autoptr(GSubprocess) client = spawn_client_as (role);
  g_autoptr(GString) input = g_string_new (NULL);
  g_autofree char *output = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < calls->len; i++)
    {
      g_autofree char *line = call_line (g_ptr_array_index (calls, i), interactive);

      g_string_append (input, line);
    }
  g_subprocess_communicate_utf8 (client, input->str, NULL, &output, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (client));
  g_assert_cmpint (g_subprocess_get_exit_status (client), ==, 0);

  lines = g_strsplit (output, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, calls->len + 1);
  for (guint i = 0; i < calls->len; i++)
    parse_answer (g_ptr_array_index (calls, i), lines[i]);
}

/* ---- the table-driven sweep ----------------------------------------------- */

static const char *
sweep_path (const VbInterface *iface)
{
  if (iface->kind == NULL)
    return CONNECT_PATH;
  if (g_str_equal (iface->kind, "domain"))
    return world.sweep_domain;
  if (g_str_equal (iface->kind, "domainsnapshot"))
    return world.sweep_snapshot;
  if (g_str_equal (iface->kind, "network"))
    return VB_TEST_NETWORK_PATH;
  if (g_str_equal (iface->kind, "storagepool"))
    return VB_TEST_POOL_PATH;
  if (g_str_equal (iface->kind, "storagevol"))
    return world.sweep_volume;
  if (g_str_equal (iface->kind, "nodedev"))
    return world.node_device;
  if (g_str_equal (iface->kind, "interface"))
    return VB_TEST_INTERFACE_PATH;
  /* The test driver keeps no filters or secrets: the paths name none, and
   * authorization is decided before the caller may learn that. */
  if (g_str_equal (iface->kind, "nwfilter"))
    return NO_NWFILTER_PATH;
  if (g_str_equal (iface->kind, "secret"))
    return NO_SECRET_PATH;
  g_error ("no sweep object for kind %s", iface->kind);
}

static GDBusInterfaceInfo *
interface_info (const char *path, const char *name, GPtrArray *nodes)
{
  GDBusNodeInfo *node = NULL;
  GDBusInterfaceInfo *info = vb_test_introspect_interface (&world.fixture, path, name, &node);

  g_ptr_array_add (nodes, node);
  return info;
}

/* Every method, property Get/GetAll and property Set of every interface,
 * on @path_for's objects, with well-typed filler arguments. */
static GPtrArray *
all_calls (const char *(*path_for) (const VbInterface *iface))
{
  GPtrArray *calls = g_ptr_array_new_with_free_func ((GDestroyNotify) call_free);
  g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func (
      (GDestroyNotify) g_dbus_node_info_unref);

  for (const VbInterface *const *i = vb_bus_interfaces (); *i != NULL; i++)
    {
      const VbInterface *iface = *i;
      const char *path = path_for (iface);
      GDBusInterfaceInfo *info = interface_info (path, iface->name, nodes);

      for (const VbMethod *m = iface->methods; m->name != NULL; m++)
        {
          GDBusMethodInfo *method = g_dbus_interface_info_lookup_method (info, m->name);

          g_assert_nonnull (method);
          g_ptr_array_add (calls, call_new (path, iface->name, m->name,
                                            vb_test_filler_args (method, "x", 0),
                                            m->permission));
        }
      g_ptr_array_add (calls, call_new (path, "org.freedesktop.DBus.Properties", "GetAll",
                                        g_variant_new ("(s)", iface->name),
                                        iface->get_permission));
      for (const VbProperty *p = iface->properties; p->name != NULL; p++)
        {
          GDBusPropertyInfo *property = g_dbus_interface_info_lookup_property (info, p->name);
          g_autoptr(GVariant) value = NULL;

          g_ptr_array_add (calls, call_new (path, "org.freedesktop.DBus.Properties", "Get",
                                            g_variant_new ("(ss)", iface->name, p->name),
                                            iface->get_permission));
          if (p->set == NULL)
            continue;
          value = g_variant_ref_sink (g_variant_new_boolean (FALSE));
          g_assert_cmpstr (property->signature, ==, "b");
          g_ptr_array_add (calls, call_new (path, "org.freedesktop.DBus.Properties", "Set",
                                            g_variant_new ("(ssv)", iface->name, p->name,
                                                           value),
                                            p->set_permission));
        }
    }
  return calls;
}

/* getattr, read and search-*: "yes" for everyone in the policy. */
static gboolean
allowed_to_everyone (const char *permission)
{
  const char *verb = strchr (permission, ':') + 1;

  return g_str_equal (verb, "getattr") || g_str_equal (verb, "read") ||
         g_str_has_prefix (verb, "search-");
}

static gboolean
was_refused (const Call *call)
{
  return g_strcmp0 (call->error_name, ACCESS_DENIED) == 0 ||
         g_strcmp0 (call->error_name, INTERACTION_REQUIRED) == 0;
}

static void
assert_allowed (const Call *call)
{
  if (was_refused (call))
    g_error ("%s.%s on %s (%s) was refused: %s: %s", call->iface, call->member,
             call->path, call->permission, call->error_name, call->error_message);
}

static void
assert_denied (const Call *call)
{
  g_autofree char *action = vb_authz_action_id (call->permission);

  if (g_strcmp0 (call->error_name, ACCESS_DENIED) != 0)
    g_error ("%s.%s on %s (%s) answered %s (%s), expected AccessDenied", call->iface,
             call->member, call->path, call->permission,
             call->error_name != NULL ? call->error_name : "a reply",
             call->error_message != NULL ? call->error_message : "");
  if (strstr (call->error_message, action) == NULL)
    g_error ("%s.%s: the refusal '%s' does not name %s", call->iface, call->member,
             call->error_message, action);
}

static guint
assert_everyone_policy (GPtrArray *calls)
{
  guint n_denied = 0;

  for (guint i = 0; i < calls->len; i++)
    {
      const Call *call = g_ptr_array_index (calls, i);

      if (allowed_to_everyone (call->permission))
        {
          assert_allowed (call);
        }
      else
        {
          assert_denied (call);
          n_denied++;
        }
    }
  return n_denied;
}

static void
test_user_outside_libvirt (void)
{
  g_autoptr(GPtrArray) calls = all_calls (sweep_path);
  guint n_denied;

  call_as (USER_PLAIN, calls, FALSE);
  n_denied = assert_everyone_policy (calls);
  g_test_message ("%u calls, %u refused", calls->len, n_denied);
  g_assert_cmpuint (n_denied, >, 100);
  g_assert_cmpuint (n_denied, <, calls->len);
}

/* Outside an active local session the default policy has nothing to ask:
 * the flag changes no answer (see docs/authorization.md). */
static void
test_user_outside_libvirt_interactive (void)
{
  g_autoptr(GPtrArray) calls = all_calls (sweep_path);

  call_as (USER_PLAIN, calls, TRUE);
  assert_everyone_policy (calls);
}

static void
test_secure_xml_needs_read_secure (void)
{
  g_autoptr(GPtrArray) calls = g_ptr_array_new_with_free_func ((GDestroyNotify) call_free);
  Call *plain_xml, *secure_xml;

  plain_xml = call_new (world.sweep_domain, "org.libvirt.Domain", "GetXMLDesc",
                        g_variant_new ("(u)", 0), "domain:read");
  secure_xml = call_new (world.sweep_domain, "org.libvirt.Domain", "GetXMLDesc",
                         g_variant_new ("(u)", 1 /* VIR_DOMAIN_XML_SECURE */),
                         "domain:read-secure");
  g_ptr_array_add (calls, plain_xml);
  g_ptr_array_add (calls, secure_xml);
  call_as (USER_PLAIN, calls, FALSE);
  g_assert_null (plain_xml->error_name);
  assert_denied (secure_xml);

  call_as (USER_ADMIN, calls, FALSE);
  g_assert_cmpstr (plain_xml->error_name, ==, NULL);
  g_assert_cmpstr (secure_xml->error_name, ==, NULL);
}

static void
test_root_is_allowed (void)
{
  g_autoptr(GVariant) started = NULL, destroyed = NULL, secure = NULL;
  const char *xml = NULL;

  started = vb_test_call (&world.fixture, world.web2, "org.libvirt.Domain", "Create",
                          g_variant_new ("(u)", 0), "()");
  destroyed = vb_test_call (&world.fixture, world.web2, "org.libvirt.Domain", "Destroy",
                            g_variant_new ("(u)", 0), "()");
  secure = vb_test_call (&world.fixture, world.web2, "org.libvirt.Domain", "GetXMLDesc",
                         g_variant_new ("(u)", 1), "(s)");
  g_variant_get (secure, "(&s)", &xml);
  g_assert_nonnull (strstr (xml, "<name>web2</name>"));
}

static gboolean
domain_is_active (const char *path)
{
  g_autoptr(GVariant) active = vb_test_get_property (&world.fixture, path,
                                                     "org.libvirt.Domain", "Active");

  return g_variant_get_boolean (active);
}

static GPtrArray *
single_call (const char *path, const char *member, const char *permission)
{
  GPtrArray *calls = g_ptr_array_new_with_free_func ((GDestroyNotify) call_free);

  g_ptr_array_add (calls, call_new (path, "org.libvirt.Domain", member,
                                    g_variant_new ("(u)", 0), permission));
  return calls;
}

static void
test_web_user_starts_and_stops_web1_only (void)
{
  g_autoptr(GPtrArray) start1 = single_call (world.web1, "Create", "domain:start");
  g_autoptr(GPtrArray) stop1 = single_call (world.web1, "Destroy", "domain:stop");
  g_autoptr(GPtrArray) start2 = single_call (world.web2, "Create", "domain:start");
  g_autoptr(GPtrArray) stop2 = single_call (world.web2, "Destroy", "domain:stop");
  g_autoptr(GVariant) root_start = NULL, root_stop = NULL;

  call_as (USER_WEB, start1, FALSE);
  g_assert_null (((Call *) start1->pdata[0])->error_name);
  g_assert_true (domain_is_active (world.web1));
  call_as (USER_WEB, stop1, FALSE);
  g_assert_null (((Call *) stop1->pdata[0])->error_name);
  g_assert_false (domain_is_active (world.web1));

  call_as (USER_WEB, start2, FALSE);
  assert_denied (start2->pdata[0]);
  g_assert_false (domain_is_active (world.web2));
  root_start = vb_test_call (&world.fixture, world.web2, "org.libvirt.Domain", "Create",
                             g_variant_new ("(u)", 0), "()");
  call_as (USER_WEB, stop2, FALSE);
  assert_denied (stop2->pdata[0]);
  g_assert_true (domain_is_active (world.web2));
  root_stop = vb_test_call (&world.fixture, world.web2, "org.libvirt.Domain", "Destroy",
                            g_variant_new ("(u)", 0), "()");
}

static const char *
web1_path (const VbInterface *iface)
{
  if (iface->kind != NULL && g_str_equal (iface->kind, "domain"))
    return world.web1;
  return sweep_path (iface);
}

/* Everything but start and stop on web1 (and reset, for which the test
 * rule asks for authentication) stays as for anyone. */
static void
test_web_user_refused_everything_else (void)
{
  g_autoptr(GPtrArray) calls = all_calls (web1_path);
  guint n_granted = 0;

  call_as (USER_WEB, calls, FALSE);
  for (guint i = 0; i < calls->len; i++)
    {
      const Call *call = g_ptr_array_index (calls, i);
      gboolean on_web1 = g_str_equal (call->path, world.web1);

      if (on_web1 && (g_str_equal (call->permission, "domain:start") ||
                      g_str_equal (call->permission, "domain:stop")))
        {
          assert_allowed (call);
          n_granted++;
        }
      else if (on_web1 && g_str_equal (call->permission, "domain:reset"))
        {
          g_assert_cmpstr (call->error_name, ==, INTERACTION_REQUIRED);
        }
      else if (allowed_to_everyone (call->permission))
        {
          assert_allowed (call);
        }
      else
        {
          assert_denied (call);
        }
    }
  g_assert_cmpuint (n_granted, >=, 3);
}

/* A rule answering AUTH_ADMIN: without the flag the caller is told to
 * allow interaction; with it and no agent to ask, polkit refuses. */
static void
test_challenge_without_and_with_interaction (void)
{
  g_autoptr(GPtrArray) reset = single_call (world.web1, "Reset", "domain:reset");

  call_as (USER_WEB, reset, FALSE);
  g_assert_cmpstr (((Call *) reset->pdata[0])->error_name, ==, INTERACTION_REQUIRED);
  g_assert_nonnull (strstr (((Call *) reset->pdata[0])->error_message,
                            "org.libvirt.dbus.domain.reset"));

  call_as (USER_WEB, reset, TRUE);
  assert_denied (reset->pdata[0]);
}

static char *
read_line (GSubprocess *process)
{
  g_autoptr(GDataInputStream) out = g_data_input_stream_new (
      g_subprocess_get_stdout_pipe (process));
  g_autoptr(GError) error = NULL;
  char *line;

  /* One byte at a time, so that nothing past the line is buffered away,
   * and the pipe stays open for the next line. */
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (out), FALSE);
  g_buffered_input_stream_set_buffer_size (G_BUFFERED_INPUT_STREAM (out), 1);
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  return line;
}

static GSubprocess *
spawn_agent_for (GSubprocess *client)
{
  const char *const argv[] = { world.client, "--agent",
                               g_subprocess_get_identifier (client), NULL };

  return spawn_helper (argv);
}

static void
send_line (GSubprocess *process, const char *line)
{
  g_autoptr(GError) error = NULL;

  g_output_stream_write_all (g_subprocess_get_stdin_pipe (process), line, strlen (line),
                             NULL, NULL, &error);
  g_assert_no_error (error);
}

static void
close_and_wait (GSubprocess *process)
{
  g_autoptr(GError) error = NULL;

  g_output_stream_close (g_subprocess_get_stdin_pipe (process), NULL, &error);
  g_assert_no_error (error);
  g_subprocess_wait_check (process, NULL, &error);
  g_assert_no_error (error);
}

/* While one caller sits at a password prompt (an agent that never
 * answers), the others' calls, which need polkit too, are all answered;
 * when the agent goes away the waiting caller is refused. */
static void
test_prompt_holds_up_nobody_else (void)
{
  g_autoptr(GSubprocess) waiting = spawn_client_as (USER_WEB);
  g_autoptr(GSubprocess) agent = spawn_agent_for (waiting);
  g_autoptr(GPtrArray) reset = single_call (world.web1, "Reset", "domain:reset");
  g_autoptr(GPtrArray) read = single_call (world.web1, "GetXMLDesc", "domain:read");
  g_autoptr(GPtrArray) start = single_call (world.web2, "Create", "domain:start");
  g_autoptr(GPtrArray) stop = single_call (world.web2, "Destroy", "domain:stop");
  g_autofree char *registered = read_line (agent);
  g_autofree char *request = call_line (reset->pdata[0], TRUE);
  g_autofree char *asked = NULL, *answer = NULL;

  g_assert_cmpstr (registered, ==, "REGISTERED");
  send_line (waiting, request);
  asked = read_line (agent);
  /* polkit fills the message from the check's details. */
  g_assert_cmpstr (asked, ==, "ASKED org.libvirt.dbus.domain.reset "
                   "Authentication is required to reset the virtual machine web1");

  call_as (USER_PLAIN, read, FALSE);
  g_assert_cmpstr (((Call *) read->pdata[0])->error_name, ==, NULL);
  call_as (USER_ADMIN, start, FALSE);
  g_assert_cmpstr (((Call *) start->pdata[0])->error_name, ==, NULL);
  call_as (USER_ADMIN, stop, FALSE);
  g_assert_cmpstr (((Call *) stop->pdata[0])->error_name, ==, NULL);
  g_assert_false (domain_is_active (world.web1));

  close_and_wait (agent);
  answer = read_line (waiting);
  parse_answer (reset->pdata[0], answer);
  assert_denied (reset->pdata[0]);
  close_and_wait (waiting);
}

/* Last: the libvirt group may call everything; the calls really run, so
 * they may remove the sweep's objects (UnknownObject is then an answer
 * given after authorization). */
static void
test_libvirt_group_allowed_everything (void)
{
  g_autoptr(GPtrArray) calls = all_calls (sweep_path);

  call_as (USER_ADMIN, calls, FALSE);
  for (guint i = 0; i < calls->len; i++)
    assert_allowed (g_ptr_array_index (calls, i));
}

static void
skip_without_root (void)
{
  g_test_skip ("needs root: makes users, a mount namespace and a system bus");
}

int
main (int argc, char **argv)
{
  int status;

  if (argc == 2 && g_str_equal (argv[1], "--client"))
    return run_client ();
  if (argc == 3 && g_str_equal (argv[1], "--agent"))
    return run_agent (argv[2]);

  g_test_init (&argc, &argv, NULL);
  if (geteuid () != 0)
    {
      g_test_add_func ("/authz/needs-root", skip_without_root);
      return g_test_run ();
    }
  set_up_world ();

  g_test_add_func ("/authz/root-is-allowed", test_root_is_allowed);
  g_test_add_func ("/authz/outside-libvirt/read-only-members-only", test_user_outside_libvirt);
  g_test_add_func ("/authz/outside-libvirt/interactive-flag-without-agent",
                   test_user_outside_libvirt_interactive);
  g_test_add_func ("/authz/secure-xml-needs-read-secure", test_secure_xml_needs_read_secure);
  g_test_add_func ("/authz/rule/web1-start-and-stop", test_web_user_starts_and_stops_web1_only);
  g_test_add_func ("/authz/rule/everything-else-refused", test_web_user_refused_everything_else);
  g_test_add_func ("/authz/rule/challenge", test_challenge_without_and_with_interaction);
  g_test_add_func ("/authz/rule/prompt-holds-up-nobody-else", test_prompt_holds_up_nobody_else);
  g_test_add_func ("/authz/libvirt-group/every-member-allowed",
                   test_libvirt_group_allowed_everything);

  status = g_test_run ();
  tear_down_world ();
  return status;
}
