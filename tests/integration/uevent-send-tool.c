/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * uevent-send-tool ROOT ACTION DEVPATH SUBSYSTEM: sends one uevent, as the
 * kernel would, to every umockdev listener of the testbed at ROOT (the
 * lossless sender of uevent-send.h), for shell tests run under
 * umockdev-wrapper. Exits 1 when nobody listens or the send fails.
 */

#include <stdio.h>
#include <stdlib.h>

#include "uevent-send.h"

int main(int argc, char *argv[]) {
        UeventSender s;
        int r;

        if (argc != 5) {
                fprintf(stderr, "usage: %s ROOT ACTION DEVPATH SUBSYSTEM\n", argv[0]);
                return 2;
        }
        r = uevent_sender_open(&s, argv[1]);
        if (r <= 0) {
                fprintf(stderr, "no uevent listener under %s (%d)\n", argv[1], r);
                return 1;
        }
        r = uevent_send(&s, argv[3], argv[4], argv[2]);
        uevent_sender_close(&s);
        if (r < 0 || s.failed > 0) {
                fprintf(stderr, "sending %s %s failed (%d)\n", argv[2], argv[3], r);
                return 1;
        }
        return 0;
}
