/* The world of the authorization tests: see vb-authz-world.h. */
#include "vb-authz-world.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <glib/gstdio.h>

#include "authz.h"
#include "vb-system.h"

/* How long a test waits for a helper's answer before it fails. */
#define ANSWER_TIMEOUT_S 90.0
#define AUTHORITY_NAME "org.freedesktop.PolicyKit1"
#define AUTHORITY_PATH "/org/freedesktop/PolicyKit1/Authority"
#define AUTHORITY_IFACE "org.freedesktop.PolicyKit1.Authority"
#define MARK_IFACE "org.libvirt.virtbus.TestMark"
#define MARK_PATH "/org/libvirt/virtbus/TestMark"

const char *const vb_user_names[N_USERS] = {
  "vbauthz-plain", "vbauthz-admin", "vbauthz-web",
};

VbAuthzWorld world;

/* ---- the world: namespace, users, bus, polkitd, virtbusd --------------- */

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
                                  vb_user_names[USER_ADMIN]);
        g_string_append_c (new_group, '\n');
      }
  }
  if (!has_libvirt_group)
    g_string_append_printf (new_group, "libvirt:x:%u:%s\n",
                            (unsigned) (next = vb_system_free_id (next)), vb_user_names[USER_ADMIN]);

  for (int u = 0; u < N_USERS; u++)
    {
      world.uids[u] = next = vb_system_free_id (next + 1);
      g_string_append_printf (new_passwd, "%s:x:%u:%u::/nonexistent:/usr/sbin/nologin\n",
                              vb_user_names[u], (unsigned) next, (unsigned) next);
      g_string_append_printf (new_group, "%s:x:%u:\n", vb_user_names[u], (unsigned) next);
    }
  /* The service's own user, named by the bus policy, as an install makes it. */
  if (getpwnam ("virtbus") == NULL)
    {
      next = vb_system_free_id (next + 1);
      g_string_append_printf (new_passwd, "virtbus:x:%u:%u::/nonexistent:/usr/sbin/nologin\n",
                              (unsigned) next, (unsigned) next);
      g_string_append_printf (new_group, "virtbus:x:%u:\n", (unsigned) next);
    }
  vb_system_write_file (world.dir, "passwd", new_passwd->str);
  vb_system_write_file (world.dir, "group", new_group->str);
}

static const char test_rules[] =
  "// Test rules: vbauthz-web may start and stop the domain named web1,\n"
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
  "});\n"
  "// vbauthz-web may not see the domain named hidden1 (nor its snapshots).\n"
  "polkit.addRule(function(action, subject) {\n"
  "    if (subject.user == \"vbauthz-web\" &&\n"
  "        action.id == \"org.libvirt.dbus.domain.getattr\" &&\n"
  "        action.lookup(\"domain_name\") == \"hidden1\")\n"
  "        return polkit.Result.NO;\n"
  "    return polkit.Result.NOT_HANDLED;\n"
  "});\n";

/* The project's data/, where the polkit files and the bus policy are. */
static char *
data_dir (void)
{
  return g_test_build_filename (G_TEST_DIST, "..", "data", NULL);
}

/* polkit reads only this project's actions and rules, and the test's. */
static void
set_up_polkit_files (void)
{
  g_autofree char *data = data_dir ();
  g_autofree char *staging = vb_system_make_dir (world.dir, "rules-staging", 0755);

  g_free (vb_system_bind_polkit_files (world.dir, data, "40-vbauthz-test.rules", test_rules));
}

static void
enter_private_namespace (void)
{
  vb_system_enter_namespace ();
  add_test_users ();
  vb_system_bind_users (world.dir);
  set_up_polkit_files ();
}

/* polkitd calls the test's agent; @policy is added to the bus's. */
static void
write_bus_config (const char *policy)
{
  g_autofree char *data = data_dir ();
  g_autofree char *socket = g_build_filename (world.dir, "system_bus_socket", NULL);
  g_autofree char *extra = vb_system_bus_config_extra (data, policy);
  g_autofree char *config = vb_test_system_bus_config (socket, extra);

  vb_system_write_file (world.dir, "bus.conf", config);
}

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

static void
wait_for_name (const char *name, const char *old_owner, GSubprocess *process)
{
  g_free (vb_system_wait_for_name (world.fixture.bus, name, old_owner, process));
}

char *
vb_authz_world_daemon_name (void)
{
  char *owner = vb_system_name_owner (world.fixture.bus, "org.libvirt");

  g_assert_nonnull (owner);
  return owner;
}

static void
start_daemon (const char *config)
{
  g_autofree char *name = g_strdup_printf ("virtbusd-%u.conf",
                                           (unsigned) g_random_int_range (0, 1 << 30));
  g_autofree char *path = g_build_filename (world.dir, name, NULL);
  /* A configuration naming its connections is taken as it is. */
  gboolean own_connections = strstr (config, "[connections]") != NULL;
  const char *const argv[] = { vb_test_daemon_binary (), "--system", "--config", path,
                               own_connections ? NULL : "--connect", "Test=test:///default",
                               NULL };

  vb_system_write_file (world.dir, name, config);
  g_free (world.daemon_config);
  world.daemon_config = g_strdup (config);
  world.fixture.daemon = spawn (argv);
}

static void
start_bus_and_services (void)
{
  g_autofree char *config_path = g_build_filename (world.dir, "bus.conf", NULL);
  g_autofree char *config_arg = g_strconcat ("--config-file=", config_path, NULL);
  const char *const bus_argv[] = { "dbus-daemon", config_arg, "--nofork", "--nopidfile", NULL };
  const char *const polkit_argv[] = { "/usr/lib/polkit-1/polkitd", "--no-debug", NULL };

  write_bus_config (NULL);
  world.address = g_strdup_printf ("unix:path=%s/system_bus_socket", world.dir);
  world.dbus_daemon = spawn (bus_argv);
  world.fixture.bus = vb_system_connect (world.address);
  world.polkitd = spawn (polkit_argv);
  wait_for_name (AUTHORITY_NAME, NULL, world.polkitd);
  start_daemon ("");
  wait_for_name ("org.libvirt", NULL, world.fixture.daemon);
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

char *
vb_authz_define_domain (const char *name)
{
  return vb_test_define_domain (&world.fixture, name);
}

static char *
define_domain_xml (const char *xml)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (&world.fixture, "DomainDefineXML",
                                                    g_variant_new ("(s)", xml), "(o)");

  return vb_test_reply_path (reply);
}

static char *
create_snapshot (const char *domain, const char *name)
{
  g_autofree char *xml = g_strdup_printf ("<domainsnapshot><name>%s</name></domainsnapshot>",
                                          name);
  g_autoptr(GVariant) reply = vb_test_call (&world.fixture, domain, "org.libvirt.Domain",
                                            "SnapshotCreateXML",
                                            g_variant_new ("(su)", xml, 0), "(o)");

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

static void
forget_objects (void)
{
  g_clear_pointer (&world.sweep_domain, g_free);
  g_clear_pointer (&world.sweep_snapshot, g_free);
  g_clear_pointer (&world.sweep_volume, g_free);
  g_clear_pointer (&world.node_device, g_free);
  g_clear_pointer (&world.web1, g_free);
  g_clear_pointer (&world.web2, g_free);
  g_clear_pointer (&world.hidden1, g_free);
  g_clear_pointer (&world.hidden1_snapshot, g_free);
  g_clear_pointer (&world.hidden1_child_snapshot, g_free);
  g_clear_pointer (&world.secure1, g_free);
  g_clear_pointer (&world.secure1_snapshot, g_free);
}

/* Root makes the objects the tests call (no polkit involved). */
static void
create_objects (void)
{
  g_autoptr(GVariant) volume = NULL;

  forget_objects ();
  world.sweep_domain = vb_authz_define_domain ("sweep");
  world.web1 = vb_authz_define_domain ("web1");
  world.web2 = vb_authz_define_domain ("web2");
  world.hidden1 = vb_authz_define_domain ("hidden1");
  world.secure1 = define_domain_xml (
      "<domain type='test'><name>secure1</name><memory>65536</memory>"
      "<os><type>hvm</type></os>"
      "<devices><graphics type='vnc' port='-1' passwd='secret123'/></devices></domain>");
  world.sweep_snapshot = create_snapshot (world.sweep_domain, "s1");
  world.hidden1_snapshot = create_snapshot (world.hidden1, "hs1");
  world.hidden1_child_snapshot = create_snapshot (world.hidden1, "hs2");
  world.secure1_snapshot = create_snapshot (world.secure1, "ss1");
  volume = vb_test_call (&world.fixture, VB_TEST_POOL_PATH, "org.libvirt.StoragePool",
                         "StorageVolCreateXML",
                         g_variant_new ("(su)", "<volume><name>sweep.img</name>"
                                        "<capacity>1048576</capacity></volume>", 0),
                         "(o)");
  world.sweep_volume = vb_test_reply_path (volume);
  world.node_device = first_node_device ();
  world.objects_changed = FALSE;
}

void
vb_authz_world_up (void)
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

void
vb_authz_world_down (void)
{
  vb_test_stop_daemon (&world.fixture);
  g_dbus_connection_close_sync (world.fixture.bus, NULL, NULL);
  g_clear_object (&world.fixture.bus);
  /* A test that failed may have left polkitd stopped. */
  g_subprocess_send_signal (world.polkitd, SIGCONT);
  vb_test_stop_process (&world.polkitd);
  vb_test_stop_process (&world.dbus_daemon);
  forget_objects ();
  g_clear_pointer (&world.daemon_config, g_free);
  /* The bind mounts go with the namespace when this process exits. */
}

void
vb_authz_world_use_config (const char *config)
{
  g_autofree char *old_owner = NULL;

  if (g_strcmp0 (config, world.daemon_config) == 0 && !world.objects_changed)
    return;
  old_owner = vb_authz_world_daemon_name ();
  vb_test_stop_daemon (&world.fixture);
  start_daemon (config);
  wait_for_name ("org.libvirt", old_owner, world.fixture.daemon);
  create_objects ();
}

void
vb_authz_world_objects_changed (void)
{
  world.objects_changed = TRUE;
}

void
vb_authz_world_set_bus_policy (const char *policy)
{
  g_autoptr(GVariant) reply = NULL;

  write_bus_config (policy);
  reply = g_dbus_connection_call_sync (world.fixture.bus, "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "ReloadConfig", NULL, G_VARIANT_TYPE ("()"),
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  g_assert_nonnull (reply);
}

static void
on_authority_changed (GDBusConnection *bus, const char *sender, const char *path,
                      const char *iface, const char *member, GVariant *parameters,
                      gpointer data)
{
  guint *n_changed = data;

  (*n_changed)++;
}

static gboolean
on_timeout (gpointer data)
{
  gboolean *timed_out = data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

void
vb_authz_world_set_polkit_rules (const char *name, const char *rules)
{
  g_autofree char *target = g_build_filename (world.dir, "rules", name, NULL);
  guint n_changed = 0;
  gboolean timed_out = FALSE;
  guint subscription = g_dbus_connection_signal_subscribe (
      world.fixture.bus, AUTHORITY_NAME, AUTHORITY_IFACE, "Changed", AUTHORITY_PATH, NULL,
      G_DBUS_SIGNAL_FLAGS_NONE, on_authority_changed, &n_changed, NULL);
  guint timeout;

  /* The match rule is in place once the bus answers. */
  g_free (vb_system_name_owner (world.fixture.bus, AUTHORITY_NAME));
  if (rules != NULL)
    {
      g_autofree char *staging_dir = g_build_filename (world.dir, "rules-staging", NULL);
      g_autofree char *staged = g_build_filename (staging_dir, name, NULL);

      /* Written aside and renamed in, so polkitd never reads half a file. */
      vb_system_write_file (staging_dir, name, rules);
      g_assert_cmpint (g_rename (staged, target), ==, 0);
    }
  else
    {
      g_assert_cmpint (g_unlink (target), ==, 0);
    }
  timeout = g_timeout_add_seconds (20, on_timeout, &timed_out);
  while (n_changed == 0 && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout);
  g_dbus_connection_signal_unsubscribe (world.fixture.bus, subscription);
  if (n_changed == 0)
    g_error ("polkitd did not announce (Changed) that %s was %s within 20 s", name,
             rules != NULL ? "added" : "removed");
}

/* ---- calls as a test user ------------------------------------------------ */

void
vb_test_call_free (VbTestCall *call)
{
  g_variant_unref (call->args);
  g_free (call->permission);
  g_free (call->error_name);
  g_free (call->error_message);
  g_clear_pointer (&call->reply, g_variant_unref);
  g_free (call);
}

VbTestCall *
vb_test_call_new (const char *path, const char *iface, const char *member, GVariant *args,
                  const char *permission)
{
  VbTestCall *call = g_new0 (VbTestCall, 1);

  call->path = path;
  call->iface = iface;
  call->member = member;
  call->args = g_variant_ref_sink (args);
  call->permission = g_strdup (permission);
  return call;
}

VbTestCall *
vb_test_call_domain_name (const char *path)
{
  return vb_test_call_new (path, "org.freedesktop.DBus.Properties", "Get",
                           g_variant_new ("(ss)", "org.libvirt.Domain", "Name"),
                           "domain:read");
}

struct _VbHelper {
  GSubprocess *process;
  int stdout_fd;
  GString *buffer;            /* read, not yet a whole line */
};

/* This program in --client or --agent mode, with pipes to talk to it; leak
 * checks are for the daemon, not for these helpers. */
static VbHelper *
spawn_helper (const char *const *argv)
{
  g_autoptr(GSubprocessLauncher) launcher = vb_test_daemon_launcher (
      G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GError) error = NULL;
  VbHelper *helper = g_new0 (VbHelper, 1);

  g_subprocess_launcher_setenv (launcher, "DBUS_SYSTEM_BUS_ADDRESS", world.address, TRUE);
  g_subprocess_launcher_setenv (launcher, "ASAN_OPTIONS", "detect_leaks=0", TRUE);
  helper->process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  helper->stdout_fd = g_unix_input_stream_get_fd (
      G_UNIX_INPUT_STREAM (g_subprocess_get_stdout_pipe (helper->process)));
  helper->buffer = g_string_new (NULL);
  return helper;
}

VbHelper *
vb_client_new (UserRole role)
{
  g_autofree char *reuid = g_strdup_printf ("--reuid=%u", (unsigned) world.uids[role]);
  g_autofree char *regid = g_strdup_printf ("--regid=%u", (unsigned) world.uids[role]);
  const char *const argv[] = { "setpriv", reuid, regid, "--init-groups",
                               world.client, "--client", NULL };

  return spawn_helper (argv);
}

VbHelper *
vb_agent_new (VbHelper *client)
{
  const char *const argv[] = { world.client, "--agent",
                               g_subprocess_get_identifier (client->process), NULL };
  VbHelper *agent = spawn_helper (argv);
  g_autofree char *registered = vb_helper_read_line (agent, 20);

  g_assert_cmpstr (registered, ==, "REGISTERED");
  return agent;
}

void
vb_helper_free (VbHelper *helper)
{
  g_autoptr(GError) error = NULL;

  g_output_stream_close (g_subprocess_get_stdin_pipe (helper->process), NULL, &error);
  g_assert_no_error (error);
  g_subprocess_wait_check (helper->process, NULL, &error);
  g_assert_no_error (error);
  g_object_unref (helper->process);
  g_string_free (helper->buffer, TRUE);
  g_free (helper);
}

char *
vb_helper_read_line (VbHelper *helper, double seconds)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);

  for (;;)
    {
      char *newline = memchr (helper->buffer->str, '\n', helper->buffer->len);
      struct pollfd ready = { .fd = helper->stdout_fd, .events = POLLIN };
      gint64 remaining = deadline - g_get_monotonic_time ();
      char chunk[65536];
      ssize_t n;

      if (newline != NULL)
        {
          gsize length = (gsize) (newline - helper->buffer->str);
          char *line = g_strndup (helper->buffer->str, length);

          g_string_erase (helper->buffer, 0, (gssize) length + 1);
          return line;
        }
      if (remaining <= 0)
        return NULL;
      if (poll (&ready, 1, (int) (remaining / 1000) + 1) <= 0)
        continue;
      n = read (helper->stdout_fd, chunk, sizeof chunk);
      if (n <= 0)
        return NULL;
      g_string_append_len (helper->buffer, chunk, n);
    }
}

static char *
read_answer (VbHelper *client, const char *what, double seconds)
{
  char *line = vb_helper_read_line (client, seconds);

  if (line == NULL)
    g_error ("the client did not answer %s within %.0f s", what, seconds);
  return line;
}

static void
write_input (VbHelper *helper, const char *text)
{
  g_autoptr(GError) error = NULL;

  g_output_stream_write_all (g_subprocess_get_stdin_pipe (helper->process), text,
                             strlen (text), NULL, NULL, &error);
  g_assert_no_error (error);
}

static char *
call_line (const VbTestCall *call, gboolean interactive)
{
  g_autofree char *args = g_variant_print (call->args, TRUE);

  return g_strdup_printf ("%s\t%s\t%s\t%s\t%s\n", interactive ? "interactive" : "plain",
                          call->path, call->iface, call->member, args);
}

static void
parse_answer (VbTestCall *call, const char *line)
{
  g_auto(GStrv) fields = NULL;
  g_autoptr(GError) error = NULL;

  g_clear_pointer (&call->error_name, g_free);
  g_clear_pointer (&call->error_message, g_free);
  g_clear_pointer (&call->reply, g_variant_unref);
  if (g_str_has_prefix (line, "OK\t"))
    {
      call->reply = g_variant_parse (NULL, line + 3, NULL, NULL, &error);
      g_assert_no_error (error);
      return;
    }
  fields = g_strsplit (line, "\t", 3);
  g_assert_cmpstr (fields[0], ==, "ERR");
  g_assert_nonnull (fields[1]);
  call->error_name = g_strdup (fields[1]);
  call->error_message = g_strdup (fields[2] != NULL ? fields[2] : "");
}

void
vb_client_send (VbHelper *client, VbTestCall *call, gboolean interactive)
{
  g_autofree char *line = call_line (call, interactive);
  g_autofree char *input = g_strconcat ("send\t", line, NULL);

  write_input (client, input);
}

void
vb_client_receive (VbHelper *client, VbTestCall *call, double seconds)
{
  g_autofree char *answer = read_answer (client, call->member, seconds);

  parse_answer (call, answer);
}

void
vb_client_call (VbHelper *client, VbTestCall *call, gboolean interactive)
{
  g_autofree char *line = call_line (call, interactive);
  g_autofree char *answer = NULL;

  write_input (client, line);
  answer = read_answer (client, call->member, ANSWER_TIMEOUT_S);
  parse_answer (call, answer);
}

void
vb_client_send_batch (VbHelper *client, GPtrArray *calls, gboolean interactive)
{
  g_autoptr(GString) input = g_string_new (NULL);

  g_string_append_printf (input, "batch\t%u\n", calls->len);
  for (guint i = 0; i < calls->len; i++)
    {
      g_autofree char *line = call_line (g_ptr_array_index (calls, i), interactive);

      g_string_append (input, line);
    }
  write_input (client, input->str);
}

void
vb_client_receive_batch (VbHelper *client, GPtrArray *calls)
{
  for (guint i = 0; i < calls->len; i++)
    {
      g_autofree char *answer = read_answer (client, "a batch", ANSWER_TIMEOUT_S);

      parse_answer (g_ptr_array_index (calls, i), answer);
    }
}

char *
vb_client_name (VbHelper *client)
{
  g_autofree char *name = NULL;

  write_input (client, "name\n");
  name = read_answer (client, "name", ANSWER_TIMEOUT_S);
  g_assert_true (g_dbus_is_unique_name (name));
  return g_steal_pointer (&name);
}

static void
client_command (VbHelper *client, const char *command)
{
  g_autofree char *line = g_strconcat (command, "\n", NULL);
  g_autofree char *answer = NULL;

  write_input (client, line);
  answer = read_answer (client, command, ANSWER_TIMEOUT_S);
  g_assert_cmpstr (answer, ==, "OK");
}

void
vb_client_reconnect (VbHelper *client)
{
  client_command (client, "reconnect");
}

void
vb_client_listen (VbHelper *client)
{
  client_command (client, "listen");
}

GStrv
vb_client_signals (VbHelper *client)
{
  g_autofree char *answer = NULL;
  g_auto(GStrv) fields = NULL;

  write_input (client, "signals\n");
  answer = read_answer (client, "signals", ANSWER_TIMEOUT_S);
  fields = g_strsplit (answer, "\t", -1);
  g_assert_cmpstr (fields[0], ==, "SIGNALS");
  return g_strdupv (fields + 1);
}

void
vb_call_as (UserRole role, GPtrArray *calls, gboolean interactive)
{
  g_autoptr(VbHelper) client = vb_client_new (role);

  for (guint i = 0; i < calls->len; i++)
    vb_client_call (client, g_ptr_array_index (calls, i), interactive);
}

static gboolean
was_refused (const VbTestCall *call)
{
  return g_strcmp0 (call->error_name, VB_ACCESS_DENIED) == 0 ||
         g_strcmp0 (call->error_name, VB_INTERACTION_REQUIRED) == 0;
}

void
vb_assert_allowed (const VbTestCall *call)
{
  if (was_refused (call))
    g_error ("%s.%s on %s (%s) was refused: %s: %s", call->iface, call->member,
             call->path, call->permission, call->error_name, call->error_message);
}

void
vb_assert_denied (const VbTestCall *call)
{
  g_autofree char *action = vb_authz_action_id (call->permission);

  if (g_strcmp0 (call->error_name, VB_ACCESS_DENIED) != 0)
    g_error ("%s.%s on %s (%s) answered %s (%s), expected AccessDenied", call->iface,
             call->member, call->path, call->permission,
             call->error_name != NULL ? call->error_name : "a reply",
             call->error_message != NULL ? call->error_message : "");
  if (strstr (call->error_message, action) == NULL)
    g_error ("%s.%s: the refusal '%s' does not name %s", call->iface, call->member,
             call->error_message, action);
}

/* ---- what virtbusd asks polkit ----------------------------------------- */

struct _VbPolkitMonitor {
  GDBusConnection *bus;
  GMutex lock;
  GCond changed;
  GPtrArray *checks;          /* VbPolkitCheck, only ever appended to */
  GHashTable *sender_pids;    /* bus name -> process id (0: gone) */
  guint n_changed;            /* the Authority's Changed signals */
  guint n_seen;               /* checks and answers, for their order */
  guint64 last_mark_seen;
  guint64 last_mark_sent;
};

static void
polkit_check_free (VbPolkitCheck *check)
{
  g_free (check->sender);
  g_free (check->subject);
  g_free (check->action);
  g_hash_table_unref (check->details);
  g_free (check);
}

static VbPolkitCheck *
parse_check (GDBusMessage *message)
{
  GVariant *body = g_dbus_message_get_body (message);
  VbPolkitCheck *check = g_new0 (VbPolkitCheck, 1);
  g_autoptr(GVariant) subject_details = NULL;
  g_autoptr(GVariantIter) details = NULL;
  const char *kind, *action, *key, *value;

  g_assert_true (g_variant_is_of_type (body, G_VARIANT_TYPE ("((sa{sv})sa{ss}us)")));
  g_variant_get (body, "((&s@a{sv})&sa{ss}u&s)", &kind, &subject_details, &action, &details,
                 &check->flags, NULL);
  check->sender = g_strdup (g_dbus_message_get_sender (message));
  check->serial = g_dbus_message_get_serial (message);
  check->action = g_strdup (action);
  if (g_str_equal (kind, "system-bus-name"))
    g_variant_lookup (subject_details, "name", "s", &check->subject);
  check->details = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  while (g_variant_iter_next (details, "{&s&s}", &key, &value))
    g_hash_table_insert (check->details, g_strdup (key), g_strdup (value));
  return check;
}

/* In GDBus's worker thread, in the order the messages came: every copy is
 * dropped here (a monitor may not answer anything). */
static GDBusMessage *
monitor_filter (GDBusConnection *bus, GDBusMessage *message, gboolean incoming, gpointer data)
{
  VbPolkitMonitor *monitor = data;
  GDBusMessageType type = g_dbus_message_get_message_type (message);
  const char *iface = g_dbus_message_get_interface (message);

  if (!incoming)
    return message;
  if (type == G_DBUS_MESSAGE_TYPE_METHOD_CALL)
    {
      if (g_strcmp0 (iface, AUTHORITY_IFACE) == 0 &&
          g_strcmp0 (g_dbus_message_get_member (message), "CheckAuthorization") == 0)
        {
          VbPolkitCheck *check = parse_check (message);

          g_mutex_lock (&monitor->lock);
          check->sent = ++monitor->n_seen;
          g_ptr_array_add (monitor->checks, check);
          g_mutex_unlock (&monitor->lock);
        }
      g_object_unref (message);
      return NULL;
    }
  if ((type == G_DBUS_MESSAGE_TYPE_METHOD_RETURN || type == G_DBUS_MESSAGE_TYPE_ERROR) &&
      g_strcmp0 (g_dbus_message_get_sender (message), "org.freedesktop.DBus") != 0)
    {
      const char *destination = g_dbus_message_get_destination (message);
      guint32 serial = g_dbus_message_get_reply_serial (message);

      /* polkitd's answers (the match rules let no others through but
       * the bus's own, to this connection). */
      g_mutex_lock (&monitor->lock);
      for (guint i = monitor->checks->len; i > 0; i--)
        {
          VbPolkitCheck *check = g_ptr_array_index (monitor->checks, i - 1);

          if (check->serial == serial && g_strcmp0 (check->sender, destination) == 0)
            {
              if (check->answered == 0)
                check->answered = ++monitor->n_seen;
              break;
            }
        }
      g_mutex_unlock (&monitor->lock);
      g_object_unref (message);
      return NULL;
    }
  if (type == G_DBUS_MESSAGE_TYPE_SIGNAL && g_strcmp0 (iface, AUTHORITY_IFACE) == 0)
    {
      g_mutex_lock (&monitor->lock);
      monitor->n_changed++;
      g_mutex_unlock (&monitor->lock);
      g_object_unref (message);
      return NULL;
    }
  if (type == G_DBUS_MESSAGE_TYPE_SIGNAL && g_strcmp0 (iface, MARK_IFACE) == 0)
    {
      guint64 mark = 0;

      g_variant_get (g_dbus_message_get_body (message), "(t)", &mark);
      g_mutex_lock (&monitor->lock);
      monitor->last_mark_seen = MAX (monitor->last_mark_seen, mark);
      g_cond_broadcast (&monitor->changed);
      g_mutex_unlock (&monitor->lock);
      g_object_unref (message);
      return NULL;
    }
  return message;
}

VbPolkitMonitor *
vb_polkit_monitor_new (void)
{
  VbPolkitMonitor *monitor = g_new0 (VbPolkitMonitor, 1);
  const char *rules[] = {
    "type='method_call',interface='" AUTHORITY_IFACE "',member='CheckAuthorization'",
    "type='signal',interface='" MARK_IFACE "'",
    "type='signal',interface='" AUTHORITY_IFACE "',member='Changed'",
    "type='method_return',sender='" AUTHORITY_NAME "'",
    "type='error',sender='" AUTHORITY_NAME "'",
    NULL,
  };
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  g_mutex_init (&monitor->lock);
  g_cond_init (&monitor->changed);
  monitor->checks = g_ptr_array_new_with_free_func ((GDestroyNotify) polkit_check_free);
  monitor->sender_pids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  monitor->bus = vb_system_connect (world.address);
  g_dbus_connection_add_filter (monitor->bus, monitor_filter, monitor, NULL);
  reply = g_dbus_connection_call_sync (monitor->bus, "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus.Monitoring", "BecomeMonitor",
                                       g_variant_new ("(^asu)", rules, 0),
                                       G_VARIANT_TYPE ("()"), G_DBUS_CALL_FLAGS_NONE, -1,
                                       NULL, &error);
  g_assert_no_error (error);
  return monitor;
}

void
vb_polkit_monitor_free (VbPolkitMonitor *monitor)
{
  g_dbus_connection_close_sync (monitor->bus, NULL, NULL);
  g_object_unref (monitor->bus);
  g_ptr_array_unref (monitor->checks);
  g_hash_table_unref (monitor->sender_pids);
  g_mutex_clear (&monitor->lock);
  g_cond_clear (&monitor->changed);
  g_free (monitor);
}

guint
vb_polkit_monitor_mark (VbPolkitMonitor *monitor)
{
  guint64 mark = ++monitor->last_mark_sent;
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  g_autoptr(GError) error = NULL;
  guint n_checks;

  /* A broadcast reaches the monitor after every message the bus routed
   * before it (and so every check made for an answer already received). */
  g_dbus_connection_emit_signal (world.fixture.bus, NULL, MARK_PATH, MARK_IFACE, "Mark",
                                 g_variant_new ("(t)", mark), &error);
  g_assert_no_error (error);
  g_dbus_connection_flush_sync (world.fixture.bus, NULL, &error);
  g_assert_no_error (error);
  g_mutex_lock (&monitor->lock);
  while (monitor->last_mark_seen < mark)
    if (!g_cond_wait_until (&monitor->changed, &monitor->lock, deadline))
      g_error ("the bus monitor did not see mark %" G_GUINT64_FORMAT " within 20 s", mark);
  n_checks = monitor->checks->len;
  g_mutex_unlock (&monitor->lock);
  return n_checks;
}

/* Whether bus name @sender is a connection of the running virtbusd (it
 * may ask polkit on a connection of its own). */
static gboolean
sent_by_daemon (VbPolkitMonitor *monitor, const char *sender)
{
  const char *daemon_pid = g_subprocess_get_identifier (world.fixture.daemon);
  gpointer known;
  g_autoptr(GVariant) reply = NULL;
  guint32 pid = 0;

  if (g_hash_table_lookup_extended (monitor->sender_pids, sender, NULL, &known))
    return GPOINTER_TO_UINT (known) == (guint) g_ascii_strtoull (daemon_pid, NULL, 10);
  reply = g_dbus_connection_call_sync (world.fixture.bus, "org.freedesktop.DBus",
                                       "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "GetConnectionUnixProcessID",
                                       g_variant_new ("(s)", sender), G_VARIANT_TYPE ("(u)"),
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  if (reply != NULL)
    g_variant_get (reply, "(u)", &pid);
  g_hash_table_insert (monitor->sender_pids, g_strdup (sender), GUINT_TO_POINTER (pid));
  return pid == (guint) g_ascii_strtoull (daemon_pid, NULL, 10);
}

guint
vb_polkit_monitor_n_changed (VbPolkitMonitor *monitor)
{
  guint n_changed;

  vb_polkit_monitor_mark (monitor);
  g_mutex_lock (&monitor->lock);
  n_changed = monitor->n_changed;
  g_mutex_unlock (&monitor->lock);
  return n_changed;
}

guint
vb_polkit_monitor_count (VbPolkitMonitor *monitor, guint mark, const char *action,
                         const char *subject, int interactive)
{
  guint end = vb_polkit_monitor_mark (monitor);
  g_autoptr(GPtrArray) checks = g_ptr_array_new ();
  guint n = 0;

  g_mutex_lock (&monitor->lock);
  for (guint i = mark; i < end; i++)
    g_ptr_array_add (checks, g_ptr_array_index (monitor->checks, i));
  g_mutex_unlock (&monitor->lock);
  for (guint i = 0; i < checks->len; i++)
    {
      const VbPolkitCheck *check = g_ptr_array_index (checks, i);

      if (!sent_by_daemon (monitor, check->sender))
        continue;
      if (action != NULL && g_strcmp0 (check->action, action) != 0)
        continue;
      if (subject != NULL && g_strcmp0 (check->subject, subject) != 0)
        continue;
      if (interactive >= 0 && ((check->flags & 1) != 0) != (interactive != 0))
        continue;
      n++;
    }
  return n;
}

/* The checks since @mark that the running virtbusd made. */
static GPtrArray *
daemon_checks (VbPolkitMonitor *monitor, guint mark)
{
  guint end = vb_polkit_monitor_mark (monitor);
  g_autoptr(GPtrArray) all = g_ptr_array_new ();
  GPtrArray *checks = g_ptr_array_new ();

  g_mutex_lock (&monitor->lock);
  for (guint i = mark; i < end; i++)
    g_ptr_array_add (all, g_ptr_array_index (monitor->checks, i));
  g_mutex_unlock (&monitor->lock);
  for (guint i = 0; i < all->len; i++)
    if (sent_by_daemon (monitor, ((VbPolkitCheck *) g_ptr_array_index (all, i))->sender))
      g_ptr_array_add (checks, g_ptr_array_index (all, i));
  return checks;
}

static int
compare_events (gconstpointer a, gconstpointer b)
{
  const gint64 *x = a, *y = b;

  return (*x > *y) - (*x < *y);
}

guint
vb_polkit_monitor_max_in_flight (VbPolkitMonitor *monitor, guint mark)
{
  g_autoptr(GPtrArray) checks = daemon_checks (monitor, mark);
  g_autoptr(GArray) events = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 in_flight = 0, max_in_flight = 0;

  /* Each check is +1 when sent and -1 when answered, in the order the
   * monitor saw them: (order * 2) + 0 for an answer, + 1 for a check. */
  g_mutex_lock (&monitor->lock);
  for (guint i = 0; i < checks->len; i++)
    {
      const VbPolkitCheck *check = g_ptr_array_index (checks, i);
      gint64 sent = (gint64) check->sent * 2 + 1, answered = (gint64) check->answered * 2;

      g_array_append_val (events, sent);
      if (check->answered != 0)
        g_array_append_val (events, answered);
    }
  g_mutex_unlock (&monitor->lock);
  g_array_sort (events, compare_events);
  for (guint i = 0; i < events->len; i++)
    {
      in_flight += (g_array_index (events, gint64, i) % 2 == 1) ? 1 : -1;
      max_in_flight = MAX (max_in_flight, in_flight);
    }
  return (guint) max_in_flight;
}

int
vb_polkit_monitor_position (VbPolkitMonitor *monitor, guint mark, const char *subject)
{
  g_autoptr(GPtrArray) checks = daemon_checks (monitor, mark);

  for (guint i = 0; i < checks->len; i++)
    if (g_strcmp0 (((VbPolkitCheck *) g_ptr_array_index (checks, i))->subject, subject) == 0)
      return (int) i;
  return -1;
}

static void
skip_without_root (void)
{
  g_test_skip ("needs root: makes users, a mount namespace and a system bus");
}

int
vb_authz_test_main (int argc, char **argv, const char *suite, void (*add_tests) (void),
                    void (*tear_down) (void))
{
  int status = vb_authz_helper_main (argc, argv);
  g_autofree char *skipped = NULL;

  if (status >= 0)
    return status;
  g_test_init (&argc, &argv, NULL);
  if (geteuid () != 0)
    {
      skipped = g_strdup_printf ("/%s/needs-root", suite);
      g_test_add_func (skipped, skip_without_root);
      return g_test_run ();
    }
  vb_authz_world_up ();
  add_tests ();
  status = g_test_run ();
  if (tear_down != NULL)
    tear_down ();
  vb_authz_world_down ();
  return status;
}
