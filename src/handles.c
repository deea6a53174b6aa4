#include "handles.h"

typedef struct {
  gpointer handle;
  GDestroyNotify release;
} KeptHandle;

struct _VbHandles {
  GHashTable *by_path;     /* "kind/segment" -> KeptHandle */
};

static void
kept_handle_free (gpointer data)
{
  KeptHandle *kept = data;

  kept->release (kept->handle);
  g_free (kept);
}

VbHandles *
vb_handles_new (void)
{
  VbHandles *handles = g_new (VbHandles, 1);

  handles->by_path = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, kept_handle_free);
  return handles;
}

void
vb_handles_free (VbHandles *handles)
{
  if (handles == NULL)
    return;
  g_hash_table_unref (handles->by_path);
  g_free (handles);
}

/* Path segments are at most a few hundred bytes (object path elements);
 * the key is built on the stack for the common case. */
static char *
handle_key (char *buffer, gsize size, const char *kind, const char *segment)
{
  if (g_snprintf (buffer, size, "%s/%s", kind, segment) < (gint) size)
    return buffer;
  return g_strconcat (kind, "/", segment, NULL);
}

gpointer
vb_handles_take (VbHandles *handles, const char *kind, const char *segment,
                 gpointer (*ref) (gpointer handle))
{
  char buffer[128];
  char *key = handle_key (buffer, sizeof buffer, kind, segment);
  KeptHandle *kept = g_hash_table_lookup (handles->by_path, key);

  if (key != buffer)
    g_free (key);
  return kept != NULL ? ref (kept->handle) : NULL;
}

void
vb_handles_keep (VbHandles *handles, const char *kind, const char *segment,
                 gpointer handle, GDestroyNotify release)
{
  KeptHandle *kept = g_new (KeptHandle, 1);

  if (g_hash_table_size (handles->by_path) >= VB_HANDLES_MAX)
    {
      GHashTableIter iter;

      g_hash_table_iter_init (&iter, handles->by_path);
      if (g_hash_table_iter_next (&iter, NULL, NULL))
        g_hash_table_iter_remove (&iter);
    }
  kept->handle = handle;
  kept->release = release;
  g_hash_table_replace (handles->by_path, g_strconcat (kind, "/", segment, NULL), kept);
}

void
vb_handles_forget (VbHandles *handles, const char *kind, const char *segment)
{
  char buffer[128];
  char *key = handle_key (buffer, sizeof buffer, kind, segment);

  g_hash_table_remove (handles->by_path, key);
  if (key != buffer)
    g_free (key);
}

guint
vb_handles_count (VbHandles *handles)
{
  return g_hash_table_size (handles->by_path);
}
