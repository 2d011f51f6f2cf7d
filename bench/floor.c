/*
 * floor: the least a program can do to run a command in new namespaces.
 *
 *   floor FLAGS COMMAND [ARG...]
 *
 * clone(2) with FLAGS, execvp(3) of COMMAND in the child, waitpid(2) in
 * the parent, and nothing else: no go pipe, no signal handling, no
 * terminal, no fd hygiene, no setup in the child. bench/startup.sh times
 * each chapter against it with the chapter's flags, so the difference is
 * what the chapter does beyond the kernel's own work.
 *
 * FLAGS is a list of namespace names or numbers joined by ',' or '+':
 * "uts,ipc,pid", "0x24000000", "mnt+user". Names: cgroup ipc mnt (or
 * mount) net pid time user uts. "none" (or 0) is a plain fork.
 *
 * Exit status: the command's own, or 128+N when signal N killed it; 125
 * when clone fails, 126 or 127 when the command cannot be executed or is
 * not found (the chapters' statuses, so that a broken run shows).
 *
 * Why C and not Rust: this is the floor, so it must not carry a runtime.
 * Rust's std does its own work before main (the SIGPIPE disposition, a
 * poll of fds 0-2, the main thread's stack guard) that a chapter pays but
 * that is not part of the namespaces; a C program linked statically
 * against glibc goes from _start to main with almost nothing in between,
 * and the script builds it with one gcc command, outside the Cargo
 * workspace. It is linked statically (gcc -O2 -static), as the chapters
 * are, so that neither side pays the dynamic loader. It uses execvp, as
 * the chapters do, so both search PATH the same way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct {
    const char *name;
    unsigned long flag;
} NAMES[] = {
    {"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"mnt", CLONE_NEWNS},
    {"mount", CLONE_NEWNS},      {"net", CLONE_NEWNET}, {"pid", CLONE_NEWPID},
    {"time", CLONE_NEWTIME},     {"user", CLONE_NEWUSER}, {"uts", CLONE_NEWUTS},
    {"none", 0},
};

/* The flags named in `list`; exits with 125 on a word it does not know. */
static unsigned long parse_flags(char *list)
{
    unsigned long flags = 0;
    for (char *word = strtok(list, ",+"); word; word = strtok(NULL, ",+")) {
        char *end;
        unsigned long number = strtoul(word, &end, 0);
        if (*word && !*end) {
            flags |= number;
            continue;
        }
        size_t i;
        for (i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++)
            if (strcmp(word, NAMES[i].name) == 0)
                break;
        if (i == sizeof NAMES / sizeof NAMES[0]) {
            fprintf(stderr, "floor: unknown namespace '%s'\n", word);
            exit(125);
        }
        flags |= NAMES[i].flag;
    }
    return flags;
}

/* The child's stack: clone(2) runs the child on memory we hand it. */
static char stack[64 * 1024] __attribute__((aligned(16)));

static int child_main(void *argv)
{
    char **command = argv;
    execvp(command[0], command);
    return errno == ENOENT ? 127 : 126;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fputs("usage: floor FLAGS COMMAND [ARG...]\n", stderr);
        return 125;
    }
    unsigned long flags = parse_flags(argv[1]);
    pid_t child = clone(child_main, stack + sizeof stack,
                        (int)flags | SIGCHLD, argv + 2);
    if (child < 0) {
        perror("floor: clone");
        return 125;
    }
    int status;
    while (waitpid(child, &status, 0) < 0)
        if (errno != EINTR) {
            perror("floor: waitpid");
            return 125;
        }
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
