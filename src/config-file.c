#include "config-file.h"

#include <string.h>

#include "authz.h"

#define SERVICE_GROUP "service"
#define AUTHORIZATION_GROUP "authorization"
#define CONNECTIONS_GROUP "connections"
#define TRUSTED_GROUP_KEY "trusted-group"

/* The file as read, with where each group and key is in it: GKeyFile
 * parses but never says on which line, and a message without one sends
 * the admin hunting. */
typedef struct {
  const char *path;
  GHashTable *lines;         /* "group" or "group\nkey" -> line number */
  guint first_bad_line;      /* first line GKeyFile will refuse; 0: none */
  guint duplicate_line;      /* a key given twice in a group; 0: none */
  char *duplicate_group;
  char *duplicate_key;
  guint duplicate_first_line;
} ConfigSource;

typedef struct {
  const char *key;
  guint min;
  guint max;
  gsize has_offset;          /* of the gboolean in VbConfig */
  gsize value_offset;        /* of the guint in VbConfig */
} NumberKey;

static const NumberKey service_keys[] = {
  { "threads", 1, VB_MAX_THREADS,
    G_STRUCT_OFFSET (VbConfig, has_threads), G_STRUCT_OFFSET (VbConfig, threads) },
  { "timeout", 0, VB_MAX_IDLE_TIMEOUT,
    G_STRUCT_OFFSET (VbConfig, has_timeout), G_STRUCT_OFFSET (VbConfig, timeout) },
  { "shutdown-timeout", 1, VB_MAX_SHUTDOWN_TIMEOUT,
    G_STRUCT_OFFSET (VbConfig, has_shutdown_timeout),
    G_STRUCT_OFFSET (VbConfig, shutdown_timeout) },
  { NULL }
};

static const NumberKey authorization_keys[] = {
  { "decision-lifetime", 0, VB_MAX_DECISION_LIFETIME,
    G_STRUCT_OFFSET (VbConfig, has_decision_lifetime),
    G_STRUCT_OFFSET (VbConfig, decision_lifetime) },
  { "polkit-timeout", 1, VB_MAX_POLKIT_TIMEOUT,
    G_STRUCT_OFFSET (VbConfig, has_polkit_timeout),
    G_STRUCT_OFFSET (VbConfig, polkit_timeout) },
  { "polkit-checks-per-second", 0, VB_MAX_POLKIT_CHECKS_PER_SECOND,
    G_STRUCT_OFFSET (VbConfig, has_polkit_rate), G_STRUCT_OFFSET (VbConfig, polkit_rate) },
  { NULL }
};

static void
config_source_clear (ConfigSource *source)
{
  g_clear_pointer (&source->lines, g_hash_table_unref);
  g_clear_pointer (&source->duplicate_group, g_free);
  g_clear_pointer (&source->duplicate_key, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ConfigSource, config_source_clear)

static char *
line_index_key (const char *group, const char *key)
{
  return key != NULL ? g_strconcat (group, "\n", key, NULL) : g_strdup (group);
}

/* ---- where things are ----------------------------------------------------- */

/* A group header as GKeyFile takes it: '[', a name up to the first ']',
 * then nothing but blanks.  Returns the name, or NULL. */
static char *
group_header_name (const char *line)
{
  const char *end = strchr (line, ']');

  if (line[0] != '[' || end == NULL || end[1 + strspn (end + 1, " \t")] != '\0')
    return NULL;
  return g_strndup (line + 1, (gsize) (end - line - 1));
}

/* A key line as GKeyFile takes it: a non-empty key before the first '='.
 * Returns the key without its trailing blanks, or NULL. */
static char *
key_line_name (const char *line)
{
  const char *equals = strchr (line, '=');

  if (equals == NULL || equals == line)
    return NULL;
  return g_strchomp (g_strndup (line, (gsize) (equals - line)));
}

static void
note_duplicate (ConfigSource *source, const char *group, const char *key,
                guint first_line, guint line)
{
  if (source->duplicate_line != 0)
    return;
  source->duplicate_line = line;
  source->duplicate_first_line = first_line;
  source->duplicate_group = g_strdup (group);
  source->duplicate_key = g_strdup (key);
}

static void
index_key_line (ConfigSource *source, const char *group, const char *key, guint line)
{
  char *index_key = line_index_key (group, key);
  guint first_line = GPOINTER_TO_UINT (g_hash_table_lookup (source->lines, index_key));

  if (first_line != 0)
    {
      note_duplicate (source, group, key, first_line, line);
      g_free (index_key);
      return;
    }
  g_hash_table_insert (source->lines, index_key, GUINT_TO_POINTER (line));
}

/* Records the line of every group and key, the first line GKeyFile will
 * refuse, and the first key given twice (GKeyFile keeps the last one
 * silently). */
static void
index_lines (ConfigSource *source, const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  g_autofree char *group = NULL;

  source->lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i] + strspn (lines[i], " \t\r\v\f");
      g_autofree char *header = group_header_name (line);
      g_autofree char *key = NULL;

      if (*line == '\0' || *line == '#')
        continue;
      if (header != NULL)
        {
          g_free (group);
          group = g_steal_pointer (&header);
          if (!g_hash_table_contains (source->lines, group))
            g_hash_table_insert (source->lines, g_strdup (group), GUINT_TO_POINTER (i + 1));
          continue;
        }
      key = key_line_name (line);
      if (key != NULL && group != NULL)
        index_key_line (source, group, key, i + 1);
      else if (source->first_bad_line == 0)
        source->first_bad_line = i + 1;
    }
}

static guint
line_of (const ConfigSource *source, const char *group, const char *key)
{
  g_autofree char *index_key = line_index_key (group, key);

  return GPOINTER_TO_UINT (g_hash_table_lookup (source->lines, index_key));
}

/* ---- messages --------------------------------------------------------------- */

/* "PATH:LINE: [group] key: problem", leaving out what is not known. */
static void
set_error_at (GError **error, GKeyFileError code, const ConfigSource *source,
              guint line, const char *group, const char *key, const char *problem)
{
  g_autoptr(GString) message = g_string_new (source->path);
  g_autofree char *valid = NULL;

  if (line != 0)
    g_string_append_printf (message, ":%u", line);
  g_string_append (message, ": ");
  if (group != NULL)
    g_string_append_printf (message, "[%s]%s%s: ", group, key != NULL ? " " : "",
                            key != NULL ? key : "");
  g_string_append (message, problem);
  /* GKeyFile quotes the offending line as it is, which need not be text. */
  valid = g_utf8_make_valid (message->str, (gssize) message->len);
  g_set_error_literal (error, G_KEY_FILE_ERROR, code, valid);
}

static void
set_key_error (GError **error, const ConfigSource *source, const char *group,
               const char *key, const char *problem)
{
  set_error_at (error, G_KEY_FILE_ERROR_INVALID_VALUE, source,
                line_of (source, group, key), group, key, problem);
}

/* ---- reading ------------------------------------------------------------------ */

static gboolean
parse_text (ConfigSource *source, GKeyFile *key_file, const char *text, GError **error)
{
  g_autoptr(GError) parse_error = NULL;
  g_autofree char *first_line = NULL;

  index_lines (source, text);
  if (!g_key_file_load_from_data (key_file, text, (gsize) -1, G_KEY_FILE_NONE,
                                  &parse_error))
    {
      set_error_at (error, G_KEY_FILE_ERROR_PARSE, source, source->first_bad_line,
                    NULL, NULL, parse_error->message);
      return FALSE;
    }
  if (source->duplicate_line != 0)
    {
      first_line = g_strdup_printf ("given twice (first on line %u)",
                                    source->duplicate_first_line);
      set_error_at (error, G_KEY_FILE_ERROR_INVALID_VALUE, source,
                    source->duplicate_line, source->duplicate_group,
                    source->duplicate_key, first_line);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_groups (const ConfigSource *source, GKeyFile *key_file, GError **error)
{
  g_auto(GStrv) groups = g_key_file_get_groups (key_file, NULL);

  for (char **group = groups; *group != NULL; group++)
    {
      if (g_str_equal (*group, SERVICE_GROUP) || g_str_equal (*group, AUTHORIZATION_GROUP) ||
          g_str_equal (*group, CONNECTIONS_GROUP))
        continue;
      set_key_error (error, source, *group, NULL,
                     "unknown group (virtbusd reads [" SERVICE_GROUP "], ["
                     AUTHORIZATION_GROUP "] and [" CONNECTIONS_GROUP "])");
      return FALSE;
    }
  return TRUE;
}

/* The value with its escapes undone and without surrounding blanks
 * (GKeyFile keeps trailing ones).  g_key_file_get_string() may return a
 * value and an error together: the error wins. */
static char *
get_string (GKeyFile *key_file, const char *group, const char *key, GError **error)
{
  g_autoptr(GError) value_error = NULL;
  g_autofree char *value = g_key_file_get_string (key_file, group, key, &value_error);

  if (value_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&value_error));
      return NULL;
    }
  return g_strstrip (g_steal_pointer (&value));
}

static const NumberKey *
find_number_key (const NumberKey *keys, const char *key)
{
  for (const NumberKey *known = keys; known->key != NULL; known++)
    {
      if (g_str_equal (known->key, key))
        return known;
    }
  return NULL;
}

static gboolean
read_number_key (const ConfigSource *source, GKeyFile *key_file, const char *group,
                 const NumberKey *known, VbConfig *config, GError **error)
{
  g_autoptr(GError) value_error = NULL;
  g_autofree char *text = get_string (key_file, group, known->key, &value_error);

  if (text == NULL
      || !vb_settings_parse_number (text, known->min, known->max,
                                    G_STRUCT_MEMBER_P (config, known->value_offset),
                                    &value_error))
    {
      set_key_error (error, source, group, known->key, value_error->message);
      return FALSE;
    }
  G_STRUCT_MEMBER (gboolean, config, known->has_offset) = TRUE;
  return TRUE;
}

/* A group name as getgrnam() takes it, or empty (nobody). */
static gboolean
read_trusted_group (const ConfigSource *source, GKeyFile *key_file, VbConfig *config,
                    GError **error)
{
  g_autoptr(GError) value_error = NULL;
  g_autofree char *name = get_string (key_file, AUTHORIZATION_GROUP, TRUSTED_GROUP_KEY,
                                      &value_error);

  if (name == NULL)
    {
      set_key_error (error, source, AUTHORIZATION_GROUP, TRUSTED_GROUP_KEY,
                     value_error->message);
      return FALSE;
    }
  if (strpbrk (name, ": \t,") != NULL)
    {
      set_key_error (error, source, AUTHORIZATION_GROUP, TRUSTED_GROUP_KEY,
                     "not a group name (expected a name such as libvirt, or nothing "
                     "to trust nobody but root)");
      return FALSE;
    }
  config->trusted_group = g_steal_pointer (&name);
  return TRUE;
}

/* Every key of @group: numbers from @keys, or (when @read_other is set)
 * what it reads. */
static gboolean
read_group (const ConfigSource *source, GKeyFile *key_file, const char *group,
            const NumberKey *keys, const char *known_list,
            gboolean (*read_other) (const ConfigSource *, GKeyFile *, VbConfig *, GError **),
            const char *other_key, VbConfig *config, GError **error)
{
  g_auto(GStrv) names = g_key_file_get_keys (key_file, group, NULL, NULL);

  for (char **name = names; name != NULL && *name != NULL; name++)
    {
      const NumberKey *known = find_number_key (keys, *name);
      g_autofree char *problem = NULL;

      if (known != NULL)
        {
          if (!read_number_key (source, key_file, group, known, config, error))
            return FALSE;
          continue;
        }
      if (other_key != NULL && g_str_equal (*name, other_key))
        {
          if (!read_other (source, key_file, config, error))
            return FALSE;
          continue;
        }
      problem = g_strdup_printf ("unknown key (virtbusd reads %s)", known_list);
      set_key_error (error, source, group, *name, problem);
      return FALSE;
    }
  return TRUE;
}

static gboolean
read_service (const ConfigSource *source, GKeyFile *key_file, VbConfig *config,
              GError **error)
{
  return read_group (source, key_file, SERVICE_GROUP, service_keys,
                     "threads, timeout and shutdown-timeout", NULL, NULL, config, error);
}

static gboolean
read_authorization (const ConfigSource *source, GKeyFile *key_file, VbConfig *config,
                    GError **error)
{
  return read_group (source, key_file, AUTHORIZATION_GROUP, authorization_keys,
                     "trusted-group, decision-lifetime, polkit-timeout and "
                     "polkit-checks-per-second",
                     read_trusted_group, TRUSTED_GROUP_KEY, config, error);
}

static gboolean
read_connections (const ConfigSource *source, GKeyFile *key_file, VbConfig *config,
                  GError **error)
{
  g_auto(GStrv) keys = g_key_file_get_keys (key_file, CONNECTIONS_GROUP, NULL, NULL);
  g_autoptr(GPtrArray) specs = NULL;

  if (keys == NULL)
    return TRUE;
  if (keys[0] == NULL)
    {
      set_key_error (error, source, CONNECTIONS_GROUP, NULL,
                     "lists no connection (remove the group to serve the default set)");
      return FALSE;
    }

  specs = vb_conn_specs_new ();
  for (char **name = keys; *name != NULL; name++)
    {
      g_autoptr(GError) value_error = NULL;
      g_autofree char *uri = get_string (key_file, CONNECTIONS_GROUP, *name, &value_error);

      if (uri == NULL || !vb_conn_specs_add (specs, *name, uri, &value_error))
        {
          set_key_error (error, source, CONNECTIONS_GROUP, *name, value_error->message);
          return FALSE;
        }
    }
  config->connections = g_steal_pointer (&specs);
  return TRUE;
}

static gboolean
read_text (VbConfig *config, const char *path, const char *text, GError **error)
{
  g_auto(ConfigSource) source = { .path = path };
  g_autoptr(GKeyFile) key_file = g_key_file_new ();

  return parse_text (&source, key_file, text, error)
         && check_groups (&source, key_file, error)
         && read_service (&source, key_file, config, error)
         && read_authorization (&source, key_file, config, error)
         && read_connections (&source, key_file, config, error);
}

gboolean
vb_config_load (VbConfig *config, const char *path, gboolean must_exist, GError **error)
{
  g_autoptr(GError) read_error = NULL;
  g_autofree char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, &read_error))
    {
      if (!must_exist && g_error_matches (read_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_set_error (error, G_FILE_ERROR, read_error->code,
                   "cannot read the configuration file: %s", read_error->message);
      return FALSE;
    }
  config->found = TRUE;
  if (!read_text (config, path, text, error))
    {
      vb_config_clear (config);
      return FALSE;
    }
  return TRUE;
}

void
vb_config_clear (VbConfig *config)
{
  g_clear_pointer (&config->connections, g_ptr_array_unref);
  g_clear_pointer (&config->trusted_group, g_free);
}
