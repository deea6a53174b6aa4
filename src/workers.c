#include "workers.h"

typedef struct {
  VbWorkFunc func;
  gpointer data;
} VbWorkItem;

/* One connection's pools. */
typedef struct {
  GThreadPool *pools[2];     /* by VbCost, CHEAP and SLOW */
} VbLane;

static GMutex lanes_lock;
static GHashTable *lanes;    /* lane key -> VbLane */
static gint pool_threads;       /* atomic */

static void
run_work_item (gpointer item_ptr, gpointer pool_data)
{
  VbWorkItem *item = item_ptr;

  item->func (item->data);
  g_free (item);
}

static GThreadPool *
new_pool (guint threads)
{
  g_autoptr(GError) error = NULL;
  GThreadPool *pool = g_thread_pool_new (run_work_item, NULL, (gint) threads,
                                         FALSE, &error);

  if (pool == NULL)
    g_error ("cannot create worker threads: %s", error->message);
  return pool;
}

/* Waits for the lane's work still queued or running, then frees it. */
static void
lane_free (VbLane *lane)
{
  for (gsize i = 0; i < G_N_ELEMENTS (lane->pools); i++)
    {
      if (lane->pools[i] != NULL)
        g_thread_pool_free (lane->pools[i], FALSE, TRUE);
    }
  g_free (lane);
}

void
vb_workers_init (guint threads)
{
  g_return_if_fail (threads > 0);

  g_mutex_lock (&lanes_lock);
  g_atomic_int_set (&pool_threads, (gint) threads);
  lanes = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) lane_free);
  g_mutex_unlock (&lanes_lock);
}

guint
vb_workers_lane_threads (void)
{
  return 2 * MAX (g_atomic_int_get (&pool_threads), 1);
}

static GThreadPool *
lane_pool (gconstpointer key, VbCost cost)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&lanes_lock);
  VbLane *lane = g_hash_table_lookup (lanes, key);

  if (lane == NULL)
    {
      lane = g_new (VbLane, 1);
      lane->pools[VB_COST_CHEAP] = new_pool (pool_threads);
      lane->pools[VB_COST_SLOW] = new_pool (pool_threads);
      g_hash_table_insert (lanes, (gpointer) key, lane);
    }
  return lane->pools[cost == VB_COST_SLOW ? VB_COST_SLOW : VB_COST_CHEAP];
}

void
vb_workers_push (gconstpointer lane, VbCost cost, VbWorkFunc func, gpointer data)
{
  VbWorkItem *item = g_new (VbWorkItem, 1);
  g_autoptr(GError) error = NULL;

  item->func = func;
  item->data = data;
  /* Pushing only fails when a new thread cannot be created while none
   * runs; the item then stays queued for the running ones. */
  if (!g_thread_pool_push (lane_pool (lane, cost), item, &error))
    g_warning ("worker thread creation failed: %s", error->message);
}

void
vb_workers_shutdown (void)
{
  g_autoptr(GList) all = NULL;

  g_mutex_lock (&lanes_lock);
  if (lanes != NULL)
    all = g_hash_table_get_values (lanes);
  g_mutex_unlock (&lanes_lock);
  /* Every lane's cheap pool first: its work may still hand calls to the
   * slow pool of its lane (never to another lane), which must then still
   * take them.  Outside the lock, since that work pushes. */
  for (VbCost cost = VB_COST_CHEAP; cost <= VB_COST_SLOW; cost++)
    {
      for (GList *l = all; l != NULL; l = l->next)
        {
          VbLane *lane = l->data;

          g_thread_pool_free (lane->pools[cost], FALSE, TRUE);
          lane->pools[cost] = NULL;
        }
    }
  g_mutex_lock (&lanes_lock);
  g_clear_pointer (&lanes, g_hash_table_unref);
  g_mutex_unlock (&lanes_lock);
}
