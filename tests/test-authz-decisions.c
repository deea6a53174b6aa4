/* polkit's decisions and what they cost, end to end, as root, in the world
 * of vb-authz-world.h: a root monitor on the bus counts the
 * CheckAuthorization calls virtbusd makes.  Callers in the trusted group
 * are never checked; the others' decisions are reused per caller within
 * the lifetime and until polkit's rules change, identical checks in flight
 * are made once, refusals are reused, prompts never are; 300 calls in
 * flight are all answered; a polkitd that stops answering fails the calls
 * closed in the configured time, and they are answered again once it
 * resumes. */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "vb-authz-world.h"

#define READ_ACTION "org.libvirt.dbus.domain.read"
#define START_ACTION "org.libvirt.dbus.domain.start"
#define STOP_ACTION "org.libvirt.dbus.domain.stop"
#define RESET_ACTION "org.libvirt.dbus.domain.reset"

#define NO_TRUSTED_GROUP "[authorization]\ntrusted-group =\n"
#define LIFETIME_2_S "[authorization]\ndecision-lifetime = 2\n"
#define LIFETIME_0 "[authorization]\ndecision-lifetime = 0\n"
#define LIFETIME_60_S "[authorization]\ndecision-lifetime = 60\n"
#define POLKIT_TIMEOUT_2_S "[authorization]\npolkit-timeout = 2\n"

static VbPolkitMonitor *monitor;

static GPtrArray *
new_calls (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) vb_test_call_free);
}

static VbTestCall *
domain_call (const char *path, const char *member, const char *permission)
{
  return vb_test_call_new (path, "org.libvirt.Domain", member, g_variant_new ("(u)", 0),
                           permission);
}

/* Get, GetAll, a start and a stop on web2. */
static GPtrArray *
reads_and_writes (void)
{
  GPtrArray *calls = new_calls ();

  g_ptr_array_add (calls, vb_test_call_domain_name (world.web2));
  g_ptr_array_add (calls, vb_test_call_new (world.web2, "org.freedesktop.DBus.Properties",
                                            "GetAll",
                                            g_variant_new ("(s)", "org.libvirt.Domain"),
                                            "domain:read"));
  g_ptr_array_add (calls, domain_call (world.web2, "Create", "domain:start"));
  g_ptr_array_add (calls, domain_call (world.web2, "Destroy", "domain:stop"));
  return calls;
}

static void
assert_answered (const VbTestCall *call)
{
  if (call->error_name != NULL)
    g_error ("%s.%s on %s answered %s: %s", call->iface, call->member, call->path,
             call->error_name, call->error_message);
}

static void
assert_all_answered (GPtrArray *calls)
{
  for (guint i = 0; i < calls->len; i++)
    assert_answered (g_ptr_array_index (calls, i));
}

static void
call_once (VbHelper *client, VbTestCall *call)
{
  vb_client_call (client, call, FALSE);
  assert_answered (call);
}

/* ---- the trusted group ---------------------------------------------------- */

/* A member of the libvirt group reads and writes: polkit is never asked
 * (the monitor works: the plain user's read is counted). */
static void
test_trusted_group_not_checked (void)
{
  g_autoptr(GPtrArray) calls = NULL;
  g_autoptr(VbHelper) admin = NULL, plain = NULL;
  g_autoptr(VbTestCall) read = NULL;
  g_autofree char *plain_name = NULL;
  guint mark;

  vb_authz_world_use_config ("");
  calls = reads_and_writes ();
  admin = vb_client_new (USER_ADMIN);
  mark = vb_polkit_monitor_mark (monitor);
  for (guint i = 0; i < calls->len; i++)
    vb_client_call (admin, g_ptr_array_index (calls, i), FALSE);
  assert_all_answered (calls);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, NULL, NULL, -1), ==, 0);

  plain = vb_client_new (USER_PLAIN);
  plain_name = vb_client_name (plain);
  read = vb_test_call_domain_name (world.web2);
  call_once (plain, read);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, NULL, NULL, -1), ==, 1);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, READ_ACTION, plain_name, 0), ==, 1);
}

/* trusted-group empty: the same member is checked like anyone, and the
 * shipped rule allows it everything. */
static void
test_no_trusted_group_checks_everyone (void)
{
  g_autoptr(GPtrArray) calls = NULL;
  g_autoptr(VbHelper) admin = NULL;
  g_autofree char *admin_name = NULL;
  guint mark;

  vb_authz_world_use_config (NO_TRUSTED_GROUP);
  calls = reads_and_writes ();
  admin = vb_client_new (USER_ADMIN);
  admin_name = vb_client_name (admin);
  mark = vb_polkit_monitor_mark (monitor);
  for (guint i = 0; i < calls->len; i++)
    vb_client_call (admin, g_ptr_array_index (calls, i), FALSE);
  assert_all_answered (calls);
  /* Get and GetAll of one domain: one decision. */
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, READ_ACTION, admin_name, 0), ==, 1);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, START_ACTION, admin_name, 0), ==, 1);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, STOP_ACTION, admin_name, 0), ==, 1);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, NULL, NULL, -1), ==, 3);
}

/* ---- reuse ------------------------------------------------------------------- */

/* The same read ten times from one connection: one check; from a new
 * connection (a new caller): checked again; another object: another check. */
static void
test_reused_per_caller (void)
{
  g_autoptr(VbHelper) plain = NULL;
  g_autoptr(VbTestCall) read = NULL, other = NULL;
  g_autofree char *first_name = NULL, *second_name = NULL;
  guint mark;

  vb_authz_world_use_config ("");
  read = vb_test_call_domain_name (world.web2);
  other = vb_test_call_domain_name (world.web1);
  plain = vb_client_new (USER_PLAIN);
  first_name = vb_client_name (plain);
  mark = vb_polkit_monitor_mark (monitor);
  for (int i = 0; i < 10; i++)
    call_once (plain, read);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, NULL, NULL, -1), ==, 1);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, READ_ACTION, first_name, 0), ==, 1);

  call_once (plain, other);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, NULL, NULL, -1), ==, 2);

  vb_client_reconnect (plain);
  second_name = vb_client_name (plain);
  g_assert_cmpstr (first_name, !=, second_name);
  for (int i = 0; i < 10; i++)
    call_once (plain, read);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, READ_ACTION, second_name, 0), ==, 1);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, NULL, NULL, -1), ==, 3);
}

/* decision-lifetime = 2: reused at once, asked again after 2 s. */
static void
test_reused_within_lifetime_only (void)
{
  g_autoptr(VbHelper) plain = NULL;
  g_autoptr(VbTestCall) read = NULL;
  gint64 first;
  guint mark;

  vb_authz_world_use_config (LIFETIME_2_S);
  read = vb_test_call_domain_name (world.web2);
  plain = vb_client_new (USER_PLAIN);
  mark = vb_polkit_monitor_mark (monitor);
  first = g_get_monotonic_time ();
  call_once (plain, read);
  call_once (plain, read);
  /* Else the test proves nothing: */
  g_assert_cmpint (g_get_monotonic_time () - first, <, G_USEC_PER_SEC);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, READ_ACTION, NULL, -1), ==, 1);

  while (g_get_monotonic_time () < first + 2500 * 1000)
    g_usleep (50 * 1000);
  call_once (plain, read);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, READ_ACTION, NULL, -1), ==, 2);
  call_once (plain, read);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, READ_ACTION, NULL, -1), ==, 2);
}

/* decision-lifetime = 0: every call is checked, identical calls in flight
 * too. */
static void
test_lifetime_zero_checks_every_call (void)
{
  g_autoptr(VbHelper) plain = NULL;
  g_autoptr(VbTestCall) read = NULL;
  g_autoptr(GPtrArray) batch = new_calls ();
  guint mark;

  vb_authz_world_use_config (LIFETIME_0);
  read = vb_test_call_domain_name (world.web2);
  plain = vb_client_new (USER_PLAIN);
  mark = vb_polkit_monitor_mark (monitor);
  for (int i = 0; i < 10; i++)
    call_once (plain, read);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, READ_ACTION, NULL, -1), ==, 10);

  mark = vb_polkit_monitor_mark (monitor);
  for (int i = 0; i < 5; i++)
    g_ptr_array_add (batch, vb_test_call_domain_name (world.web2));
  vb_client_send_batch (plain, batch, FALSE);
  vb_client_receive_batch (plain, batch);
  assert_all_answered (batch);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, READ_ACTION, NULL, -1), ==, 5);
}

static const char refuse_web2_rules[] =
  "// Added by test-authz-decisions: vbauthz-plain may not read web2.\n"
  "polkit.addRule(function(action, subject) {\n"
  "    if (subject.user == \"vbauthz-plain\" &&\n"
  "        action.id == \"org.libvirt.dbus.domain.read\" &&\n"
  "        action.lookup(\"domain_name\") == \"web2\")\n"
  "        return polkit.Result.NO;\n"
  "    return polkit.Result.NOT_HANDLED;\n"
  "});\n";

/* Well within a 60 s lifetime, a rules file added (polkitd reloads and
 * announces Changed) refuses the read that was allowed and reused; its
 * removal allows it again. */
static void
test_dropped_when_polkit_rules_change (void)
{
  g_autoptr(VbHelper) plain = NULL;
  g_autoptr(VbTestCall) read = NULL;
  guint mark;

  vb_authz_world_use_config (LIFETIME_60_S);
  read = vb_test_call_domain_name (world.web2);
  plain = vb_client_new (USER_PLAIN);
  mark = vb_polkit_monitor_mark (monitor);
  call_once (plain, read);
  call_once (plain, read);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, READ_ACTION, NULL, -1), ==, 1);

  vb_authz_world_set_polkit_rules ("30-vbauthz-refuse-web2.rules", refuse_web2_rules);
  /* The bus delivered Changed to virtbusd before it reached us; a moment
   * for virtbusd to get to it. */
  g_usleep (200 * 1000);
  vb_client_call (plain, read, FALSE);
  vb_assert_denied (read);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, READ_ACTION, NULL, -1), ==, 2);

  vb_authz_world_set_polkit_rules ("30-vbauthz-refuse-web2.rules", NULL);
  g_usleep (200 * 1000);
  call_once (plain, read);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, READ_ACTION, NULL, -1), ==, 3);
}

/* ---- coalescing, refusals, prompts ------------------------------------------ */

/* 20 identical calls sent at once: one check. */
static void
test_identical_checks_coalesced (void)
{
  g_autoptr(VbHelper) plain = NULL;
  g_autoptr(GPtrArray) batch = new_calls ();
  guint mark;

  vb_authz_world_use_config ("");
  for (int i = 0; i < 20; i++)
    g_ptr_array_add (batch, vb_test_call_domain_name (world.web2));
  plain = vb_client_new (USER_PLAIN);
  mark = vb_polkit_monitor_mark (monitor);
  vb_client_send_batch (plain, batch, FALSE);
  vb_client_receive_batch (plain, batch);
  assert_all_answered (batch);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, NULL, NULL, -1), ==, 1);
}

/* A refused call repeated: refused again, polkit asked once; the same for
 * "needs interaction" without the flag. */
static void
test_refusals_reused (void)
{
  g_autoptr(VbHelper) plain = NULL, web = NULL;
  g_autoptr(VbTestCall) start = NULL, reset = NULL;
  guint mark;

  vb_authz_world_use_config ("");
  start = domain_call (world.web2, "Create", "domain:start");
  reset = domain_call (world.web1, "Reset", "domain:reset");
  plain = vb_client_new (USER_PLAIN);
  web = vb_client_new (USER_WEB);
  mark = vb_polkit_monitor_mark (monitor);
  for (int i = 0; i < 3; i++)
    {
      vb_client_call (plain, start, FALSE);
      vb_assert_denied (start);
      vb_client_call (web, reset, FALSE);
      g_assert_cmpstr (reset->error_name, ==, VB_INTERACTION_REQUIRED);
      g_assert_nonnull (strstr (reset->error_message, RESET_ACTION));
    }
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, START_ACTION, NULL, -1), ==, 1);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, RESET_ACTION, NULL, -1), ==, 1);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, NULL, NULL, -1), ==, 2);
}

static void
assert_prompted (VbHelper *agent, int call)
{
  g_autofree char *asked = vb_helper_read_line (agent, 20);

  if (asked == NULL)
    g_error ("interactive call %d: no prompt (the agent was not asked within 20 s)", call);
  g_assert_cmpstr (asked, ==, "ASKED " RESET_ACTION " "
                   "Authentication is required to reset the virtual machine web1");
}

/* The web user's interactive Reset of web1 (the test rule answers
 * AUTH_ADMIN), sent again while the first sits at the prompt of an agent
 * that never answers: the agent is asked again (the interactive check is
 * neither reused nor shared), while the first answer, "needs interaction",
 * is.  Both are refused when the agent goes away.  (polkitd announces
 * Changed when an agent comes or goes, which drops every decision: the
 * calls are made in between.) */
static void
test_interaction_never_reused (void)
{
  g_autoptr(VbHelper) web = NULL, agent = NULL;
  g_autoptr(VbTestCall) first = NULL, second = NULL;
  guint mark, n_changed;

  vb_authz_world_use_config ("");
  first = domain_call (world.web1, "Reset", "domain:reset");
  second = domain_call (world.web1, "Reset", "domain:reset");
  web = vb_client_new (USER_WEB);
  agent = vb_agent_new (web);
  mark = vb_polkit_monitor_mark (monitor);
  n_changed = vb_polkit_monitor_n_changed (monitor);

  vb_client_send (web, first, TRUE);
  assert_prompted (agent, 1);
  vb_client_send (web, second, TRUE);
  assert_prompted (agent, 2);
  g_assert_cmpuint (vb_polkit_monitor_n_changed (monitor), ==, n_changed);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, RESET_ACTION, NULL, 1), ==, 2);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, RESET_ACTION, NULL, 0), ==, 1);

  g_clear_pointer (&agent, vb_helper_free);
  vb_client_receive (web, first, 60);
  vb_assert_denied (first);
  vb_client_receive (web, second, 60);
  vb_assert_denied (second);
}

/* ---- load -------------------------------------------------------------------- */

#define N_LOAD_DOMAINS 150
#define N_LOAD_CLIENTS 3
#define N_CALLS_PER_CLIENT 100

/* Until the monitor has seen at least @n reads checked since @mark; how
 * many it has seen. */
static guint
wait_for_reads_checked (guint mark, guint n)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  guint seen;

  while ((seen = vb_polkit_monitor_count (monitor, mark, READ_ACTION, NULL, -1)) < n)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("only %u reads checked in 20 s", seen);
      g_usleep (5000);
    }
  return seen;
}

/* 300 reads in flight from a user outside the group (3 connections, 100
 * objects each: nothing to reuse or coalesce), beyond the bus's 128
 * pending replies per connection: every one answered, at most 4 checks of
 * that user in flight at once.  Meanwhile another user's read is checked
 * at once, not after the 300 (checks are shared out per user). */
static void
test_300_calls_in_flight_all_answered (void)
{
  g_autoptr(GPtrArray) domains = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(VbHelper) web = vb_client_new (USER_WEB);
  g_autoptr(VbTestCall) web_read = NULL;
  g_autofree char *web_name = vb_client_name (web);
  GPtrArray *batches[N_LOAD_CLIENTS];
  VbHelper *clients[N_LOAD_CLIENTS];
  gint64 start;
  guint mark, seen_before;
  int web_position;

  vb_authz_world_use_config ("");
  web_read = vb_test_call_domain_name (world.web1);
  for (int i = 0; i < N_LOAD_DOMAINS; i++)
    {
      g_autofree char *name = g_strdup_printf ("load%03d", i);

      g_ptr_array_add (domains, vb_authz_define_domain (name));
    }
  for (int c = 0; c < N_LOAD_CLIENTS; c++)
    {
      batches[c] = new_calls ();
      for (int i = 0; i < N_CALLS_PER_CLIENT; i++)
        g_ptr_array_add (batches[c],
                         vb_test_call_domain_name (g_ptr_array_index (
                             domains, (c * 50 + i) % N_LOAD_DOMAINS)));
      clients[c] = vb_client_new (USER_PLAIN);
    }

  mark = vb_polkit_monitor_mark (monitor);
  start = g_get_monotonic_time ();
  for (int c = 0; c < N_LOAD_CLIENTS; c++)
    vb_client_send_batch (clients[c], batches[c], FALSE);
  seen_before = wait_for_reads_checked (mark, 8);
  call_once (web, web_read);
  for (int c = 0; c < N_LOAD_CLIENTS; c++)
    {
      vb_client_receive_batch (clients[c], batches[c]);
      assert_all_answered (batches[c]);
    }
  g_test_message ("%d calls answered in %.2f s", N_LOAD_CLIENTS * N_CALLS_PER_CLIENT,
                  (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, READ_ACTION, NULL, 0), ==,
                    N_LOAD_CLIENTS * N_CALLS_PER_CLIENT + 1);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, NULL, NULL, -1), ==,
                    N_LOAD_CLIENTS * N_CALLS_PER_CLIENT + 1);
  g_test_message ("at most %u checks in flight",
                  vb_polkit_monitor_max_in_flight (monitor, mark));
  g_assert_cmpuint (vb_polkit_monitor_max_in_flight (monitor, mark), <=, 4 + 1);
  web_position = vb_polkit_monitor_position (monitor, mark, web_name);
  g_test_message ("the other user's check came %d checks after %u had been seen", web_position,
                  seen_before);
  /* In one queue it would come last (300); shared out per user, right
   * after the few in flight (with room for a slow machine). */
  g_assert_cmpint (web_position, >=, 0);
  g_assert_cmpint (web_position, <, N_LOAD_CLIENTS * N_CALLS_PER_CLIENT / 2);

  for (int c = 0; c < N_LOAD_CLIENTS; c++)
    {
      vb_helper_free (clients[c]);
      g_ptr_array_unref (batches[c]);
    }
  for (guint i = 0; i < domains->len; i++)
    g_variant_unref (vb_test_call (&world.fixture, g_ptr_array_index (domains, i),
                                   "org.libvirt.Domain", "Undefine",
                                   g_variant_new ("(u)", 0), "()"));
}

/* polkit-checks-per-second = 4, so a burst of 40: 50 reads of different
 * objects by one user are checked, the first 40 at once and the other 10
 * at about four a second, and every one is answered; meanwhile another
 * user's read is checked at once (the allowance is per uid). */
#define N_RATE_DOMAINS 50

static double seconds_since (gint64 start);

static void
test_checks_per_second_per_uid (void)
{
  g_autoptr(GPtrArray) domains = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) batch = new_calls ();
  g_autoptr(VbHelper) plain = NULL, web = NULL;
  g_autoptr(VbTestCall) web_read = NULL;
  gint64 start, web_start;
  double elapsed, web_elapsed;
  guint mark;

  vb_authz_world_use_config ("[authorization]\npolkit-checks-per-second = 4\n");
  for (int i = 0; i < N_RATE_DOMAINS; i++)
    {
      g_autofree char *name = g_strdup_printf ("rate%02d", i);
      char *path = vb_authz_define_domain (name);

      g_ptr_array_add (domains, path);
      g_ptr_array_add (batch, vb_test_call_domain_name (path));
    }
  plain = vb_client_new (USER_PLAIN);
  web = vb_client_new (USER_WEB);
  web_read = vb_test_call_domain_name (world.web1);

  mark = vb_polkit_monitor_mark (monitor);
  start = g_get_monotonic_time ();
  vb_client_send_batch (plain, batch, FALSE);
  wait_for_reads_checked (mark, 40);
  g_assert_cmpfloat (seconds_since (start), <, 2.0);
  web_start = g_get_monotonic_time ();
  call_once (web, web_read);
  web_elapsed = seconds_since (web_start);
  vb_client_receive_batch (plain, batch);
  elapsed = seconds_since (start);
  assert_all_answered (batch);
  g_test_message ("50 reads answered in %.2f s; the other user's in %.2f s", elapsed,
                  web_elapsed);
  g_assert_cmpuint (vb_polkit_monitor_count (monitor, mark, READ_ACTION, NULL, -1), ==,
                    N_RATE_DOMAINS + 1);
  /* 10 checks past the burst at 4 a second (GLib's timers may run a
   * little early; the first of them may come at once): unlimited, the 50
   * take a fraction of a second. */
  g_assert_cmpfloat (elapsed, >=, 2.0);
  g_assert_cmpfloat (elapsed, <, 20.0);
  g_assert_cmpfloat (web_elapsed, <, 2.0);

  for (guint i = 0; i < domains->len; i++)
    g_variant_unref (vb_test_call (&world.fixture, g_ptr_array_index (domains, i),
                                   "org.libvirt.Domain", "Undefine",
                                   g_variant_new ("(u)", 0), "()"));
}

/* ---- polkitd stopped ----------------------------------------------------- */

#define N_STALLED_CALLS 10

/* polkitd continued when the test ends, whichever way: when its stdin
 * closes (a SIGTERM sent to the test's session, as when a test fails, is
 * ignored). */
static GSubprocess *
continue_polkitd_at_exit (void)
{
  g_autofree char *script = g_strdup_printf ("trap '' TERM; read line; kill -CONT %s",
                                             g_subprocess_get_identifier (world.polkitd));
  const char *const argv[] = { "/bin/sh", "-c", script, NULL };
  g_autoptr(GError) error = NULL;
  GSubprocess *process = g_subprocess_newv (
      argv, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);

  g_assert_no_error (error);
  return process;
}

/* SIGSTOP, and wait until the kernel shows polkitd stopped: GLib sends a
 * GSubprocess's signals from its worker thread, so they may land after
 * the calls the test makes next. */
static void
stop_polkitd (void)
{
  g_autofree char *stat_path = g_strdup_printf (
      "/proc/%s/stat", g_subprocess_get_identifier (world.polkitd));
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  g_assert_cmpint (kill ((pid_t) g_ascii_strtoll (g_subprocess_get_identifier (world.polkitd),
                                                  NULL, 10), SIGSTOP), ==, 0);
  for (;;)
    {
      g_autofree char *stat = NULL;
      const char *after_name;

      g_assert_true (g_file_get_contents (stat_path, &stat, NULL, NULL));
      after_name = strrchr (stat, ')');
      g_assert_nonnull (after_name);
      if (after_name[1] == ' ' && after_name[2] == 'T')
        return;
      if (g_get_monotonic_time () > deadline)
        g_error ("polkitd is not stopped 10 s after SIGSTOP: %s", stat);
      g_usleep (1000);
    }
}

static void
continue_polkitd_now (GSubprocess *guard)
{
  g_autoptr(GError) error = NULL;

  g_output_stream_close (g_subprocess_get_stdin_pipe (guard), NULL, &error);
  g_assert_no_error (error);
  g_subprocess_wait (guard, NULL, &error);
  g_assert_no_error (error);
}

static double
seconds_since (gint64 start)
{
  return (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
}

/* polkit-timeout = 2, polkitd stopped (SIGSTOP): ten reads of objects not
 * decided yet (four checks in flight for the user, six queued) are all
 * refused after 2 s (within 4 s), with the message that says why; root and
 * the libvirt group are answered meanwhile.  Once polkitd continues, the
 * same calls are answered.  @warm: virtbusd has asked polkitd before. */
static void
assert_stopped_polkitd_fails_closed (gboolean warm)
{
  g_autoptr(GPtrArray) domains = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) batch = new_calls ();
  g_autoptr(GPtrArray) admin_read = new_calls ();
  g_autoptr(VbHelper) plain = NULL;
  g_autoptr(GSubprocess) guard = NULL;
  g_autoptr(GVariant) root_read = NULL;
  g_autoptr(VbTestCall) first = NULL;
  gint64 start;
  double elapsed;

  if (!warm)
    vb_authz_world_objects_changed ();
  vb_authz_world_use_config (POLKIT_TIMEOUT_2_S);
  for (int i = 0; i < N_STALLED_CALLS; i++)
    {
      g_autofree char *name = g_strdup_printf ("stalled%d", i);
      char *path = vb_authz_define_domain (name);

      g_ptr_array_add (domains, path);
      g_ptr_array_add (batch, vb_test_call_domain_name (path));
    }
  g_ptr_array_add (admin_read, vb_test_call_domain_name (world.web2));
  plain = vb_client_new (USER_PLAIN);
  if (warm)
    {
      first = vb_test_call_domain_name (world.web2);
      call_once (plain, first);
    }

  guard = continue_polkitd_at_exit ();
  stop_polkitd ();
  start = g_get_monotonic_time ();
  vb_client_send_batch (plain, batch, FALSE);

  root_read = vb_test_get_property (&world.fixture, world.web2, "org.libvirt.Domain", "Name");
  vb_call_as (USER_ADMIN, admin_read, FALSE);
  assert_all_answered (admin_read);
  g_assert_cmpfloat (seconds_since (start), <, 1.9);

  vb_client_receive_batch (plain, batch);
  elapsed = seconds_since (start);
  g_test_message ("refused after %.2f s", elapsed);
  for (guint i = 0; i < batch->len; i++)
    {
      const VbTestCall *call = g_ptr_array_index (batch, i);

      g_assert_cmpstr (call->error_name, ==, VB_ACCESS_DENIED);
      g_assert_cmpstr (call->error_message, ==,
                       "Not authorized for " READ_ACTION ": polkit did not answer within 2 s");
    }
  /* Not at once (GLib's second timers may fire a quarter second early). */
  g_assert_cmpfloat (elapsed, >=, 1.5);
  /* The six queued checks fail with the four in flight, not in rounds of
   * 2 s after them. */
  g_assert_cmpfloat (elapsed, <=, 4.0);

  continue_polkitd_now (guard);
  start = g_get_monotonic_time ();
  vb_client_send_batch (plain, batch, FALSE);
  vb_client_receive_batch (plain, batch);
  assert_all_answered (batch);
  g_test_message ("answered %.2f s after polkitd continued", seconds_since (start));
  g_assert_cmpfloat (seconds_since (start), <, 2.0);

  for (guint i = 0; i < domains->len; i++)
    g_variant_unref (vb_test_call (&world.fixture, g_ptr_array_index (domains, i),
                                   "org.libvirt.Domain", "Undefine",
                                   g_variant_new ("(u)", 0), "()"));
}

static void
test_stopped_polkitd_fails_closed_in_time (void)
{
  assert_stopped_polkitd_fails_closed (TRUE);
}

/* The same when virtbusd's first check meets the stopped polkitd. */
static void
test_stopped_polkitd_at_first_check (void)
{
  assert_stopped_polkitd_fails_closed (FALSE);
}

static void
add_tests (void)
{
  monitor = vb_polkit_monitor_new ();

  g_test_add_func ("/authz-decisions/trusted-group/not-checked", test_trusted_group_not_checked);
  g_test_add_func ("/authz-decisions/trusted-group/empty-checks-everyone",
                   test_no_trusted_group_checks_everyone);
  g_test_add_func ("/authz-decisions/reuse/per-caller", test_reused_per_caller);
  g_test_add_func ("/authz-decisions/reuse/within-lifetime-only",
                   test_reused_within_lifetime_only);
  g_test_add_func ("/authz-decisions/reuse/lifetime-zero-checks-every-call",
                   test_lifetime_zero_checks_every_call);
  g_test_add_func ("/authz-decisions/reuse/dropped-when-polkit-rules-change",
                   test_dropped_when_polkit_rules_change);
  g_test_add_func ("/authz-decisions/coalescing/identical-checks-in-flight",
                   test_identical_checks_coalesced);
  g_test_add_func ("/authz-decisions/refusals/reused", test_refusals_reused);
  g_test_add_func ("/authz-decisions/interaction/never-reused", test_interaction_never_reused);
  g_test_add_func ("/authz-decisions/load/300-calls-in-flight-all-answered",
                   test_300_calls_in_flight_all_answered);
  g_test_add_func ("/authz-decisions/load/checks-per-second-per-uid",
                   test_checks_per_second_per_uid);
  g_test_add_func ("/authz-decisions/polkit-timeout/stopped-polkitd-fails-closed-in-time",
                   test_stopped_polkitd_fails_closed_in_time);
  g_test_add_func ("/authz-decisions/polkit-timeout/stopped-polkitd-at-first-check",
                   test_stopped_polkitd_at_first_check);
}

static void
tear_down (void)
{
  vb_polkit_monitor_free (monitor);
}

int
main (int argc, char **argv)
{
  return vb_authz_test_main (argc, argv, "authz-decisions", add_tests, tear_down);
}
