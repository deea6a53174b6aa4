/* org.libvirt.Domain's properties: domain-properties.c. */
#pragma once

#include "bus.h"

extern const VbProperty vb_domain_properties[];

/* What bulk reads of a whole host (GetManagedObjects) said of one domain;
 * what is not "had" is asked of libvirt when read. */
typedef struct {
  gboolean have_state;
  int state;
  int reason;
  gboolean have_persistent;
  gboolean persistent;
  gboolean have_autostart;
  gboolean autostart;
} VbDomainBulkFacts;

/* Before the properties of @call's domain are read: these are its facts
 * for the reads that follow (until vb_call_forget_memo). */
void vb_domain_properties_preset (VbCall *call, const VbDomainBulkFacts *facts);
