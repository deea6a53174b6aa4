/* vb-libvirt-floor-managed: a plain libvirt client (no D-Bus at all)
 * making the libvirt calls of one exact GetManagedObjects answer on a real
 * libvirtd, as fast as it can: the floor issue 16's GetManagedObjects
 * targets are judged against (docs/benchmark.md).
 *
 * One answer is
 *   - on the first connection, the calls libvirt answers for the whole
 *     host at once: virConnectListAllDomains with flags 0, PERSISTENT,
 *     AUTOSTART and HAS_SNAPSHOT, virConnectGetAllDomainStats (STATE), a
 *     virDomainListAllSnapshots for each domain the HAS_SNAPSHOT list
 *     names, and one virConnectListAll* per other object type (their
 *     objects' names and UUIDs only, which libvirt keeps in the handle);
 *   - for every domain, the reads libvirt 9.0 has no bulk call for:
 *     virDomainGetInfo, GetXMLDesc (OS type; whether it has a title and a
 *     description, read with GetMetadata only then), GetSchedulerType,
 *     IsUpdated, and its UUID (in the handle);
 * the per-domain reads spread over T threads, each with a connection of
 * its own that it lists the domains on (virConnectListAllDomains(0), part
 * of the answer: a handle belongs to the connection it came from; on the
 * first connection that list is the one above).  Each thread sorts its
 * handles by UUID and takes the next unread domain from a shared counter,
 * so a thread that is held up takes fewer.
 *
 * For every thread count in --threads it makes one unmeasured answer, then
 * --repeat measured ones, the counts taking turns (1 2 4 8 8 4 2 1 ...),
 * and prints one JSON object: per count the milliseconds of each answer
 * and their median, the client's own CPU time and (--cpu-pid) that of
 * another process, libvirtd, per answer. */
#include <glib.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define MAX_THREADS 64

/* What one answer shares between its threads. */
typedef struct {
  /* The next domain to read: an index into every thread's sorted list. */
  gint next;
  gint errors;
  GMutex lock;
  char *first_error;
  /* Domains in the first connection's list; -1 until it is known. */
  int domains;
  /* Some thread's list differed in length from another's. */
  gboolean lists_differ;
  /* virDomainListAllSnapshots calls in the last answer. */
  guint snapshot_lists;
} Answer;

typedef struct {
  Answer *answer;
  virConnectPtr conn;
  /* The first connection also makes the host-wide calls. */
  gboolean host_wide;
  int domains;
} Worker;

typedef struct {
  unsigned char uuid[VIR_UUID_BUFLEN];
  virDomainPtr domain;
} DomainEntry;

/* The figures of one thread count over its measured answers. */
typedef struct {
  int threads;
  GArray *ms;
  gint64 client_cpu_us;
  gint64 other_cpu_us;
} ThreadCountFigures;

static void
ignore_libvirt_error (void *data, virErrorPtr error)
{
}

static void
answer_fail (Answer *answer, const char *what)
{
  g_atomic_int_inc (&answer->errors);
  g_mutex_lock (&answer->lock);
  if (answer->first_error == NULL)
    answer->first_error = g_strdup_printf ("%s: %s", what, virGetLastErrorMessage ());
  g_mutex_unlock (&answer->lock);
}

static void
free_domains (virDomainPtr *domains, int n)
{
  for (int i = 0; i < n; i++)
    virDomainFree (domains[i]);
  free (domains);
}

/* ---- the host-wide calls -------------------------------------------------- */

static void
list_snapshots (virDomainPtr *domains, int n, Answer *answer)
{
  for (int i = 0; i < n; i++)
    {
      virDomainSnapshotPtr *snapshots = NULL;
      int n_snapshots = virDomainListAllSnapshots (domains[i], &snapshots, 0);

      if (n_snapshots < 0)
        {
          answer_fail (answer, "virDomainListAllSnapshots");
          continue;
        }
      for (int j = 0; j < n_snapshots; j++)
        {
          (void) virDomainSnapshotGetName (snapshots[j]);
          virDomainSnapshotFree (snapshots[j]);
        }
      free (snapshots);
      g_atomic_int_inc (&answer->snapshot_lists);
    }
}

/* The lists with flags other than 0 (that one is the first thread's own),
 * with the snapshots of the domains that have some, and the state of all. */
static void
read_domains_host_wide (virConnectPtr conn, Answer *answer)
{
  static const unsigned int flags[] = {
    VIR_CONNECT_LIST_DOMAINS_PERSISTENT,
    VIR_CONNECT_LIST_DOMAINS_AUTOSTART,
    VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT,
  };
  virDomainStatsRecordPtr *records = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (flags); i++)
    {
      virDomainPtr *domains = NULL;
      int n = virConnectListAllDomains (conn, &domains, flags[i]);

      if (n < 0)
        {
          answer_fail (answer, "virConnectListAllDomains");
          continue;
        }
      if (flags[i] == VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT)
        list_snapshots (domains, n, answer);
      free_domains (domains, n);
    }
  if (virConnectGetAllDomainStats (conn, VIR_DOMAIN_STATS_STATE, &records, 0) < 0)
    answer_fail (answer, "virConnectGetAllDomainStats");
  else
    virDomainStatsRecordListFree (records);
}

/* One list per other object type; what an object's path and identity
 * need is in its handle (no RPC). */
static void
read_other_objects (virConnectPtr conn, Answer *answer)
{
  unsigned char uuid[VIR_UUID_BUFLEN];
  virNetworkPtr *networks = NULL;
  virStoragePoolPtr *pools = NULL;
  virNodeDevicePtr *devices = NULL;
  virInterfacePtr *interfaces = NULL;
  virNWFilterPtr *filters = NULL;
  virSecretPtr *secrets = NULL;
  int n;

  if ((n = virConnectListAllNetworks (conn, &networks, 0)) < 0)
    answer_fail (answer, "virConnectListAllNetworks");
  for (int i = 0; i < n; i++)
    {
      (void) virNetworkGetName (networks[i]);
      (void) virNetworkGetUUID (networks[i], uuid);
      virNetworkFree (networks[i]);
    }
  free (networks);

  if ((n = virConnectListAllStoragePools (conn, &pools, 0)) < 0)
    answer_fail (answer, "virConnectListAllStoragePools");
  for (int i = 0; i < n; i++)
    {
      (void) virStoragePoolGetName (pools[i]);
      (void) virStoragePoolGetUUID (pools[i], uuid);
      virStoragePoolFree (pools[i]);
    }
  free (pools);

  if ((n = virConnectListAllNodeDevices (conn, &devices, 0)) < 0)
    answer_fail (answer, "virConnectListAllNodeDevices");
  for (int i = 0; i < n; i++)
    {
      (void) virNodeDeviceGetName (devices[i]);
      virNodeDeviceFree (devices[i]);
    }
  free (devices);

  if ((n = virConnectListAllInterfaces (conn, &interfaces, 0)) < 0)
    answer_fail (answer, "virConnectListAllInterfaces");
  for (int i = 0; i < n; i++)
    {
      (void) virInterfaceGetName (interfaces[i]);
      (void) virInterfaceGetMACString (interfaces[i]);
      virInterfaceFree (interfaces[i]);
    }
  free (interfaces);

  if ((n = virConnectListAllNWFilters (conn, &filters, 0)) < 0)
    answer_fail (answer, "virConnectListAllNWFilters");
  for (int i = 0; i < n; i++)
    {
      (void) virNWFilterGetName (filters[i]);
      (void) virNWFilterGetUUID (filters[i], uuid);
      virNWFilterFree (filters[i]);
    }
  free (filters);

  if ((n = virConnectListAllSecrets (conn, &secrets, 0)) < 0)
    answer_fail (answer, "virConnectListAllSecrets");
  for (int i = 0; i < n; i++)
    {
      (void) virSecretGetUUID (secrets[i], uuid);
      virSecretFree (secrets[i]);
    }
  free (secrets);
}

/* ---- the per-domain calls ------------------------------------------------- */

/* A domain without a title or description answers
 * VIR_ERR_NO_DOMAIN_METADATA: an empty property, not a failure. */
static void
read_metadata (virDomainPtr domain, int type, Answer *answer)
{
  char *text = virDomainGetMetadata (domain, type, NULL, 0);

  if (text == NULL && virGetLastErrorCode () != VIR_ERR_NO_DOMAIN_METADATA)
    answer_fail (answer, "virDomainGetMetadata");
  free (text);
}

/* What libvirt answers for one domain at a time only. */
static void
read_domain (virDomainPtr domain, Answer *answer)
{
  virDomainInfo info;
  char *text;
  int n_params;

  if (virDomainGetInfo (domain, &info) < 0)
    answer_fail (answer, "virDomainGetInfo");
  /* The OS type, and whether the domain has a title and a description,
   * from its XML; the texts, when it has them, with GetMetadata (its XML
   * leaves control characters out). */
  if ((text = virDomainGetXMLDesc (domain, 0)) == NULL)
    answer_fail (answer, "virDomainGetXMLDesc");
  if (text != NULL && strstr (text, "<title>") != NULL)
    read_metadata (domain, VIR_DOMAIN_METADATA_TITLE, answer);
  if (text != NULL && strstr (text, "<description>") != NULL)
    read_metadata (domain, VIR_DOMAIN_METADATA_DESCRIPTION, answer);
  free (text);
  if ((text = virDomainGetSchedulerType (domain, &n_params)) == NULL)
    answer_fail (answer, "virDomainGetSchedulerType");
  free (text);
  if (virDomainIsUpdated (domain) < 0)
    answer_fail (answer, "virDomainIsUpdated");
}

static int
compare_entries (const void *a, const void *b)
{
  return memcmp (((const DomainEntry *) a)->uuid, ((const DomainEntry *) b)->uuid,
                 VIR_UUID_BUFLEN);
}

/* One thread's part of an answer: its connection's handles, sorted by
 * UUID so that index i names the same domain in every thread, then the
 * domains the shared counter hands it. */
static gpointer
run_worker (gpointer data)
{
  Worker *worker = data;
  Answer *answer = worker->answer;
  virDomainPtr *domains = NULL;
  g_autofree DomainEntry *entries = NULL;
  int n = virConnectListAllDomains (worker->conn, &domains, 0);

  worker->domains = n;
  if (n < 0)
    {
      answer_fail (answer, "virConnectListAllDomains");
      return NULL;
    }
  entries = g_new (DomainEntry, MAX (n, 1));
  for (int i = 0; i < n; i++)
    {
      entries[i].domain = domains[i];
      (void) virDomainGetUUID (domains[i], entries[i].uuid);
    }
  qsort (entries, n, sizeof *entries, compare_entries);

  if (worker->host_wide)
    {
      read_domains_host_wide (worker->conn, answer);
      read_other_objects (worker->conn, answer);
    }
  for (;;)
    {
      int i = g_atomic_int_add (&answer->next, 1);

      if (i >= n)
        break;
      read_domain (entries[i].domain, answer);
    }
  free_domains (domains, n);
  return NULL;
}

/* One whole answer on the first @threads workers; its wall time in us. */
static gint64
make_answer (Worker *workers, int threads, Answer *answer)
{
  GThread *running[MAX_THREADS];
  gint64 started = g_get_monotonic_time ();

  answer->next = 0;
  answer->domains = -1;
  answer->snapshot_lists = 0;
  for (int i = 0; i < threads; i++)
    {
      workers[i].answer = answer;
      workers[i].host_wide = i == 0;
      running[i] = g_thread_new ("floor", run_worker, &workers[i]);
    }
  for (int i = 0; i < threads; i++)
    g_thread_join (running[i]);
  answer->domains = workers[0].domains;
  for (int i = 1; i < threads; i++)
    if (workers[i].domains != workers[0].domains)
      answer->lists_differ = TRUE;
  return g_get_monotonic_time () - started;
}

/* ---- figures -------------------------------------------------------------- */

static gint64
own_cpu_us (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * G_USEC_PER_SEC +
         usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
}

/* Fields 14 and 15 of /proc/PID/stat (user and system time, every
 * thread), counted from the last ')' since the command may hold spaces;
 * -1 if unreadable or @pid is 0. */
static gint64
process_cpu_us (int pid)
{
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_auto (GStrv) fields = NULL;
  const char *after_name;

  if (pid <= 0)
    return -1;
  path = g_strdup_printf ("/proc/%d/stat", pid);
  if (!g_file_get_contents (path, &text, NULL, NULL) ||
      (after_name = strrchr (text, ')')) == NULL)
    return -1;
  fields = g_strsplit (after_name + 2, " ", 0);
  if (g_strv_length (fields) < 13)
    return -1;
  return (g_ascii_strtoll (fields[11], NULL, 10) + g_ascii_strtoll (fields[12], NULL, 10)) *
         G_USEC_PER_SEC / sysconf (_SC_CLK_TCK);
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median (GArray *values)
{
  g_autoptr (GArray) sorted = g_array_copy (values);
  guint n = sorted->len;

  if (n == 0)
    return 0;
  g_array_sort (sorted, compare_doubles);
  if (n % 2 == 1)
    return g_array_index (sorted, double, n / 2);
  return (g_array_index (sorted, double, n / 2 - 1) + g_array_index (sorted, double, n / 2)) / 2;
}

/* libvirt's messages are UTF-8; only quotes, backslashes and control
 * characters need escaping. */
static void
append_json_string (GString *json, const char *text)
{
  g_string_append_c (json, '"');
  for (const char *c = text; *c != '\0'; c++)
    {
      if (*c == '"' || *c == '\\')
        g_string_append_printf (json, "\\%c", *c);
      else if ((guchar) *c < 0x20)
        g_string_append_printf (json, "\\u%04x", (guchar) *c);
      else
        g_string_append_c (json, *c);
    }
  g_string_append_c (json, '"');
}

static void
print_report (ThreadCountFigures *counts, int n_counts, int repeat, int cpu_pid,
              Answer *answer)
{
  g_autoptr (GString) json = g_string_new ("{");
  int best = 0;

  g_string_append_printf (json, "\"domains\": %d, \"repeat\": %d, \"by_threads\": [",
                          answer->domains, repeat);
  for (int c = 0; c < n_counts; c++)
    {
      ThreadCountFigures *figures = &counts[c];

      if (median (figures->ms) < median (counts[best].ms))
        best = c;
      g_string_append_printf (json, "%s{\"threads\": %d, \"median_ms\": %.3f, \"ms\": [",
                              c ? ", " : "", figures->threads, median (figures->ms));
      for (guint i = 0; i < figures->ms->len; i++)
        g_string_append_printf (json, "%s%.3f", i ? ", " : "",
                                g_array_index (figures->ms, double, i));
      g_string_append_printf (json, "], \"client_cpu_ms\": %.3f",
                              (double) figures->client_cpu_us / repeat / 1000);
      if (cpu_pid > 0)
        g_string_append_printf (json, ", \"other_cpu_ms\": %.3f",
                                (double) figures->other_cpu_us / repeat / 1000);
      g_string_append (json, "}");
    }
  g_string_append_printf (json, "], \"best_threads\": %d, \"best_ms\": %.3f, "
                                "\"snapshot_lists\": %u, \"errors\": %d",
                          counts[best].threads, median (counts[best].ms),
                          answer->snapshot_lists, answer->errors);
  if (answer->lists_differ)
    g_string_append (json, ", \"lists_differ\": true");
  if (answer->first_error != NULL)
    {
      g_string_append (json, ", \"first_error\": ");
      append_json_string (json, answer->first_error);
    }
  g_string_append (json, "}");
  printf ("%s\n", json->str);
  fflush (stdout);
}

/* ---- set-up --------------------------------------------------------------- */

static gboolean
parse_thread_counts (const char *text, GArray *counts)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", 0);

  for (guint i = 0; parts[i] != NULL; i++)
    {
      gint64 threads;

      if (!g_ascii_string_to_signed (parts[i], 10, 1, MAX_THREADS, &threads, NULL))
        return FALSE;
      g_array_append_vals (counts, &(int){ (int) threads }, 1);
    }
  return counts->len > 0;
}

static gpointer
run_event_loop (gpointer data)
{
  for (;;)
    virEventRunDefaultImpl ();
  return NULL;
}

/* What a daemon has (virtbusd and libvirt-dbus alike): libvirt's default
 * event implementation, run here on a thread of its own.  libvirt's RPC
 * client then registers each connection's socket with it and updates that
 * watch around every call. */
static void
start_event_loop (void)
{
  if (virEventRegisterDefaultImpl () < 0)
    g_error ("cannot register libvirt's event loop: %s", virGetLastErrorMessage ());
  g_thread_unref (g_thread_new ("event-loop", run_event_loop, NULL));
}

int
main (int argc, char **argv)
{
  g_autofree char *uri = g_strdup ("qemu:///system");
  g_autofree char *thread_text = g_strdup ("1,2,4,8");
  int repeat = 5, warmup = 1, cpu_pid = 0, max_threads = 0;
  gboolean event_loop = FALSE;
  const GOptionEntry entries[] = {
    { "event-loop", 0, 0, G_OPTION_ARG_NONE, &event_loop,
      "Run libvirt's default event loop on a thread and keep each connection alive with "
      "keepalive (5 s, 3), as a daemon does", NULL },
    { "uri", 0, 0, G_OPTION_ARG_STRING, &uri, "libvirt URI (qemu:///system)", "URI" },
    { "threads", 0, 0, G_OPTION_ARG_STRING, &thread_text,
      "Thread counts to measure, each thread with a connection of its own (1,2,4,8)",
      "T,T,..." },
    { "repeat", 0, 0, G_OPTION_ARG_INT, &repeat, "Measured answers per thread count (5)", "N" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &warmup,
      "Unmeasured answers per thread count first (1)", "N" },
    { "cpu-pid", 0, 0, G_OPTION_ARG_INT, &cpu_pid,
      "Also count this process's CPU time per answer (libvirtd)", "PID" },
    { NULL },
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("- the libvirt calls of a GetManagedObjects answer, the floor");
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) thread_counts = g_array_new (FALSE, FALSE, sizeof (int));
  g_autofree ThreadCountFigures *counts = NULL;
  g_autofree Worker *workers = NULL;
  Answer answer = { 0 };

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "vb-libvirt-floor-managed: %s\n", error->message);
      return 2;
    }
  if (!parse_thread_counts (thread_text, thread_counts) || repeat < 1 || warmup < 0)
    {
      fprintf (stderr, "vb-libvirt-floor-managed: --threads takes counts 1..%d, "
                       "--repeat at least 1, --warmup at least 0\n", MAX_THREADS);
      return 2;
    }
  if (virInitialize () < 0)
    g_error ("cannot initialize libvirt");
  virSetErrorFunc (NULL, ignore_libvirt_error);
  g_mutex_init (&answer.lock);
  if (event_loop)
    start_event_loop ();

  counts = g_new0 (ThreadCountFigures, thread_counts->len);
  for (guint c = 0; c < thread_counts->len; c++)
    {
      counts[c].threads = g_array_index (thread_counts, int, c);
      counts[c].ms = g_array_new (FALSE, FALSE, sizeof (double));
      max_threads = MAX (max_threads, counts[c].threads);
    }
  /* Every connection open before the first answer, as a daemon's are. */
  workers = g_new0 (Worker, max_threads);
  for (int i = 0; i < max_threads; i++)
    {
      if ((workers[i].conn = virConnectOpen (uri)) == NULL)
        g_error ("cannot open %s: %s", uri, virGetLastErrorMessage ());
      if (event_loop && virConnectSetKeepAlive (workers[i].conn, 5, 3) < 0)
        g_error ("cannot set keepalive: %s", virGetLastErrorMessage ());
    }

  for (int round = 0; round < warmup + repeat; round++)
    for (guint k = 0; k < thread_counts->len; k++)
      {
        /* 1 2 4 8, then 8 4 2 1: a drift in the machine's load costs
         * every count alike. */
        guint c = round % 2 == 0 ? k : thread_counts->len - 1 - k;
        gint64 cpu_before = own_cpu_us (), other_before = process_cpu_us (cpu_pid);
        double ms = make_answer (workers, counts[c].threads, &answer) / 1000.0;

        if (round < warmup)
          continue;
        g_array_append_val (counts[c].ms, ms);
        counts[c].client_cpu_us += own_cpu_us () - cpu_before;
        counts[c].other_cpu_us += process_cpu_us (cpu_pid) - other_before;
      }

  print_report (counts, (int) thread_counts->len, repeat, cpu_pid, &answer);
  for (int i = 0; i < max_threads; i++)
    virConnectClose (workers[i].conn);
  for (guint c = 0; c < thread_counts->len; c++)
    g_array_unref (counts[c].ms);
  g_free (answer.first_error);
  g_mutex_clear (&answer.lock);
  return answer.errors > 0 || answer.lists_differ ? 1 : 0;
}
