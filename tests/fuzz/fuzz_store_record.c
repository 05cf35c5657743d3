/* tests/fuzz/fuzz_store_record.c: random bytes into the store's record
 * decoders (store/record.c), the bytes it trusts least: they come from
 * disk. Every input must decode or fail with an error, never crash or read
 * out of bounds; a record that decodes must re-encode to bytes that decode
 * to the same record (encode . decode is a fixed point after one round). */
#include "store/store_int.h"
#include "util/arena.h"
#include "util/buf.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void object_round_trip(arena_t *a, const uint8_t *data, size_t size)
{
    store_object_t o, o2;
    if (rec_object_decode(a, data, size, &o) != STORE_OK)
        return;
    buf_t e1, e2;
    buf_init(&e1, REC_MAX_BYTES);
    buf_init(&e2, REC_MAX_BYTES);
    rec_object_encode(&e1, &o);
    if (!buf_ok(&e1) || rec_object_decode(a, e1.data, e1.len, &o2) != STORE_OK)
        abort(); /* a decoded record must encode to a decodable one */
    rec_object_encode(&e2, &o2);
    if (e1.len != e2.len || memcmp(e1.data, e2.data, e1.len) != 0)
        abort();
    rec_peek_t pk;
    if (rec_object_peek(e1.data, e1.len, &pk) != STORE_OK || pk.klen != o.key_len)
        abort();
    buf_release(&e1);
    buf_release(&e2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena_t *a = arena_new(16 << 20);
    if (!a)
        return 0;
    object_round_trip(a, data, size);

    rec_peek_t pk;
    (void)rec_object_peek(data, size, &pk);
    store_object_t t;
    (void)rec_template_decode(a, data, size, &t);
    store_bucket_t b;
    memset(&b, 0, sizeof b);
    (void)rec_bucket_decode(a, data, size, &b);
    store_upload_t u;
    (void)rec_upload_decode(a, data, size, &u);
    store_part_t p;
    memset(&p, 0, sizeof p);
    (void)rec_part_decode(data, size, &p, a);
    arena_free(a);
    return 0;
}
