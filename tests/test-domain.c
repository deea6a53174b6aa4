/* org.libvirt.Domain over a real bus against test:///default: every
 * method with its answer, or, where the test driver declines, the exact
 * org.libvirt.Error (those members are proven on QEMU guests in
 * test-qemu-domain.c); lifecycle signals; bad input. */
#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "vb-test.h"

#define DOMAIN "org.libvirt.Domain"
#define INVALID_ARGS "org.freedesktop.DBus.Error.InvalidArgs"
#define UNKNOWN_OBJECT "org.freedesktop.DBus.Error.UnknownObject"

#define INACTIVE_XML \
  "<domain type='test'><name>vbtest-off</name><memory>65536</memory>" \
  "<os><type>hvm</type></os></domain>"

/* ---- helpers ---------------------------------------------------------- */

static GVariant *
parse_args (const char *text)
{
  g_autoptr(GError) error = NULL;
  GVariant *args;

  if (text == NULL)
    return NULL;
  args = g_variant_parse (NULL, text, NULL, NULL, &error);
  g_assert_no_error (error);
  return args;
}

static GVariant *
domain_call (VbTestFixture *f, const char *method, const char *args, const char *reply_type)
{
  return vb_test_call (f, VB_TEST_DOMAIN_PATH, DOMAIN, method, parse_args (args), reply_type);
}

static void
assert_domain_error (VbTestFixture *f, const char *path, const char *method, const char *args,
                     const char *error_name, const char *message_part)
{
  vb_test_assert_call_error (f, path, DOMAIN, method, parse_args (args), error_name,
                             message_part);
}

static void
assert_reply_equals (GVariant *reply, const char *expected_text)
{
  g_autoptr(GVariant) expected = g_variant_parse (g_variant_get_type (reply), expected_text,
                                                  NULL, NULL, NULL);
  g_autofree char *printed = g_variant_print (reply, TRUE);

  g_assert_nonnull (expected);
  if (!g_variant_equal (reply, expected))
    g_error ("got %s, expected %s", printed, expected_text);
}

static void
assert_call_answers (VbTestFixture *f, const char *method, const char *args,
                     const char *expected_text)
{
  g_autoptr(GVariant) reply = domain_call (f, method, args, NULL);

  assert_reply_equals (reply, expected_text);
}

static void
get_state (VbTestFixture *f, const char *path, gint32 *state, gint32 *reason)
{
  g_autoptr(GVariant) reply = vb_test_call (f, path, DOMAIN, "GetState",
                                            g_variant_new ("(u)", 0), "((ii))");

  g_variant_get (reply, "((ii))", state, reason);
}

static void
assert_state (VbTestFixture *f, const char *path, gint32 expected)
{
  gint32 state, reason;

  get_state (f, path, &state, &reason);
  g_assert_cmpint (state, ==, expected);
}

static char *
define_inactive (VbTestFixture *f)
{
  g_autoptr(GVariant) reply = vb_test_connect_call (f, "DomainDefineXML",
                                                    g_variant_new ("(s)", INACTIVE_XML), "(o)");

  return vb_test_reply_path (reply);
}

static void
assert_domain_event (VbSignalRecorder *events, const char *path, gint32 type, gint32 detail)
{
  g_autofree char *signal_path = NULL;
  g_autoptr(GVariant) event = vb_signal_recorder_wait (events, &signal_path);
  const char *domain;
  gint32 event_type, event_detail;

  g_variant_get (event, "(&oii)", &domain, &event_type, &event_detail);
  g_assert_cmpstr (signal_path, ==, VB_TEST_CONNECT_PATH);
  g_assert_cmpstr (domain, ==, path);
  g_assert_cmpint (event_type, ==, type);
  g_assert_cmpint (event_detail, ==, detail);
}

static char *
scratch_file (const char *name)
{
  g_autofree char *dir = g_dir_make_tmp ("virtbus-domain-XXXXXX", NULL);

  g_assert_nonnull (dir);
  return g_build_filename (dir, name, NULL);
}

static void
remove_scratch_file (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);

  g_unlink (path);
  g_rmdir (dir);
}

/* ---- reading ---------------------------------------------------------- */

static void
test_state_and_description (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) xml = domain_call (f, "GetXMLDesc", "(uint32 0,)", "(s)");
  const char *text;

  g_variant_get (xml, "(&s)", &text);
  g_assert_nonnull (strstr (text, "<name>test</name>"));
  assert_call_answers (f, "GetState", "(uint32 0,)", "((1, 0),)");
  assert_call_answers (f, "GetControlInfo", "(uint32 0,)", "((uint32 0, uint32 0, uint64 0),)");
  assert_call_answers (f, "GetVcpus", "(uint32 0,)", "(uint32 2,)");
  assert_call_answers (f, "GetHostname", "(uint32 0,)", "('testhost',)");
  assert_call_answers (f, "HasManagedSaveImage", "(uint32 0,)", "(false,)");
  assert_call_answers (f, "GetDiskErrors", "(uint32 0,)", "([('vda', 1)],)");
  assert_call_answers (f, "GetFSInfo", "(uint32 0,)",
                       "([('/', 'vda1', 'ext4', ['vda']), ('/boot', 'vda2', 'ext4', ['vda'])],)");
  assert_call_answers (f, "InterfaceAddresses", "(uint32 0, uint32 0)",
                       "([('testnet0', 'aa:bb:cc:dd:ee:ff', [(0, '192.168.122.3', uint32 24)])],)");
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "GetXMLDesc", "(uint32 0x40000000,)",
                       VB_ERROR_LIBVIRT_NAME, "unsupported flags");
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "GetState", "(uint32 1,)",
                       VB_ERROR_LIBVIRT_NAME, "unsupported flags");
}

static void
test_statistics (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) memory = domain_call (f, "MemoryStats", "(uint32 0,)", "(a{it})");
  g_autoptr(GVariant) stats = domain_call (f, "GetStats", "(uint32 0, uint32 0)", "(a{sv})");
  g_autoptr(GVariant) boxed = g_variant_get_child_value (stats, 0);
  g_autoptr(GVariant) unboxed = vb_test_unbox_twice (boxed);
  g_autoptr(GVariant) dict = g_variant_get_child_value (memory, 0);
  guint64 available = 0;
  gint32 state = -1;
  GVariantIter iter;
  gint32 tag;
  guint64 value;

  /* VIR_DOMAIN_MEMORY_STAT_AVAILABLE (5): the test driver reports 2 GiB */
  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_next (&iter, "{it}", &tag, &value))
    if (tag == 5)
      available = value;
  g_assert_cmpuint (available, ==, 2097152);
  g_assert_true (g_variant_lookup (unboxed, "state.state", "i", &state));
  g_assert_cmpint (state, ==, 1);
  /* VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS with a stats group no driver has */
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "GetStats", "(uint32 0x40000000, uint32 0x80000000)",
                       VB_ERROR_LIBVIRT_NAME, NULL);
}

static void
test_time (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) set = domain_call (f, "SetTime", "(uint64 1000, uint32 5, uint32 0)", "()");
  g_autoptr(GVariant) time = domain_call (f, "GetTime", "(uint32 0,)", "((tu))");
  guint64 seconds;
  guint nanoseconds;

  g_variant_get (time, "((tu))", &seconds, &nanoseconds);
  g_assert_cmpuint (seconds, >, 0);
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "SetTime", "(uint64 18446744073709551615, uint32 0, uint32 0)",
                       INVALID_ARGS, "out of range");
}

static void
test_metadata (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) set = NULL;

  /* VIR_DOMAIN_METADATA_DESCRIPTION (0), title (1), element (2) */
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "GetMetadata", "(0, '', uint32 0)",
                       VB_ERROR_LIBVIRT_NAME, "metadata not found");
  set = domain_call (f, "SetMetadata", "(0, 'a VM for tests', '', '', uint32 0)", "()");
  assert_call_answers (f, "GetMetadata", "(0, '', uint32 0)", "('a VM for tests',)");
  g_clear_pointer (&set, g_variant_unref);
  set = domain_call (f, "SetMetadata",
                     "(2, '<app>yes</app>', 'vb', 'http://example.org/vb', uint32 0)", "()");
  assert_call_answers (f, "GetMetadata", "(2, 'http://example.org/vb', uint32 0)",
                       "('<app>yes</app>',)");
  /* an empty string removes the description */
  g_clear_pointer (&set, g_variant_unref);
  set = domain_call (f, "SetMetadata", "(0, '', '', '', uint32 0)", "()");
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "GetMetadata", "(0, '', uint32 0)",
                       VB_ERROR_LIBVIRT_NAME, "metadata not found");
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "SetMetadata", "(2, '<app', 'vb', 'http://example.org/vb', uint32 0)",
                       VB_ERROR_LIBVIRT_NAME, NULL);
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "SetMetadata", "(42, 'x', '', '', uint32 0)",
                       VB_ERROR_LIBVIRT_NAME, NULL);
}

/* ---- lifecycle -------------------------------------------------------- */

static void
test_lifecycle_with_signals (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, "org.libvirt.Connect", "DomainEvent");
  const char *path = VB_TEST_DOMAIN_PATH;
  g_autoptr(GVariant) r1 = domain_call (f, "Suspend", NULL, "()");
  g_autoptr(GVariant) r2 = NULL, r3 = NULL, r4 = NULL, r5 = NULL, r6 = NULL, r7 = NULL;

  /* virDomainEventType: 2 started, 3 suspended, 4 resumed, 5 stopped */
  assert_domain_event (events, path, 3, 0);
  assert_state (f, path, 3);
  assert_domain_error (f, path, "Suspend", NULL, VB_ERROR_LIBVIRT_NAME, "not running");
  r2 = domain_call (f, "Resume", NULL, "()");
  assert_domain_event (events, path, 4, 0);
  assert_state (f, path, 1);
  r3 = domain_call (f, "Reboot", "(uint32 0,)", "()");
  r4 = domain_call (f, "Reset", "(uint32 0,)", "()");
  assert_state (f, path, 1);
  r5 = domain_call (f, "Shutdown", "(uint32 0,)", "()");
  assert_domain_event (events, path, 5, 0);
  assert_state (f, path, 5);
  assert_domain_error (f, path, "Destroy", "(uint32 0,)", VB_ERROR_LIBVIRT_NAME, "not running");
  r6 = domain_call (f, "Create", "(uint32 0,)", "()");
  assert_domain_event (events, path, 2, 0);
  assert_state (f, path, 1);
  r7 = domain_call (f, "Destroy", "(uint32 0,)", "()");
  assert_domain_event (events, path, 5, 1);   /* VIR_DOMAIN_EVENT_STOPPED_DESTROYED */
  assert_state (f, path, 5);
  assert_domain_error (f, path, "Create", "(uint32 0x40000000,)", VB_ERROR_LIBVIRT_NAME,
                       "unsupported flags");
  assert_domain_error (f, path, "Shutdown", "(uint32 0,)", VB_ERROR_LIBVIRT_NAME, "not running");
}

static void
test_create_with_files (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *path = define_inactive (f);
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;
  gint32 handles[] = { 0 };
  gint32 bad_handles[] = { 2 };

  g_assert_cmpint (g_unix_fd_list_append (fds, STDIN_FILENO, NULL), ==, 0);
  reply = vb_test_call_with_fds (f, path, DOMAIN, "CreateWithFiles",
                                 g_variant_new ("(@ahu)",
                                                g_variant_new_fixed_array (G_VARIANT_TYPE_HANDLE, handles, 1, sizeof (gint32)),
                                                0),
                                 fds, &error);
  g_assert_no_error (error);
  assert_state (f, path, 1);
  vb_test_assert_call_error (f, path, DOMAIN, "CreateWithFiles",
                             g_variant_new ("(@ahu)",
                                            g_variant_new_fixed_array (G_VARIANT_TYPE_HANDLE, bad_handles, 1, sizeof (gint32)),
                                            0),
                             INVALID_ARGS, "handle 2");
}

static void
test_save_and_managed_save (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *image = scratch_file ("saved.img");
  g_autofree char *restore_args = g_strdup_printf ("('%s', '', uint32 0)", image);
  g_autofree char *save_args = g_strdup_printf ("('%s', '', uint32 0)", image);
  g_autoptr(GVariant) saved = domain_call (f, "Save", save_args, "()");
  g_autoptr(GVariant) restored = NULL;
  g_autoptr(GVariant) managed = NULL;
  g_autoptr(GVariant) removed = NULL;
  g_autoptr(GVariant) started = NULL;

  assert_state (f, VB_TEST_DOMAIN_PATH, 5);
  restored = vb_test_connect_call (f, "DomainRestore", parse_args (restore_args), "()");
  assert_state (f, VB_TEST_DOMAIN_PATH, 1);

  managed = domain_call (f, "ManagedSave", "(uint32 0,)", "()");
  assert_state (f, VB_TEST_DOMAIN_PATH, 5);
  assert_call_answers (f, "HasManagedSaveImage", "(uint32 0,)", "(true,)");
  removed = domain_call (f, "ManagedSaveRemove", "(uint32 0,)", "()");
  assert_call_answers (f, "HasManagedSaveImage", "(uint32 0,)", "(false,)");
  started = domain_call (f, "Create", "(uint32 0,)", "()");
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "Save", "('/nonexistent/dir/img', '', uint32 0)",
                       VB_ERROR_LIBVIRT_NAME, "/nonexistent/dir/img");
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "ManagedSave", "(uint32 0x40000000,)",
                       VB_ERROR_LIBVIRT_NAME, "unsupported flags");
  remove_scratch_file (image);
}

static void
test_core_dump (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *dump = scratch_file ("core");
  g_autofree char *args = g_strdup_printf ("('%s', uint32 0, uint32 0)", dump);
  g_autoptr(GVariant) reply = domain_call (f, "CoreDump", args, "()");

  g_assert_true (g_file_test (dump, G_FILE_TEST_EXISTS));
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "CoreDump", "('/nonexistent/dir/core', uint32 0, uint32 0)",
                       VB_ERROR_LIBVIRT_NAME, "/nonexistent/dir/core");
  remove_scratch_file (dump);
}

static void
test_rename_and_undefine (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(VbSignalRecorder) events = vb_signal_recorder_new (f, "org.libvirt.Connect", "DomainEvent");
  g_autofree char *path = define_inactive (f);
  g_autoptr(GVariant) renamed = NULL;
  g_autoptr(GVariant) name = NULL;
  g_autoptr(GVariant) undefined = NULL;

  assert_domain_event (events, path, 0, 0);   /* defined, added */
  renamed = vb_test_call (f, path, DOMAIN, "Rename", g_variant_new ("(su)", "vbtest-renamed", 0), "()");
  name = vb_test_get_property (f, path, DOMAIN, "Name");
  g_assert_cmpstr (g_variant_get_string (name, NULL), ==, "vbtest-renamed");
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "Rename", "('x', uint32 0)",
                       VB_ERROR_LIBVIRT_NAME, NULL);   /* running domains cannot be renamed */
  undefined = vb_test_call (f, path, DOMAIN, "Undefine", g_variant_new ("(u)", 0), "()");
  /* the old path now names nothing: never stale data */
  vb_test_assert_call_error (f, path, "org.freedesktop.DBus.Properties", "GetAll",
                             g_variant_new ("(s)", DOMAIN), UNKNOWN_OBJECT, "Domain not found");
  vb_test_assert_call_error (f, path, DOMAIN, "GetXMLDesc", g_variant_new ("(u)", 0),
                             UNKNOWN_OBJECT, NULL);
}

/* ---- tuning ----------------------------------------------------------- */

static void
test_vcpus_and_memory (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) set_vcpus = domain_call (f, "SetVcpus", "(uint32 1, uint32 0)", "()");
  g_autoptr(GVariant) set_memory = domain_call (f, "SetMemory", "(uint64 1048576, uint32 0)", "()");
  g_autoptr(GVariant) period = domain_call (f, "SetMemoryStatsPeriod", "(5, uint32 0)", "()");
  g_autoptr(GVariant) pin = domain_call (f, "PinVcpu", "(uint32 0, [true, false], uint32 0)", "()");
  g_autoptr(GVariant) pins = domain_call (f, "GetVcpuPinInfo", "(uint32 0,)", "(aab)");
  g_autoptr(GVariant) emulator = domain_call (f, "PinEmulator", "([false, true], uint32 0)", "()");
  g_autoptr(GVariant) first = NULL;
  gboolean cpu0, cpu1;

  assert_call_answers (f, "GetVcpus", "(uint32 0,)", "(uint32 1,)");
  g_variant_get_child (pins, 0, "@aab", &first);
  g_variant_get_child (first, 0, "ab", NULL);
  {
    g_autoptr(GVariant) vcpu0 = g_variant_get_child_value (first, 0);

    g_variant_get_child (vcpu0, 0, "b", &cpu0);
    g_variant_get_child (vcpu0, 1, "b", &cpu1);
  }
  g_assert_true (cpu0);
  g_assert_false (cpu1);
  assert_call_answers (f, "GetEmulatorPinInfo", "(uint32 0,)",
                       "([false, true, false, false, false, false, false, false],)");
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "PinVcpu", "(uint32 0, @ab [], uint32 0)",
                       INVALID_ARGS, "at least one CPU");
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "SetVcpus", "(uint32 1000, uint32 0)",
                       VB_ERROR_LIBVIRT_NAME, NULL);
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "SetMemory", "(uint64 18446744073709551615, uint32 0)",
                       VB_ERROR_LIBVIRT_NAME, NULL);
}

static void
test_iothreads (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) added = domain_call (f, "AddIOThread", "(uint32 5, uint32 0)", "()");
  g_autoptr(GVariant) pinned = domain_call (f, "PinIOThread", "(uint32 5, [false, true], uint32 0)", "()");
  g_autoptr(GVariant) deleted = NULL;

  assert_call_answers (f, "GetIOThreadInfo", "(uint32 0,)",
                       "([(uint32 5, [false, true, false, false, false, false, false, false])],)");
  deleted = domain_call (f, "DelIOThread", "(uint32 5, uint32 0)", "()");
  assert_call_answers (f, "GetIOThreadInfo", "(uint32 0,)", "(@a(uab) [],)");
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "DelIOThread", "(uint32 5, uint32 0)",
                       VB_ERROR_LIBVIRT_NAME, NULL);
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "PinIOThread", "(uint32 9, [true], uint32 0)",
                       VB_ERROR_LIBVIRT_NAME, NULL);
}

static GVariant *
params_of (VbTestFixture *f, const char *method, const char *args)
{
  g_autoptr(GVariant) reply = domain_call (f, method, args, "(a{sv})");
  g_autoptr(GVariant) boxed = g_variant_get_child_value (reply, 0);

  return vb_test_unbox_twice (boxed);
}

static void
test_typed_parameters (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) memory = NULL, numa = NULL, blkio = NULL, perf = NULL, tune = NULL;
  g_autoptr(GVariant) r1 = domain_call (f, "SetMemoryParameters", "({'hard_limit': <uint64 1000000>}, uint32 0)", "()");
  g_autoptr(GVariant) r2 = domain_call (f, "SetNumaParameters", "({'numa_nodeset': <'0'>}, uint32 0)", "()");
  g_autoptr(GVariant) r3 = domain_call (f, "SetBlockIOParameters", "({'weight': <uint32 500>}, uint32 0)", "()");
  g_autoptr(GVariant) r4 = domain_call (f, "SetPerfEvents", "({'cmt': <true>}, uint32 0)", "()");
  g_autoptr(GVariant) r5 = domain_call (f, "SetSchedulerParameters", "({'weight': <uint32 500>}, uint32 0)", "()");
  guint64 hard_limit = 0;
  const char *nodeset = NULL;
  guint weight = 0;
  gboolean cmt = FALSE;

  memory = params_of (f, "GetMemoryParameters", "(uint32 0,)");
  numa = params_of (f, "GetNumaParameters", "(uint32 0,)");
  blkio = params_of (f, "GetBlockIOParameters", "(uint32 0,)");
  perf = params_of (f, "GetPerfEvents", "(uint32 0,)");
  tune = params_of (f, "GetBlockIOTune", "('vda', uint32 0)");
  g_assert_true (g_variant_lookup (memory, "hard_limit", "t", &hard_limit));
  g_assert_cmpuint (hard_limit, ==, 1000000);
  g_assert_true (g_variant_lookup (numa, "numa_nodeset", "&s", &nodeset));
  g_assert_cmpstr (nodeset, ==, "0");
  g_assert_true (g_variant_lookup (blkio, "weight", "u", &weight));
  g_assert_cmpuint (weight, ==, 500);
  g_assert_true (g_variant_lookup (perf, "cmt", "b", &cmt));
  g_assert_true (cmt);
  g_assert_true (g_variant_lookup (tune, "total_bytes_sec", "t", NULL));

  /* the test driver declines reading scheduler parameters (libvirt adds a flag it lacks) */
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "GetSchedulerParameters", "(uint32 0,)",
                       VB_ERROR_LIBVIRT_NAME, "unsupported flags");
  /* wrong names and types name the field */
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "SetMemoryParameters", "({'hard_limit': <'lots'>}, uint32 0)",
                       INVALID_ARGS, "'hard_limit' must be of type 't', not 's'");
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "SetMemoryParameters", "({'no_such_limit': <uint64 1>}, uint32 0)",
                       INVALID_ARGS, "Unknown parameter 'no_such_limit'");
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "SetBlockIOParameters", "({'weight': <<uint32 1>>}, uint32 0)",
                       INVALID_ARGS, "'weight'");
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "SetSchedulerParameters", "({'weight': <[1, 2]>}, uint32 0)",
                       INVALID_ARGS, "'weight'");
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "SetBlockIOTune", "('vda', {'total_bytes_sec': <uint64 1000>}, uint32 0)",
                       VB_ERROR_LIBVIRT_NAME, "total_bytes_sec");
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "SetBlockIOTune", "('vda', {'total_bytes_sec': <1000>}, uint32 0)",
                       INVALID_ARGS, "'total_bytes_sec'");
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "GetInterfaceParameters", "('vnet0', uint32 0)",
                       VB_ERROR_LIBVIRT_NAME, "not a known interface");
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "SetInterfaceParameters", "('vnet0', {'inbound.average': <uint32 1>}, uint32 0)",
                       VB_ERROR_LIBVIRT_NAME, "not a known interface");
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "SetNumaParameters", "({'numa_nodeset': <'0'>}, uint32 0x40000000)",
                       VB_ERROR_LIBVIRT_NAME, "unsupported flags");
}

/* ---- the guest -------------------------------------------------------- */

static void
test_guest_interaction (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GVariant) r1 = domain_call (f, "SetUserPassword", "('root', 'secret', uint32 0)", "()");
  g_autoptr(GVariant) r2 = domain_call (f, "SendProcessSignal", "(int64 1, uint32 15, uint32 0)", "()");
  g_autoptr(GVariant) r3 = domain_call (f, "SendKey", "(uint32 0, uint32 0, [uint32 30, 48], uint32 0)", "()");
  g_autoptr(GVariant) r4 = domain_call (f, "InjectNMI", "(uint32 0,)", "()");
  g_autoptr(GVariant) r5 = domain_call (f, "FSTrim", "('', uint64 0, uint32 0)", "()");

  assert_call_answers (f, "FSFreeze", "(@as [], uint32 0)", "(uint32 2,)");
  assert_call_answers (f, "FSThaw", "(@as [], uint32 0)", "(uint32 2,)");
  assert_call_answers (f, "FSFreeze", "(['/'], uint32 0)", "(uint32 1,)");
  assert_call_answers (f, "FSThaw", "(['/'], uint32 0)", "(uint32 1,)");
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "SendKey", "(uint32 0, uint32 0, @au [], uint32 0)",
                       INVALID_ARGS, "keycodes");
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "SendKey",
                       "(uint32 0, uint32 0, [uint32 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17], uint32 0)",
                       INVALID_ARGS, "keycodes");
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "FSFreeze", "(['/nope'], uint32 0)",
                       VB_ERROR_LIBVIRT_NAME, NULL);
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "SendProcessSignal", "(int64 1, uint32 9999, uint32 0)",
                       VB_ERROR_LIBVIRT_NAME, NULL);
}

static void
test_memory_peek (VbTestFixture *f, gconstpointer data)
{
  /* VIR_MEMORY_VIRTUAL (1): the test driver answers a counting pattern */
  assert_call_answers (f, "MemoryPeek", "(uint64 0, uint64 4, uint32 1)", "([byte 0x00, 0x01, 0x02, 0x03],)");
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "MemoryPeek", "(uint64 0, uint64 1099511627776, uint32 1)",
                       INVALID_ARGS, "over the limit");
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "BlockPeek", "('vda', uint64 0, uint64 1099511627776, uint32 0)",
                       INVALID_ARGS, "over the limit");
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "MemoryPeek", "(uint64 0, uint64 4, uint32 0x40000000)",
                       VB_ERROR_LIBVIRT_NAME, NULL);
}

/* ---- what the test driver declines ------------------------------------ */

typedef struct {
  const char *method;
  const char *args;
  const char *message;   /* part of libvirt's message */
} DeclinedCall;

static const DeclinedCall declined_by_test_driver[] = {
  { "AbortJob", NULL, VB_NOT_SUPPORTED_BY_DRIVER },
  { "AttachDevice", "('<disk/>', uint32 0)", VB_NOT_SUPPORTED_BY_DRIVER },
  { "DetachDevice", "('<disk/>', uint32 0)", VB_NOT_SUPPORTED_BY_DRIVER },
  { "UpdateDevice", "('<disk/>', uint32 0)", VB_NOT_SUPPORTED_BY_DRIVER },
  { "BlockCommit", "('vda', '', '', uint64 0, uint32 0)", VB_NOT_SUPPORTED_BY_DRIVER },
  { "BlockCopy", "('vda', '<disk/>', @a{sv} {}, uint32 0)", VB_NOT_SUPPORTED_BY_DRIVER },
  { "BlockJobAbort", "('vda', uint32 0)", VB_NOT_SUPPORTED_BY_DRIVER },
  { "BlockJobSetSpeed", "('vda', uint64 0, uint32 0)", VB_NOT_SUPPORTED_BY_DRIVER },
  { "BlockPeek", "('vda', uint64 0, uint64 16, uint32 0)", VB_NOT_SUPPORTED_BY_DRIVER },
  { "BlockPull", "('vda', uint64 0, uint32 0)", VB_NOT_SUPPORTED_BY_DRIVER },
  { "BlockRebase", "('vda', '', uint64 0, uint32 0)", VB_NOT_SUPPORTED_BY_DRIVER },
  { "BlockResize", "('vda', uint64 1, uint32 0)", VB_NOT_SUPPORTED_BY_DRIVER },
  { "GetBlockJobInfo", "('vda', uint32 0)", VB_NOT_SUPPORTED_BY_DRIVER },
  { "SetBlockThreshold", "('vda', uint64 1, uint32 0)", VB_NOT_SUPPORTED_BY_DRIVER },
  { "GetGuestVcpus", "(uint32 0,)", VB_NOT_SUPPORTED_BY_DRIVER },
  { "SetGuestVcpus", "([true], 1, uint32 0)", VB_NOT_SUPPORTED_BY_DRIVER },
  { "GetJobInfo", NULL, VB_NOT_SUPPORTED_BY_DRIVER },
  { "GetJobStats", "(uint32 0,)", VB_NOT_SUPPORTED_BY_DRIVER },
  { "GetSecurityLabelList", NULL, VB_NOT_SUPPORTED_BY_DRIVER },
  { "MigrateGetCompressionCache", "(uint32 0,)", VB_NOT_SUPPORTED_BY_DRIVER },
  { "MigrateGetMaxSpeed", "(uint32 0,)", VB_NOT_SUPPORTED_BY_DRIVER },
  { "MigrateSetCompressionCache", "(uint64 1, uint32 0)", VB_NOT_SUPPORTED_BY_DRIVER },
  { "MigrateSetMaxDowntime", "(uint64 1, uint32 0)", VB_NOT_SUPPORTED_BY_DRIVER },
  { "MigrateSetMaxSpeed", "(uint64 1, uint32 0)", VB_NOT_SUPPORTED_BY_DRIVER },
  { "MigrateStartPostCopy", "(uint32 0,)", VB_NOT_SUPPORTED_BY_DRIVER },
  { "MigrateToURI3", "('test:///default', @a{sv} {}, uint32 0)", "migration is not supported" },
  { "OpenGraphicsFD", "(uint32 0, uint32 0)", VB_NOT_SUPPORTED_BY_DRIVER },
  { "PMWakeup", "(uint32 0,)", VB_NOT_SUPPORTED_BY_DRIVER },
};

static void
test_declined_by_test_driver (VbTestFixture *f, gconstpointer data)
{
  for (gsize i = 0; i < G_N_ELEMENTS (declined_by_test_driver); i++)
    assert_domain_error (f, VB_TEST_DOMAIN_PATH, declined_by_test_driver[i].method,
                         declined_by_test_driver[i].args, VB_ERROR_LIBVIRT_NAME,
                         declined_by_test_driver[i].message);
  /* our own checks come before the driver's */
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "BlockCopy", "('vda', '<disk/>', {'bandwidth': <'fast'>}, uint32 0)",
                       INVALID_ARGS, "'bandwidth'");
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "MigrateToURI3", "('test:///default', {'no_such': <1>}, uint32 0)",
                       INVALID_ARGS, "Unknown parameter 'no_such'");
  assert_domain_error (f, VB_TEST_DOMAIN_PATH, "SetGuestVcpus", "(@ab [], 1, uint32 0)",
                       INVALID_ARGS, "at least one vCPU");
  vb_test_assert_alive (f);
}

/* ---- bad input across every method ------------------------------------ */

static GVariant *
filler_arguments (GDBusMethodInfo *method, const char *text, guint32 number)
{
  GVariantBuilder args;

  g_variant_builder_init (&args, G_VARIANT_TYPE_TUPLE);
  for (GDBusArgInfo **arg = method->in_args; arg != NULL && *arg != NULL; arg++)
    {
      const char *sig = (*arg)->signature;

      if (g_str_equal (sig, "s"))
        g_variant_builder_add (&args, "s", text);
      else if (g_str_equal (sig, "u"))
        g_variant_builder_add (&args, "u", number);
      else if (g_str_equal (sig, "i"))
        g_variant_builder_add (&args, "i", (gint32) number);
      else if (g_str_equal (sig, "t"))
        g_variant_builder_add (&args, "t", (guint64) number);
      else if (g_str_equal (sig, "x"))
        g_variant_builder_add (&args, "x", (gint64) number);
      else if (g_str_equal (sig, "a{sv}"))
        g_variant_builder_add_parsed (&args, "{'x': <%s>}", text);
      else
        g_variant_builder_add_value (&args, g_variant_new_array (G_VARIANT_TYPE (sig + 1), NULL, 0));
    }
  return g_variant_builder_end (&args);
}

static GDBusInterfaceInfo *
domain_interface (VbTestFixture *f, GDBusNodeInfo **out_node)
{
  g_autoptr(GVariant) reply = vb_test_call (f, VB_TEST_DOMAIN_PATH, "org.freedesktop.DBus.Introspectable",
                                            "Introspect", NULL, "(s)");
  const char *xml;

  g_variant_get (reply, "(&s)", &xml);
  *out_node = g_dbus_node_info_new_for_xml (xml, NULL);
  return g_dbus_node_info_lookup_interface (*out_node, DOMAIN);
}

/* Methods whose success would end the sweep early or that only read. */
static gboolean
skip_in_sweep (const char *name)
{
  const char *skipped[] = { "Undefine", "Destroy", "Shutdown", "Save", "ManagedSave",
                            "Suspend", "Reboot", "Reset", "Rename", NULL };

  return g_strv_contains (skipped, name);
}

static void
test_bad_input_sweep (VbTestFixture *f, gconstpointer data)
{
  g_autoptr(GDBusNodeInfo) node = NULL;
  GDBusInterfaceInfo *info = domain_interface (f, &node);
  g_autofree char *huge = g_strnfill (1024 * 1024, '<');

  for (GDBusMethodInfo **m = info->methods; *m != NULL; m++)
    {
      const char *texts[] = { "", "<not-xml", huge };

      /* a wrong signature never reaches libvirt */
      vb_test_assert_call_error (f, VB_TEST_DOMAIN_PATH, DOMAIN, (*m)->name,
                                 g_variant_new ("(sss)", "a", "b", "c"), INVALID_ARGS, NULL);
      if (skip_in_sweep ((*m)->name))
        continue;
      for (gsize t = 0; t < G_N_ELEMENTS (texts); t++)
        {
          g_autoptr(GError) error = vb_test_call_expecting_error (
              f, VB_TEST_DOMAIN_PATH, DOMAIN, (*m)->name,
              filler_arguments (*m, texts[t], 0x40000000));
          g_autofree char *name = NULL;

          /* out-of-range flags and numbers, bad text: a precise error */
          if (error == NULL)
            continue;
          name = g_dbus_error_get_remote_error (error);
          if (!g_str_equal (name, VB_ERROR_LIBVIRT_NAME) && !g_str_equal (name, INVALID_ARGS))
            g_error ("%s answered %s: %s", (*m)->name, name, error->message);
        }
    }
  vb_test_assert_alive (f);
  assert_state (f, VB_TEST_DOMAIN_PATH, 1);
}

static void
test_domain_removed_meanwhile (VbTestFixture *f, gconstpointer data)
{
  g_autofree char *path = define_inactive (f);
  g_autoptr(GVariant) undefined = vb_test_call (f, path, DOMAIN, "Undefine", g_variant_new ("(u)", 0), "()");
  g_autoptr(GDBusNodeInfo) node = NULL;
  GDBusInterfaceInfo *info = domain_interface (f, &node);

  for (GDBusMethodInfo **m = info->methods; *m != NULL; m++)
    vb_test_assert_call_error (f, path, DOMAIN, (*m)->name, filler_arguments (*m, "x", 0),
                               UNKNOWN_OBJECT, NULL);
  vb_test_assert_alive (f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) \
  g_test_add ("/domain/" name, VbTestFixture, NULL, vb_test_setup, func, vb_test_teardown)

  ADD ("state-and-description", test_state_and_description);
  ADD ("statistics", test_statistics);
  ADD ("time", test_time);
  ADD ("metadata", test_metadata);
  ADD ("lifecycle-with-signals", test_lifecycle_with_signals);
  ADD ("create-with-files", test_create_with_files);
  ADD ("save-and-managed-save", test_save_and_managed_save);
  ADD ("core-dump", test_core_dump);
  ADD ("rename-and-undefine", test_rename_and_undefine);
  ADD ("vcpus-and-memory", test_vcpus_and_memory);
  ADD ("iothreads", test_iothreads);
  ADD ("typed-parameters", test_typed_parameters);
  ADD ("guest-interaction", test_guest_interaction);
  ADD ("memory-peek", test_memory_peek);
  ADD ("declined-by-test-driver", test_declined_by_test_driver);
  ADD ("bad-input-sweep", test_bad_input_sweep);
  ADD ("removed-meanwhile", test_domain_removed_meanwhile);
#undef ADD

  return g_test_run ();
}
