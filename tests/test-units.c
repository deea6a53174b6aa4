/* Unit tests of the daemon's pure pieces, linked from its static library:
 * object path encoding, typed parameters, the command line. */
#include <string.h>

#include "bus.h"
#include "conn.h"
#include "events.h"
#include "introspection.h"
#include "options.h"
#include "paths.h"
#include "typed-params.h"

/* ---- paths ------------------------------------------------------------ */

static void
test_uuid_round_trip (void)
{
  const char *uuid = "6695eb01-f6a4-8304-79aa-97f2502e193f";
  g_autofree char *segment = vb_path_encode_uuid (uuid);
  char decoded[VIR_UUID_STRING_BUFLEN];

  g_assert_cmpstr (segment, ==, "_6695eb01_f6a4_8304_79aa_97f2502e193f");
  g_assert_true (vb_path_decode_uuid (segment, decoded));
  g_assert_cmpstr (decoded, ==, uuid);
}

static void
test_uuid_malformed (void)
{
  const char *malformed[] = {
    "", "_", "6695eb01_f6a4_8304_79aa_97f2502e193f", "_6695eb01_f6a4_8304_79aa_97f2502e193",
    "_6695eb01_f6a4_8304_79aa_97f2502e193fa", "_6695eb01xf6a4_8304_79aa_97f2502e193f",
    "_6695eb0g_f6a4_8304_79aa_97f2502e193f", "_6695eb01_f6a4_8304_79aa_97f2502e193f_x",
  };
  char decoded[VIR_UUID_STRING_BUFLEN];

  for (gsize i = 0; i < G_N_ELEMENTS (malformed); i++)
    g_assert_false (vb_path_decode_uuid (malformed[i], decoded));
  g_assert_false (vb_path_decode_uuid (NULL, decoded));
}

static void
test_escape_examples (void)
{
  /* The reference daemon's encodings */
  struct { const char *in, *out; } examples[] = {
    { "/default-pool/a-b.img", "_2fdefault_2dpool_2fa_2db_2eimg" },
    { "scsi_host2", "scsi_5fhost2" },
    { "aa:bb:cc:dd:ee:ff", "aa_3abb_3acc_3add_3aee_3aff" },
    { "computer", "computer" },
    { "", "_" },
    { "\xc3\xa9", "_c3_a9" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (examples); i++)
    {
      g_autofree char *escaped = vb_path_escape (examples[i].in);
      g_autofree char *unescaped = vb_path_unescape (escaped);
      g_autofree char *path = g_strconcat ("/x/", escaped, NULL);

      g_assert_cmpstr (escaped, ==, examples[i].out);
      g_assert_true (g_variant_is_object_path (path));
      g_assert_cmpstr (unescaped, ==, examples[i].in);
    }
}

static void
test_unescape_malformed (void)
{
  const char *malformed[] = { "", "_2", "_zz", "a_", "_00", "a-b", "a.b", "_2g" };

  for (gsize i = 0; i < G_N_ELEMENTS (malformed); i++)
    {
      g_autofree char *decoded = vb_path_unescape (malformed[i]);

      g_assert_null (decoded);
    }
}

/* ---- typed parameters ------------------------------------------------- */

static virTypedParameterPtr
known_parameters (int *n_known)
{
  virTypedParameterPtr known = NULL;
  int max = 0;

  *n_known = 0;
  g_assert_cmpint (virTypedParamsAddUInt (&known, n_known, &max, "shm_pages_to_scan", 100), ==, 0);
  g_assert_cmpint (virTypedParamsAddULLong (&known, n_known, &max, "shm_full_scans", 1), ==, 0);
  g_assert_cmpint (virTypedParamsAddString (&known, n_known, &max, "label", "x"), ==, 0);
  g_assert_cmpint (virTypedParamsAddBoolean (&known, n_known, &max, "flag", 0), ==, 0);
  g_assert_cmpint (virTypedParamsAddDouble (&known, n_known, &max, "ratio", 0.5), ==, 0);
  g_assert_cmpint (virTypedParamsAddInt (&known, n_known, &max, "delta", -1), ==, 0);
  g_assert_cmpint (virTypedParamsAddLLong (&known, n_known, &max, "offset", -5), ==, 0);
  return known;
}

static GVariant *
parse_dict (const char *text)
{
  GVariant *dict = g_variant_parse (G_VARIANT_TYPE ("a{sv}"), text, NULL, NULL, NULL);

  g_assert_nonnull (dict);
  return dict;
}

static void
test_typed_params_round_trip (void)
{
  int n_known;
  virTypedParameterPtr known = known_parameters (&n_known);
  g_autoptr(GVariant) input = parse_dict (
      "{'shm_pages_to_scan': <uint32 7>, 'shm_full_scans': <uint64 9>, 'label': <'hi'>,"
      " 'flag': <true>, 'ratio': <1.5>, 'delta': <int32 -3>, 'offset': <int64 -8>}");
  virTypedParameterPtr params = NULL;
  int n_params = 0;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) output = NULL;
  g_autoptr(GVariant) boxed = NULL;
  g_autoptr(GVariant) label = NULL;
  unsigned int pages = 0;

  g_assert_true (vb_typed_params_from_dict (input, known, n_known, &params, &n_params, &error));
  g_assert_no_error (error);
  g_assert_cmpint (n_params, ==, 7);
  g_assert_cmpint (virTypedParamsGetUInt (params, n_params, "shm_pages_to_scan", &pages), ==, 1);
  g_assert_cmpuint (pages, ==, 7);

  output = g_variant_ref_sink (vb_typed_params_to_dict (params, n_params));
  /* every value boxed twice on the wire */
  boxed = g_variant_lookup_value (output, "label", G_VARIANT_TYPE_VARIANT);
  g_assert_nonnull (boxed);
  label = g_variant_get_variant (boxed);
  g_assert_cmpstr (g_variant_get_string (label, NULL), ==, "hi");
  virTypedParamsFree (params, n_params);
  virTypedParamsFree (known, n_known);
}

static void
assert_rejected (const char *text, const char *message_part)
{
  int n_known;
  virTypedParameterPtr known = known_parameters (&n_known);
  g_autoptr(GVariant) input = parse_dict (text);
  virTypedParameterPtr params = NULL;
  int n_params = 0;
  g_autoptr(GError) error = NULL;

  g_assert_false (vb_typed_params_from_dict (input, known, n_known, &params, &n_params, &error));
  g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (error->message, message_part));
  g_assert_null (params);
  virTypedParamsFree (known, n_known);
}

static void
test_typed_params_rejected (void)
{
  assert_rejected ("{'nope': <uint32 1>}", "Unknown parameter 'nope'");
  assert_rejected ("{'shm_pages_to_scan': <'many'>}", "must be of type 'u', not 's'");
  assert_rejected ("{'shm_pages_to_scan': <uint32 1>, 'flag': <uint32 1>}", "'flag'");
  assert_rejected ("{'label': <<'boxed twice'>>}", "'label'");
}

/* ---- tables and interface XML agree ---------------------------------- */

static gboolean
table_has_method (const VbInterface *iface, const char *name)
{
  for (const VbMethod *m = iface->methods; m->name != NULL; m++)
    {
      if (g_str_equal (m->name, name) && m->func != NULL && m->permission != NULL)
        return TRUE;
    }
  return FALSE;
}

static gboolean
table_has_property (const VbInterface *iface, GDBusPropertyInfo *property)
{
  for (const VbProperty *p = iface->properties; p->name != NULL; p++)
    {
      if (!g_str_equal (p->name, property->name) || p->get == NULL)
        continue;
      if (property->flags & G_DBUS_PROPERTY_INFO_FLAGS_WRITABLE)
        return p->set != NULL && p->set_permission != NULL;
      return p->set == NULL;
    }
  return FALSE;
}

static void
test_tables_match_interface_xml (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (vb_introspection_load (&error));
  g_assert_no_error (error);
  for (const VbInterface *const *iface = vb_bus_interfaces (); *iface != NULL; iface++)
    {
      GDBusInterfaceInfo *info = vb_introspection_lookup ((*iface)->name);

      g_assert_nonnull (info);
      g_assert_nonnull ((*iface)->get_permission);
      for (GDBusMethodInfo **m = info->methods; m != NULL && *m != NULL; m++)
        {
          if (!table_has_method (*iface, (*m)->name))
            g_error ("%s.%s has no handler and permission in its table", (*iface)->name,
                     (*m)->name);
        }
      for (GDBusPropertyInfo **p = info->properties; p != NULL && *p != NULL; p++)
        if (!table_has_property (*iface, *p))
          g_error ("%s.%s: table and XML disagree", (*iface)->name, (*p)->name);
      /* and nothing in the table that the XML lacks */
      for (const VbMethod *m = (*iface)->methods; m->name != NULL; m++)
        g_assert_nonnull (g_dbus_interface_info_lookup_method (info, m->name));
    }
  vb_introspection_unload ();
}

/* ---- domain events no test guest can cause ---------------------------- */

/* Guest-OS or agent driven events (watchdog, RTC, balloon, power
 * management, agent, removal failure, control error) cannot be caused on
 * a guest without an OS: their callbacks are called here as libvirt would,
 * and the signals are checked as a client on a real bus receives them. */
typedef struct {
  GTestDBus *test_bus;
  GDBusConnection *emitter;
  GDBusConnection *listener;
  VbConn *conn;
  virConnectPtr virconn;
  virDomainPtr domain;
  GVariant *received;
  char *received_path;
} EventFixture;

static void
on_domain_signal (GDBusConnection *bus, const char *sender, const char *path,
                  const char *iface, const char *name, GVariant *params, gpointer data)
{
  EventFixture *f = data;

  g_clear_pointer (&f->received, g_variant_unref);
  g_free (f->received_path);
  f->received = g_variant_new ("(s@*)", name, params);
  g_variant_ref_sink (f->received);
  f->received_path = g_strdup (path);
}

static GDBusConnection *
connect_to (GTestDBus *bus)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *conn = g_dbus_connection_new_for_address_sync (
      g_test_dbus_get_bus_address (bus),
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);

  g_assert_no_error (error);
  return conn;
}

/* Waits for the next org.libvirt.Domain signal; asserts its name, path and
 * arguments (GVariant text). */
static void
assert_signal (EventFixture *f, const char *name, const char *args_text)
{
  g_autoptr(GVariant) expected = g_variant_parse (NULL, args_text, NULL, NULL, NULL);
  g_autoptr(GVariant) args = NULL;
  const char *got_name;
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (f->received == NULL && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
  g_assert_nonnull (f->received);
  g_variant_get (f->received, "(&s@*)", &got_name, &args);
  g_assert_cmpstr (got_name, ==, name);
  g_assert_cmpstr (f->received_path, ==,
                   "/org/libvirt/Test/domain/_6695eb01_f6a4_8304_79aa_97f2502e193f");
  g_assert_nonnull (expected);
  g_assert_true (g_variant_equal (args, expected));
  g_clear_pointer (&f->received, g_variant_unref);
}

static void
test_guest_driven_domain_signals (void)
{
  EventFixture f = { 0 };
  g_autoptr(GVariant) round_trip = NULL;
  guint subscription;
  virDomainEventGraphicsAddress address = { 0, (char *) "127.0.0.1", (char *) "5900" };

  f.test_bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (f.test_bus);
  f.emitter = connect_to (f.test_bus);
  f.listener = connect_to (f.test_bus);
  subscription = g_dbus_connection_signal_subscribe (f.listener, NULL, "org.libvirt.Domain",
                                                     NULL, NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                                     on_domain_signal, &f, NULL);
  /* the match rule is in place once a round trip has been made */
  round_trip = g_dbus_connection_call_sync (f.listener, "org.freedesktop.DBus",
                                            "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                            "GetId", NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1,
                                            NULL, NULL);
  g_assert_nonnull (round_trip);
  f.conn = vb_conn_new (f.emitter, "Test", "test:///default");
  f.virconn = virConnectOpen ("test:///default");
  f.domain = virDomainLookupByName (f.virconn, "test");
  g_assert_nonnull (f.domain);

  ((virConnectDomainEventWatchdogCallback) vb_events_domain_callback (VIR_DOMAIN_EVENT_ID_WATCHDOG)) (
      f.virconn, f.domain, VIR_DOMAIN_EVENT_WATCHDOG_PAUSE, f.conn);
  assert_signal (&f, "Watchdog", "(1,)");
  ((virConnectDomainEventRTCChangeCallback) vb_events_domain_callback (VIR_DOMAIN_EVENT_ID_RTC_CHANGE)) (
      f.virconn, f.domain, -3600, f.conn);
  assert_signal (&f, "RTCChange", "(int64 -3600,)");
  ((virConnectDomainEventBalloonChangeCallback) vb_events_domain_callback (VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE)) (
      f.virconn, f.domain, 65536, f.conn);
  assert_signal (&f, "BalloonChange", "(uint64 65536,)");
  ((virConnectDomainEventPMSuspendCallback) vb_events_domain_callback (VIR_DOMAIN_EVENT_ID_PMSUSPEND)) (
      f.virconn, f.domain, 0, f.conn);
  assert_signal (&f, "PMSuspend", "(0,)");
  ((virConnectDomainEventPMSuspendDiskCallback) vb_events_domain_callback (VIR_DOMAIN_EVENT_ID_PMSUSPEND_DISK)) (
      f.virconn, f.domain, 0, f.conn);
  assert_signal (&f, "PMSuspendDisk", "(0,)");
  ((virConnectDomainEventAgentLifecycleCallback) vb_events_domain_callback (VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE)) (
      f.virconn, f.domain, VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_CONNECTED,
      VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_REASON_CHANNEL, f.conn);
  assert_signal (&f, "AgentEvent", "(1, 2)");
  ((virConnectDomainEventDeviceRemovalFailedCallback) vb_events_domain_callback (VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED)) (
      f.virconn, f.domain, "virtio-disk1", f.conn);
  assert_signal (&f, "DeviceRemovalFailed", "('virtio-disk1',)");
  ((virConnectDomainEventGenericCallback) vb_events_domain_callback (VIR_DOMAIN_EVENT_ID_CONTROL_ERROR)) (
      f.virconn, f.domain, f.conn);
  assert_signal (&f, "ControlError", "()");
  /* absent strings from libvirt become empty D-Bus strings, never NULL */
  ((virConnectDomainEventIOErrorReasonCallback) vb_events_domain_callback (VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON)) (
      f.virconn, f.domain, NULL, "virtio-disk0", VIR_DOMAIN_EVENT_IO_ERROR_PAUSE, "enospc", f.conn);
  assert_signal (&f, "IOError", "('', 'virtio-disk0', 1, 'enospc')");
  ((virConnectDomainEventGraphicsCallback) vb_events_domain_callback (VIR_DOMAIN_EVENT_ID_GRAPHICS)) (
      f.virconn, f.domain, VIR_DOMAIN_EVENT_GRAPHICS_DISCONNECT, &address, &address, NULL, NULL, f.conn);
  assert_signal (&f, "Graphics",
                 "(2, (0, '127.0.0.1', '5900'), (0, '127.0.0.1', '5900'), '', @a(ss) [])");
  g_assert_null (vb_events_domain_callback (-1));

  g_dbus_connection_signal_unsubscribe (f.listener, subscription);
  virDomainFree (f.domain);
  virConnectClose (f.virconn);
  vb_conn_free (f.conn);
  g_dbus_connection_close_sync (f.emitter, NULL, NULL);
  g_dbus_connection_close_sync (f.listener, NULL, NULL);
  g_object_unref (f.emitter);
  g_object_unref (f.listener);
  g_free (f.received_path);
  g_test_dbus_down (f.test_bus);
  g_object_unref (f.test_bus);
}

/* ---- command line ----------------------------------------------------- */

static gboolean
parse (const char *const *args, VbOptions *options, GError **error)
{
  int argc = (int) g_strv_length ((char **) args);

  return vb_options_parse (argc, (char **) args, options, error);
}

static void
test_options_defaults (void)
{
  const char *const args[] = { "virtbusd", "--session", NULL };
  VbOptions options = { 0 };
  g_autoptr(GError) error = NULL;
  VbConnSpec *first;

  g_assert_true (parse (args, &options, &error));
  g_assert_no_error (error);
  g_assert_cmpint (options.bus_type, ==, G_BUS_TYPE_SESSION);
  g_assert_cmpuint (options.threads, ==, VB_DEFAULT_THREADS);
  g_assert_cmpuint (options.connections->len, ==, 7);
  first = g_ptr_array_index (options.connections, 0);
  g_assert_cmpstr (first->name, ==, "QEMU");
  g_assert_cmpstr (first->uri, ==, "qemu:///session");
  vb_options_clear (&options);
}

static void
test_options_system_defaults (void)
{
  g_autoptr(GPtrArray) specs = vb_options_default_connections (G_BUS_TYPE_SYSTEM);
  gboolean has_qemu = FALSE, has_test = FALSE;

  g_assert_cmpuint (specs->len, ==, 8);
  for (guint i = 0; i < specs->len; i++)
    {
      VbConnSpec *spec = g_ptr_array_index (specs, i);

      has_qemu = has_qemu || (g_str_equal (spec->name, "QEMU") && g_str_equal (spec->uri, "qemu:///system"));
      has_test = has_test || (g_str_equal (spec->name, "Test") && g_str_equal (spec->uri, "test:///default"));
    }
  g_assert_true (has_qemu);
  g_assert_true (has_test);
}

static void
test_options_connect_replaces_defaults (void)
{
  const char *const args[] = { "virtbusd", "--system", "-t", "8", "--connect",
                               "host2=qemu+ssh://host2/system?keyfile=/k", "-c",
                               "Test=test:///default", NULL };
  VbOptions options = { 0 };
  g_autoptr(GError) error = NULL;
  VbConnSpec *first;

  g_assert_true (parse (args, &options, &error));
  g_assert_cmpint (options.bus_type, ==, G_BUS_TYPE_SYSTEM);
  g_assert_cmpuint (options.threads, ==, 8);
  g_assert_cmpuint (options.connections->len, ==, 2);
  first = g_ptr_array_index (options.connections, 0);
  g_assert_cmpstr (first->name, ==, "host2");
  /* everything after the first '=' is the URI */
  g_assert_cmpstr (first->uri, ==, "qemu+ssh://host2/system?keyfile=/k");
  vb_options_clear (&options);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (virInitialize (), ==, 0);

  g_test_add_func ("/units/paths/uuid-round-trip", test_uuid_round_trip);
  g_test_add_func ("/units/paths/uuid-malformed", test_uuid_malformed);
  g_test_add_func ("/units/paths/escape-examples", test_escape_examples);
  g_test_add_func ("/units/paths/unescape-malformed", test_unescape_malformed);
  g_test_add_func ("/units/typed-params/round-trip", test_typed_params_round_trip);
  g_test_add_func ("/units/typed-params/rejected", test_typed_params_rejected);
  g_test_add_func ("/units/tables-match-interface-xml", test_tables_match_interface_xml);
  g_test_add_func ("/units/guest-driven-domain-signals", test_guest_driven_domain_signals);
  g_test_add_func ("/units/options/session-defaults", test_options_defaults);
  g_test_add_func ("/units/options/system-defaults", test_options_system_defaults);
  g_test_add_func ("/units/options/connect-replaces-defaults", test_options_connect_replaces_defaults);

  return g_test_run ();
}
