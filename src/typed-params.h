/* libvirt typed parameters <-> D-Bus a{sv}. */
#pragma once

#include <gio/gio.h>
#include <libvirt/libvirt.h>

/* An a{sv} holding each parameter with its natural D-Bus type (int -> i,
 * uint -> u, llong -> x, ullong -> t, double -> d, boolean -> b,
 * string -> s), each boxed in one more variant as libvirt-dbus sends them
 * (so a value reads <<int32 1>>). */
GVariant *vb_typed_params_to_dict (virTypedParameterPtr params, int n_params);

/* Converts an a{sv} into typed parameters.  Every entry must be one of
 * @known (as libvirt reported them) and carry that parameter's type;
 * otherwise InvalidArgs names the offending field.  With @n_known < 0
 * (nothing known) each value keeps its own basic type.  Free the result
 * with virTypedParamsFree(). */
gboolean vb_typed_params_from_dict (GVariant *dict,
                                    virTypedParameterPtr known, int n_known,
                                    virTypedParameterPtr *out_params,
                                    int *out_n_params, GError **error);

/* Typed parameters owned by libvirt's allocator, freed together. */
typedef struct {
  virTypedParameterPtr params;
  int n;
} VbTypedParams;

void vb_typed_params_clear (VbTypedParams *params);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (VbTypedParams, vb_typed_params_clear)
