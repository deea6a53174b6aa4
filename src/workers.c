#include "workers.h"

typedef struct {
  VbWorkFunc func;
  gpointer data;
} VbWorkItem;

static GThreadPool *pools[2];

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

void
vb_workers_init (guint threads)
{
  g_return_if_fail (threads > 0);

  pools[VB_COST_CHEAP] = new_pool (threads);
  pools[VB_COST_SLOW] = new_pool (threads);
}

void
vb_workers_push (VbCost cost, VbWorkFunc func, gpointer data)
{
  VbWorkItem *item = g_new (VbWorkItem, 1);
  g_autoptr(GError) error = NULL;

  item->func = func;
  item->data = data;
  /* Pushing only fails when a new thread cannot be created while none
   * runs; the item then stays queued for the running ones. */
  if (!g_thread_pool_push (pools[cost == VB_COST_SLOW ? VB_COST_SLOW : VB_COST_CHEAP],
                           item, &error))
    g_warning ("worker thread creation failed: %s", error->message);
}

void
vb_workers_shutdown (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (pools); i++)
    {
      if (pools[i] != NULL)
        g_thread_pool_free (pools[i], FALSE, TRUE);
      pools[i] = NULL;
    }
}
