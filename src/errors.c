#include "errors.h"

#include <libvirt/virterror.h>

static const GDBusErrorEntry vb_dbus_error_entries[] = {
  { VB_ERROR_LIBVIRT, "org.libvirt.Error" },
  { VB_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
    "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired" },
};

GQuark
vb_error_quark (void)
{
  static gsize quark = 0;

  g_dbus_error_register_error_domain ("virtbus-error-quark", &quark,
                                      vb_dbus_error_entries,
                                      G_N_ELEMENTS (vb_dbus_error_entries));
  return (GQuark) quark;
}

void
vb_error_set_from_libvirt (GError **error)
{
  virErrorPtr last = virGetLastError ();

  /* libvirt quotes what it was given (file names, ...), which need not be
   * UTF-8; a D-Bus error message must be. */
  if (last != NULL && last->message != NULL)
    {
      g_autofree char *message = g_utf8_make_valid (last->message, -1);

      g_set_error_literal (error, VB_ERROR, VB_ERROR_LIBVIRT, message);
    }
  else
    g_set_error_literal (error, VB_ERROR, VB_ERROR_LIBVIRT,
                         "libvirt call failed without an error message");
}

gboolean
vb_error_libvirt_is_not_found (void)
{
  virErrorPtr last = virGetLastError ();

  if (last == NULL)
    return FALSE;

  switch (last->code)
    {
    case VIR_ERR_NO_DOMAIN:
    case VIR_ERR_NO_DOMAIN_SNAPSHOT:
    case VIR_ERR_NO_NETWORK:
    case VIR_ERR_NO_STORAGE_POOL:
    case VIR_ERR_NO_STORAGE_VOL:
    case VIR_ERR_NO_NODE_DEVICE:
    case VIR_ERR_NO_INTERFACE:
    case VIR_ERR_NO_NWFILTER:
    case VIR_ERR_NO_SECRET:
      return TRUE;
    default:
      return FALSE;
    }
}
