#include "vb-libvirtd.h"
#include "vb-test.h"

#include <glib/gstdio.h>
#include <signal.h>

#define STARTUP_TIMEOUT_US (30 * G_USEC_PER_SEC)

static GSubprocess *virtlogd;
static GSubprocess *libvirtd;
static char *scratch_dir;

char *
vb_virsh (const char *const *args, GError **error)
{
  return vb_virsh_on (VB_LIBVIRTD_URI, args, error);
}

void
vb_virsh_ok (const char *const *args)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *output = vb_virsh (args, &error);

  g_assert_no_error (error);
}

char *
vb_virsh_on (const char *uri, const char *const *args, GError **error)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) virsh = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_ptr_array_add (argv, "virsh");
  g_ptr_array_add (argv, "-q");
  g_ptr_array_add (argv, "-c");
  g_ptr_array_add (argv, (char *) uri);
  for (const char *const *arg = args; *arg != NULL; arg++)
    g_ptr_array_add (argv, (char *) *arg);
  g_ptr_array_add (argv, NULL);

  virsh = g_subprocess_newv ((const char *const *) argv->pdata,
                             G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                             error);
  if (virsh == NULL ||
      !g_subprocess_communicate_utf8 (virsh, NULL, NULL, &out, &err, error))
    return NULL;
  if (!g_subprocess_get_successful (virsh))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "virsh %s: %s", args[0], err);
      return NULL;
    }
  return g_steal_pointer (&out);
}

static gboolean
libvirtd_answers (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = vb_virsh ((const char *[]) { "version", NULL }, &error);

  return out != NULL;
}

static GSubprocess *
spawn_quiet (const char *program, GError **error)
{
  return g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                           error, program, NULL);
}

gboolean
vb_libvirtd_ensure (char **skip_reason)
{
  g_autoptr(GError) error = NULL;
  gint64 deadline;

  if (scratch_dir == NULL)
    {
      scratch_dir = g_dir_make_tmp ("virtbus-libvirtd-XXXXXX", NULL);
      g_assert_nonnull (scratch_dir);
      /* QEMU runs as its own user and must reach images kept here. */
      g_chmod (scratch_dir, 0755);
    }

  if (libvirtd_answers ())
    return TRUE;

  if (g_find_program_in_path ("libvirtd") == NULL && !g_file_test ("/usr/sbin/libvirtd", G_FILE_TEST_IS_EXECUTABLE))
    {
      *skip_reason = g_strdup ("libvirtd is not installed");
      return FALSE;
    }

  /* virtlogd collects QEMU's output; libvirtd refuses to start guests
   * without it.  One already running is fine: ours then exits at once. */
  virtlogd = spawn_quiet ("virtlogd", &error);
  g_assert_no_error (error);
  libvirtd = spawn_quiet ("libvirtd", &error);
  g_assert_no_error (error);

  deadline = g_get_monotonic_time () + STARTUP_TIMEOUT_US;
  while (!libvirtd_answers ())
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_assert_nonnull (g_subprocess_get_identifier (libvirtd));
      g_usleep (50000);
    }
  return TRUE;
}

static void
remove_tree (const char *path)
{
  g_autoptr(GFile) dir = g_file_new_for_path (path);
  g_autoptr(GFileEnumerator) children =
      g_file_enumerate_children (dir, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                 G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  GFileInfo *info;

  while (children != NULL &&
         (info = g_file_enumerator_next_file (children, NULL, NULL)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, g_file_info_get_name (info), NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
      g_object_unref (info);
    }
  g_rmdir (path);
}

void
vb_libvirtd_release (void)
{
  vb_test_stop_process (&libvirtd);
  vb_test_stop_process (&virtlogd);
  if (scratch_dir != NULL)
    remove_tree (scratch_dir);
  g_clear_pointer (&scratch_dir, g_free);
}

const char *
vb_libvirtd_scratch_dir (void)
{
  g_assert_nonnull (scratch_dir);
  return scratch_dir;
}

void
vb_libvirtd_remove_guests (gboolean (*is_ours) (const char *name))
{
  g_autoptr(GError) error = NULL;
  g_autofree char *names = vb_virsh ((const char *[]) { "list", "--all", "--name", NULL }, &error);
  g_autoptr(GString) commands = g_string_new (NULL);
  g_autoptr(GSubprocess) virsh = NULL;
  g_auto(GStrv) lines = NULL;

  g_assert_no_error (error);
  lines = g_strsplit (names, "\n", -1);
  for (char **line = lines; *line != NULL; line++)
    {
      g_autofree char *name = g_strstrip (g_strdup (*line));

      if (*name == '\0' || !is_ours (name))
        continue;
      /* A guest that is not running makes destroy fail: virsh reading
       * commands from stdin goes on with the next. */
      g_string_append_printf (commands, "destroy %s\nundefine %s --managed-save "
                              "--snapshots-metadata\n", name, name);
    }
  if (commands->len == 0)
    return;
  /* One virsh for all: hundreds of guests would otherwise take minutes. */
  virsh = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                            &error, "virsh", "-q", "-c", VB_LIBVIRTD_URI, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (virsh, commands->str, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
}
