#include "typed-params.h"

#include "errors.h"

static const char *
dbus_type_of (int libvirt_type)
{
  switch (libvirt_type)
    {
    case VIR_TYPED_PARAM_INT:
      return "i";
    case VIR_TYPED_PARAM_UINT:
      return "u";
    case VIR_TYPED_PARAM_LLONG:
      return "x";
    case VIR_TYPED_PARAM_ULLONG:
      return "t";
    case VIR_TYPED_PARAM_DOUBLE:
      return "d";
    case VIR_TYPED_PARAM_BOOLEAN:
      return "b";
    case VIR_TYPED_PARAM_STRING:
      return "s";
    default:
      return NULL;
    }
}

static GVariant *
typed_param_to_variant (const virTypedParameter *param)
{
  switch (param->type)
    {
    case VIR_TYPED_PARAM_INT:
      return g_variant_new_int32 (param->value.i);
    case VIR_TYPED_PARAM_UINT:
      return g_variant_new_uint32 (param->value.ui);
    case VIR_TYPED_PARAM_LLONG:
      return g_variant_new_int64 (param->value.l);
    case VIR_TYPED_PARAM_ULLONG:
      return g_variant_new_uint64 (param->value.ul);
    case VIR_TYPED_PARAM_DOUBLE:
      return g_variant_new_double (param->value.d);
    case VIR_TYPED_PARAM_BOOLEAN:
      return g_variant_new_boolean (param->value.b != 0);
    case VIR_TYPED_PARAM_STRING:
      return g_variant_new_string (param->value.s != NULL ? param->value.s : "");
    default:
      return NULL;
    }
}

GVariant *
vb_typed_params_to_dict (virTypedParameterPtr params, int n_params)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{sv}"));
  for (int i = 0; i < n_params; i++)
    {
      GVariant *value = typed_param_to_variant (&params[i]);

      /* A type newer than this build knows of cannot be represented. */
      if (value == NULL)
        {
          g_debug ("typed parameter %s has unknown type %d", params[i].field,
                   params[i].type);
          continue;
        }
      /* Boxed twice, as the reference daemon sends typed parameters. */
      g_variant_builder_add (&builder, "{sv}", params[i].field,
                             g_variant_new_variant (value));
    }
  return g_variant_builder_end (&builder);
}

static const virTypedParameter *
find_known (const char *name, virTypedParameterPtr known, int n_known)
{
  for (int i = 0; i < n_known; i++)
    {
      if (g_str_equal (known[i].field, name))
        return &known[i];
    }
  return NULL;
}

static int
add_param (virTypedParameterPtr *params, int *n_params, int *max_params,
           const char *name, int type, GVariant *value)
{
  switch (type)
    {
    case VIR_TYPED_PARAM_INT:
      return virTypedParamsAddInt (params, n_params, max_params, name,
                                   g_variant_get_int32 (value));
    case VIR_TYPED_PARAM_UINT:
      return virTypedParamsAddUInt (params, n_params, max_params, name,
                                    g_variant_get_uint32 (value));
    case VIR_TYPED_PARAM_LLONG:
      return virTypedParamsAddLLong (params, n_params, max_params, name,
                                     g_variant_get_int64 (value));
    case VIR_TYPED_PARAM_ULLONG:
      return virTypedParamsAddULLong (params, n_params, max_params, name,
                                      g_variant_get_uint64 (value));
    case VIR_TYPED_PARAM_DOUBLE:
      return virTypedParamsAddDouble (params, n_params, max_params, name,
                                      g_variant_get_double (value));
    case VIR_TYPED_PARAM_BOOLEAN:
      return virTypedParamsAddBoolean (params, n_params, max_params, name,
                                       g_variant_get_boolean (value));
    case VIR_TYPED_PARAM_STRING:
      return virTypedParamsAddString (params, n_params, max_params, name,
                                      g_variant_get_string (value, NULL));
    default:
      return -1;
    }
}

/* The libvirt type a D-Bus basic type stands for, or -1. */
static int
libvirt_type_of (GVariant *value)
{
  static const int types[] = {
    VIR_TYPED_PARAM_INT, VIR_TYPED_PARAM_UINT, VIR_TYPED_PARAM_LLONG,
    VIR_TYPED_PARAM_ULLONG, VIR_TYPED_PARAM_DOUBLE, VIR_TYPED_PARAM_BOOLEAN,
    VIR_TYPED_PARAM_STRING,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (types); i++)
    {
      if (g_variant_is_of_type (value, G_VARIANT_TYPE (dbus_type_of (types[i]))))
        return types[i];
    }
  return -1;
}

static gboolean
add_untyped_entry (virTypedParameterPtr *params, int *n_params, int *max_params,
                   const char *name, GVariant *value, GError **error)
{
  int type = libvirt_type_of (value);

  if (type < 0)
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                   "Parameter '%s' has type '%s'; expected one of i, u, x, t, d, b, s",
                   name, g_variant_get_type_string (value));
      return FALSE;
    }
  if (add_param (params, n_params, max_params, name, type, value) < 0)
    {
      vb_error_set_from_libvirt (error);
      return FALSE;
    }
  return TRUE;
}

static gboolean
add_entry (virTypedParameterPtr *params, int *n_params, int *max_params,
           const char *name, GVariant *value, virTypedParameterPtr known,
           int n_known, GError **error)
{
  const virTypedParameter *expected;
  const char *type;

  if (n_known < 0)
    return add_untyped_entry (params, n_params, max_params, name, value, error);
  expected = find_known (name, known, n_known);
  type = expected != NULL ? dbus_type_of (expected->type) : NULL;

  if (type == NULL)
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                   "Unknown parameter '%s'", name);
      return FALSE;
    }
  if (!g_variant_is_of_type (value, G_VARIANT_TYPE (type)))
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                   "Parameter '%s' must be of type '%s', not '%s'", name, type,
                   g_variant_get_type_string (value));
      return FALSE;
    }
  if (add_param (params, n_params, max_params, name, expected->type, value) < 0)
    {
      vb_error_set_from_libvirt (error);
      return FALSE;
    }
  return TRUE;
}

gboolean
vb_typed_params_from_dict (GVariant *dict, virTypedParameterPtr known,
                           int n_known, virTypedParameterPtr *out_params,
                           int *out_n_params, GError **error)
{
  virTypedParameterPtr params = NULL;
  int n_params = 0;
  int max_params = 0;
  GVariantIter iter;
  const char *name;
  GVariant *value;

  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_next (&iter, "{&sv}", &name, &value))
    {
      gboolean added = add_entry (&params, &n_params, &max_params, name, value,
                                  known, n_known, error);

      g_variant_unref (value);
      if (!added)
        {
          virTypedParamsFree (params, n_params);
          return FALSE;
        }
    }
  *out_params = params;
  *out_n_params = n_params;
  return TRUE;
}

void
vb_typed_params_clear (VbTypedParams *params)
{
  virTypedParamsFree (params->params, params->n);
  params->params = NULL;
  params->n = 0;
}
