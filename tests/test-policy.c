/* The permission column of the interface tables, the polkit policy file
 * and the published table (docs/authorization-table.md) say the same
 * thing: every action a call can need exists in the policy with the
 * documented defaults, every action of the policy is used, and the docs
 * list each member with its action. */
#include <string.h>

#include "authz.h"
#include "bus.h"

/* libvirt's ACL object names. */
static const char *const acl_objects[] = {
  "connect", "domain", "network", "storage-pool", "storage-vol", "node-device",
  "interface", "nwfilter", "secret", NULL,
};

typedef struct {
  GHashTable *defaults;    /* action id -> "any/inactive/active" */
  char *action;            /* the <action> being read */
  char *element;           /* the element whose text is being read */
  char *values[3];         /* allow_any, allow_inactive, allow_active */
} PolicyReader;

static const char *const default_elements[] = {
  "allow_any", "allow_inactive", "allow_active",
};

static void
on_start_element (GMarkupParseContext *context, const char *name,
                  const char **attribute_names, const char **attribute_values,
                  gpointer data, GError **error)
{
  PolicyReader *reader = data;

  if (g_str_equal (name, "action"))
    {
      for (int i = 0; attribute_names[i] != NULL; i++)
        if (g_str_equal (attribute_names[i], "id"))
          reader->action = g_strdup (attribute_values[i]);
      g_assert_nonnull (reader->action);
    }
  g_free (reader->element);
  reader->element = g_strdup (name);
}

static void
on_text (GMarkupParseContext *context, const char *text, gsize length,
         gpointer data, GError **error)
{
  PolicyReader *reader = data;

  for (guint i = 0; i < G_N_ELEMENTS (default_elements); i++)
    {
      if (reader->element != NULL && g_str_equal (reader->element, default_elements[i]))
        {
          g_free (reader->values[i]);
          reader->values[i] = g_strndup (text, length);
        }
    }
}

static void
on_end_element (GMarkupParseContext *context, const char *name, gpointer data,
                GError **error)
{
  PolicyReader *reader = data;

  g_clear_pointer (&reader->element, g_free);
  if (!g_str_equal (name, "action"))
    return;
  for (guint i = 0; i < G_N_ELEMENTS (reader->values); i++)
    g_assert_nonnull (reader->values[i]);
  g_assert_false (g_hash_table_contains (reader->defaults, reader->action));
  g_hash_table_insert (reader->defaults, g_steal_pointer (&reader->action),
                       g_strdup_printf ("%s/%s/%s", reader->values[0],
                                        reader->values[1], reader->values[2]));
  for (guint i = 0; i < G_N_ELEMENTS (reader->values); i++)
    g_clear_pointer (&reader->values[i], g_free);
}

static const GMarkupParser policy_parser = {
  .start_element = on_start_element,
  .end_element = on_end_element,
  .text = on_text,
};

/* Action id -> its defaults, as the policy file declares them. */
static GHashTable *
read_policy (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "data", "polkit",
                                                 "org.libvirt.dbus.policy", NULL);
  g_autofree char *xml = NULL;
  g_autoptr(GError) error = NULL;
  PolicyReader reader = { 0 };
  g_autoptr(GMarkupParseContext) context = NULL;

  g_file_get_contents (path, &xml, NULL, &error);
  g_assert_no_error (error);
  reader.defaults = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  context = g_markup_parse_context_new (&policy_parser, G_MARKUP_IGNORE_QUALIFIED,
                                        &reader, NULL);
  g_markup_parse_context_parse (context, xml, -1, &error);
  g_assert_no_error (error);
  g_markup_parse_context_end_parse (context, &error);
  g_assert_no_error (error);
  return reader.defaults;
}

static void
assert_well_formed (const char *permission)
{
  g_auto(GStrv) parts = g_strsplit (permission, ":", -1);

  if (g_strv_length (parts) != 2 || !g_strv_contains (acl_objects, parts[0]) ||
      *parts[1] == '\0')
    g_error ("'%s' is not a libvirt ACL object:permission", permission);
}

static void
add_permission (GHashTable *used, const char *permission)
{
  g_assert_nonnull (permission);
  assert_well_formed (permission);
  g_hash_table_add (used, vb_authz_action_id (permission));
}

/* Every action a call can need, from the tables. */
static GHashTable *
actions_used_by_tables (void)
{
  GHashTable *used = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (const VbInterface *const *i = vb_bus_interfaces (); *i != NULL; i++)
    {
      add_permission (used, (*i)->get_permission);
      for (const VbMethod *m = (*i)->methods; m->name != NULL; m++)
        {
          add_permission (used, m->permission);
          g_assert_true ((m->extra_flags != 0 || m->needs_extra != NULL) ==
                         (m->extra_permission != NULL));
          g_assert_true ((m->extra_flags != 0) == (m->extra_flags_name != NULL));
          g_assert_true ((m->needs_extra != NULL) == (m->extra_when != NULL));
          g_assert_false (m->extra_flags != 0 && m->needs_extra != NULL);
          if (m->extra_permission != NULL)
            add_permission (used, m->extra_permission);
        }
      for (const VbProperty *p = (*i)->properties; p->name != NULL; p++)
        {
          g_assert_true ((p->set != NULL) == (p->set_permission != NULL));
          if (p->set_permission != NULL)
            add_permission (used, p->set_permission);
        }
    }
  return used;
}

static void
test_tables_and_policy_agree (void)
{
  g_autoptr(GHashTable) policy = read_policy ();
  g_autoptr(GHashTable) used = actions_used_by_tables ();
  GHashTableIter iter;
  gpointer action;

  g_hash_table_iter_init (&iter, used);
  while (g_hash_table_iter_next (&iter, &action, NULL))
    if (!g_hash_table_contains (policy, action))
      g_error ("%s is used by the tables but not in the policy", (char *) action);
  g_hash_table_iter_init (&iter, policy);
  while (g_hash_table_iter_next (&iter, &action, NULL))
    if (!g_hash_table_contains (used, action))
      g_error ("%s is in the policy but no call needs it", (char *) action);
}

/* getattr, read and search-*: everyone; the rest: an administrator in an
 * active local session. */
static void
test_policy_defaults (void)
{
  g_autoptr(GHashTable) policy = read_policy ();
  GHashTableIter iter;
  gpointer action, defaults;

  g_hash_table_iter_init (&iter, policy);
  while (g_hash_table_iter_next (&iter, &action, &defaults))
    {
      const char *verb = strrchr (action, '.') + 1;
      gboolean open = g_str_equal (verb, "getattr") || g_str_equal (verb, "read") ||
                      g_str_has_prefix (verb, "search-");

      g_assert_true (g_str_has_prefix (action, VB_AUTHZ_ACTION_PREFIX));
      g_assert_cmpstr (defaults, ==, open ? "yes/yes/yes" : "no/no/auth_admin_keep");
    }
}

static void
append_row (GString *table, const char *iface, const char *member, const char *permission,
            const char *flags_name, const char *extra_permission)
{
  g_autofree char *action = vb_authz_action_id (permission);
  g_autofree char *extra = NULL;

  if (extra_permission != NULL)
    {
      g_autofree char *extra_action = vb_authz_action_id (extra_permission);

      extra = g_strdup_printf ("with %s: also `%s`", flags_name, extra_action);
    }
  g_string_append_printf (table, "| %s | %s | `%s` | %s |\n", iface, member, action,
                          extra != NULL ? extra : "");
}

/* The published table, generated from the interface tables. */
static char *
authorization_table (void)
{
  GString *table = g_string_new (
      "<!-- Generated from the interface tables in src/ by tests/test-policy.c;\n"
      "     do not edit. After changing a table, copy build/tests/authorization-table.md\n"
      "     (written by a failing `meson test policy`) here. -->\n"
      "# Authorization table: member -> polkit action\n\n"
      "Each call through `org.libvirt` on the system bus needs the action on its row\n"
      "(see [authorization.md](authorization.md)). Properties.Get and GetAll need the\n"
      "interface's read action; Properties.Set needs the action on the property's row.\n\n"
      "| Interface | Member | Action | Arguments that need more |\n"
      "|---|---|---|---|\n");

  for (const VbInterface *const *i = vb_bus_interfaces (); *i != NULL; i++)
    {
      const VbInterface *iface = *i;

      for (const VbMethod *m = iface->methods; m->name != NULL; m++)
        {
          g_autofree char *when = m->extra_flags_name != NULL
                                      ? g_strdup_printf ("`%s`", m->extra_flags_name)
                                      : g_strdup (m->extra_when);

          append_row (table, iface->name, m->name, m->permission, when, m->extra_permission);
        }
      append_row (table, iface->name, "Properties.Get, Properties.GetAll",
                  iface->get_permission, NULL, NULL);
      for (const VbProperty *p = iface->properties; p->name != NULL; p++)
        {
          g_autofree char *member = g_strdup_printf ("Properties.Set %s", p->name);

          if (p->set_permission != NULL)
            append_row (table, iface->name, member, p->set_permission, NULL, NULL);
        }
    }
  return g_string_free (table, FALSE);
}

static void
test_docs_table_is_current (void)
{
  g_autofree char *expected = authorization_table ();
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "docs",
                                                 "authorization-table.md", NULL);
  g_autofree char *published = NULL;
  g_autofree char *fresh = g_test_build_filename (G_TEST_BUILT, "authorization-table.md",
                                                  NULL);

  g_file_get_contents (path, &published, NULL, NULL);
  if (g_strcmp0 (published, expected) == 0)
    return;
  g_assert_true (g_file_set_contents (fresh, expected, -1, NULL));
  g_error ("docs/authorization-table.md is not what the tables say; the current "
           "table is in %s", fresh);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/policy/tables-and-policy-agree", test_tables_and_policy_agree);
  g_test_add_func ("/policy/defaults", test_policy_defaults);
  g_test_add_func ("/policy/docs-table-is-current", test_docs_table_is_current);

  return g_test_run ();
}
