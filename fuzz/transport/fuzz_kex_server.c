/* The server side of fuzz_kex.c: the client's INIT, GEX REQUEST and GEX
 * INIT parsers. */
#define SERVER 1
#include "kex_harness.h"
