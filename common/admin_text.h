/* SPDX-License-Identifier: GPL-2.0 */
/*
 * admin_text: client names (from the network, RSWAP_NAME_LEN bytes) made
 * safe for where they are printed: Prometheus label values and terminals.
 */
#ifndef RSWAP_ADMIN_TEXT_H
#define RSWAP_ADMIN_TEXT_H

#include <stddef.h>

/* Room for any escaped name of up to @n bytes, its NUL included. */
#define ADMIN_ESCAPED_MAX(n) (4 * (n) + 1)

/*
 * @src as a Prometheus label value (text format 0.0.4): backslash, double
 * quote and newline as \\, \" and \n. Cut at a whole escape if @size is
 * short; always NUL-terminated (@size > 0).
 */
void admin_escape_label(char *dst, size_t size, const char *src);

/*
 * @src for a terminal: printable ASCII as it is, a backslash as \\, any
 * other byte as \xHH. Same cutting rule.
 */
void admin_escape_printable(char *dst, size_t size, const char *src);

#endif
