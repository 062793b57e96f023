<?php

/**
 * LoadingTest's router for PHP's built-in server: how the binding loaded,
 * and a few calls through it (a PHP clock, a challenge, its form, a
 * verdict, the content filter), or the exception when it could not load.
 */

declare(strict_types=1);

if (!class_exists(ReplyGuard\Guard::class)) {
    // Not preloaded: the autoloader, as an application would use it.
    require __DIR__ . '/../src/autoload.php';
}

header('Content-Type: text/plain');
try {
    $guard = new ReplyGuard\Guard(
        keys: [[1, str_repeat('k', 32)]],
        minSolve: 0,
        clock: static fn (): int => 1750000000,
    );
    $challenge = $guard->issue('probe');
    $filter = new ReplyGuard\Bayes();
    $filter->learn('pills');
    echo ReplyGuard\Library::loadedBy(), ' ', $challenge->issuedAt, ' ',
        str_contains($challenge->html(), $challenge->token) ? 'html' : 'no-html', ' ',
        $guard->verify($challenge->token, 'x', 'probe')->value, ' ',
        $filter->classify('pills')->verdict->value;
} catch (Throwable $e) {
    echo get_class($e), ': ', $e->getMessage();
}
