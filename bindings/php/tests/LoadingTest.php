<?php

declare(strict_types=1);

namespace ReplyGuard\Tests;

use PHPUnit\Framework\TestCase;
use ReplyGuard\Library;

/**
 * The flat header, and each way the binding finds the library: through
 * REPLYGUARD_LIBRARY (FFI::cdef), a preloaded scope (FFI::scope), the
 * header (FFI::load), and the message when all of them fail. Each way runs
 * in a child PHP, since a process loads the library once.
 */
final class LoadingTest extends TestCase
{
    private const PROBE = 'require getenv("RG_TEST_AUTOLOAD");'
        . ' echo ReplyGuard\Library::loadedBy(), " ", ReplyGuard\Library::version();';

    /**
     * @param array<string, ?string> $env
     * @param list<string>           $ini php -d settings
     *
     * @return array{int, string, string}
     */
    private function probe(array $env, array $ini = [], string $code = self::PROBE): array
    {
        $args = [];
        foreach ($ini as $setting) {
            $args[] = '-d';
            $args[] = $setting;
        }
        $env += ['RG_TEST_AUTOLOAD' => dirname(__DIR__) . '/src/autoload.php'];
        return Support::php(array_merge($args, ['-r', $code]), $env);
    }

    public function testFlatHeader(): void
    {
        $text = (string) file_get_contents(Support::header());
        $lines = explode("\n", $text);
        $this->assertSame('#define FFI_SCOPE "REPLYGUARD"', $lines[0]);
        $this->assertSame('#define FFI_LIB "libreplyguard.so.0"', $lines[1]);
        foreach (['__attribute__', 'extern "C" {', '__declspec', '#include', 'RG_EXPORT', 'RG_WARN_UNUSED'] as $word) {
            $this->assertStringNotContainsString($word, $text);
        }
        $this->assertStringContainsString('int rg_challenge_verify(', $text);
        $this->assertStringContainsString('char question[256];', $text);
        $ffi = Library::ffi();
        $this->assertSame(32, $ffi->RG_FFI_KEY_BYTES);
        $this->assertSame($ffi->rg_key_bytes(), $ffi->RG_FFI_KEY_BYTES);
        $this->assertSame($ffi->rg_token_max(), $ffi->RG_FFI_TOKEN_MAX);
        $this->assertSame($ffi->rg_question_max(), $ffi->RG_FFI_QUESTION_MAX);
        $this->assertSame(4096, $ffi->RG_FFI_FORM_MAX);
        $this->assertSame(18, $ffi->RG_FFI_CLIENT_KEY_MAX);
        $this->assertSame(-16, $ffi->RG_EADDRESS);
    }

    public function testThisProcessUsesTheEnvironment(): void
    {
        $this->assertSame('cdef', Library::loadedBy());
        $this->assertSame(Library::ffi()->rg_version(), Library::version());
        $this->assertMatchesRegularExpression('/^\d+\.\d+\.\d+$/', Library::version());
    }

    public function testLoadFromHeader(): void
    {
        [$rc, $out, $err] = $this->probe([
            'REPLYGUARD_LIBRARY' => null,
            'REPLYGUARD_HEADER' => Support::header(),
            'LD_LIBRARY_PATH' => Support::libraryDir(),
        ]);
        $this->assertSame(0, $rc, $err);
        $this->assertSame('load ' . Library::version(), $out);
    }

    public function testPreloadedScope(): void
    {
        [$rc, $out, $err] = $this->probe(
            [
                'REPLYGUARD_LIBRARY' => null,
                'REPLYGUARD_HEADER' => '/nonexistent/replyguard-ffi.h',
                'LD_LIBRARY_PATH' => Support::libraryDir(),
            ],
            ['ffi.enable=preload', 'ffi.preload=' . Support::header()],
        );
        $this->assertSame(0, $rc, $err);
        $this->assertSame('scope ' . Library::version(), $out);
    }

    /**
     * A server (as php-fpm is) under PHP's default ffi.enable=preload: FFI
     * only for code compiled at startup. With preload.php and ffi.preload,
     * as README.md says, the binding works; without, the exception says
     * what to do.
     */
    public function testPreloadedUnderAServer(): void
    {
        $data = Support::scratch();
        $ini = [
            'ffi.enable=preload',
            'ffi.preload=' . Support::header(),
            'opcache.enable=1',
            'opcache.enable_cli=1',
            'opcache.preload=' . dirname(__DIR__) . '/preload.php',
        ];
        if (function_exists('posix_geteuid') && posix_geteuid() === 0) {
            // PHP refuses to preload as root without a user to run as.
            $ini[] = 'opcache.preload_user=root';
        }
        $env = ['REPLYGUARD_LIBRARY' => null, 'LD_LIBRARY_PATH' => Support::libraryDir()];
        $server = new Server(__DIR__ . '/server-probe.php', $ini, $env, "$data/preloaded.log");
        [$status, , $body] = $server->request('GET', '/');
        $this->assertSame(200, $status, $server->log());
        $this->assertSame('scope 1750000000 html wrong spam', $body);
        $server->stop();

        $plain = new Server(__DIR__ . '/server-probe.php', ['ffi.enable=preload'], $env, "$data/plain.log");
        [, , $body] = $plain->request('GET', '/');
        $this->assertStringStartsWith('ReplyGuard\\LibraryException: ', $body);
        $this->assertStringContainsString('ffi.enable=preload lets only preloaded code use FFI', $body);
        $plain->stop();
    }

    public function testFailureNamesWhatWasTried(): void
    {
        $code = 'require getenv("RG_TEST_AUTOLOAD");'
            . ' try { ReplyGuard\Library::ffi(); }'
            . ' catch (ReplyGuard\LibraryException $e) { echo get_class($e), "\n", $e->getMessage(); }';
        [$rc, $out, $err] = $this->probe([
            'REPLYGUARD_LIBRARY' => null,
            'REPLYGUARD_HEADER' => '/nonexistent/replyguard-ffi.h',
        ], code: $code);
        $this->assertSame(0, $rc, $err);
        $this->assertStringStartsWith("ReplyGuard\\LibraryException\n", $out);
        $this->assertStringContainsString("FFI::scope('REPLYGUARD')", $out);
        $this->assertStringContainsString('FFI::load(/nonexistent/replyguard-ffi.h): no such file', $out);
        $this->assertStringContainsString('REPLYGUARD_LIBRARY', $out);

        [$rc, $out, $err] = $this->probe([
            'REPLYGUARD_LIBRARY' => '/nonexistent/libreplyguard.so.0',
            'REPLYGUARD_HEADER' => Support::header(),
        ], code: $code);
        $this->assertSame(0, $rc, $err);
        $this->assertStringContainsString('REPLYGUARD_LIBRARY=/nonexistent/libreplyguard.so.0', $out);
    }
}
