/* GetManagedObjects: objectmanager.c, and its domains in
 * objectmanager-domains.c. */
#pragma once

#include "domain-properties.h"
#include "objects.h"

/* Adds @object (of @iface's kind; not released here) with its properties
 * to @reply, "a{oa{sa{sv}}}", and its children (a domain's snapshots, an
 * active pool's volumes) when @with_children; notes it as listed on
 * @call.  @facts: a domain's bulk facts, or NULL. */
void vb_object_manager_add_object (GVariantBuilder *reply, VbCall *call,
                                   const VbInterface *iface, gpointer object,
                                   const VbDomainBulkFacts *facts, gboolean with_children);

/* Adds every domain of the call's connection with its properties and
 * snapshots; FALSE with @error when the domains cannot be listed. */
gboolean vb_object_manager_add_domains (GVariantBuilder *reply, VbCall *call, GError **error);
