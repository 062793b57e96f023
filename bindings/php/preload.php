<?php

/**
 * An opcache.preload script for servers (php-fpm, Apache's mod_php, PHP's
 * built-in server) that keep PHP's default ffi.enable=preload, under which
 * only code compiled at startup may use FFI. It loads every class of the
 * binding at startup, so that their calls into FFI are allowed. Name the
 * flat header in ffi.preload too, so that its scope exists before the
 * first request (FFI::load() cannot run in a preload script that drops
 * root with opcache.preload_user). See README.md.
 *
 *     ffi.preload=/usr/local/share/replyguard/php/replyguard-ffi.h
 *     opcache.enable=1
 *     opcache.preload=/usr/local/share/replyguard/php/preload.php
 *     opcache.preload_user=www-data
 */

declare(strict_types=1);

require __DIR__ . '/src/autoload.php';

foreach (glob(__DIR__ . '/src/*.php') ?: [] as $file) {
    $class = 'ReplyGuard\\' . basename($file, '.php');
    if ($class !== 'ReplyGuard\\autoload') {
        class_exists($class);
    }
}
