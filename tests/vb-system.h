/* A private system for the tests that run as root (the authorization
 * suites, the Cockpit suite): a mount namespace of their own, where test
 * users, this project's polkit files and the test's own rules are bound
 * over the system's, and a system-type bus with polkitd on it. */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

void vb_system_write_file (const char *dir, const char *name, const char *contents);
void vb_system_copy_file (const char *from, const char *dir, const char *name);
/* @parent/@name, made with @mode; free the path. */
char *vb_system_make_dir (const char *parent, const char *name, mode_t mode);
void vb_system_bind_over (const char *source, const char *target);
/* The first id from @from that is neither a user's nor a group's. */
uid_t vb_system_free_id (uid_t from);

/* A mount namespace of the calling process's own, / made private. */
void vb_system_enter_namespace (void);
/* @dir/passwd and @dir/group over /etc's. */
void vb_system_bind_users (const char *dir);
/* polkit reads only @data_dir/polkit's actions and rules (copied into
 * @dir), and, unless NULL, @rules as rules file @rules_name; returns the
 * rules directory (free it). */
char *vb_system_bind_polkit_files (const char *dir, const char *data_dir,
                                   const char *rules_name, const char *rules);
/* What the bus configuration adds to vb_test_system_bus_config(): polkitd
 * runs as root here (it then becomes polkitd) and root may call anything;
 * polkit's bus policy and @data_dir/dbus/org.libvirt.conf are in effect;
 * then @more (may be NULL). */
char *vb_system_bus_config_extra (const char *data_dir, const char *more);

/* Root's connection to the bus at @address, once it answers (20 s). */
GDBusConnection *vb_system_connect (const char *address);
/* @name's owner on @bus, or NULL. */
char *vb_system_name_owner (GDBusConnection *bus, const char *name);
/* Waits (30 s) until @name has an owner other than @old_owner (NULL: any)
 * and returns it; fails at once when @process (may be NULL), which
 * should take it, exits. */
char *vb_system_wait_for_name (GDBusConnection *bus, const char *name, const char *old_owner,
                               GSubprocess *process);
