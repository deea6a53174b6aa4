/* Watching live state: PropertiesChanged, InterfacesAdded and
 * InterfacesRemoved from org.libvirt, in the order they come. */
#pragma once

#include "vb-test.h"

typedef struct _VbWatcher VbWatcher;

/* Subscribes (the match rules are in place when it returns). */
VbWatcher *vb_watcher_new (VbTestFixture *f);
void vb_watcher_free (VbWatcher *watcher);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (VbWatcher, vb_watcher_free)

/* The next notice about @path (notices about other objects are passed
 * over; each PropertiesChanged seen is checked against the interface's
 * EmitsChangedSignal annotations), within 5 s, must be: */
/* PropertiesChanged of @iface: returns the changed values. */
GVariant *vb_watcher_expect_changed (VbWatcher *watcher, const char *path, const char *iface);
/* InterfacesAdded of @iface alone: returns its properties. */
GVariant *vb_watcher_expect_added (VbWatcher *watcher, const char *path, const char *iface);
/* InterfacesRemoved of @iface alone. */
void vb_watcher_expect_removed (VbWatcher *watcher, const char *path, const char *iface);

/* @dict (a{sv}) has @name with a value that prints (with types) as
 * @expected / has no @name. */
void vb_assert_dict_value (GVariant *dict, const char *name, const char *expected);
void vb_assert_dict_lacks (GVariant *dict, const char *name);
