/* The interface tables and object-path builders of every object kind,
 * one source file each. */
#pragma once

#include "bus.h"
#include "errors.h"

extern const VbInterface vb_connect_interface;
extern const VbInterface vb_domain_interface;
extern const VbInterface vb_domain_snapshot_interface;
extern const VbInterface vb_network_interface;
extern const VbInterface vb_storage_pool_interface;
extern const VbInterface vb_storage_vol_interface;
extern const VbInterface vb_node_device_interface;
extern const VbInterface vb_host_interface_interface;
extern const VbInterface vb_nwfilter_interface;
extern const VbInterface vb_secret_interface;
extern const VbInterface vb_object_manager_interface;

/* Called with (@iface, NULL) once a kind has been listed, then with each
 * of its objects, which the function takes. */
typedef void (*VbObjectFunc) (const VbInterface *iface, gpointer object, gpointer data);

/* Lists the objects the ObjectManager reports at the top level (domains,
 * networks, pools, node devices, host interfaces, filters, secrets) on
 * @virconn; kinds that cannot be listed are left out. */
void vb_object_manager_each (virConnectPtr virconn, VbObjectFunc func, gpointer data);

/* org.libvirt.Domain members about snapshots; they live in snapshot.c
 * with the rest of the snapshot code and are listed in domain.c's table.
 * call->object is the virDomainPtr. */
GVariant *vb_domain_list_snapshots (VbCall *call, GVariant *args, GError **error);
GVariant *vb_domain_snapshot_create_xml (VbCall *call, GVariant *args, GError **error);
GVariant *vb_domain_snapshot_current (VbCall *call, GVariant *args, GError **error);
GVariant *vb_domain_snapshot_lookup_by_name (VbCall *call, GVariant *args, GError **error);

/* Object paths as the reference daemon builds them.  NULL only when
 * libvirt cannot tell the object's identity (error logged). */
char *vb_domain_path (VbConn *conn, virDomainPtr domain);
char *vb_domain_snapshot_path (VbConn *conn, virDomainSnapshotPtr snapshot);
char *vb_network_path (VbConn *conn, virNetworkPtr network);
char *vb_storage_pool_path (VbConn *conn, virStoragePoolPtr pool);
char *vb_storage_vol_path (VbConn *conn, virStorageVolPtr vol);
char *vb_node_device_path (VbConn *conn, virNodeDevicePtr device);
char *vb_host_interface_path (VbConn *conn, virInterfacePtr iface);
char *vb_nwfilter_path (VbConn *conn, virNWFilterPtr nwfilter);
char *vb_secret_path (VbConn *conn, virSecretPtr secret);
