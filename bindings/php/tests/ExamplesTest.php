<?php

declare(strict_types=1);

namespace ReplyGuard\Tests;

use PHPUnit\Framework\TestCase;

/**
 * examples/php: quickstart.php runs to the end, and comment-form.php
 * serves its page under PHP's built-in server and judges what is posted to
 * it, escaping everything. The server listens on 127.0.0.1 only, on a port
 * the system picks, and is stopped at the end of the test.
 */
final class ExamplesTest extends TestCase
{
    private const EXAMPLES = __DIR__ . '/../../../examples/php';

    private ?Server $server = null;

    protected function tearDown(): void
    {
        $this->server?->stop();
    }

    public function testQuickstart(): void
    {
        [$rc, $out, $err] = Support::php([self::EXAMPLES . '/quickstart.php']);
        $this->assertSame(0, $rc, $err);
        // No answer on standard input: the verdict is one of these.
        $this->assertMatchesRegularExpression('/ (too_fast|wrong)\n$/', $out);
    }

    public function testCommentForm(): void
    {
        $data = Support::scratch();
        // PHP's default ffi.enable=preload allows FFI in the command line
        // only; a server needs ffi.enable=1, or the preloading that
        // LoadingTest::testPreloadedUnderAServer() tries.
        $this->server = new Server(
            self::EXAMPLES . '/comment-form.php',
            ['ffi.enable=1'],
            ['REPLYGUARD_EXAMPLE_DATA' => $data],
            "$data/server.log",
        );

        // The form, then a right answer after the 5 s time trap.
        [$status, , $page] = $this->server->request('GET', '/');
        $this->assertSame(200, $status, $this->server->log());
        $this->assertStringContainsString('<h2>0 comments</h2>', $page);
        $this->assertStringContainsString('name="rg_answer"', $page);
        $form = $this->challenge($page);
        usleep(5_200_000);
        [$status, $headers, $refused] = $this->server->request('POST', '/', $form + [
            'author' => '<b>Anna</b>',
            'email' => 'anna@example.org',
            'url' => 'javascript:alert(1)',
            'comment' => "Compost <script>alert(1)</script> works & helps.",
            'rg_note' => '',
        ]);
        $this->assertSame(303, $status, json_encode($form) . strip_tags($refused));
        $this->assertStringContainsString('Location: /?published=1', $headers);
        [, , $page] = $this->server->request('GET', '/?published=1');
        $this->assertStringContainsString('<h2>1 comment</h2>', $page);
        $this->assertStringContainsString('&lt;b&gt;Anna&lt;/b&gt;', $page);
        $this->assertStringContainsString('Compost &lt;script&gt;alert(1)&lt;/script&gt; works &amp; helps.', $page);
        $this->assertStringNotContainsString('<script>', $page);
        $this->assertStringNotContainsString('javascript:', $page);

        // Too fast: refused, with the text kept in the form and a new question.
        $form = $this->challenge($page);
        $text = 'Second "thoughts" <i>here</i>';
        [$status, , $page] = $this->server->request('POST', '/', $form + [
            'author' => 'Bo',
            'comment' => $text,
        ]);
        $this->assertSame(422, $status);
        $this->assertStringContainsString('quicker than a person types', $page);
        $this->assertStringContainsString('>' . htmlspecialchars($text, ENT_QUOTES) . '</textarea>', $page);
        $this->assertStringContainsString('value="Bo"', $page);
        $this->assertNotSame($form['rg_token'], $this->challenge($page)['rg_token']);

        // A filled honeypot: refused. Five takes are spent now (1 for each
        // comment, and 3 in all for the failed challenge).
        [$status, , $page] = $this->server->request('POST', '/', $this->challenge($page) + [
            'author' => 'Bot',
            'comment' => 'Buy now',
            'rg_note' => 'filled by a bot',
        ]);
        $this->assertSame(422, $status);
        $this->assertStringContainsString('filled in by a program', $page);

        // So the next comment from this address waits.
        [$status, $headers, $page] = $this->server->request('POST', '/', $this->challenge($page) + [
            'author' => 'Bo',
            'comment' => $text,
        ]);
        $this->assertSame(429, $status);
        $this->assertMatchesRegularExpression('/^Retry-After: \d+$/mi', $headers);
        $this->assertStringContainsString('commenting very often', $page);
        $this->assertStringContainsString('>' . htmlspecialchars($text, ENT_QUOTES) . '</textarea>', $page);

        [$status] = $this->server->request('GET', '/nothing-here');
        $this->assertSame(404, $status);
    }

    /**
     * The challenge's fields out of a page: the token, and the answer.
     *
     * @return array{rg_token: string, rg_answer: string}
     */
    private function challenge(string $page): array
    {
        $this->assertMatchesRegularExpression('/name="rg_token" value="([A-Za-z0-9_-]+)"/', $page);
        preg_match('/name="rg_token" value="([A-Za-z0-9_-]+)"/', $page, $token);
        preg_match('/<label for="rg_answer">([^<]*)<\/label>/', $page, $label);
        $answer = $this->solveWords(html_entity_decode($label[1] ?? '', ENT_QUOTES | ENT_HTML5, 'UTF-8'));
        return ['rg_token' => $token[1], 'rg_answer' => (string) $answer];
    }

    /**
     * The answer to an English question in words ("What is nine plus
     * ten?"): each number word becomes digits, then Support::solve().
     */
    private function solveWords(string $q): int
    {
        $units = [
            'zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten',
            'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen',
            'eighteen', 'nineteen',
        ];
        $tens = ['twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
        $numbers = array_flip($units);
        foreach ($tens as $i => $ten) {
            $numbers[$ten] = 20 + 10 * $i;
            for ($unit = 1; $unit < 10; $unit++) {
                $numbers["$ten-$units[$unit]"] = 20 + 10 * $i + $unit;
            }
        }
        $digits = (string) preg_replace_callback(
            '/[a-z]+(?:-[a-z]+)?/',
            static fn (array $m): string => (string) ($numbers[$m[0]] ?? $m[0]),
            strtolower($q),
        );
        return Support::solve($digits);
    }
}
