/*
 * Key ring and key files.
 *
 * A key file (docs/key-file.md) is text, one key per line:
 *
 *     # comments and blank lines are ignored
 *     <key id> <sign|verify> <32 bytes as base64url, no padding>
 *
 * with exactly one "sign" line. Rotation: add a new key as "sign", turn the
 * old one into "verify", and drop it once every form showing it has expired.
 */
#include "keys.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A key file larger than this is not one: refuse before reading it all. */
#define KEYFILE_MAX (64 * 1024)

int rg__keyring_init(rg__keyring *kr)
{
    memset(kr, 0, sizeof *kr);
    return pthread_rwlock_init(&kr->lock, NULL) == 0 ? RG_OK : RG_ENOMEM;
}

void rg__keyring_destroy(rg__keyring *kr)
{
    for (size_t i = 0; i < kr->count; i++)
        sodium_free(kr->keys[i].mac); /* sodium_free wipes before freeing */
    free(kr->keys);
    pthread_rwlock_destroy(&kr->lock);
}

/* Most keys one key file may hold. */
#define KEYFILE_KEYS_MAX 64

/* A key to add to a ring. */
typedef struct new_key {
    uint32_t id;
    bool sign;
    const uint8_t *key; /* RG_KEY_BYTES */
} new_key;

/*
 * Adds n keys (at most KEYFILE_KEYS_MAX), all or none: an id the ring
 * already holds (RG_EKEY) or memory running out (RG_ENOMEM) adds nothing,
 * so a key file that clashes with a key added before leaves the ring as it
 * was. The checks and the additions happen under one hold of the write
 * lock, so no other thread's key can slip in between them.
 */
static int keyring_add_all(rg__keyring *kr, const new_key *nk, size_t n)
{
    rg__token_key *macs[KEYFILE_KEYS_MAX] = {NULL};
    int rc = RG_OK;

    for (size_t i = 0; i < n && rc == RG_OK; i++) {
        if (!(macs[i] = sodium_malloc(sizeof *macs[i]))) {
            rc = RG_ENOMEM;
            break;
        }
        rg__token_key_init(macs[i], nk[i].key);
        /* Done writing: the states are read-only from now on. */
        sodium_mprotect_readonly(macs[i]);
    }
    if (rc != RG_OK)
        goto out;

    pthread_rwlock_wrlock(&kr->lock);
    for (size_t i = 0; i < n && rc == RG_OK; i++)
        for (size_t j = 0; j < kr->count; j++)
            if (kr->keys[j].id == nk[i].id)
                rc = RG_EKEY;
    if (rc == RG_OK && kr->count + n > kr->room) {
        size_t room = kr->room ? kr->room : 4;
        while (room < kr->count + n)
            room *= 2;
        rg__key *keys = realloc(kr->keys, room * sizeof *keys);
        if (keys) {
            kr->keys = keys;
            kr->room = room;
        } else {
            rc = RG_ENOMEM;
        }
    }
    for (size_t i = 0; i < n && rc == RG_OK; i++) {
        if (nk[i].sign) {
            kr->signer = kr->count;
            kr->has_signer = true;
        }
        kr->keys[kr->count++] = (rg__key){.id = nk[i].id, .mac = macs[i]};
        macs[i] = NULL;
    }
    pthread_rwlock_unlock(&kr->lock);
out:
    for (size_t i = 0; i < n; i++)
        sodium_free(macs[i]); /* those not added; NULL is a no-op */
    return rc;
}

int rg__keyring_add(rg__keyring *kr, uint32_t id,
                    const uint8_t key[RG_KEY_BYTES], bool sign_with)
{
    const new_key nk = {.id = id, .sign = sign_with, .key = key};
    return keyring_add_all(kr, &nk, 1);
}

const rg__token_key *rg__keyring_signer(rg__keyring *kr, uint32_t *id)
{
    pthread_rwlock_rdlock(&kr->lock);
    if (!kr->has_signer) {
        pthread_rwlock_unlock(&kr->lock);
        return NULL;
    }
    *id = kr->keys[kr->signer].id;
    return kr->keys[kr->signer].mac;
}

const rg__token_key *rg__keyring_find(rg__keyring *kr, uint32_t id)
{
    pthread_rwlock_rdlock(&kr->lock);
    /* A guard holds a handful of keys: a scan beats any index. */
    for (size_t i = 0; i < kr->count; i++) {
        if (kr->keys[i].id == id)
            return kr->keys[i].mac;
    }
    pthread_rwlock_unlock(&kr->lock);
    return NULL;
}

void rg__keyring_release(rg__keyring *kr)
{
    pthread_rwlock_unlock(&kr->lock);
}

/* Parses one key line into id, role and key. False when malformed. */
static bool parse_key_line(char *line, uint32_t *id, bool *sign,
                           uint8_t key[RG_KEY_BYTES])
{
    char id_text[16], role[16], key_text[64], extra[2];
    if (sscanf(line, "%15s %15s %63s %1s", id_text, role, key_text, extra) != 3)
        return false;

    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(id_text, &end, 10);
    if (errno || *end || id_text[0] < '0' || id_text[0] > '9' || v > UINT32_MAX)
        return false;
    *id = (uint32_t)v;

    if (strcmp(role, "sign") == 0)
        *sign = true;
    else if (strcmp(role, "verify") == 0)
        *sign = false;
    else
        return false;

    /* libsodium's decoder lets bytes above 0x7f through as if they were
     * letters: a key with a stray byte must be refused, not read as some
     * other key. */
    static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "abcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t len = 0;
    const char *key_end = NULL;
    bool ok = key_text[strspn(key_text, b64url)] == '\0' &&
              sodium_base642bin(
                  key, RG_KEY_BYTES, key_text, strlen(key_text), NULL, &len,
                  &key_end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
              len == RG_KEY_BYTES && *key_end == '\0';
    sodium_memzero(key_text, sizeof key_text);
    return ok;
}

/* Reads a whole small file into guarded memory, NUL-terminated. */
static char *read_key_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    char *buf = sodium_malloc(KEYFILE_MAX + 1);
    size_t len = buf ? fread(buf, 1, KEYFILE_MAX + 1, fp) : 0;
    bool bad = !buf || ferror(fp) || len > KEYFILE_MAX ||
               memchr(buf, '\0', len) != NULL;
    fclose(fp);
    if (bad) {
        sodium_free(buf);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

int rg__keyring_load(rg__keyring *kr, const char *path)
{
    char *text = read_key_file(path);
    if (!text)
        return RG_EKEYFILE;

    /* Parse everything first, so a bad file adds no key at all. */
    struct {
        uint32_t id;
        bool sign;
        uint8_t key[RG_KEY_BYTES];
    } *parsed = sodium_allocarray(KEYFILE_KEYS_MAX, sizeof *parsed);
    size_t n = 0, signers = 0;
    int rc = parsed ? RG_OK : RG_ENOMEM;

    for (char *line = text, *next; rc == RG_OK && line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        line += strspn(line, " \t\r");
        if (*line == '\0' || *line == '#')
            continue;
        if (n == KEYFILE_KEYS_MAX ||
            !parse_key_line(line, &parsed[n].id, &parsed[n].sign,
                            parsed[n].key)) {
            rc = RG_EKEYFILE;
            break;
        }
        signers += parsed[n].sign;
        for (size_t i = 0; i < n; i++)
            if (parsed[i].id == parsed[n].id)
                rc = RG_EKEY;
        n++;
    }
    if (rc == RG_OK && signers != 1)
        rc = RG_EKEYFILE;
    if (rc == RG_OK) {
        new_key nk[KEYFILE_KEYS_MAX];
        for (size_t i = 0; i < n; i++)
            nk[i] = (new_key){parsed[i].id, parsed[i].sign, parsed[i].key};
        rc = keyring_add_all(kr, nk, n);
    }

    sodium_free(parsed);
    sodium_free(text);
    return rc;
}

int rg_keyfile_generate(uint32_t key_id, char *out, size_t out_size)
{
    uint8_t key[RG_KEY_BYTES];
    char key_text[sodium_base64_ENCODED_LEN(
        RG_KEY_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];

    if (!out)
        return RG_EINVAL;
    if (out_size < 160)
        return RG_ETOOBIG;
    if (rg__ensure_init() != RG_OK)
        return RG_EINIT;
    if (key_id == 0)
        key_id = (uint32_t)time(NULL); /* later keys get larger ids */

    randombytes_buf(key, sizeof key);
    sodium_bin2base64(key_text, sizeof key_text, key, sizeof key,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    int len = snprintf(out, out_size,
                       "# replyguard key file: <key id> <sign|verify> "
                       "<key, base64url>\n"
                       "%" PRIu32 " sign %s\n",
                       key_id, key_text);
    sodium_memzero(key, sizeof key);
    sodium_memzero(key_text, sizeof key_text);
    if (len < 0 || (size_t)len >= out_size) {
        sodium_memzero(out, out_size);
        return RG_ETOOBIG;
    }
    return RG_OK;
}
