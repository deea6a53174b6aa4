/* Per-call polkit authorization, end to end, as root, in the world of
 * vb-authz-world.h (a private system bus, polkitd with this project's
 * policy and rules, virtbusd --system on test:///default, test users
 * calling it).  Which members each user may call is derived from the
 * interface tables, so every member of every interface is covered.  The
 * bounds of reused decisions are in test-authz-decisions.c, lists and
 * signals in test-authz-lists.c. */
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "authz.h"
#include "vb-authz-world.h"

#define NO_NWFILTER_PATH "/org/libvirt/Test/nwfilter/_0b0c0d0e_0000_4000_8000_000000000001"
#define NO_SECRET_PATH "/org/libvirt/Test/secret/_0b0c0d0e_0000_4000_8000_000000000002"

/* ---- the table-driven sweep ----------------------------------------------- */

static const char *
sweep_path (const VbInterface *iface)
{
  if (iface->kind == NULL)
    return VB_AUTHZ_CONNECT_PATH;
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
  GPtrArray *calls = g_ptr_array_new_with_free_func ((GDestroyNotify) vb_test_call_free);
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
          GVariant *args = NULL;

          g_assert_nonnull (method);
          args = g_variant_ref_sink (vb_test_filler_args (method, "x", 0));
          /* Arguments that need a second permission: the stricter one is
           * what the call is refused for. */
          g_ptr_array_add (calls, vb_test_call_new (path, iface->name, m->name, args,
                                                    m->needs_extra != NULL &&
                                                            m->needs_extra (args)
                                                        ? m->extra_permission
                                                        : m->permission));
          g_variant_unref (args);
        }
      g_ptr_array_add (calls, vb_test_call_new (path, "org.freedesktop.DBus.Properties", "GetAll",
                                        g_variant_new ("(s)", iface->name),
                                        iface->get_permission));
      for (const VbProperty *p = iface->properties; p->name != NULL; p++)
        {
          GDBusPropertyInfo *property = g_dbus_interface_info_lookup_property (info, p->name);
          g_autoptr(GVariant) value = NULL;

          g_ptr_array_add (calls, vb_test_call_new (path, "org.freedesktop.DBus.Properties", "Get",
                                            g_variant_new ("(ss)", iface->name, p->name),
                                            iface->get_permission));
          if (p->set == NULL)
            continue;
          value = g_variant_ref_sink (g_variant_new_boolean (FALSE));
          g_assert_cmpstr (property->signature, ==, "b");
          g_ptr_array_add (calls, vb_test_call_new (path, "org.freedesktop.DBus.Properties", "Set",
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

static guint
assert_everyone_policy (GPtrArray *calls)
{
  guint n_denied = 0;

  for (guint i = 0; i < calls->len; i++)
    {
      const VbTestCall *call = g_ptr_array_index (calls, i);

      if (allowed_to_everyone (call->permission))
        {
          vb_assert_allowed (call);
        }
      else
        {
          vb_assert_denied (call);
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

  vb_call_as (USER_PLAIN, calls, FALSE);
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

  vb_call_as (USER_PLAIN, calls, TRUE);
  assert_everyone_policy (calls);
}

static const char *
reply_string (const VbTestCall *call)
{
  const char *text = NULL;

  if (call->reply == NULL)
    g_error ("%s.%s on %s answered %s (%s), expected a reply", call->iface, call->member,
             call->path, call->error_name, call->error_message);
  g_variant_get (call->reply, "(&s)", &text);
  return text;
}

static void
assert_has_vnc_password (const char *xml, gboolean expected)
{
  g_assert_nonnull (strstr (xml, "<graphics type='vnc'"));
  if (expected)
    g_assert_nonnull (strstr (xml, "passwd='secret123'"));
  else
    g_assert_null (strstr (xml, "secret123"));
}

static GVariant *
xml_args (guint flags)
{
  return g_variant_new ("(u)", flags);
}

/* The three members with an ..._XML_SECURE flag (1), without and with it:
 * the domain's and its snapshot's XML, and a save image's. */
static GPtrArray *
secure_xml_calls (const char *save_image)
{
  GPtrArray *calls = g_ptr_array_new_with_free_func ((GDestroyNotify) vb_test_call_free);

  for (guint flags = 0; flags <= 1; flags++)
    {
      g_ptr_array_add (calls, vb_test_call_new (world.secure1, "org.libvirt.Domain",
                                                "GetXMLDesc", xml_args (flags),
                                                "domain:read"));
      g_ptr_array_add (calls, vb_test_call_new (world.secure1_snapshot,
                                                "org.libvirt.DomainSnapshot", "GetXMLDesc",
                                                xml_args (flags), "domain:read"));
      g_ptr_array_add (calls, vb_test_call_new (VB_AUTHZ_CONNECT_PATH, "org.libvirt.Connect",
                                                "DomainSaveImageGetXMLDesc",
                                                g_variant_new ("(su)", save_image, flags),
                                                "domain:read"));
    }
  return calls;
}

/* A reader without read-secure (the default policy gives it to nobody but
 * the libvirt group) asking for secrets gets the XML as if it had not asked:
 * no VNC password, and nothing refused (Cockpit asks with the flag). */
static void
test_secure_xml_without_read_secure (void)
{
  g_autofree char *save_image = g_build_filename (world.dir, "secure1.save", NULL);
  g_autoptr(GPtrArray) calls = secure_xml_calls (save_image);
  g_autoptr(GVariant) started = NULL, saved = NULL;
  const guint n_members = calls->len / 2;

  /* The test driver keeps the password in its save images too. */
  started = vb_test_call (&world.fixture, world.secure1, "org.libvirt.Domain", "Create",
                          g_variant_new ("(u)", 0), "()");
  saved = vb_test_call (&world.fixture, world.secure1, "org.libvirt.Domain", "Save",
                        g_variant_new ("(ssu)", save_image, "", 0), "()");

  for (UserRole role = USER_PLAIN; role <= USER_WEB; role++)
    {
      vb_call_as (role, calls, FALSE);
      for (guint i = 0; i < n_members; i++)
        {
          const VbTestCall *without = g_ptr_array_index (calls, i);
          const VbTestCall *with = g_ptr_array_index (calls, i + n_members);

          g_test_message ("%s: %s.%s", vb_user_names[role], with->iface, with->member);
          if (g_str_equal (with->member, "DomainSaveImageGetXMLDesc"))
            {
              /* The test driver writes a save image's secrets whatever the
               * flags: here only that the reader is answered, as without
               * the flag. */
              assert_has_vnc_password (reply_string (with), TRUE);
              g_assert_cmpstr (reply_string (with), ==, reply_string (without));
              continue;
            }
          assert_has_vnc_password (reply_string (without), FALSE);
          /* Root's equal (the libvirt group): the secrets. */
          assert_has_vnc_password (reply_string (with), role == USER_ADMIN);
          if (role != USER_ADMIN)
            g_assert_cmpstr (reply_string (with), ==, reply_string (without));
        }
    }

  for (guint i = n_members; i < calls->len; i++)
    {
      const VbTestCall *with = g_ptr_array_index (calls, i);
      g_autoptr(GVariant) reply = vb_test_call (&world.fixture, with->path, with->iface,
                                                with->member, g_variant_ref (with->args),
                                                "(s)");
      const char *xml = NULL;

      g_variant_get (reply, "(&s)", &xml);
      assert_has_vnc_password (xml, TRUE);
    }
}

/* Host facts a reader may have (Cockpit reads them for every VM it lists),
 * unless the caller names an emulator binary for libvirtd to run: that
 * needs connect:write, as libvirt's ACL says of the whole call. */
static void
test_domain_capabilities_for_readers (void)
{
  g_autoptr(GPtrArray) calls = g_ptr_array_new_with_free_func (
      (GDestroyNotify) vb_test_call_free);
  VbTestCall *host_emulator, *named_emulator;

  host_emulator = vb_test_call_new (
      VB_AUTHZ_CONNECT_PATH, "org.libvirt.Connect", "GetDomainCapabilities",
      g_variant_new ("(ssssu)", "", "x86_64", "", "", 0), "connect:read");
  named_emulator = vb_test_call_new (
      VB_AUTHZ_CONNECT_PATH, "org.libvirt.Connect", "GetDomainCapabilities",
      g_variant_new ("(ssssu)", "/usr/bin/true", "x86_64", "", "", 0), "connect:write");
  g_ptr_array_add (calls, host_emulator);
  g_ptr_array_add (calls, named_emulator);

  vb_call_as (USER_PLAIN, calls, FALSE);
  vb_assert_allowed (host_emulator);
  vb_assert_denied (named_emulator);
  vb_call_as (USER_ADMIN, calls, FALSE);
  vb_assert_allowed (host_emulator);
  vb_assert_allowed (named_emulator);
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
  GPtrArray *calls = g_ptr_array_new_with_free_func ((GDestroyNotify) vb_test_call_free);

  g_ptr_array_add (calls, vb_test_call_new (path, "org.libvirt.Domain", member,
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

  vb_call_as (USER_WEB, start1, FALSE);
  g_assert_null (((VbTestCall *) start1->pdata[0])->error_name);
  g_assert_true (domain_is_active (world.web1));
  vb_call_as (USER_WEB, stop1, FALSE);
  g_assert_null (((VbTestCall *) stop1->pdata[0])->error_name);
  g_assert_false (domain_is_active (world.web1));

  vb_call_as (USER_WEB, start2, FALSE);
  vb_assert_denied (start2->pdata[0]);
  g_assert_false (domain_is_active (world.web2));
  root_start = vb_test_call (&world.fixture, world.web2, "org.libvirt.Domain", "Create",
                             g_variant_new ("(u)", 0), "()");
  vb_call_as (USER_WEB, stop2, FALSE);
  vb_assert_denied (stop2->pdata[0]);
  g_assert_true (domain_is_active (world.web2));
  root_stop = vb_test_call (&world.fixture, world.web2, "org.libvirt.Domain", "Destroy",
                            g_variant_new ("(u)", 0), "()");
}

/* Polkit's details name the connection (connect_driver): a rule lets the
 * plain user start guests through one connection only, here "Test" and
 * not "Twin", a second connection to the same driver (as it would be one
 * host of several). */
static void
test_rule_for_one_connection_only (void)
{
  static const char rules[] =
      "polkit.addRule(function(action, subject) {\n"
      "  if (action.id == 'org.libvirt.dbus.domain.start' &&\n"
      "      subject.user == 'vbauthz-plain' &&\n"
      "      action.lookup('connect_driver') == 'Test')\n"
      "    return polkit.Result.YES;\n"
      "});\n";
  g_autofree char *twin_web2 = NULL;
  g_autoptr(GPtrArray) start_on_twin = NULL;
  g_autoptr(GPtrArray) start_on_test = NULL;
  g_autoptr(GVariant) root_stop = NULL;

  vb_authz_world_use_config ("[connections]\nTest = test:///default\nTwin = test:///default\n");
  g_assert_true (g_str_has_prefix (world.web2, "/org/libvirt/Test/"));
  twin_web2 = g_strconcat ("/org/libvirt/Twin/", world.web2 + strlen ("/org/libvirt/Test/"),
                           NULL);
  start_on_twin = single_call (twin_web2, "Create", "domain:start");
  start_on_test = single_call (world.web2, "Create", "domain:start");
  vb_authz_world_set_polkit_rules ("30-vbauthz-one-connection.rules", rules);

  vb_call_as (USER_PLAIN, start_on_twin, FALSE);
  vb_assert_denied (start_on_twin->pdata[0]);
  g_assert_false (domain_is_active (world.web2));
  vb_call_as (USER_PLAIN, start_on_test, FALSE);
  vb_assert_allowed (start_on_test->pdata[0]);
  g_assert_true (domain_is_active (world.web2));
  g_assert_true (domain_is_active (twin_web2));

  root_stop = vb_test_call (&world.fixture, world.web2, "org.libvirt.Domain", "Destroy",
                            g_variant_new ("(u)", 0), "()");
  vb_authz_world_set_polkit_rules ("30-vbauthz-one-connection.rules", NULL);
  vb_authz_world_use_config ("");
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

  vb_call_as (USER_WEB, calls, FALSE);
  for (guint i = 0; i < calls->len; i++)
    {
      const VbTestCall *call = g_ptr_array_index (calls, i);
      gboolean on_web1 = g_str_equal (call->path, world.web1);

      if (on_web1 && (g_str_equal (call->permission, "domain:start") ||
                      g_str_equal (call->permission, "domain:stop")))
        {
          vb_assert_allowed (call);
          n_granted++;
        }
      else if (on_web1 && g_str_equal (call->permission, "domain:reset"))
        {
          g_assert_cmpstr (call->error_name, ==, VB_INTERACTION_REQUIRED);
        }
      else if (allowed_to_everyone (call->permission))
        {
          vb_assert_allowed (call);
        }
      else
        {
          vb_assert_denied (call);
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

  vb_call_as (USER_WEB, reset, FALSE);
  g_assert_cmpstr (((VbTestCall *) reset->pdata[0])->error_name, ==, VB_INTERACTION_REQUIRED);
  g_assert_nonnull (strstr (((VbTestCall *) reset->pdata[0])->error_message,
                            "org.libvirt.dbus.domain.reset"));

  vb_call_as (USER_WEB, reset, TRUE);
  vb_assert_denied (reset->pdata[0]);
}

/* While one caller sits at a password prompt (an agent that never
 * answers), the others' calls, which need polkit too, are all answered;
 * when the agent goes away the waiting caller is refused. */
static void
test_prompt_holds_up_nobody_else (void)
{
  g_autoptr(VbHelper) waiting = vb_client_new (USER_WEB);
  g_autoptr(VbHelper) agent = vb_agent_new (waiting);
  g_autoptr(GPtrArray) reset = single_call (world.web1, "Reset", "domain:reset");
  g_autoptr(GPtrArray) read = single_call (world.web1, "GetXMLDesc", "domain:read");
  g_autoptr(GPtrArray) start = single_call (world.web2, "Create", "domain:start");
  g_autoptr(GPtrArray) stop = single_call (world.web2, "Destroy", "domain:stop");
  g_autofree char *asked = NULL;

  vb_client_send (waiting, reset->pdata[0], TRUE);
  asked = vb_helper_read_line (agent, 30);
  /* polkit fills the message from the check's details. */
  g_assert_cmpstr (asked, ==, "ASKED org.libvirt.dbus.domain.reset "
                   "Authentication is required to reset the virtual machine web1");

  vb_call_as (USER_PLAIN, read, FALSE);
  g_assert_cmpstr (((VbTestCall *) read->pdata[0])->error_name, ==, NULL);
  vb_call_as (USER_ADMIN, start, FALSE);
  g_assert_cmpstr (((VbTestCall *) start->pdata[0])->error_name, ==, NULL);
  vb_call_as (USER_ADMIN, stop, FALSE);
  g_assert_cmpstr (((VbTestCall *) stop->pdata[0])->error_name, ==, NULL);
  g_assert_false (domain_is_active (world.web1));

  g_clear_pointer (&agent, vb_helper_free);
  vb_client_receive (waiting, reset->pdata[0], 60);
  vb_assert_denied (reset->pdata[0]);
}

/* Last: the libvirt group may call everything; the calls really run, so
 * they may remove the sweep's objects (UnknownObject is then an answer
 * given after authorization). */
static void
test_libvirt_group_allowed_everything (void)
{
  g_autoptr(GPtrArray) calls = all_calls (sweep_path);

  vb_call_as (USER_ADMIN, calls, FALSE);
  for (guint i = 0; i < calls->len; i++)
    vb_assert_allowed (g_ptr_array_index (calls, i));
}

static void
add_tests (void)
{
  g_test_add_func ("/authz/root-is-allowed", test_root_is_allowed);
  g_test_add_func ("/authz/outside-libvirt/read-only-members-only", test_user_outside_libvirt);
  g_test_add_func ("/authz/outside-libvirt/interactive-flag-without-agent",
                   test_user_outside_libvirt_interactive);
  g_test_add_func ("/authz/secure-xml/answered-without-secrets-to-readers",
                   test_secure_xml_without_read_secure);
  g_test_add_func ("/authz/domain-capabilities/readers-without-emulator-path",
                   test_domain_capabilities_for_readers);
  g_test_add_func ("/authz/rule/web1-start-and-stop", test_web_user_starts_and_stops_web1_only);
  g_test_add_func ("/authz/rule/everything-else-refused", test_web_user_refused_everything_else);
  g_test_add_func ("/authz/rule/one-connection-only", test_rule_for_one_connection_only);
  g_test_add_func ("/authz/rule/challenge", test_challenge_without_and_with_interaction);
  g_test_add_func ("/authz/rule/prompt-holds-up-nobody-else", test_prompt_holds_up_nobody_else);
  g_test_add_func ("/authz/libvirt-group/every-member-allowed",
                   test_libvirt_group_allowed_everything);
}

int
main (int argc, char **argv)
{
  return vb_authz_test_main (argc, argv, "authz", add_tests, NULL);
}
