#include <criterion/criterion.h>
/* placeholder: known-answer tests in progress */
