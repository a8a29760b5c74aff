/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siov_mdevctl_parse(): an mdevctl definition file (/etc/mdevctl.d/<parent>/
 * <uuid>) in, a siovd definition or a refusal with a reason out. What is
 * accepted must be a valid siovd definition (same checks as
 * fuzz-definition) of that parent and UUID, with autostart from "start".
 *
 * Input: the file's bytes; or "P:<parent>\n<uuid>\n<file>" to fuzz the
 * parent and UUID (names of folders and files found on disk) too.
 */

#include <errno.h>
#include <json-c/json.h>

#define FUZZ_NO_MAIN_TARGET
#include "fuzz-definition.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(siov_definition_unrefp) struct siov_definition *d = NULL;
        _cleanup_free_ char *msg = NULL, *head = NULL;
        const char *parent = "0000:00:02.0", *uuid = "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001";
        const char *json = (const char *) data;
        size_t len = size;
        char u[SIOV_UUID_STRING_MAX];
        int r;

        if (size >= 2 && data[0] == 'P' && data[1] == ':') {
                const uint8_t *nl1 = memchr(data + 2, '\n', size - 2), *nl2;

                if (!nl1)
                        return 0;
                nl2 = memchr(nl1 + 1, '\n', size - (size_t) (nl1 + 1 - data));
                if (!nl2)
                        return 0;
                head = strndup((const char *) data + 2, (size_t) (nl2 - data) - 2);
                fuzz_assert(head);
                if (strlen(head) != (size_t) (nl2 - data) - 2)
                        return 0;       /* a NUL in the names: not a C string */
                head[nl1 - data - 2] = '\0';
                parent = head;
                uuid = head + (nl1 - data - 2) + 1;
                json = (const char *) nl2 + 1;
                len = size - (size_t) (nl2 + 1 - data);
        }

        r = siov_mdevctl_parse(parent, uuid, json, len, &d, &msg);
        if (r == -ENOMEM)
                return 0;
        if (r < 0) {
                fuzz_assert(r == -EINVAL || r == -EFBIG);
                fuzz_assert(!d);
                fuzz_assert_message(msg);
                return 0;
        }
        fuzz_assert(r == 0 && d && !msg);
        fuzz_assert(siov_uuid_normalize(uuid, u) == 0);
        fuzz_assert(streq(siov_definition_get_uuid(d), u));
        fuzz_assert(streq(siov_definition_get_parent(d), parent));
        {
                /* accepted, so json-c reads it as well: its "start" */
                struct json_tokener *tok = json_tokener_new();
                struct json_object *o, *start;

                fuzz_assert(tok);
                o = json_tokener_parse_ex(tok, json, (int) len);
                fuzz_assert(o);
                if (json_object_object_get_ex(o, "start", &start))
                        fuzz_assert(siov_definition_get_autostart(d) ==
                                    streq(json_object_get_string(start), "auto"));
                json_object_put(o);
                json_tokener_free(tok);
        }
        fuzz_check_definition(d);
        return 0;
}
