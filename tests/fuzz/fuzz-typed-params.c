/* Fuzz target: typed-parameter dictionaries (a{sv} -> virTypedParameter,
 * src/typed-params.c), what every Set*Parameters, BlockCopy,
 * MigrateToURI3 and NodeSetMemoryParameters call hands to libvirt.
 *
 * Input: one byte choosing what the caller's parameters are checked
 * against, then an a{sv} in GVariant's serialized form (normal form
 * taken, as GDBus would deliver it):
 *   0  nothing known (n_known < 0): each value keeps its own basic type
 *   1  one known parameter of each libvirt type, and one of a type this
 *      build does not know
 *   2  an empty list of known parameters: nothing is accepted
 * The conversion must succeed exactly when every entry is acceptable,
 * give back each entry with its name, type and value (converted back
 * with vb_typed_params_to_dict(), the same dictionary, boxed once more),
 * and otherwise answer a precise error. */
#include <string.h>

#include "fuzz-harness.h"
#include "typed-params.h"

/* A libvirt type code no libvirt has (yet). */
#define FUTURE_TYPE 99

typedef struct {
  const char *name;
  int type;
  const char *dbus_type;
} KnownParam;

static const KnownParam known_params[] = {
  { "cpu_shares", VIR_TYPED_PARAM_ULLONG, "t" },
  { "vcpu_quota", VIR_TYPED_PARAM_LLONG, "x" },
  { "weight", VIR_TYPED_PARAM_UINT, "u" },
  { "period", VIR_TYPED_PARAM_INT, "i" },
  { "ratio", VIR_TYPED_PARAM_DOUBLE, "d" },
  { "enabled", VIR_TYPED_PARAM_BOOLEAN, "b" },
  { "device", VIR_TYPED_PARAM_STRING, "s" },
  { "future", FUTURE_TYPE, NULL },
};

static virTypedParameter known[G_N_ELEMENTS (known_params)];

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  vb_fuzz_init ();
  for (gsize i = 0; i < G_N_ELEMENTS (known_params); i++)
    {
      g_strlcpy (known[i].field, known_params[i].name, sizeof known[i].field);
      known[i].type = known_params[i].type;
    }
  return 0;
}

static const KnownParam *
find_known (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (known_params); i++)
    {
      if (g_str_equal (known_params[i].name, name))
        return &known_params[i];
    }
  return NULL;
}

/* Whether the conversion should take this entry: our own reading of
 * typed-params.h, independent of its code. */
static gboolean
entry_is_acceptable (int mode, const char *name, GVariant *value)
{
  const KnownParam *param;

  if (strlen (name) >= VIR_TYPED_PARAM_FIELD_LENGTH)
    return FALSE;
  switch (mode)
    {
    case 0:
      return g_variant_type_is_basic (g_variant_get_type (value)) &&
             strchr ("iuxtdbs", *g_variant_get_type_string (value)) != NULL;
    case 1:
      param = find_known (name);
      return param != NULL && param->dbus_type != NULL &&
             g_str_equal (g_variant_get_type_string (value), param->dbus_type);
    default:
      return FALSE;
    }
}

static void
check_converted (GVariant *dict, virTypedParameterPtr params, int n_params)
{
  g_autoptr(GVariant) back = g_variant_ref_sink (vb_typed_params_to_dict (params, n_params));

  if ((gsize) n_params != g_variant_n_children (dict) ||
      g_variant_n_children (back) != g_variant_n_children (dict))
    vb_fuzz_fail ("%zu entries became %d parameters, and those %zu entries",
                  g_variant_n_children (dict), n_params, g_variant_n_children (back));
  for (int i = 0; i < n_params; i++)
    {
      g_autoptr(GVariant) entry = g_variant_get_child_value (dict, (gsize) i);
      g_autoptr(GVariant) entry_back = g_variant_get_child_value (back, (gsize) i);
      g_autoptr(GVariant) name = g_variant_get_child_value (entry, 0);
      g_autoptr(GVariant) name_back = g_variant_get_child_value (entry_back, 0);
      g_autoptr(GVariant) boxed = g_variant_get_child_value (entry, 1);
      g_autoptr(GVariant) boxed_back = g_variant_get_child_value (entry_back, 1);
      g_autoptr(GVariant) value = g_variant_get_variant (boxed);
      g_autoptr(GVariant) twice = g_variant_get_variant (boxed_back);
      g_autoptr(GVariant) value_back = NULL;

      if (!g_str_equal (params[i].field, g_variant_get_string (name, NULL)) ||
          !g_variant_equal (name, name_back))
        vb_fuzz_fail ("entry %d: '%s' became parameter '%s'", i,
                      g_variant_get_string (name, NULL), params[i].field);
      if (!g_variant_is_of_type (twice, G_VARIANT_TYPE_VARIANT))
        vb_fuzz_fail ("entry %d: converted back boxed once, not twice", i);
      value_back = g_variant_get_variant (twice);
      if (!g_variant_equal (value, value_back))
        {
          g_autofree char *was = g_variant_print (value, TRUE);
          g_autofree char *is = g_variant_print (value_back, TRUE);

          vb_fuzz_fail ("entry %d ('%s'): %s came back as %s", i, params[i].field, was, is);
        }
    }
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr(GVariant) dict = NULL;
  g_autoptr(GError) error = NULL;
  virTypedParameterPtr params = NULL;
  gboolean acceptable = TRUE;
  gboolean converted;
  int n_params = 0;
  int mode;

  if (size < 1)
    return 0;
  mode = data[0] % 3;
  dict = vb_fuzz_variant (G_VARIANT_TYPE_VARDICT, data + 1, size - 1);

  for (gsize i = 0; i < g_variant_n_children (dict); i++)
    {
      g_autoptr(GVariant) entry = g_variant_get_child_value (dict, i);
      g_autoptr(GVariant) name = g_variant_get_child_value (entry, 0);
      g_autoptr(GVariant) boxed = g_variant_get_child_value (entry, 1);
      g_autoptr(GVariant) value = g_variant_get_variant (boxed);

      acceptable = acceptable &&
                   entry_is_acceptable (mode, g_variant_get_string (name, NULL), value);
    }

  converted = vb_typed_params_from_dict (dict, known,
                                         mode == 0 ? -1 : mode == 1 ? (int) G_N_ELEMENTS (known) : 0,
                                         &params, &n_params, &error);
  if (converted != acceptable)
    {
      g_autofree char *text = g_variant_print (dict, TRUE);

      vb_fuzz_fail ("mode %d: %s %s (%s)", mode, text,
                    converted ? "converted, expected a refusal" : "refused, expected converted",
                    error != NULL ? error->message : "no error");
    }
  if (converted)
    {
      check_converted (dict, params, n_params);
      virTypedParamsFree (params, n_params);
    }
  else
    {
      vb_fuzz_check_answer ("vb_typed_params_from_dict", NULL, NULL, NULL, error);
      virResetLastError ();
    }
  return 0;
}
