#pragma once

#include <gio/gio.h>

/* Errors that map to D-Bus error names of our own; the freedesktop ones
 * (InvalidArgs, UnknownObject, ...) use the G_DBUS_ERROR domain. */
#define VB_ERROR (vb_error_quark ())

typedef enum {
  VB_ERROR_LIBVIRT,          /* org.libvirt.Error */
  /* org.freedesktop.DBus.Error.InteractiveAuthorizationRequired (GLib
   * 2.74 has no code of its own for it) */
  VB_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
} VbErrorCode;

GQuark vb_error_quark (void);

/* Sets @error from libvirt's last error on this thread, with libvirt's
 * message, as the reference daemon does. */
void vb_error_set_from_libvirt (GError **error);

/* TRUE when libvirt's last error on this thread says the object does not
 * exist (VIR_ERR_NO_DOMAIN and its siblings). */
gboolean vb_error_libvirt_is_not_found (void);
