#include "bench-bus.h"

#include <errno.h>
#include <gio/gio.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
bench_keep_first_error (GError **first, GError *error)
{
  if (*first == NULL)
    *first = error;
  else
    g_error_free (error);
}

gboolean
bench_check (int result, const char *what, GError **error)
{
  if (result >= 0)
    return TRUE;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (-result), "%s: %s", what,
               g_strerror (-result));
  return FALSE;
}

/* Takes @bus; NULL with @error set if it cannot be attached to @event
 * (which may be NULL: nothing to attach). */
static sd_bus *
attach_to_event (sd_bus *bus, sd_event *event, GError **error)
{
  g_autoptr(sd_bus) owned = bus;

  if (event != NULL &&
      !bench_check (sd_bus_attach_event (owned, event, SD_EVENT_PRIORITY_NORMAL),
                    "attaching the bus to the event loop", error))
    return NULL;
  return g_steal_pointer (&owned);
}

sd_bus *
bench_bus_open (const char *address, sd_event *event, GError **error)
{
  g_autoptr(sd_bus) bus = NULL;

  if (!bench_check (sd_bus_new (&bus), "sd_bus_new", error) ||
      !bench_check (sd_bus_set_address (bus, address), "bus address", error) ||
      !bench_check (sd_bus_set_bus_client (bus, 1), "bus client", error) ||
      !bench_check (sd_bus_start (bus), "connecting to the bus", error))
    return NULL;
  return attach_to_event (g_steal_pointer (&bus), event, error);
}

static gboolean
set_errno_error (int result, const char *what, GError **error)
{
  int saved = errno;

  if (result == 0)
    return TRUE;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", what,
               g_strerror (saved));
  return FALSE;
}

/* Effective ids and groups only: the real and saved uid stay 0, so the
 * process can become root again. */
static gboolean
become_user (gint uid, GError **error)
{
  struct passwd *user = getpwuid ((uid_t) uid);
  gid_t groups[256];
  int n_groups = G_N_ELEMENTS (groups);

  if (user == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no user with uid %d", uid);
      return FALSE;
    }
  if (getgrouplist (user->pw_name, user->pw_gid, groups, &n_groups) < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s is in too many groups",
                   user->pw_name);
      return FALSE;
    }
  return set_errno_error (setgroups ((size_t) n_groups, groups), "setgroups", error) &&
         set_errno_error (setresgid ((gid_t) -1, user->pw_gid, (gid_t) -1), "setresgid",
                          error) &&
         set_errno_error (setresuid ((uid_t) -1, (uid_t) uid, (uid_t) -1), "setresuid", error);
}

static gboolean
become_root_again (const gid_t *groups, int n_groups, GError **error)
{
  return set_errno_error (setresuid ((uid_t) -1, 0, (uid_t) -1), "setresuid", error) &&
         set_errno_error (setresgid ((gid_t) -1, 0, (gid_t) -1), "setresgid", error) &&
         set_errno_error (setgroups ((size_t) n_groups, groups), "setgroups", error);
}

sd_bus *
bench_bus_open_as (const char *address, sd_event *event, gint uid, GError **error)
{
  gid_t root_groups[256];
  int n_root_groups;
  g_autoptr(sd_bus) bus = NULL;
  const char *unique_name = NULL;
  GError *switch_error = NULL;

  if (uid < 0)
    return bench_bus_open (address, event, error);
  if (geteuid () != 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                           "calling as another user needs root");
      return NULL;
    }
  n_root_groups = getgroups (G_N_ELEMENTS (root_groups), root_groups);
  if (!set_errno_error (n_root_groups < 0 ? -1 : 0, "getgroups", error) ||
      !become_user (uid, error))
    return NULL;
  bus = bench_bus_open (address, NULL, error);
  /* Waits for the answer to Hello: authentication is over. */
  if (bus != NULL &&
      !bench_check (sd_bus_get_unique_name (bus, &unique_name), "connecting", error))
    g_clear_pointer (&bus, sd_bus_flush_close_unref);
  if (!become_root_again (root_groups, n_root_groups, &switch_error))
    {
      /* Going on as the wrong user would measure the wrong thing. */
      g_error ("cannot become root again: %s", switch_error->message);
    }
  if (bus == NULL)
    return NULL;
  return attach_to_event (g_steal_pointer (&bus), event, error);
}

char *
bench_domain_name (guint index)
{
  return g_strdup_printf ("bench-%05u", index);
}

char *
bench_domain_uuid (guint index)
{
  return g_strdup_printf ("be4c4000-0000-4000-8000-%012u", index);
}

/* The encoding both daemons use: '_' then the UUID with '-' as '_'. */
char *
bench_domain_path (const char *connect_path, guint index)
{
  g_autofree char *uuid = bench_domain_uuid (index);

  g_strdelimit (uuid, "-", '_');
  return g_strdup_printf ("%s/domain/_%s", connect_path, uuid);
}

/* Test-driver domains need nothing but a name; QEMU guests are the
 * smallest that boot under software emulation (SeaBIOS then idles). */
char *
bench_domain_xml (const char *type, guint index)
{
  g_autofree char *name = bench_domain_name (index);
  g_autofree char *uuid = bench_domain_uuid (index);

  if (g_str_equal (type, "qemu"))
    return g_strdup_printf (
        "<domain type='qemu'><name>%s</name><uuid>%s</uuid>"
        "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
        "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
        "<devices><memballoon model='none'/></devices></domain>",
        name, uuid);
  return g_strdup_printf (
      "<domain type='test'><name>%s</name><uuid>%s</uuid>"
      "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
      "<os><type arch='x86_64'>hvm</type></os></domain>",
      name, uuid);
}

/* Fields 14 and 15 of /proc/PID/stat count the whole process, threads
 * that already exited included.  The command name (field 2) may hold
 * spaces and parentheses, so fields are counted from its last ')'. */
gboolean
bench_process_cpu_us (pid_t pid, gint64 *cpu_us, GError **error)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *text = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after_name;
  long ticks_per_second = sysconf (_SC_CLK_TCK);

  if (!g_file_get_contents (path, &text, NULL, error))
    return FALSE;
  after_name = strrchr (text, ')');
  if (after_name == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: no command name", path);
      return FALSE;
    }
  fields = g_strsplit (after_name + 2, " ", 0);
  /* fields[0] is field 3 (state), so utime and stime are 11 and 12. */
  if (g_strv_length (fields) < 13)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: too few fields", path);
      return FALSE;
    }
  *cpu_us = (g_ascii_strtoll (fields[11], NULL, 10) + g_ascii_strtoll (fields[12], NULL, 10)) *
            G_USEC_PER_SEC / ticks_per_second;
  return TRUE;
}

static int
compare_samples (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a;
  gint64 y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

gint64
bench_percentile (GArray *samples, double q)
{
  guint rank;

  if (samples->len == 0)
    return 0;
  g_array_sort (samples, compare_samples);
  rank = (guint) (q * samples->len + 0.999999);
  rank = CLAMP (rank, 1, samples->len);
  return g_array_index (samples, gint64, rank - 1);
}

char *
bench_describe_error (sd_bus_message *reply)
{
  const sd_bus_error *error = sd_bus_message_get_error (reply);

  if (error == NULL)
    return g_strdup ("(no error)");
  return g_strdup_printf ("%s: %s", error->name, error->message != NULL ? error->message : "");
}

char *
bench_json_string (const char *text)
{
  GString *json = g_string_new ("\"");

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
  return g_string_free (json, FALSE);
}
