/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Injected-code stand-in for test_containers.sh: maps anonymous memory,
 * writes one instruction (ret) into it, makes it executable, calls it, and
 * then sleeps holding the anonymous r-x mapping, as a shellcode loader
 * would. Built static by the test (cc -static) and copied into a running
 * container; its own file is allowed by the test's policy, so only what it
 * does in memory can fail the container.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void)
{
    unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void (*fn)(void);

    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    memset(p, 0xc3, 4096); /* ret */
    if (mprotect(p, 4096, PROT_READ | PROT_EXEC) != 0) {
        perror("mprotect");
        return 1;
    }
    fn = (void (*)(void))(void *)p;
    fn();
    (void)sleep(300);
    return 0;
}
