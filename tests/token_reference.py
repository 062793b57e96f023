#!/usr/bin/env python3
"""An independent implementation of docs/token-format.md, using nothing but
Python's standard library (hmac, hashlib, base64). It checks every test
vector of tests/data/token-vectors.txt and that docs/token-format.md quotes
them, which proves the spec alone is enough to interoperate.

Usage: token_reference.py VECTORS_FILE DOC_FILE
"""
import base64
import hashlib
import hmac
import struct
import sys

LOCALES = ["en", "ru", "de", "fr", "es"]


def subkey(key: bytes, subkey_id: int) -> bytes:
    """crypto_kdf_derive_from_key: BLAKE2b keyed with the master key, the
    subkey id as salt (8 bytes little-endian, zero-padded) and the context
    as personalisation (zero-padded)."""
    return hashlib.blake2b(
        b"",
        digest_size=32,
        key=key,
        salt=struct.pack("<Q", subkey_id) + bytes(8),
        person=b"rgtoken1" + bytes(8),
    ).digest()


def lp(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def make_token(key, key_id, issued_at, expires_at, nonce, locale, binding,
               answer):
    fields = (lp(b"rg-v1-fields") + lp(b"\x01") +
              lp(struct.pack(">I", key_id)) +
              lp(struct.pack(">Q", issued_at)) +
              lp(struct.pack(">Q", expires_at)) + lp(nonce) +
              lp(bytes([locale])) +
              lp(hashlib.blake2b(binding.encode(), digest_size=32).digest()))
    field_mac = hmac.new(subkey(key, 1), fields, hashlib.sha256).digest()
    field_tag, secret = field_mac[:16], field_mac[16:]
    answer_msg = (lp(b"rg-v1-answer") + lp(secret) +
                  lp(str(answer).encode()))
    answer_tag = hmac.new(subkey(key, 2), answer_msg,
                          hashlib.sha256).digest()[:16]
    raw = (b"\x01" + struct.pack(">IQQ", key_id, issued_at, expires_at) +
           nonce + bytes([locale]) + field_tag + answer_tag)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def read_vectors(path):
    """Blocks of `name: value` lines, separated by blank lines."""
    vectors, current = [], {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                continue
            if not line.strip():
                if current:
                    vectors.append(current)
                current = {}
                continue
            name, _, value = line.partition(": ")
            current[name] = value
    if current:
        vectors.append(current)
    return vectors


def main():
    vectors_path, doc_path = sys.argv[1], sys.argv[2]
    with open(doc_path, encoding="utf-8") as f:
        doc = f.read()
    vectors = read_vectors(vectors_path)
    failed = 0
    for v in vectors:
        token = make_token(bytes.fromhex(v["key"]), int(v["key_id"]),
                           int(v["issued_at"]), int(v["expires_at"]),
                           bytes.fromhex(v["nonce"]),
                           LOCALES.index(v["locale"]), v["binding"],
                           int(v["answer"]))
        if token != v["token"]:
            print(f"FAIL {v['name']}: computed {token}, file has {v['token']}")
            failed += 1
        elif v["token"] not in doc:
            print(f"FAIL {v['name']}: docs/token-format.md lacks the token")
            failed += 1
        else:
            print(f"ok {v['name']}")
    if len(vectors) < 5:
        print(f"FAIL: only {len(vectors)} vectors, the spec promises 5")
        failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
