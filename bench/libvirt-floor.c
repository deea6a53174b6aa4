/* vb-libvirt-floor: what libvirt itself costs for the benchmark's calls,
 * with no D-Bus at all: the test driver in this process, the same domains
 * as run-benchmark defines (bench-NNNNN, be4c4000-...).  Any daemon that
 * answers from libvirt at the time of each call pays at least this, so it
 * bounds what the benchmark's ratios can reach (docs/benchmark.md). */
#include <glib.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>

#define PROBE_UUID "be4c4000-0000-4000-8000-000000000005"

static void
ignore_libvirt_error (void *data, virErrorPtr error)
{
}

static void
define_domains (virConnectPtr conn, int first, int last)
{
  for (int i = first; i <= last; i++)
    {
      g_autofree char *xml = g_strdup_printf (
          "<domain type='test'><name>bench-%05d</name>"
          "<uuid>be4c4000-0000-4000-8000-%012d</uuid><memory>65536</memory>"
          "<os><type>hvm</type></os></domain>", i, i);
      virDomainPtr domain = virDomainDefineXML (conn, xml);

      if (domain == NULL)
        g_error ("cannot define bench-%05d: %s", i, virGetLastErrorMessage ());
      virDomainFree (domain);
    }
}

/* Properties.Get("Active"): the lookup of the path's domain and its ID. */
static void
get_active (virConnectPtr conn)
{
  virDomainPtr domain = virDomainLookupByUUIDString (conn, PROBE_UUID);

  (void) virDomainGetID (domain);
  virDomainFree (domain);
}

static void
get_xml (virConnectPtr conn)
{
  virDomainPtr domain = virDomainLookupByUUIDString (conn, PROBE_UUID);

  free (virDomainGetXMLDesc (domain, 0));
  virDomainFree (domain);
}

/* Every libvirt call behind Properties.GetAll on org.libvirt.Domain. */
static void
get_all (virConnectPtr conn)
{
  virDomainPtr domain = virDomainLookupByUUIDString (conn, PROBE_UUID);
  unsigned char uuid[VIR_UUID_BUFLEN];
  virDomainInfo info;
  int state, reason, autostart, n_params;

  (void) virDomainGetID (domain);
  (void) virDomainGetName (domain);
  (void) virDomainGetUUID (domain, uuid);
  (void) virDomainGetInfo (domain, &info);
  (void) virDomainGetState (domain, &state, &reason, 0);
  (void) virDomainIsPersistent (domain);
  (void) virDomainIsUpdated (domain);
  (void) virDomainGetAutostart (domain, &autostart);
  free (virDomainGetOSType (domain));
  free (virDomainGetSchedulerType (domain, &n_params));
  free (virDomainGetMetadata (domain, VIR_DOMAIN_METADATA_TITLE, NULL, 0));
  free (virDomainGetMetadata (domain, VIR_DOMAIN_METADATA_DESCRIPTION, NULL, 0));
  virDomainFree (domain);
}

/* ListDomains(0): every domain, with the UUID its path needs. */
static void
list_domains (virConnectPtr conn)
{
  virDomainPtr *domains = NULL;
  int n = virConnectListAllDomains (conn, &domains, 0);

  for (int i = 0; i < n; i++)
    {
      unsigned char uuid[VIR_UUID_BUFLEN];

      (void) virDomainGetUUID (domains[i], uuid);
      virDomainFree (domains[i]);
    }
  free (domains);
}

/* Microseconds per run of @func, over at least 0.3 s. */
static double
time_us (void (*func) (virConnectPtr), virConnectPtr conn)
{
  gint64 start = g_get_monotonic_time ();
  gint64 elapsed;
  long runs = 0;

  do
    {
      func (conn);
      runs++;
      elapsed = g_get_monotonic_time () - start;
    }
  while (elapsed < 300000);
  return (double) elapsed / (double) runs;
}

static int
compare_ints (gconstpointer a, gconstpointer b)
{
  return *(const int *) a - *(const int *) b;
}

int
main (int argc, char **argv)
{
  g_autoptr(GArray) sizes = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(GString) lists = g_string_new ("");
  g_autofree char *per_call = NULL;
  virConnectPtr conn;
  int main_size, defined = 1;   /* the driver's own domain "test" counts */

  if (argc < 2)
    {
      fprintf (stderr, "usage: vb-libvirt-floor DOMAINS [LIST-SIZE...]\n");
      return 2;
    }
  virSetErrorFunc (NULL, ignore_libvirt_error);
  conn = virConnectOpen ("test:///default");
  if (conn == NULL)
    g_error ("cannot open test:///default: %s", virGetLastErrorMessage ());

  main_size = atoi (argv[1]);
  for (int i = 1; i < argc; i++)
    {
      int size = atoi (argv[i]);

      g_array_append_val (sizes, size);
    }
  g_array_sort (sizes, compare_ints);
  for (guint i = 1; i < sizes->len; i++)
    {
      if (g_array_index (sizes, int, i) == g_array_index (sizes, int, i - 1))
        g_array_remove_index (sizes, i--);
    }
  /* Ascending, as run-benchmark adds domains between the sizes. */
  for (guint i = 0; i < sizes->len; i++)
    {
      int size = g_array_index (sizes, int, i);

      if (size > defined)
        define_domains (conn, defined, size - 1);
      defined = MAX (defined, size);
      if (size == main_size && per_call == NULL)
        per_call = g_strdup_printf ("\"get_us\": %.2f, \"xml_us\": %.2f, \"getall_us\": %.2f",
                                    time_us (get_active, conn), time_us (get_xml, conn),
                                    time_us (get_all, conn));
      for (int a = 2; a < argc; a++)
        {
          if (atoi (argv[a]) == size)
            {
              g_string_append_printf (lists, "%s\"%d\": %.3f", lists->len > 0 ? ", " : "",
                                      size, time_us (list_domains, conn) / 1000.0);
              break;
            }
        }
    }
  printf ("{%s, \"list_ms\": {%s}}\n", per_call, lists->str);
  virConnectClose (conn);
  return 0;
}
