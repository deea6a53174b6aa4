#include "vb-system.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <sys/mount.h>

#include <glib/gstdio.h>

void
vb_system_write_file (const char *dir, const char *name, const char *contents)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, 0644), ==, 0);
}

void
vb_system_copy_file (const char *from, const char *dir, const char *name)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (from, &contents, NULL, &error);
  g_assert_no_error (error);
  vb_system_write_file (dir, name, contents);
}

char *
vb_system_make_dir (const char *parent, const char *name, mode_t mode)
{
  char *path = g_build_filename (parent, name, NULL);

  g_assert_cmpint (g_mkdir (path, mode), ==, 0);
  /* Whatever the umask. */
  g_assert_cmpint (g_chmod (path, mode), ==, 0);
  return path;
}

void
vb_system_bind_over (const char *source, const char *target)
{
  if (mount (source, target, NULL, MS_BIND, NULL) != 0)
    g_error ("cannot bind %s over %s: %s", source, target, g_strerror (errno));
}

uid_t
vb_system_free_id (uid_t from)
{
  while (getpwuid (from) != NULL || getgrgid (from) != NULL)
    from++;
  return from;
}

void
vb_system_enter_namespace (void)
{
  if (unshare (CLONE_NEWNS) != 0)
    g_error ("unshare(CLONE_NEWNS): %s", g_strerror (errno));
  if (mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    g_error ("cannot make / private: %s", g_strerror (errno));
}

void
vb_system_bind_users (const char *dir)
{
  g_autofree char *passwd = g_build_filename (dir, "passwd", NULL);
  g_autofree char *group = g_build_filename (dir, "group", NULL);

  vb_system_bind_over (passwd, "/etc/passwd");
  vb_system_bind_over (group, "/etc/group");
}

char *
vb_system_bind_polkit_files (const char *dir, const char *data_dir, const char *rules_name,
                             const char *rules)
{
  g_autofree char *actions = vb_system_make_dir (dir, "actions", 0755);
  char *rules_dir = vb_system_make_dir (dir, "rules", 0755);
  g_autofree char *no_rules = vb_system_make_dir (dir, "no-rules", 0755);
  g_autofree char *policy = g_build_filename (data_dir, "polkit", "org.libvirt.dbus.policy",
                                              NULL);
  g_autofree char *rule = g_build_filename (data_dir, "polkit", "org.libvirt.dbus.rules", NULL);

  vb_system_copy_file (policy, actions, "org.libvirt.dbus.policy");
  vb_system_copy_file (rule, rules_dir, "50-org.libvirt.dbus.rules");
  if (rules != NULL)
    vb_system_write_file (rules_dir, rules_name, rules);
  vb_system_bind_over (actions, "/usr/share/polkit-1/actions");
  vb_system_bind_over (rules_dir, "/etc/polkit-1/rules.d");
  vb_system_bind_over (no_rules, "/usr/share/polkit-1/rules.d");
  return rules_dir;
}

char *
vb_system_bus_config_extra (const char *data_dir, const char *more)
{
  g_autofree char *relative = g_build_filename (data_dir, "dbus", "org.libvirt.conf", NULL);
  /* dbus-daemon reads a relative <include> from its configuration's
   * directory, not from ours. */
  g_autofree char *policy = g_canonicalize_filename (relative, NULL);

  return g_strdup_printf (
      "  <policy user=\"root\">\n"
      "    <allow own=\"org.freedesktop.PolicyKit1\"/>\n"
      "    <allow send_type=\"method_call\"/>\n"
      "  </policy>\n"
      "  <include>/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf</include>\n"
      "  <include>%s</include>\n"
      "%s",
      policy, more != NULL ? more : "");
}

GDBusConnection *
vb_system_connect (const char *address)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      GDBusConnection *bus = g_dbus_connection_new_for_address_sync (
          address,
          G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
              G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
          NULL, NULL, &error);

      if (bus != NULL)
        return bus;
      if (g_get_monotonic_time () > deadline)
        g_error ("the private system bus does not answer: %s", error->message);
      g_usleep (20000);
    }
}

char *
vb_system_name_owner (GDBusConnection *bus, const char *name)
{
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync (
      bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "GetNameOwner", g_variant_new ("(s)", name), G_VARIANT_TYPE ("(s)"),
      G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  char *owner = NULL;

  if (reply != NULL)
    g_variant_get (reply, "(s)", &owner);
  return owner;
}

char *
vb_system_wait_for_name (GDBusConnection *bus, const char *name, const char *old_owner,
                         GSubprocess *process)
{
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  for (;;)
    {
      char *owner = vb_system_name_owner (bus, name);

      if (owner != NULL && g_strcmp0 (owner, old_owner) != 0)
        return owner;
      g_free (owner);
      if (g_get_monotonic_time () > deadline)
        g_error ("nobody took %s on the private system bus", name);
      /* GSubprocess reaps the child at once: no identifier once it died. */
      if (process != NULL && g_subprocess_get_identifier (process) == NULL)
        g_error ("the process that should take %s exited", name);
      g_usleep (20000);
    }
}
