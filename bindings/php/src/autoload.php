<?php

/**
 * The binding's classes without Composer:
 *
 *     require '/path/to/bindings/php/src/autoload.php';
 *
 * A PSR-4 loader for the ReplyGuard namespace over this directory, which
 * is what composer.json declares; with Composer, its own autoloader does
 * the same and this file is not needed.
 */

declare(strict_types=1);

spl_autoload_register(static function (string $class): void {
    $prefix = 'ReplyGuard\\';
    if (strncmp($class, $prefix, strlen($prefix)) !== 0) {
        return;
    }
    $file = __DIR__ . '/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
    if (is_file($file)) {
        require $file;
    }
});
