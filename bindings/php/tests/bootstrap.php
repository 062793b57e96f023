<?php

/**
 * Loads the binding without Composer, as src/autoload.php documents, and
 * the tests' helpers (ReplyGuard\Tests, one class a file here).
 */

declare(strict_types=1);

error_reporting(E_ALL);

require dirname(__DIR__) . '/src/autoload.php';

spl_autoload_register(static function (string $class): void {
    $prefix = 'ReplyGuard\\Tests\\';
    if (!str_starts_with($class, $prefix)) {
        return;
    }
    $file = __DIR__ . '/' . substr($class, strlen($prefix)) . '.php';
    if (is_file($file)) {
        require $file;
    }
});
