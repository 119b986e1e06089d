/*
 * The CAuthJWT target only publishes include/ajwt.h; SwiftPM needs one
 * source file for a C target. The functions are implemented in Swift
 * (Sources/AuthJWT) with @c @implementation.
 */
#include "ajwt.h"
