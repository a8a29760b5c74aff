/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SHA-1 (FIPS 180-4), only for RFC 4122 version 5 UUIDs: no security
 * property is needed, just a stable, well-known name hash. */

#include <stdio.h>
#include <string.h>

#include "siov-private.h"

static inline uint32_t rol32(uint32_t x, unsigned n) {
        return (x << n) | (x >> (32 - n));
}

void siov_sha1_init(struct siov_sha1 *s) {
        *s = (struct siov_sha1) {
                .h = { 0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u, 0xc3d2e1f0u },
        };
}

static void sha1_block(struct siov_sha1 *s, const uint8_t *b) {
        uint32_t w[80], a, bb, c, d, e;

        for (unsigned i = 0; i < 16; i++)
                w[i] = (uint32_t) b[4 * i] << 24 | (uint32_t) b[4 * i + 1] << 16 |
                       (uint32_t) b[4 * i + 2] << 8 | (uint32_t) b[4 * i + 3];
        for (unsigned i = 16; i < 80; i++)
                w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);

        a = s->h[0];
        bb = s->h[1];
        c = s->h[2];
        d = s->h[3];
        e = s->h[4];
        for (unsigned i = 0; i < 80; i++) {
                uint32_t f, k, t;

                if (i < 20) {
                        f = (bb & c) | (~bb & d);
                        k = 0x5a827999u;
                } else if (i < 40) {
                        f = bb ^ c ^ d;
                        k = 0x6ed9eba1u;
                } else if (i < 60) {
                        f = (bb & c) | (bb & d) | (c & d);
                        k = 0x8f1bbcdcu;
                } else {
                        f = bb ^ c ^ d;
                        k = 0xca62c1d6u;
                }
                t = rol32(a, 5) + f + e + k + w[i];
                e = d;
                d = c;
                c = rol32(bb, 30);
                bb = a;
                a = t;
        }
        s->h[0] += a;
        s->h[1] += bb;
        s->h[2] += c;
        s->h[3] += d;
        s->h[4] += e;
}

void siov_sha1_update(struct siov_sha1 *s, const void *data, size_t len) {
        const uint8_t *p = data;

        s->len += len;
        while (len > 0) {
                size_t k = 64 - s->n;

                if (k > len)
                        k = len;
                memcpy(s->buf + s->n, p, k);
                s->n += k;
                p += k;
                len -= k;
                if (s->n == 64) {
                        sha1_block(s, s->buf);
                        s->n = 0;
                }
        }
}

void siov_sha1_final(struct siov_sha1 *s, uint8_t out[static 20]) {
        uint64_t bits = s->len * 8;
        uint8_t pad = 0x80;

        siov_sha1_update(s, &pad, 1);
        pad = 0;
        while (s->n != 56)
                siov_sha1_update(s, &pad, 1);
        for (int i = 7; i >= 0; i--) {
                uint8_t c = (uint8_t) (bits >> (8 * i));
                siov_sha1_update(s, &c, 1);
        }
        for (unsigned i = 0; i < 5; i++) {
                out[4 * i] = (uint8_t) (s->h[i] >> 24);
                out[4 * i + 1] = (uint8_t) (s->h[i] >> 16);
                out[4 * i + 2] = (uint8_t) (s->h[i] >> 8);
                out[4 * i + 3] = (uint8_t) s->h[i];
        }
}

void siov_uuid_v5(const uint8_t ns[static 16], const void *name, size_t len,
                  char ret[static SIOV_UUID_STRING_MAX]) {
        struct siov_sha1 s;
        uint8_t h[20];

        siov_sha1_init(&s);
        siov_sha1_update(&s, ns, 16);
        siov_sha1_update(&s, name, len);
        siov_sha1_final(&s, h);

        h[6] = (h[6] & 0x0f) | 0x50;    /* version 5 */
        h[8] = (h[8] & 0x3f) | 0x80;    /* RFC 4122 variant */
        snprintf(ret, SIOV_UUID_STRING_MAX,
                 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                 h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7],
                 h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]);
}
