<?php

declare(strict_types=1);

namespace ReplyGuard\Tests;

use ReplyGuard\Challenge;

/**
 * What several tests need: a solver for digit-style questions, scratch
 * directories, PHP run in a child process, and where the built library
 * and header are.
 */
final class Support
{
    /**
     * The answer to a two-term question in digits, in any of the English
     * phrasings: "9 + 10 =", "What is 9 plus 10?", "How much is 9 − 1?",
     * "3 × 4 =" (− is U+2212, × is U+00D7).
     */
    public static function solve(Challenge|string $question): int
    {
        $q = $question instanceof Challenge ? $question->question : $question;
        $ok = preg_match('/(\d+)\s*(\+|−|×|plus|minus|times)\s*(\d+)/u', $q, $m);
        if ($ok !== 1) {
            throw new \RuntimeException("cannot solve: $q");
        }
        [$a, $b] = [(int) $m[1], (int) $m[3]];
        return match ($m[2]) {
            '+', 'plus' => $a + $b,
            '−', 'minus' => $a - $b,
            '×', 'times' => $a * $b,
        };
    }

    /** A new empty directory, removed when the process ends. */
    public static function scratch(): string
    {
        $dir = sys_get_temp_dir() . '/replyguard-php-' . bin2hex(random_bytes(6));
        mkdir($dir, 0700);
        register_shutdown_function(static function () use ($dir): void {
            self::remove($dir);
        });
        return $dir;
    }

    /**
     * Runs PHP code or a script in a child process with the environment
     * given (null values unset a variable) and extra php -d settings.
     *
     * @param list<string>          $args  what follows `php`: ['-r', $code]
     * @param array<string, ?string> $env
     *
     * @return array{int, string, string} exit status, stdout, stderr
     */
    public static function php(array $args, array $env = []): array
    {
        $environment = getenv();
        foreach ($env as $name => $value) {
            if ($value === null) {
                unset($environment[$name]);
            } else {
                $environment[$name] = $value;
            }
        }
        $cmd = array_merge([PHP_BINARY], $args);
        $pipes = [];
        $io = [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']];
        $proc = proc_open($cmd, $io, $pipes, null, $environment);
        if (!is_resource($proc)) {
            throw new \RuntimeException('cannot start ' . PHP_BINARY);
        }
        fclose($pipes[0]);
        $out = (string) stream_get_contents($pipes[1]);
        $err = (string) stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        return [proc_close($proc), $out, $err];
    }

    /** The directory of the built shared library, for LD_LIBRARY_PATH. */
    public static function libraryDir(): string
    {
        $lib = getenv('REPLYGUARD_LIBRARY');
        if (!is_string($lib) || $lib === '') {
            throw new \RuntimeException('REPLYGUARD_LIBRARY is not set');
        }
        return dirname($lib);
    }

    /** The flat header the tests use. */
    public static function header(): string
    {
        $h = getenv('REPLYGUARD_HEADER');
        if (!is_string($h) || $h === '') {
            throw new \RuntimeException('REPLYGUARD_HEADER is not set');
        }
        return $h;
    }

    private static function remove(string $path): void
    {
        if (is_dir($path) && !is_link($path)) {
            foreach (scandir($path) ?: [] as $entry) {
                if ($entry !== '.' && $entry !== '..') {
                    self::remove("$path/$entry");
                }
            }
            rmdir($path);
        } elseif (file_exists($path) || is_link($path)) {
            unlink($path);
        }
    }
}
