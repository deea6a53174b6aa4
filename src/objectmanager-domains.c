/* GetManagedObjects' domains: the part of its answer that grows with the
 * host.  Every property is read from libvirt during the call, with as few
 * RPCs as libvirt's API allows:
 *
 *  - bulk calls for what libvirt can tell of all domains at once: the
 *    list itself (name, UUID, ID), lists filtered by persistence, autostart
 *    and snapshots, and virConnectGetAllDomainStats for state and reason;
 *  - per domain, what no bulk call gives (GetInfo, OSType, Title,
 *    Description, SchedulerType, Updated), spread over several channels of
 *    a remote connection, each with its own helper thread and handles.
 *
 * A bulk call a driver refuses leaves those properties to the per-domain
 * reads, as before. */
#include <stdlib.h>
#include <string.h>

#include "domain-properties.h"
#include "libvirt-glib-compat.h"
#include "objectmanager-domains.h"
#include "paths.h"

/* Below this many domains per helper, another channel is not worth its
 * thread. */
#define DOMAINS_PER_HELPER 32
/* A helper that finds no spare channel this soon leaves the work to the
 * others. */
#define SPARE_CHANNEL_WAIT (G_TIME_SPAN_SECOND / 2)

/* What the bulk calls said; a NULL set means the call failed and the
 * property is read per domain. */
typedef struct {
  GHashTable *persistent;      /* UUID strings */
  GHashTable *autostart;
  GHashTable *with_snapshots;
  GHashTable *states;          /* UUID string -> DomainState */
} HostFacts;

typedef struct {
  int state;
  int reason;
} DomainState;

static void
domain_uuid (virDomainPtr domain, char uuid[VIR_UUID_STRING_BUFLEN])
{
  unsigned char raw[VIR_UUID_BUFLEN];

  if (virDomainGetUUID (domain, raw) < 0)
    memset (raw, 0, sizeof raw);
  vb_uuid_format (raw, uuid);
}

/* The UUIDs of the domains listed with @flags, or NULL. */
static GHashTable *
uuids_listed (virConnectPtr virconn, unsigned int flags)
{
  virDomainPtr *domains = NULL;
  int n = virConnectListAllDomains (virconn, &domains, flags);
  GHashTable *uuids;

  if (n < 0)
    {
      virResetLastError ();
      return NULL;
    }
  uuids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (int i = 0; i < n; i++)
    {
      char uuid[VIR_UUID_STRING_BUFLEN];

      domain_uuid (domains[i], uuid);
      g_hash_table_add (uuids, g_strdup (uuid));
      virDomainFree (domains[i]);
    }
  free (domains);
  return uuids;
}

static GHashTable *
states_read (virConnectPtr virconn)
{
  virDomainStatsRecordPtr *records = NULL;
  int n = virConnectGetAllDomainStats (virconn, VIR_DOMAIN_STATS_STATE, &records, 0);
  GHashTable *states;

  if (n < 0)
    {
      virResetLastError ();
      return NULL;
    }
  states = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (int i = 0; i < n; i++)
    {
      DomainState *state = g_new (DomainState, 1);
      char uuid[VIR_UUID_STRING_BUFLEN];

      if (virTypedParamsGetInt (records[i]->params, records[i]->nparams, "state.state",
                                &state->state) != 1 ||
          virTypedParamsGetInt (records[i]->params, records[i]->nparams, "state.reason",
                                &state->reason) != 1)
        {
          g_free (state);
          continue;
        }
      domain_uuid (records[i]->dom, uuid);
      g_hash_table_insert (states, g_strdup (uuid), state);
    }
  virDomainStatsRecordListFree (records);
  return states;
}

static void
host_facts_read (HostFacts *facts, virConnectPtr virconn)
{
  facts->persistent = uuids_listed (virconn, VIR_CONNECT_LIST_DOMAINS_PERSISTENT);
  facts->autostart = uuids_listed (virconn, VIR_CONNECT_LIST_DOMAINS_AUTOSTART);
  facts->with_snapshots = uuids_listed (virconn, VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT);
  facts->states = states_read (virconn);
}

static void
host_facts_clear (HostFacts *facts)
{
  g_clear_pointer (&facts->persistent, g_hash_table_unref);
  g_clear_pointer (&facts->autostart, g_hash_table_unref);
  g_clear_pointer (&facts->with_snapshots, g_hash_table_unref);
  g_clear_pointer (&facts->states, g_hash_table_unref);
}

static void
domain_facts (const HostFacts *host, const char *uuid, VbDomainBulkFacts *facts)
{
  const DomainState *state = host->states != NULL ? g_hash_table_lookup (host->states, uuid)
                                                  : NULL;

  memset (facts, 0, sizeof *facts);
  facts->have_persistent = host->persistent != NULL;
  facts->persistent = facts->have_persistent && g_hash_table_contains (host->persistent, uuid);
  facts->have_autostart = host->autostart != NULL;
  facts->autostart = facts->have_autostart && g_hash_table_contains (host->autostart, uuid);
  facts->have_state = state != NULL;
  if (state != NULL)
    {
      facts->state = state->state;
      facts->reason = state->reason;
    }
}

/* The work shared by the call's thread and its helpers. */
typedef struct {
  /* The GetManagedObjects call: read only for domains taken before the
   * call's thread has collected them all. */
  VbCall *call;
  VbConn *conn;                /* a reference of the helpers' own */
  virDomainPtr *domains;       /* the call's list, on its own channel */
  int n_domains;
  HostFacts facts;
  gint next;                   /* atomic: the next domain to read */
  /* Per domain, by whoever read it: its entries (itself and its
   * snapshots, "a{oa{sa{sv}}}") and, for filtered lists, their VbListed. */
  GVariant **entries;
  GPtrArray **listed;
  GMutex lock;
  GCond changed;               /* facts_ready or done changed */
  gboolean facts_ready;        /* @facts read: helpers wait for them */
  int done;
} DomainReads;

static void
domain_reads_free (DomainReads *reads)
{
  for (int i = 0; i < reads->n_domains; i++)
    {
      if (reads->entries[i] != NULL)
        g_variant_unref (reads->entries[i]);
      if (reads->listed[i] != NULL)
        g_ptr_array_unref (reads->listed[i]);
      virDomainFree (reads->domains[i]);
    }
  free (reads->domains);
  g_free (reads->entries);
  g_free (reads->listed);
  host_facts_clear (&reads->facts);
  vb_conn_free (reads->conn);
  g_mutex_clear (&reads->lock);
  g_cond_clear (&reads->changed);
}

static void
domain_reads_unref (DomainReads *reads)
{
  g_atomic_rc_box_release_full (reads, (GDestroyNotify) domain_reads_free);
}

/* Reads one domain (@domain, a handle on @virconn) into entry @index. */
static void
read_domain (DomainReads *reads, int index, virConnectPtr virconn, virDomainPtr domain,
             const char *uuid)
{
  VbCall scratch = { .conn = reads->call->conn, .iface = reads->call->iface,
                     .virconn = virconn, .filter_lists = reads->call->filter_lists };
  const HostFacts *host = &reads->facts;
  GVariantBuilder entries;
  VbDomainBulkFacts facts;

  domain_facts (host, uuid, &facts);
  g_variant_builder_init (&entries, G_VARIANT_TYPE ("a{oa{sa{sv}}}"));
  vb_object_manager_add_object (&entries, &scratch, &vb_domain_interface, domain, &facts,
                                host->with_snapshots == NULL ||
                                    g_hash_table_contains (host->with_snapshots, uuid));
  reads->entries[index] = g_variant_ref_sink (g_variant_builder_end (&entries));
  reads->listed[index] = g_steal_pointer (&scratch.listed);
}

static void
mark_done (DomainReads *reads)
{
  g_mutex_lock (&reads->lock);
  reads->done++;
  g_cond_signal (&reads->changed);
  g_mutex_unlock (&reads->lock);
}

/* A new reference to this channel's handle of the domain @uuid: from its
 * own list, or looked up when defined since; NULL when gone. */
static virDomainPtr
own_handle (GHashTable *own_handles, virConnectPtr virconn, const char *uuid)
{
  virDomainPtr listed = g_hash_table_lookup (own_handles, uuid);

  if (listed == NULL)
    return virDomainLookupByUUIDString (virconn, uuid);
  virDomainRef (listed);
  return listed;
}

/* Takes domains until none is left.  @own_handles: UUID -> this thread's
 * handle on @virconn, NULL for the call's own thread (whose list it is). */
static void
read_domains (DomainReads *reads, virConnectPtr virconn, GHashTable *own_handles)
{
  for (;;)
    {
      int index = g_atomic_int_add (&reads->next, 1);
      char uuid[VIR_UUID_STRING_BUFLEN];
      g_autoptr(virDomain) own = NULL;
      virDomainPtr domain;

      if (index >= reads->n_domains)
        return;
      domain_uuid (reads->domains[index], uuid);
      domain = reads->domains[index];
      if (own_handles != NULL)
        domain = own = own_handle (own_handles, virconn, uuid);
      /* Not found on this channel: removed since the call listed it. */
      if (domain != NULL)
        read_domain (reads, index, virconn, domain, uuid);
      else
        virResetLastError ();
      mark_done (reads);
    }
}

/* This channel's handles of every domain, by UUID (one RPC instead of a
 * lookup per domain). */
static GHashTable *
own_handles_list (virConnectPtr virconn)
{
  GHashTable *handles = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                               (GDestroyNotify) virDomainFree);
  virDomainPtr *domains = NULL;
  int n = virConnectListAllDomains (virconn, &domains, 0);

  for (int i = 0; i < n; i++)
    {
      char uuid[VIR_UUID_STRING_BUFLEN];

      domain_uuid (domains[i], uuid);
      g_hash_table_replace (handles, g_strdup (uuid), domains[i]);
    }
  if (n < 0)
    virResetLastError ();
  free (domains);
  return handles;
}

static void
wait_for_facts (DomainReads *reads)
{
  g_mutex_lock (&reads->lock);
  while (!reads->facts_ready)
    g_cond_wait (&reads->changed, &reads->lock);
  g_mutex_unlock (&reads->lock);
}

static void
set_facts_ready (DomainReads *reads)
{
  g_mutex_lock (&reads->lock);
  reads->facts_ready = TRUE;
  g_cond_broadcast (&reads->changed);
  g_mutex_unlock (&reads->lock);
}

static gboolean
work_left (DomainReads *reads)
{
  return g_atomic_int_get (&reads->next) < reads->n_domains;
}

/* A helper: a spare channel of the connection, its own handles listed
 * while the call's thread reads the bulk facts, then domains until none
 * is left. */
static gpointer
run_helper (gpointer data)
{
  DomainReads *reads = data;
  virConnectPtr virconn = vb_conn_acquire_spare (reads->conn, SPARE_CHANNEL_WAIT);

  if (virconn != NULL && work_left (reads))
    {
      g_autoptr(GHashTable) own_handles = own_handles_list (virconn);

      wait_for_facts (reads);
      read_domains (reads, virconn, own_handles);
    }
  if (virconn != NULL)
    vb_conn_release (reads->conn, virconn);
  domain_reads_unref (reads);
  return NULL;
}

static guint
helpers_wanted (VbCall *call, int n_domains)
{
  if (vb_conn_in_process (call->conn))
    return 0;
  return MIN ((guint) (n_domains / DOMAINS_PER_HELPER), VB_CONN_SPARE_CHANNELS);
}

static void
start_helpers (DomainReads *reads, guint count)
{
  for (guint i = 0; i < count; i++)
    {
      g_atomic_rc_box_acquire (reads);
      g_thread_unref (g_thread_new ("vb-managed", run_helper, reads));
    }
}

/* Adds the entries of every domain in the call's list order; the helpers
 * may still run (each then finds nothing left to take). */
static void
collect_entries (DomainReads *reads, GVariantBuilder *reply)
{
  g_mutex_lock (&reads->lock);
  while (reads->done < reads->n_domains)
    g_cond_wait (&reads->changed, &reads->lock);
  g_mutex_unlock (&reads->lock);
  for (int i = 0; i < reads->n_domains; i++)
    {
      GVariantIter iter;
      GVariant *entry;

      if (reads->entries[i] == NULL)
        continue;
      g_variant_iter_init (&iter, reads->entries[i]);
      while ((entry = g_variant_iter_next_value (&iter)) != NULL)
        {
          g_variant_builder_add_value (reply, entry);
          g_variant_unref (entry);
        }
      vb_call_take_listed (reads->call, g_steal_pointer (&reads->listed[i]));
    }
}

gboolean
vb_object_manager_add_domains (GVariantBuilder *reply, VbCall *call, GError **error)
{
  DomainReads *reads;
  virDomainPtr *domains = NULL;
  int n = virConnectListAllDomains (call->virconn, &domains, 0);

  if (n < 0)
    {
      vb_libvirt_failed (error);
      return FALSE;
    }
  reads = g_atomic_rc_box_new0 (DomainReads);
  reads->call = call;
  reads->conn = vb_conn_ref (call->conn);
  reads->domains = domains;
  reads->n_domains = n;
  reads->entries = g_new0 (GVariant *, n);
  reads->listed = g_new0 (GPtrArray *, n);
  g_mutex_init (&reads->lock);
  g_cond_init (&reads->changed);
  start_helpers (reads, helpers_wanted (call, n));
  host_facts_read (&reads->facts, call->virconn);
  set_facts_ready (reads);
  read_domains (reads, call->virconn, NULL);
  collect_entries (reads, reply);
  domain_reads_unref (reads);
  return TRUE;
}
