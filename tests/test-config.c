/* The configuration file: what a valid one sets, how the command line
 * overrides it, a missing one, and the exact message for each mistake
 * (file, line, key) from the real virtbusd. */
#include <glib/gstdio.h>
#include <string.h>

#include "config.h"
#include "options.h"
#include "vb-test.h"

typedef struct {
  char *dir;                 /* scratch directory, removed afterwards */
  char *path;                /* $dir/virtbusd.conf */
} ConfigFixture;

static void
config_setup (ConfigFixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("vbtest-config-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "virtbusd.conf", NULL);
}

static void
config_teardown (ConfigFixture *f, gconstpointer data)
{
  vb_test_remove_flat_dir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static void
write_config (ConfigFixture *f, const char *text)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (f->path, text, -1, &error);
  g_assert_no_error (error);
}

static gboolean
parse (const char *const *args, VbOptions *options, GError **error)
{
  return vb_options_parse ((int) g_strv_length ((char **) args), (char **) args,
                           options, error);
}

static void
assert_connection (const VbOptions *options, guint index, const char *name,
                   const char *uri)
{
  VbConnSpec *spec;

  g_assert_cmpuint (index, <, options->connections->len);
  spec = g_ptr_array_index (options->connections, index);
  g_assert_cmpstr (spec->name, ==, name);
  g_assert_cmpstr (spec->uri, ==, uri);
}

#define FULL_CONFIG \
  "# a comment\n" \
  "[service]\n" \
  "threads = 8\n" \
  "timeout=30\n" \
  "shutdown-timeout = 5  \n" \
  "\n" \
  "[authorization]\n" \
  "trusted-group = wheel\n" \
  "decision-lifetime = 0\n" \
  "polkit-timeout = 3\n" \
  "polkit-checks-per-second = 0\n" \
  "\n" \
  "[connections]\n" \
  "Test = test:///default\n" \
  "host2 = qemu+ssh://root@host2/system?keyfile=/etc/virtbus/id\n"

/* ---- what a file sets ----------------------------------------------------- */

static void
test_valid_file (ConfigFixture *f, gconstpointer data)
{
  const char *const args[] = { "virtbusd", "--system", "--config", f->path, NULL };
  VbOptions options = { 0 };
  g_autoptr(GError) error = NULL;

  write_config (f, FULL_CONFIG);
  g_assert_true (parse (args, &options, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (options.config_file, ==, f->path);
  g_assert_cmpuint (options.threads, ==, 8);
  g_assert_cmpuint (options.idle_timeout, ==, 30);
  g_assert_cmpuint (options.shutdown_timeout, ==, 5);
  g_assert_cmpstr (options.authz.trusted_group, ==, "wheel");
  g_assert_cmpuint (options.authz.decision_lifetime, ==, 0);
  g_assert_cmpuint (options.authz.polkit_timeout, ==, 3);
  g_assert_cmpuint (options.authz.polkit_rate, ==, 0);
  /* in the file's order, the URI whole after the first '=' */
  g_assert_cmpuint (options.connections->len, ==, 2);
  assert_connection (&options, 0, "Test", "test:///default");
  assert_connection (&options, 1, "host2", "qemu+ssh://root@host2/system?keyfile=/etc/virtbus/id");
  vb_options_clear (&options);
}

static void
test_command_line_overrides_file (ConfigFixture *f, gconstpointer data)
{
  const char *const args[] = { "virtbusd", "--system", "--config", f->path,
                               "--threads", "2", "--timeout", "0",
                               "--connect", "Other=test:///default", NULL };
  VbOptions options = { 0 };
  g_autoptr(GError) error = NULL;

  write_config (f, FULL_CONFIG);
  g_assert_true (parse (args, &options, &error));
  g_assert_cmpuint (options.threads, ==, 2);
  g_assert_cmpuint (options.idle_timeout, ==, 0);
  /* no command-line option for it: the file's stands */
  g_assert_cmpuint (options.shutdown_timeout, ==, 5);
  g_assert_cmpuint (options.connections->len, ==, 1);
  assert_connection (&options, 0, "Other", "test:///default");
  vb_options_clear (&options);
}

static void
test_partial_file_keeps_defaults (ConfigFixture *f, gconstpointer data)
{
  const char *const args[] = { "virtbusd", "--system", "--config", f->path, NULL };
  VbOptions options = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) defaults = vb_options_default_connections (G_BUS_TYPE_SYSTEM);

  write_config (f, "[service]\nthreads=6\n");
  g_assert_true (parse (args, &options, &error));
  g_assert_cmpuint (options.threads, ==, 6);
  g_assert_cmpuint (options.idle_timeout, ==, VB_DEFAULT_IDLE_TIMEOUT);
  g_assert_cmpuint (options.shutdown_timeout, ==, VB_DEFAULT_SHUTDOWN_TIMEOUT);
  g_assert_cmpstr (options.authz.trusted_group, ==, VB_DEFAULT_TRUSTED_GROUP);
  g_assert_cmpuint (options.authz.decision_lifetime, ==, VB_DEFAULT_DECISION_LIFETIME);
  g_assert_cmpuint (options.authz.polkit_timeout, ==, VB_DEFAULT_POLKIT_TIMEOUT);
  g_assert_cmpuint (options.authz.polkit_rate, ==, VB_DEFAULT_POLKIT_CHECKS_PER_SECOND);
  g_assert_cmpuint (options.connections->len, ==, defaults->len);
  assert_connection (&options, 3, "QEMU", "qemu:///system");
  vb_options_clear (&options);
}

/* Started on demand, virtbusd exits when idle after 120 s, unless the
 * file or the command line says otherwise. */
static void
test_activated_timeout (ConfigFixture *f, gconstpointer data)
{
  const char *const activated[] = { "virtbusd", "--session", "--config", f->path,
                                    "--activated", NULL };
  const char *const by_hand[] = { "virtbusd", "--session", "--config", f->path, NULL };
  const char *const told[] = { "virtbusd", "--session", "--config", f->path,
                               "--activated", "--timeout", "7", NULL };
  VbOptions options = { 0 };

  write_config (f, "[service]\nthreads=4\n");
  g_assert_true (parse (activated, &options, NULL));
  g_assert_cmpuint (options.idle_timeout, ==, VB_ACTIVATED_IDLE_TIMEOUT);
  vb_options_clear (&options);
  g_assert_true (parse (by_hand, &options, NULL));
  g_assert_cmpuint (options.idle_timeout, ==, 0);
  vb_options_clear (&options);

  write_config (f, "[service]\ntimeout=30\n");
  g_assert_true (parse (activated, &options, NULL));
  g_assert_cmpuint (options.idle_timeout, ==, 30);
  vb_options_clear (&options);
  g_assert_true (parse (by_hand, &options, NULL));
  g_assert_cmpuint (options.idle_timeout, ==, 30);
  vb_options_clear (&options);
  g_assert_true (parse (told, &options, NULL));
  g_assert_cmpuint (options.idle_timeout, ==, 7);
  vb_options_clear (&options);
}

/* ---- which file ------------------------------------------------------------- */

static void
test_default_files (void)
{
  g_autofree char *system_file = vb_options_default_config_file (G_BUS_TYPE_SYSTEM);
  g_autofree char *session_file = vb_options_default_config_file (G_BUS_TYPE_SESSION);
  g_autofree char *expected_session = g_build_filename (g_get_user_config_dir (), "virtbus",
                                                        "virtbusd.conf", NULL);

  g_assert_cmpstr (system_file, ==, VB_SYSTEM_CONFIG_FILE);
  g_assert_true (g_path_is_absolute (system_file));
  g_assert_true (g_str_has_suffix (system_file, "/virtbus/virtbusd.conf"));
  g_assert_cmpstr (session_file, ==, expected_session);
}

/* A session daemon reads $XDG_CONFIG_HOME/virtbus/virtbusd.conf when it is
 * there, and runs on its defaults when it is not.  Run in a child: GLib
 * reads $XDG_CONFIG_HOME once per process. */
static void
test_default_session_file (ConfigFixture *f, gconstpointer data)
{
  g_autofree char *config_dir = g_build_filename (f->dir, "virtbus", NULL);
  g_autofree char *config_file = g_build_filename (config_dir, "virtbusd.conf", NULL);

  if (g_test_subprocess ())
    {
      const char *const args[] = { "virtbusd", "--session", NULL };
      VbOptions options = { 0 };
      g_autoptr(GError) error = NULL;
      const char *dir = g_getenv ("XDG_CONFIG_HOME");
      g_autofree char *file = g_build_filename (dir, "virtbus", "virtbusd.conf", NULL);
      gboolean exists = g_file_test (file, G_FILE_TEST_EXISTS);

      g_assert_true (parse (args, &options, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (options.config_file, ==, exists ? file : NULL);
      g_assert_cmpuint (options.threads, ==, exists ? 9 : VB_DEFAULT_THREADS);
      vb_options_clear (&options);
      return;
    }

  g_setenv ("XDG_CONFIG_HOME", f->dir, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();

  g_assert_cmpint (g_mkdir (config_dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (config_file, "[service]\nthreads=9\n", -1, NULL));
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  g_unlink (config_file);
  g_rmdir (config_dir);
  g_unsetenv ("XDG_CONFIG_HOME");
}

/* ---- mistakes, through the real daemon ---------------------------------------- */

/* virtbusd refuses the file with exactly "virtbusd: " @expected, where
 * "FILE" in @expected stands for the file's path; exit status 1. */
static void
assert_refused_message (const char *path, const char *expected)
{
  const char *const args[] = { "--session", "--config", path, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GString) wanted = g_string_new ("virtbusd: ");
  int status;

  g_string_append (wanted, expected);
  g_string_replace (wanted, "FILE", path, 0);
  g_string_append_c (wanted, '\n');

  vb_test_run_daemon (args, &status, &out, &err);
  g_assert_cmpstr (err, ==, wanted->str);
  g_assert_cmpstr (out, ==, "");
  g_assert_cmpint (status, ==, 1);
}

static void
assert_refused (ConfigFixture *f, const char *text, const char *expected)
{
  write_config (f, text);
  assert_refused_message (f->path, expected);
}

static void
test_missing_file (ConfigFixture *f, gconstpointer data)
{
  g_autofree char *missing = g_build_filename (f->dir, "absent.conf", NULL);

  assert_refused_message (missing, "cannot read the configuration file: Failed to open "
                                   "file “FILE”: No such file or directory");
  /* a directory is no file either */
  assert_refused_message (f->dir, "cannot read the configuration file: Error reading "
                                  "file “FILE”: Is a directory");
}

static void
test_malformed_syntax (ConfigFixture *f, gconstpointer data)
{
  assert_refused (f, "# first\n[service]\nthreads=4\njunk here\n",
                  "FILE:4: Key file contains line “junk here” which is not a "
                  "key-value pair, group, or comment");
  assert_refused (f, "\nthreads=4\n[service]\n",
                  "FILE:2: Key file does not start with a group");
  assert_refused (f, "[service\nthreads=4\n",
                  "FILE:1: Key file contains line “[service” which is not a "
                  "key-value pair, group, or comment");
  assert_refused (f, "[service]\n=4\n",
                  "FILE:2: Key file contains line “=4” which is not a key-value "
                  "pair, group, or comment");
  assert_refused (f, "[service]\nthreads=4\\\n",
                  "FILE:2: [service] threads: Key file contains key “threads” which "
                  "has a value that cannot be interpreted.");
  /* shown as text, whatever the bytes */
  assert_refused (f, "[service]\n\xff=1\n",
                  "FILE:2: [service] \xef\xbf\xbd: unknown key (virtbusd reads threads, "
                  "timeout and shutdown-timeout)");
}

static void
test_malformed_service (ConfigFixture *f, gconstpointer data)
{
  assert_refused (f, "[service]\nthreads=4\n\n[sevrice]\ntimeout=1\n",
                  "FILE:4: [sevrice]: unknown group (virtbusd reads [service], "
                  "[authorization] and [connections])");
  assert_refused (f, "[service]\nthread=4\n",
                  "FILE:2: [service] thread: unknown key (virtbusd reads threads, "
                  "timeout and shutdown-timeout)");
  assert_refused (f, "[service]\nthreads=0\n",
                  "FILE:2: [service] threads: expects a whole number from 1 to 1024, got '0'");
  assert_refused (f, "[service]\nthreads=many\n",
                  "FILE:2: [service] threads: expects a whole number from 1 to 1024, "
                  "got 'many'");
  assert_refused (f, "[service]\nthreads=+4\n",
                  "FILE:2: [service] threads: expects a whole number from 1 to 1024, got '+4'");
  assert_refused (f, "[service]\nthreads=\n",
                  "FILE:2: [service] threads: expects a whole number from 1 to 1024, got ''");
  assert_refused (f, "[service]\n# idle\ntimeout=-1\n",
                  "FILE:3: [service] timeout: expects a whole number from 0 to 86400, "
                  "got '-1'");
  assert_refused (f, "[service]\ntimeout=86401\n",
                  "FILE:2: [service] timeout: expects a whole number from 0 to 86400, "
                  "got '86401'");
  assert_refused (f, "[service]\nshutdown-timeout=0\n",
                  "FILE:2: [service] shutdown-timeout: expects a whole number from 1 to "
                  "600, got '0'");
  /* GKeyFile would keep the last one silently */
  assert_refused (f, "[service]\nthreads=4\ntimeout=1\n threads = 5\n",
                  "FILE:4: [service] threads: given twice (first on line 2)");
  assert_refused (f, "[service]\nthreads=4\n[connections]\nA=test:///default\n"
                     "[service]\nthreads=5\n",
                  "FILE:6: [service] threads: given twice (first on line 2)");
}

/* An empty trusted-group trusts nobody but root: a way to have polkit
 * asked for every caller. */
static void
test_authorization_without_trusted_group (ConfigFixture *f, gconstpointer data)
{
  const char *const args[] = { "virtbusd", "--system", "--config", f->path, NULL };
  VbOptions options = { 0 };
  g_autoptr(GError) error = NULL;

  write_config (f, "[authorization]\ntrusted-group =\n");
  g_assert_true (parse (args, &options, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (options.authz.trusted_group, ==, "");
  vb_options_clear (&options);
}

static void
test_malformed_authorization (ConfigFixture *f, gconstpointer data)
{
  assert_refused (f, "[authorization]\ntrusted_group=libvirt\n",
                  "FILE:2: [authorization] trusted_group: unknown key (virtbusd reads "
                  "trusted-group, decision-lifetime, polkit-timeout and "
                  "polkit-checks-per-second)");
  assert_refused (f, "[authorization]\npolkit-checks-per-second=100001\n",
                  "FILE:2: [authorization] polkit-checks-per-second: expects a whole "
                  "number from 0 to 100000, got '100001'");
  assert_refused (f, "[authorization]\ntrusted-group=libvirt,wheel\n",
                  "FILE:2: [authorization] trusted-group: not a group name (expected a "
                  "name such as libvirt, or nothing to trust nobody but root)");
  assert_refused (f, "[authorization]\ndecision-lifetime=301\n",
                  "FILE:2: [authorization] decision-lifetime: expects a whole number from "
                  "0 to 300, got '301'");
  assert_refused (f, "[authorization]\ndecision-lifetime=-1\n",
                  "FILE:2: [authorization] decision-lifetime: expects a whole number from "
                  "0 to 300, got '-1'");
  assert_refused (f, "[authorization]\npolkit-timeout=0\n",
                  "FILE:2: [authorization] polkit-timeout: expects a whole number from "
                  "1 to 600, got '0'");
  assert_refused (f, "[authorization]\npolkit-timeout=10\npolkit-timeout=11\n",
                  "FILE:3: [authorization] polkit-timeout: given twice (first on line 2)");
}

static void
test_malformed_connections (ConfigFixture *f, gconstpointer data)
{
  assert_refused (f, "[connections]\n# none yet\n",
                  "FILE:1: [connections]: lists no connection (remove the group to "
                  "serve the default set)");
  assert_refused (f, "[connections]\nTest=test:///default\nmy-host=qemu:///system\n",
                  "FILE:3: [connections] my-host: name 'my-host' must be letters, "
                  "digits and '_' only");
  assert_refused (f, "[connections]\nTest=test:///default\nEmpty=\n",
                  "FILE:3: [connections] Empty: name 'Empty' has no URI");
  assert_refused (f, "[connections]\nA=test:///default\nB=test:///default\n"
                     "A=qemu:///system\n",
                  "FILE:4: [connections] A: given twice (first on line 2)");
}

/* ---- a daemon serving what its file says ---------------------------------------- */

static void
test_daemon_serves_file_connections (ConfigFixture *f, gconstpointer data)
{
  const char *const args[] = { "--config", f->path, NULL };
  VbTestFixture bus = { 0 };
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) domains = NULL;

  write_config (f, "[service]\nthreads=2\n[connections]\nFromFile=test:///default\n");
  vb_test_setup_with_args (&bus, args);

  reply = vb_test_call (&bus, "/org/libvirt/FromFile", "org.libvirt.Connect", "ListDomains",
                        g_variant_new ("(u)", 0), "(ao)");
  domains = g_variant_get_child_value (reply, 0);
  g_assert_cmpuint (g_variant_n_children (domains), ==, 1);
  /* the default set is replaced: no /org/libvirt/Test */
  vb_test_assert_call_error (&bus, VB_TEST_CONNECT_PATH, "org.libvirt.Connect", "ListDomains",
                             g_variant_new ("(u)", 0),
                             "org.freedesktop.DBus.Error.UnknownObject", NULL);
  vb_test_teardown (&bus, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/config/" path, ConfigFixture, NULL, config_setup, func, config_teardown)

  ADD ("valid-file", test_valid_file);
  ADD ("command-line-overrides-file", test_command_line_overrides_file);
  ADD ("partial-file-keeps-defaults", test_partial_file_keeps_defaults);
  ADD ("activated-timeout", test_activated_timeout);
  g_test_add_func ("/config/default-files", test_default_files);
  ADD ("default-session-file", test_default_session_file);
  ADD ("missing-file", test_missing_file);
  ADD ("malformed/syntax", test_malformed_syntax);
  ADD ("malformed/service", test_malformed_service);
  ADD ("malformed/connections", test_malformed_connections);
  ADD ("authorization-without-trusted-group", test_authorization_without_trusted_group);
  ADD ("malformed/authorization", test_malformed_authorization);
  ADD ("daemon-serves-file-connections", test_daemon_serves_file_connections);
#undef ADD

  return g_test_run ();
}
