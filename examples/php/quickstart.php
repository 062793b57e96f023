<?php

/**
 * replyguard from PHP in three calls: a guard, a challenge for the form,
 * and the verdict on the answer.
 *
 *     php examples/php/quickstart.php [KEY-FILE]
 *
 * It asks the question in the terminal. Answer after at least five seconds
 * (the time trap), in digits or in words; it prints the verdict ("pass",
 * "wrong", "too_fast", ...) and exits 0 whatever it is. Without a key file
 * (`captcha-check keygen --out site.key` writes one) it makes a throwaway
 * key.
 *
 * From the build tree, tell the binding where the library is:
 *
 *     REPLYGUARD_LIBRARY=build/libreplyguard.so.0 \
 *     REPLYGUARD_HEADER=build/bindings/php/replyguard-ffi.h \
 *     php examples/php/quickstart.php
 */

declare(strict_types=1);

// With Composer: require 'vendor/autoload.php';
require __DIR__ . '/../../bindings/php/src/autoload.php';

use ReplyGuard\Guard;

$keyFile = $argv[1] ?? null;
if ($keyFile === null) {
    $keyFile = tempnam(sys_get_temp_dir(), 'replyguard-key-');
    file_put_contents($keyFile, Guard::generateKeyFile());
    register_shutdown_function('unlink', $keyFile);
}

$guard = new Guard(keyFile: $keyFile);          // one per process; memory: replay store
$challenge = $guard->issue('post-42');          // rendering the form: $challenge->html()

echo $challenge->question, ' ';
$answer = trim((string) fgets(STDIN));

$verdict = $guard->verify($challenge->token, $answer, 'post-42');   // on POST
echo $verdict->value, "\n";                     // Verdict::Pass: publish the comment
