/*
 * CLibMemcached: the libmemcached (awesomized 1.1.x) client and its
 * connection pool (libmemcachedutil), for the session store.
 */

#ifndef CLIBMEMCACHED_SHIM_H
#define CLIBMEMCACHED_SHIM_H

#include <libmemcached/memcached.h>
#include <libmemcachedutil-1.0/pool.h>

#endif /* CLIBMEMCACHED_SHIM_H */
