/* org.libvirt.Secret against a real libvirtd (qemu:///system; the test
 * driver has no secrets): a secret defined, looked up, set, read back
 * byte for byte (binary values), refused when private, and undefined, with
 * the SecretEvent of each lifecycle change; the value never reaches the
 * daemon's log, even with every debug log on.  Every secret's usage is
 * named vbtest-<pid>-* and removed at the end, even after a failure; at
 * the start, leftovers of runs whose process is gone are removed too. */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "vb-libvirtd.h"
#include "vb-test.h"

#define CONNECT_PATH "/org/libvirt/QEMU"
#define CONNECT "org.libvirt.Connect"
#define SECRET "org.libvirt.Secret"

#define USAGE_CEPH 2   /* VIR_SECRET_USAGE_TYPE_CEPH */
/* printf format: private or not, the usage name */
#define SECRET_XML \
  "<secret ephemeral='no' private='%s'><usage type='ceph'><name>%s</name></usage></secret>"
/* What must never show in a log. */
#define MARKER "vbtest-marker-9f2c4e"

/* virSecretEventLifecycleType */
enum { DEFINED = 0, UNDEFINED = 1 };

/* This run's usage names, vbtest-<pid>-*: made by main(). */
static char *usage_name;
static char *private_usage_name;

static char *
secret_xml (gboolean private)
{
  return g_strdup_printf (SECRET_XML, private ? "yes" : "no",
                          private ? private_usage_name : usage_name);
}

static void
remove_test_secrets (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *list = vb_virsh ((const char *[]) { "secret-list", NULL }, &error);
  g_auto(GStrv) lines = g_strsplit (list != NULL ? list : "", "\n", -1);

  for (char **line = lines; *line != NULL; line++)
    {
      /* " <UUID>   ceph <usage name>" */
      g_auto(GStrv) words = g_strsplit_set (g_strstrip (*line), " ", -1);
      guint n_words = g_strv_length (words);
      g_autofree char *out = NULL;

      if (n_words < 2 || !vb_test_run_name_is_removable (words[n_words - 1]))
        continue;
      out = vb_virsh ((const char *[]) { "secret-undefine", words[0], NULL }, NULL);
    }
}

static void
teardown (VbTestFixture *f, gconstpointer data)
{
  vb_test_teardown (f, data);
  remove_test_secrets ();
}

static void
assert_event (VbSignalRecorder *events, const char *path, gint32 expected)
{
  g_autoptr(GVariant) event = vb_signal_recorder_wait_for_object (events, path);
  gint32 type, detail;

  g_variant_get (event, "(&oii)", NULL, &type, &detail);
  g_assert_cmpint (type, ==, expected);
}

static char *
define_secret (VbTestFixture *f, VbSignalRecorder *events, gboolean private)
{
  g_autofree char *xml = secret_xml (private);
  g_autoptr(GVariant) reply = vb_test_call (f, CONNECT_PATH, CONNECT, "SecretDefineXML",
                                            g_variant_new ("(su)", xml, 0), "(o)");
  char *path = vb_test_reply_path (reply);

  assert_event (events, path, DEFINED);
  return path;
}

static void
set_value (VbTestFixture *f, const char *path, GBytes *value)
{
  g_autoptr(GVariant) reply = vb_test_call (
      f, path, SECRET, "SetValue",
      g_variant_new ("(@ayu)", g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, value, TRUE), 0),
      "()");
}

static GBytes *
get_value (VbTestFixture *f, const char *path)
{
  g_autoptr(GVariant) reply = vb_test_call (f, path, SECRET, "GetValue", g_variant_new ("(u)", 0),
                                            "(ay)");
  g_autoptr(GVariant) value = g_variant_get_child_value (reply, 0);

  return g_variant_get_data_as_bytes (value);
}

/* Every byte value, zeros inside, no terminator. */
static GBytes *
binary_value (void)
{
  guchar bytes[512];

  for (gsize i = 0; i < sizeof bytes; i++)
    bytes[i] = (guchar) (255 - i % 256);
  return g_bytes_new (bytes, sizeof bytes);
}

/* ---- tests ------------------------------------------------------------- */

static void
test_define_lookup_undefine (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "SecretEvent");
  g_autofree char *path = define_secret (f, events, FALSE);
  g_autoptr(GVariant) all = vb_test_get_all (f, path, SECRET);
  g_autoptr(GVariant) by_usage = vb_test_call (f, CONNECT_PATH, CONNECT, "SecretLookupByUsage",
                                               g_variant_new ("(is)", USAGE_CEPH, usage_name),
                                               "(o)");
  g_autofree char *found = vb_test_reply_path (by_usage);
  g_autoptr(GVariant) xml = vb_test_call (f, path, SECRET, "GetXMLDesc", g_variant_new ("(u)", 0),
                                          "(s)");
  const char *uuid = NULL, *usage_id = NULL, *desc;
  gint32 usage_type = -1;
  g_autofree char *uuid_path = NULL;

  g_assert_true (g_variant_lookup (all, "UUID", "&s", &uuid));
  g_assert_true (g_variant_lookup (all, "UsageID", "&s", &usage_id));
  g_assert_true (g_variant_lookup (all, "UsageType", "i", &usage_type));
  g_assert_cmpstr (usage_id, ==, usage_name);
  g_assert_cmpint (usage_type, ==, USAGE_CEPH);
  g_assert_cmpstr (found, ==, path);
  uuid_path = g_strdelimit (g_strconcat (CONNECT_PATH "/secret/_", uuid, NULL), "-", '_');
  g_assert_cmpstr (uuid_path, ==, path);
  g_variant_get (xml, "(&s)", &desc);
  g_assert_nonnull (strstr (desc, usage_name));
  g_assert_nonnull (strstr (desc, uuid));
  vb_test_assert_call_error (f, path, SECRET, "GetXMLDesc", g_variant_new ("(u)", 0x80000000),
                             VB_ERROR_LIBVIRT_NAME, "unsupported flags");

  g_variant_unref (vb_test_call (f, path, SECRET, "Undefine", NULL, "()"));
  assert_event (events, path, UNDEFINED);
  vb_test_assert_object_gone (f, path, SECRET);
  vb_test_assert_call_error (f, CONNECT_PATH, CONNECT, "SecretLookupByUsage",
                             g_variant_new ("(is)", USAGE_CEPH, usage_name),
                             VB_ERROR_LIBVIRT_NAME, "Secret not found");
}

static void
test_value_round_trip (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "SecretEvent");
  g_autofree char *path = define_secret (f, events, FALSE);
  g_autoptr(GBytes) binary = binary_value ();
  g_autoptr(GBytes) text = g_bytes_new_static ("s3cret\n", 7);
  g_autoptr(GBytes) read_binary = NULL;
  g_autoptr(GBytes) read_text = NULL;

  vb_test_assert_call_error (f, path, SECRET, "GetValue", g_variant_new ("(u)", 0),
                             VB_ERROR_LIBVIRT_NAME, "does not have a value");
  set_value (f, path, binary);
  read_binary = get_value (f, path);
  g_assert_true (g_bytes_equal (read_binary, binary));
  set_value (f, path, text);
  read_text = get_value (f, path);
  g_assert_true (g_bytes_equal (read_text, text));

  vb_test_assert_call_error (f, path, SECRET, "GetValue", g_variant_new ("(u)", 0x80000000),
                             VB_ERROR_LIBVIRT_NAME, "unsupported flags");
  vb_test_assert_call_error (f, path, SECRET, "SetValue",
                             g_variant_new ("(@ayu)", g_variant_new_bytestring ("x"), 0x80000000),
                             VB_ERROR_LIBVIRT_NAME, "unsupported flags");
  vb_test_assert_call_error (f, path, SECRET, "SetValue", g_variant_new ("(su)", "x", 0),
                             "org.freedesktop.DBus.Error.InvalidArgs", NULL);
}

/* libvirt has no empty secret values (libvirtd could not even receive
 * one): refused, and the value set before is kept. */
static void
test_empty_value_refused (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "SecretEvent");
  g_autofree char *path = define_secret (f, events, FALSE);
  g_autoptr(GBytes) value = g_bytes_new_static ("kept", 4);
  g_autoptr(GBytes) read_back = NULL;

  set_value (f, path, value);
  vb_test_assert_call_error (f, path, SECRET, "SetValue",
                             g_variant_new ("(@ayu)", g_variant_new_array (G_VARIANT_TYPE_BYTE, NULL, 0), 0),
                             VB_ERROR_LIBVIRT_NAME, "must not be NULL");
  read_back = get_value (f, path);
  g_assert_true (g_bytes_equal (read_back, value));
}

static void
test_private_value_refused (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "SecretEvent");
  g_autofree char *path = define_secret (f, events, TRUE);
  g_autoptr(GBytes) value = g_bytes_new_static ("hidden", 6);

  set_value (f, path, value);
  vb_test_assert_call_error (f, path, SECRET, "GetValue", g_variant_new ("(u)", 0),
                             VB_ERROR_LIBVIRT_NAME, "private");
}

/* ---- the value stays out of logs --------------------------------------- */

typedef struct {
  VbTestFixture fixture;
  int saved_stdout;
  int saved_stderr;
  char *log_path;
} LoggedFixture;

/* The daemon inherits our stdout (where GLib writes debug messages) and
 * stderr (warnings, libvirt's log): point both at a file for the test,
 * with GLib's and libvirt's debug logs on. */
static void
setup_logged (LoggedFixture *f, gconstpointer data)
{
  int log_fd;

  f->log_path = g_build_filename (vb_libvirtd_scratch_dir (), "vbtest-daemon-log-XXXXXX", NULL);
  log_fd = g_mkstemp (f->log_path);
  g_assert_cmpint (log_fd, >=, 0);
  fflush (stdout);
  f->saved_stdout = dup (STDOUT_FILENO);
  f->saved_stderr = dup (STDERR_FILENO);
  g_assert_cmpint (dup2 (log_fd, STDOUT_FILENO), ==, STDOUT_FILENO);
  g_assert_cmpint (dup2 (log_fd, STDERR_FILENO), ==, STDERR_FILENO);
  close (log_fd);
  g_setenv ("G_MESSAGES_DEBUG", "all", TRUE);
  g_setenv ("LIBVIRT_DEBUG", "1", TRUE);
  vb_test_setup_libvirtd (&f->fixture, data);
  g_unsetenv ("G_MESSAGES_DEBUG");
  g_unsetenv ("LIBVIRT_DEBUG");
}

static void
teardown_logged (LoggedFixture *f, gconstpointer data)
{
  teardown (&f->fixture, data);
  fflush (stdout);
  dup2 (f->saved_stdout, STDOUT_FILENO);
  dup2 (f->saved_stderr, STDERR_FILENO);
  close (f->saved_stdout);
  close (f->saved_stderr);
  g_unlink (f->log_path);
  g_free (f->log_path);
}

static void
test_value_not_logged (LoggedFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (&f->fixture, CONNECT, "SecretEvent");
  g_autofree char *path = define_secret (&f->fixture, events, FALSE);
  g_autoptr(GBytes) value = g_bytes_new_static (MARKER, strlen (MARKER));
  g_autoptr(GBytes) read_back = NULL;
  g_autofree char *encoded = g_base64_encode ((const guchar *) MARKER, strlen (MARKER));
  g_autofree char *log = NULL;
  gsize log_size = 0;

  set_value (&f->fixture, path, value);
  read_back = get_value (&f->fixture, path);
  g_assert_true (g_bytes_equal (read_back, value));
  vb_test_stop_daemon (&f->fixture);

  g_assert_true (g_file_get_contents (f->log_path, &log, &log_size, NULL));
  /* The debug logs were on and wrote plenty; none of it is the value. */
  g_assert_nonnull (g_strstr_len (log, (gssize) log_size, "connection QEMU opened"));
  g_assert_cmpuint (log_size, >, 1000);
  g_assert_null (g_strstr_len (log, (gssize) log_size, MARKER));
  g_assert_null (g_strstr_len (log, (gssize) log_size, encoded));
}

/* ---- removed meanwhile, bad input -------------------------------------- */

static void
test_removed_behind_our_back (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "SecretEvent");
  g_autofree char *path = define_secret (f, events, FALSE);
  g_autoptr(GVariant) uuid = vb_test_get_property (f, path, SECRET, "UUID");
  g_autoptr(GError) error = NULL;
  g_autofree char *out = vb_virsh ((const char *[]) { "secret-undefine",
                                                      g_variant_get_string (uuid, NULL), NULL },
                                   &error);

  g_assert_no_error (error);
  assert_event (events, path, UNDEFINED);
  vb_test_assert_object_gone (f, path, SECRET);
}

static void
test_sweep (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, CONNECT, "SecretEvent");
  g_autofree char *path = define_secret (f, events, FALSE);
  g_autoptr(GBytes) value = g_bytes_new_static ("kept", 4);
  g_autoptr(GBytes) read_back = NULL;

  set_value (f, path, value);
  vb_test_sweep_object (f, path, SECRET, "<secret><<", 0xffffffff, NULL);
  vb_test_sweep_object (f, path, SECRET, "", 0x80000000, NULL);
  read_back = get_value (f, path);
  g_assert_true (g_bytes_equal (read_back, value));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  usage_name = vb_test_run_name ("secret");
  private_usage_name = vb_test_run_name ("private");

#define ADD(name, func) \
  g_test_add ("/qemu-secret/" name, VbTestFixture, NULL, vb_test_setup_libvirtd, func, \
              teardown)

  ADD ("Define+Lookup+GetXMLDesc+Undefine+SecretEvent", test_define_lookup_undefine);
  ADD ("SetValue+GetValue-binary", test_value_round_trip);
  ADD ("SetValue-empty-refused", test_empty_value_refused);
  ADD ("GetValue-private-refused", test_private_value_refused);
  g_test_add ("/qemu-secret/value-never-logged", LoggedFixture, NULL, setup_logged,
              test_value_not_logged, teardown_logged);
  ADD ("removed-behind-our-back", test_removed_behind_our_back);
  ADD ("sweep", test_sweep);
#undef ADD

  return vb_test_run_with_libvirtd (remove_test_secrets);
}
