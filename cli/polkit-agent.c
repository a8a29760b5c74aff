/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * A text polkit agent for interactive authorization, as systemd's tools do
 * it: when stdin is a terminal and we are not root, pkttyagent is started
 * as a fallback agent (a desktop agent, if any, takes precedence) before a
 * call that may need a password, and stopped after it.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "siovctl.h"

#define PKTTYAGENT "/usr/bin/pkttyagent"

static pid_t agent_pid;

void polkit_agent_open_if_enabled(bool ask_password) {
        int fds[2];
        pid_t pid;

        if (!ask_password || agent_pid > 0)
                return;
        /* root needs no password; without a terminal nobody could type one. */
        if (geteuid() == 0 || !isatty(STDIN_FILENO))
                return;
        /* Optional: without pkttyagent a desktop agent may still answer. */
        if (access(PKTTYAGENT, X_OK) < 0)
                return;
        if (pipe2(fds, O_CLOEXEC) < 0)
                return;

        pid = fork();
        if (pid < 0) {
                close(fds[0]);
                close(fds[1]);
                return;
        }
        if (pid == 0) {
                char fd_arg[16];
                int tty;

                /* The notify pipe becomes fd 3, every other fd is closed, so
                 * that a reader of our stdout sees EOF when we exit. */
                if (dup2(fds[1], 3) < 0)
                        _exit(EXIT_FAILURE);
                (void) close_range(4, ~0U, 0);
                if (!isatty(STDOUT_FILENO) || !isatty(STDERR_FILENO)) {
                        tty = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC);
                        if (tty < 0)
                                _exit(EXIT_FAILURE);
                        if (!isatty(STDOUT_FILENO))
                                (void) dup2(tty, STDOUT_FILENO);
                        if (!isatty(STDERR_FILENO))
                                (void) dup2(tty, STDERR_FILENO);
                }
                snprintf(fd_arg, sizeof(fd_arg), "%d", 3);
                execl(PKTTYAGENT, PKTTYAGENT, "--notify-fd", fd_arg, "--fallback", (char *) NULL);
                _exit(EXIT_FAILURE);
        }

        /* pkttyagent closes the notify fd once it is registered (or exits). */
        close(fds[1]);
        for (;;) {
                struct pollfd p = { .fd = fds[0], .events = POLLIN };
                char c;
                int r;

                r = poll(&p, 1, 10 * 1000);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;          /* an error, or no agent after 10 s: go on without */
                if (read(fds[0], &c, 1) <= 0)
                        break;          /* EOF: registered, or gone */
        }
        close(fds[0]);
        agent_pid = pid;
}

void polkit_agent_close(void) {
        if (agent_pid <= 0)
                return;
        (void) kill(agent_pid, SIGTERM);
        (void) kill(agent_pid, SIGCONT);
        while (waitpid(agent_pid, NULL, 0) < 0 && errno == EINTR)
                ;
        agent_pid = 0;
}
