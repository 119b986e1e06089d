/* SwiftPM needs one source file for a C target; see fuzz_driver.h. */
#include "fuzz_driver.h"
