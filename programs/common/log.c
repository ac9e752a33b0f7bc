#include "log.h"

#include <stdio.h>
#include <stdarg.h>

void log_msg(const logger *lg, int level, const char *fmt, ...)
{
	if (lg == NULL || level > lg->level)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", lg->prog, line);
}

void log_from_lib(void *ud, int level, const char *msg)
{
	log_msg(ud, level, "%s", msg);
}
