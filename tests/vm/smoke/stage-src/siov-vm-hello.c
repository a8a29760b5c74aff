/* Harness self-test: a program in a fake stage linked to a stage library. */
#include <stdio.h>

const char *siov_vm_hello(void);

int main(void)
{
        puts(siov_vm_hello());
        return 0;
}
