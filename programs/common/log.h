/* Logging to stderr with OpenSSH's LogLevel names. */
#ifndef SSHRPC_PROGRAMS_LOG_H
#define SSHRPC_PROGRAMS_LOG_H

#include "sshrpc/common.h"

typedef struct logger {
	int level;
	const char *prog;
} logger;

void log_msg(const logger *lg, int level, const char *fmt, ...) SSHRPC_PRINTF(3, 4);
/* An sshrpc_log_fn for the library layers; ud is a logger. */
void log_from_lib(void *ud, int level, const char *msg);

#endif
