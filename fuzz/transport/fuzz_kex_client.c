/* The client side of kex_harness.h: the server's REPLY and GEX GROUP
 * parsers. */
#include "kex_harness.h"
