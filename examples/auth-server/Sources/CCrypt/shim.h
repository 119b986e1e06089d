/*
 * CCrypt: libxcrypt (Debian's libcrypt-dev), for bcrypt ($2b$) password
 * hashes: crypt_gensalt_rn for a new salt, crypt_ra to hash.
 */

#ifndef CCRYPT_SHIM_H
#define CCRYPT_SHIM_H

#include <crypt.h>

#endif /* CCRYPT_SHIM_H */
