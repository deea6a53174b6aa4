#include "authz-decisions.h"

#include <stdlib.h>
#include <string.h>

/* A flood of checks of ever new objects may not grow the store without
 * bound: past this many answers, expired ones are swept, and if that is
 * not enough new ones are simply not kept (asking polkit again is always
 * correct). */
#define MAX_DECISIONS 65536

typedef struct {
  VbDecision decision;
  gint64 expires;            /* monotonic µs */
} KeptDecision;

static GMutex lock;
static GHashTable *callers;  /* sender -> (GBytes key -> KeptDecision) */
static guint n_kept;
static gint64 lifetime_us;
static guint64 generation;

void
vb_decisions_init (guint lifetime_seconds)
{
  g_mutex_lock (&lock);
  lifetime_us = (gint64) lifetime_seconds * G_USEC_PER_SEC;
  callers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                   (GDestroyNotify) g_hash_table_unref);
  n_kept = 0;
  g_mutex_unlock (&lock);
}

void
vb_decisions_shutdown (void)
{
  g_mutex_lock (&lock);
  g_clear_pointer (&callers, g_hash_table_unref);
  n_kept = 0;
  g_mutex_unlock (&lock);
}

gboolean
vb_decisions_enabled (void)
{
  return lifetime_us > 0;
}

static int
compare_strings (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* "action\0key\0value\0key\0value\0...", keys in order: no string of
 * polkit's details can hold a NUL, so two keys are equal exactly when the
 * checks are. */
GBytes *
vb_decision_key_new (const char *action, GHashTable *details)
{
  g_autoptr(GByteArray) bytes = g_byte_array_sized_new (256);
  g_autofree gpointer *keys = NULL;
  guint n_keys = 0;

  g_byte_array_append (bytes, (const guint8 *) action, (guint) strlen (action) + 1);
  if (details != NULL)
    keys = g_hash_table_get_keys_as_array (details, &n_keys);
  if (n_keys > 1)
    qsort (keys, n_keys, sizeof *keys, compare_strings);
  for (guint i = 0; i < n_keys; i++)
    {
      const char *value = g_hash_table_lookup (details, keys[i]);

      g_byte_array_append (bytes, keys[i], (guint) strlen (keys[i]) + 1);
      g_byte_array_append (bytes, (const guint8 *) value, (guint) strlen (value) + 1);
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&bytes));
}

VbDecision
vb_decisions_lookup (const char *sender, GBytes *key)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&lock);
  GHashTable *kept;
  KeptDecision *found;

  if (lifetime_us == 0 || callers == NULL || sender == NULL)
    return VB_DECISION_UNKNOWN;
  kept = g_hash_table_lookup (callers, sender);
  found = kept != NULL ? g_hash_table_lookup (kept, key) : NULL;
  if (found == NULL)
    return VB_DECISION_UNKNOWN;
  if (found->expires <= g_get_monotonic_time ())
    {
      g_hash_table_remove (kept, key);
      n_kept--;
      return VB_DECISION_UNKNOWN;
    }
  return found->decision;
}

guint64
vb_decisions_generation (void)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&lock);

  return generation;
}

/* Drops every expired answer.  Lock held. */
static void
sweep_expired (void)
{
  gint64 now = g_get_monotonic_time ();
  GHashTableIter callers_iter;
  gpointer kept;

  g_hash_table_iter_init (&callers_iter, callers);
  while (g_hash_table_iter_next (&callers_iter, NULL, &kept))
    {
      GHashTableIter iter;
      gpointer value;

      g_hash_table_iter_init (&iter, kept);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        {
          if (((KeptDecision *) value)->expires <= now)
            {
              g_hash_table_iter_remove (&iter);
              n_kept--;
            }
        }
      if (g_hash_table_size (kept) == 0)
        g_hash_table_iter_remove (&callers_iter);
    }
}

void
vb_decisions_store (const char *sender, GBytes *key, VbDecision decision,
                    guint64 asked_in_generation)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&lock);
  KeptDecision *kept_decision;
  GHashTable *kept;

  if (lifetime_us == 0 || callers == NULL || asked_in_generation != generation ||
      decision == VB_DECISION_UNKNOWN)
    return;
  if (n_kept >= MAX_DECISIONS)
    sweep_expired ();
  if (n_kept >= MAX_DECISIONS)
    return;
  kept = g_hash_table_lookup (callers, sender);
  if (kept == NULL)
    {
      kept = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
                                    (GDestroyNotify) g_bytes_unref, g_free);
      g_hash_table_insert (callers, g_strdup (sender), kept);
    }
  kept_decision = g_new (KeptDecision, 1);
  kept_decision->decision = decision;
  kept_decision->expires = g_get_monotonic_time () + lifetime_us;
  if (!g_hash_table_contains (kept, key))
    n_kept++;
  g_hash_table_replace (kept, g_bytes_ref (key), kept_decision);
}

void
vb_decisions_forget_caller (const char *sender)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&lock);
  GHashTable *kept;

  if (callers == NULL)
    return;
  kept = g_hash_table_lookup (callers, sender);
  if (kept != NULL)
    {
      n_kept -= g_hash_table_size (kept);
      g_hash_table_remove (callers, sender);
    }
}

void
vb_decisions_forget_all (void)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&lock);

  generation++;
  if (callers != NULL)
    g_hash_table_remove_all (callers);
  n_kept = 0;
}
