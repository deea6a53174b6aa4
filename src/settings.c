#include "settings.h"

#include "conn.h"

static void
conn_spec_free (gpointer data)
{
  VbConnSpec *spec = data;

  g_free (spec->name);
  g_free (spec->uri);
  g_free (spec);
}

GPtrArray *
vb_conn_specs_new (void)
{
  return g_ptr_array_new_with_free_func (conn_spec_free);
}

static gboolean
has_connection (GPtrArray *specs, const char *name)
{
  for (guint i = 0; i < specs->len; i++)
    {
      VbConnSpec *spec = g_ptr_array_index (specs, i);

      if (g_str_equal (spec->name, name))
        return TRUE;
    }
  return FALSE;
}

gboolean
vb_conn_specs_add (GPtrArray *specs, const char *name, const char *uri, GError **error)
{
  VbConnSpec *spec;

  if (!vb_conn_name_is_valid (name))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "name '%s' must be letters, digits and '_' only", name);
      return FALSE;
    }
  if (uri == NULL || *uri == '\0')
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "name '%s' has no URI", name);
      return FALSE;
    }
  if (has_connection (specs, name))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "name '%s' given twice", name);
      return FALSE;
    }

  spec = g_new0 (VbConnSpec, 1);
  spec->name = g_strdup (name);
  spec->uri = g_strdup (uri);
  g_ptr_array_add (specs, spec);
  return TRUE;
}

gboolean
vb_settings_parse_number (const char *text, guint min, guint max, guint *out,
                          GError **error)
{
  guint64 value;

  /* g_ascii_string_to_unsigned() alone would also take "+4" and " 4". */
  if (text == NULL || !g_ascii_isdigit (text[0])
      || !g_ascii_string_to_unsigned (text, 10, min, max, &value, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "expects a whole number from %u to %u, got '%s'", min, max,
                   text != NULL ? text : "");
      return FALSE;
    }
  *out = (guint) value;
  return TRUE;
}
