/* Harness self-test: a shared library installed into a fake stage, so the
 * test proves that vm-run resolves a stage binary's libraries both inside
 * the stage (this one) and on the host (json-c). */
#include <stdio.h>
#include <json-c/json.h>

const char *siov_vm_hello(void)
{
        static char buf[128];
        struct json_object *o = json_object_new_object();

        json_object_object_add(o, "hello", json_object_new_string("vm"));
        snprintf(buf, sizeof(buf), "%s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
        return buf;
}
