<?php

declare(strict_types=1);

namespace ReplyGuard;

use FFI;
use FFI\CData;

/**
 * The one FFI instance that every class of the binding calls through.
 *
 * It is found once per process, in this order:
 *
 * 1. the environment variable REPLYGUARD_LIBRARY, a path to
 *    libreplyguard.so: FFI::cdef() with the text of the flat header (the
 *    one REPLYGUARD_HEADER names, else the first one found as in 3);
 * 2. FFI::scope('REPLYGUARD'), when the header was preloaded (ffi.preload
 *    or opcache.preload; the way for php-fpm, see README.md);
 * 3. FFI::load() on the flat header: REPLYGUARD_HEADER, then
 *    replyguard-ffi.h one directory above this file (where meson installs
 *    it, beside src/), then under /usr/local/share and /usr/share. The
 *    header names the library as libreplyguard.so.0, which the dynamic
 *    linker finds on its usual paths.
 *
 * When all of that fails, a LibraryException lists what was tried and why
 * each failed. The first successful load also calls rg_init().
 *
 * @internal The classes of the binding are its API; this is their plumbing.
 */
final class Library
{
    /** The FFI scope the flat header declares (FFI_SCOPE). */
    public const SCOPE = 'REPLYGUARD';

    /** The flat header's file name, as meson builds and installs it. */
    public const HEADER = 'replyguard-ffi.h';

    private static ?FFI $ffi = null;

    /** How the library was loaded: "cdef", "scope" or "load". */
    private static string $loadedBy = '';

    private function __construct()
    {
    }

    /**
     * The FFI instance, loaded on first use.
     *
     * @throws LibraryException when the library cannot be loaded.
     */
    public static function ffi(): FFI
    {
        if (self::$ffi === null) {
            $ffi = self::load();
            $rc = $ffi->rg_init();
            if ($rc !== 0) {
                throw Exception::fromCode($rc, 'rg_init');
            }
            self::$ffi = $ffi;
        }
        return self::$ffi;
    }

    /**
     * How the library was loaded, for diagnostics: "cdef" (through
     * REPLYGUARD_LIBRARY), "scope" (preloaded) or "load" (FFI::load() on
     * the installed header); loads it first if need be.
     */
    public static function loadedBy(): string
    {
        self::ffi();
        return self::$loadedBy;
    }

    /**
     * The C library's version, "0.1.0".
     */
    public static function version(): string
    {
        return self::ffi()->rg_version();
    }

    /**
     * Throws the exception for a C return code, unless it is RG_OK.
     *
     * @param int    $rc      what the C function returned
     * @param string $context what was being done, for the message
     *
     * @throws Exception for any negative code.
     */
    public static function check(int $rc, string $context = ''): void
    {
        if ($rc !== 0) {
            throw Exception::fromCode($rc, $context);
        }
    }

    /**
     * A C copy of a string, NUL-terminated, for a `const char *` field of a
     * struct (FFI does not let a PHP string be assigned to one). The caller
     * keeps the returned buffer alive for as long as C may read it.
     *
     * A PHP string may hold NUL bytes, which would end the C string early and
     * hide the rest from the library. Text a visitor sent (a comment, an
     * answer, a token) has them replaced by spaces, so that nothing after one
     * goes unseen: pass $untrusted = true. Anything else is the site's own
     * setting, where a NUL is a mistake: it is refused.
     *
     * @throws InvalidArgumentException for a NUL in a trusted string.
     */
    public static function cString(string $s, bool $untrusted = false): CData
    {
        $s = self::text($s, $untrusted);
        $n = strlen($s);
        $buf = self::ffi()->new('char[' . ($n + 1) . ']');
        if ($n > 0) {
            FFI::memcpy($buf, $s, $n);
        }
        return $buf;
    }

    /**
     * A C string buffer as `char *`, to store in a struct field; $buf must
     * outlive every use of the result.
     */
    public static function pointer(CData $buf): CData
    {
        return self::ffi()->cast('char *', $buf);
    }

    /**
     * A string made safe to pass as `const char *`: see cString().
     *
     * @throws InvalidArgumentException for a NUL in a trusted string.
     */
    public static function text(string $s, bool $untrusted = false): string
    {
        if (!str_contains($s, "\0")) {
            return $s;
        }
        if ($untrusted) {
            return str_replace("\0", ' ', $s);
        }
        throw new InvalidArgumentException(
            'a setting contains a NUL byte',
            Exception::EINVAL,
        );
    }

    /**
     * Checks that an integer fits an unsigned C field of $bits bits.
     *
     * @throws InvalidArgumentException otherwise, naming the parameter.
     */
    public static function unsigned(int $value, string $name, int $bits = 32): int
    {
        $max = $bits >= 64 ? PHP_INT_MAX : (1 << $bits) - 1;
        if ($value < 0 || $value > $max) {
            throw new InvalidArgumentException(
                "invalid argument: $name must be from 0 to $max, not $value",
                Exception::EINVAL,
            );
        }
        return $value;
    }

    /**
     * A uint64_t read through FFI (which gives a negative int above
     * PHP_INT_MAX) as a PHP int, PHP_INT_MAX standing for anything larger.
     */
    public static function u64(int $value): int
    {
        return $value < 0 ? PHP_INT_MAX : $value;
    }

    /**
     * Loads the library; see the class comment for the order.
     *
     * @throws LibraryException naming what was tried.
     */
    private static function load(): FFI
    {
        if (!extension_loaded('ffi')) {
            throw new LibraryException(
                'replyguard needs PHP\'s FFI extension (ext-ffi), which is '
                . 'not loaded',
            );
        }
        $tried = [];

        $library = getenv('REPLYGUARD_LIBRARY');
        if (is_string($library) && $library !== '') {
            $header = self::findHeader($tried);
            if ($header !== null) {
                try {
                    $code = (string) file_get_contents($header);
                    // FFI_SCOPE and FFI_LIB are for FFI::load(); the library
                    // is the one named in the environment.
                    $code = (string) preg_replace('/^#define FFI_\w+.*$/m', '', $code);
                    $ffi = FFI::cdef($code, $library);
                    self::$loadedBy = 'cdef';
                    return $ffi;
                } catch (\Throwable $e) {
                    $tried[] = "FFI::cdef($header, REPLYGUARD_LIBRARY=$library): "
                        . $e->getMessage();
                }
            }
            throw self::failure($tried);
        }

        try {
            $ffi = FFI::scope(self::SCOPE);
            self::$loadedBy = 'scope';
            return $ffi;
        } catch (\Throwable $e) {
            $tried[] = 'FFI::scope(\'' . self::SCOPE . '\'): ' . $e->getMessage()
                . ' (not preloaded)';
        }

        foreach (self::headerCandidates() as $header) {
            if (!is_file($header)) {
                $tried[] = "FFI::load($header): no such file";
                continue;
            }
            try {
                $ffi = FFI::load($header);
                if ($ffi !== null) {
                    self::$loadedBy = 'load';
                    return $ffi;
                }
                $tried[] = "FFI::load($header): failed";
            } catch (\Throwable $e) {
                $tried[] = "FFI::load($header): " . $e->getMessage();
            }
        }
        throw self::failure($tried);
    }

    /**
     * The first flat header that exists, or null (noting each miss).
     *
     * @param list<string> $tried
     */
    private static function findHeader(array &$tried): ?string
    {
        foreach (self::headerCandidates() as $header) {
            if (is_file($header)) {
                return $header;
            }
            $tried[] = "header $header: no such file";
        }
        return null;
    }

    /**
     * Where the flat header may be: REPLYGUARD_HEADER when set (and then
     * only there), else beside src/ and under the usual install prefixes.
     *
     * @return list<string>
     */
    private static function headerCandidates(): array
    {
        $env = getenv('REPLYGUARD_HEADER');
        if (is_string($env) && $env !== '') {
            return [$env];
        }
        return [
            dirname(__DIR__) . '/' . self::HEADER,
            '/usr/local/share/replyguard/php/' . self::HEADER,
            '/usr/share/replyguard/php/' . self::HEADER,
        ];
    }

    /**
     * @param list<string> $tried
     */
    private static function failure(array $tried): LibraryException
    {
        $hint = "\nSet REPLYGUARD_LIBRARY (and REPLYGUARD_HEADER), preload "
            . self::HEADER . ' with ffi.preload, or install replyguard.';
        if (PHP_SAPI !== 'cli' && ini_get('ffi.enable') === 'preload') {
            // PHP's default: outside the command line, only code compiled
            // at startup may use FFI.
            $hint = "\nffi.enable=preload lets only preloaded code use FFI outside"
                . ' the command line: preload the binding (opcache.preload of'
                . ' preload.php, and ffi.preload of ' . self::HEADER . '; see the'
                . ' binding\'s README.md), or set ffi.enable=1.';
        }
        return new LibraryException(
            "cannot load libreplyguard through FFI; tried:\n  - "
            . implode("\n  - ", $tried) . $hint,
        );
    }
}
