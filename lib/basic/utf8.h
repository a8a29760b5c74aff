/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* True for valid UTF-8 (no overlongs, surrogates or code points past
 * U+10FFFF) of exactly len bytes. */
bool siov_utf8_is_valid(const char *s, size_t len);
/* Length of the longest valid UTF-8 prefix of s[0..len). */
size_t siov_utf8_valid_prefix(const char *s, size_t len);
/* Replaces bytes that are not valid UTF-8 with '?', so that every string
 * handed out can go on D-Bus. */
void siov_utf8_sanitize(char *s);
