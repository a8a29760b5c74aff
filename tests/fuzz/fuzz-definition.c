/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siov_definition_parse(): any bytes in, a definition or a refusal with a
 * reason out. An accepted definition holds only validated names and bounded
 * values, serializes with siov_definition_to_json(), parses back equal
 * (unknown keys included), serializes to the same bytes again, and copies
 * equal.
 */

#include <errno.h>

#include "fuzz.h"


void fuzz_check_definition(const struct siov_definition *d);
void fuzz_check_definition(const struct siov_definition *d) {
        _cleanup_(siov_definition_unrefp) struct siov_definition *back = NULL, *copy = NULL;
        _cleanup_free_ char *json = NULL, *json2 = NULL, *msg = NULL;
        size_t n;

        fuzz_assert(siov_uuid_is_valid(siov_definition_get_uuid(d)));
        fuzz_assert(siov_name_is_valid(siov_definition_get_parent(d)));
        fuzz_assert(siov_name_is_valid(siov_definition_get_type(d)));
        fuzz_assert(siov_definition_get_vm(d));
        fuzz_assert(strlen(siov_definition_get_vm(d)) <= 255);
        fuzz_assert(!strchr(siov_definition_get_vm(d), '/'));
        n = siov_definition_get_n_attrs(d);
        fuzz_assert(n <= SIOV_ATTRS_MAX);
        for (size_t i = 0; i < n; i++) {
                fuzz_assert(siov_mdev_attr_name_is_writable(siov_definition_get_attr_name(d, i)));
                fuzz_assert(strlen(siov_definition_get_attr_value(d, i)) <= SIOV_ATTR_VALUE_MAX);
        }

        fuzz_assert(siov_definition_to_json(d, &json) == 0);
        fuzz_assert(siov_definition_parse(json, strlen(json), &back, &msg) == 0);
        fuzz_assert(!msg);
        fuzz_assert(siov_definition_equal(d, back));
        fuzz_assert(siov_definition_to_json(back, &json2) == 0);
        fuzz_assert(streq(json, json2));

        fuzz_assert(siov_definition_copy(d, &copy) == 0);
        fuzz_assert(siov_definition_equal(d, copy));
}

#ifndef FUZZ_NO_MAIN_TARGET
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(siov_definition_unrefp) struct siov_definition *d = NULL;
        _cleanup_free_ char *msg = NULL;
        int r;

        r = siov_definition_parse((const char *) data, size, &d, &msg);
        if (r == -ENOMEM)
                return 0;
        if (r < 0) {
                fuzz_assert(r == -EINVAL || r == -EFBIG);
                fuzz_assert(!d);
                fuzz_assert_message(msg);
                return 0;
        }
        fuzz_assert(r == 0 && d && !msg);
        fuzz_check_definition(d);
        return 0;
}
#endif
