/* Ownership helpers for libvirt handles, so that every libvirt object
 * taken in a handler is released on every return path. */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (virConnect, virConnectClose)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (virDomain, virDomainFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (virDomainSnapshot, virDomainSnapshotFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (virNetwork, virNetworkFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (virStoragePool, virStoragePoolFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (virStorageVol, virStorageVolFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (virNodeDevice, virNodeDeviceFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (virInterface, virInterfaceFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (virNWFilter, virNWFilterFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (virSecret, virSecretFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (virStream, virStreamFree)

/* libvirt hands out strings that the caller frees with free(); glib's
 * allocator is the system one since 2.46, so g_autofree is correct. */
