/*
 * The key ring of a guard: every key it verifies with, and the one it signs
 * with. Key material lives in sodium_malloc memory and is wiped on free.
 */
#ifndef RG_KEYS_H
#define RG_KEYS_H

#include <pthread.h>

#include "token.h"

typedef struct rg__key {
    uint32_t id;
    rg__token_key *mac; /* guarded memory */
} rg__key;

typedef struct rg__keyring {
    pthread_rwlock_t lock;
    rg__key *keys;
    size_t count, room;
    size_t signer; /* index into keys; valid when has_signer */
    bool has_signer;
} rg__keyring;

int rg__keyring_init(rg__keyring *kr);
void rg__keyring_destroy(rg__keyring *kr);

/* See rg_guard_add_key(). */
int rg__keyring_add(rg__keyring *kr, uint32_t id,
                    const uint8_t key[RG_KEY_BYTES], bool sign_with);

/* See rg_guard_load_keys(). */
int rg__keyring_load(rg__keyring *kr, const char *path);

/*
 * Lookups return the key's MAC states with the ring's read lock held; call
 * rg__keyring_release() when done. NULL (and no lock held) when absent.
 */
const rg__token_key *rg__keyring_signer(rg__keyring *kr, uint32_t *id);
const rg__token_key *rg__keyring_find(rg__keyring *kr, uint32_t id);
void rg__keyring_release(rg__keyring *kr);

#endif
