<?php

declare(strict_types=1);

namespace ReplyGuard;

use FFI;
use FFI\CData;

/**
 * Issues challenges and verifies answers (rg_guard), and judges whole
 * submissions with every layer (rg_judge()).
 *
 *     $guard = new Guard(keyFile: '/etc/replyguard/key');
 *     $challenge = $guard->issue('post-42');              // the form
 *     $verdict = $guard->verify($token, $answer, 'post-42');  // the POST
 *
 * Tokens are stateless: any web server with the same key file verifies
 * them. The guard's store only remembers spent tokens, so that each is
 * answered once ('memory:' for one process, 'sqlite:PATH' for the
 * processes of one machine, 'redis://…' for several machines). With
 * php-fpm, where each worker is its own process, use sqlite: or redis:.
 *
 * A guard owns its C handle, freed by close() or when the object goes.
 * One guard may serve every request of a process; there is nothing to
 * gain from one per request but the cost of opening its store.
 */
final class Guard
{
    /** rg_guard *, or null once closed. */
    private ?CData $handle;

    /** The style of issue() when it is given none. */
    private Style $style;

    /** The PHP clock and the C struct holding its function pointer. */
    private ?Clock $clock = null;
    private ?CData $config = null;

    /**
     * Creates a guard (rg_guard_new()) and adds its keys.
     *
     * @param ?string  $keyFile    a key file (docs/key-file.md), such as
     *                             `captcha-check keygen` writes
     * @param array    $keys       keys to add, each [id, key, sign] or
     *                             ['id' => …, 'key' => …, 'sign' => …];
     *                             the key 32 raw bytes or 43 characters of
     *                             base64url; when no entry says 'sign', the
     *                             first one signs
     * @param string   $store      the replay store's URL
     * @param string   $locale     the questions' locale: en, ru, de, fr, es
     * @param int      $minSolve   seconds before an answer counts (the time
     *                             trap); 0 turns it off
     * @param int      $ttl        seconds a token stays valid
     * @param Style    $style      how numbers appear in questions
     * @param ?callable $clock     returns the time in Unix seconds, instead
     *                             of the system clock: for tests
     * @param ?int     $operandMin smallest operand (default 0)
     * @param ?int     $operandMax largest operand (default 20, at most 999)
     * @param ?int     $productMax largest answer of a × b (default 100)
     * @param ?int     $operators  RG_OP_* bits: 1 +, 2 −, 4 × (default 7)
     * @param ?int     $forms      RG_FORM_* bits: 1 two terms (default),
     *                             2 three terms, 4 a missing term
     * @param ?int     $clockSkew  seconds a token may seem issued in the
     *                             future (default 60)
     *
     * @throws LocaleException         for an unknown locale.
     * @throws StoreException          for a bad or failing store.
     * @throws KeyException            for a bad key file or key.
     * @throws InvalidArgumentException for settings out of range.
     */
    public function __construct(
        ?string $keyFile = null,
        array $keys = [],
        string $store = 'memory:',
        string $locale = 'en',
        int $minSolve = 5,
        int $ttl = 1200,
        Style $style = Style::Words,
        ?callable $clock = null,
        ?int $operandMin = null,
        ?int $operandMax = null,
        ?int $productMax = null,
        ?int $operators = null,
        ?int $forms = null,
        ?int $clockSkew = null,
    ) {
        $this->handle = null;
        $this->style = $style;
        $ffi = Library::ffi();

        $cfg = $ffi->new('rg_config');
        $ffi->rg_config_init(FFI::addr($cfg));
        $cfg->ttl_s = Library::unsigned($ttl, 'ttl');
        $cfg->min_solve_s = Library::unsigned($minSolve, 'minSolve');
        $localeBuf = Library::cString($locale);
        $storeBuf = Library::cString($store);
        $cfg->locale = Library::pointer($localeBuf);
        $cfg->store = Library::pointer($storeBuf);
        $cfg->style = $style->toC();
        $optional = [
            'operand_min' => [$operandMin, 'operandMin'],
            'operand_max' => [$operandMax, 'operandMax'],
            'product_max' => [$productMax, 'productMax'],
            'operators' => [$operators, 'operators'],
            'forms' => [$forms, 'forms'],
            'clock_skew_s' => [$clockSkew, 'clockSkew'],
        ];
        foreach ($optional as $field => [$value, $name]) {
            if ($value !== null) {
                $cfg->{$field} = Library::unsigned($value, $name);
            }
        }
        if ($clock !== null) {
            $this->clock = new Clock(\Closure::fromCallable($clock), 1);
            $cfg->clock = $this->clock->callback();
            // The guard keeps the function pointer: the struct that holds
            // FFI's trampoline for it lives as long as the guard.
            $this->config = $cfg;
        }

        $out = $ffi->new('rg_guard *');
        $rc = $ffi->rg_guard_new(FFI::addr($out), FFI::addr($cfg));
        Library::check($rc, "new Guard(store: '$store', locale: '$locale')");
        $this->handle = $out;

        try {
            if ($keyFile !== null) {
                $this->loadKeys($keyFile);
            }
            $this->addKeys($keys);
        } catch (\Throwable $e) {
            $this->close();
            throw $e;
        }
    }

    /**
     * Adds every key of a key file (rg_guard_load_keys()); its `sign` key
     * signs from now on.
     *
     * @throws KeyException for a missing, unreadable or malformed file.
     */
    public function loadKeys(string $path): void
    {
        $rc = Library::ffi()->rg_guard_load_keys($this->handle(), Library::text($path));
        Library::check($rc, "key file '$path'");
    }

    /**
     * Adds one key (rg_guard_add_key()). With $sign, new challenges are
     * signed with it; the key that signed before goes on verifying. This
     * is how keys rotate without failing forms already on screen.
     *
     * @param int    $id   the key id, 0 to 4294967295, unique in the guard
     * @param string $key  32 raw bytes, or 43 characters of base64url (as
     *                     in a key file)
     * @param bool   $sign whether it signs new challenges
     *
     * @throws KeyException             for a repeated id or a bad key.
     * @throws InvalidArgumentException for an id out of range.
     */
    public function addKey(int $id, string $key, bool $sign = false): void
    {
        $ffi = Library::ffi();
        $bytes = self::keyBytes($key);
        $buf = $ffi->new('uint8_t[' . strlen($bytes) . ']');
        FFI::memcpy($buf, $bytes, strlen($bytes));
        $rc = $ffi->rg_guard_add_key(
            $this->handle(),
            Library::unsigned($id, 'key id'),
            $buf,
            $sign ? 1 : 0,
        );
        FFI::memset($buf, 0, strlen($bytes));
        Library::check($rc, "key $id");
    }

    /**
     * A new key file with one fresh random signing key
     * (rg_keyfile_generate()); $keyId 0 means the current time. Write it
     * where the web server alone can read it (mode 0600).
     */
    public static function generateKeyFile(int $keyId = 0): string
    {
        $ffi = Library::ffi();
        $out = $ffi->new('char[256]');
        $rc = $ffi->rg_keyfile_generate(Library::unsigned($keyId, 'keyId'), $out, 256);
        Library::check($rc, 'generateKeyFile');
        $text = FFI::string($out);
        FFI::memset($out, 0, 256);
        return $text;
    }

    /**
     * Issues a challenge bound to $binding (rg_challenge_issue(), or
     * rg_challenge_issue_in() with a locale or style): any string naming the
     * form, post and client, such as "post-42|comments". The same binding
     * must be given to verify().
     *
     * @param string  $binding what the token is for
     * @param ?string $locale  the question's locale; null: the guard's
     * @param ?Style  $style   the question's style; null: the guard's
     *
     * @throws KeyException    when no key signs yet (RG_ENOKEY).
     * @throws LocaleException for an unknown locale.
     */
    public function issue(
        string $binding = '',
        ?string $locale = null,
        ?Style $style = null,
    ): Challenge {
        $ffi = Library::ffi();
        $out = $ffi->new('rg_challenge');
        $binding = Library::text($binding);
        if ($locale === null && $style === null) {
            $rc = $ffi->rg_challenge_issue($this->handle(), $binding, FFI::addr($out));
        } else {
            $rc = $ffi->rg_challenge_issue_in(
                $this->handle(),
                $binding,
                $locale === null ? null : Library::text($locale),
                ($style ?? $this->style)->toC(),
                FFI::addr($out),
            );
        }
        $this->clock?->rethrow();
        Library::check($rc, $locale === null ? 'issue' : "issue in '$locale'");
        return new Challenge($out);
    }

    /**
     * Verifies the answer a reader typed for a token
     * (rg_challenge_verify()). The first attempt spends the token, right or
     * wrong. $token and $answer are the visitor's, any bytes: they need no
     * checking first.
     *
     * @throws StoreException when the replay store cannot record the token
     *                        (it fails closed: nothing passes then).
     */
    public function verify(string $token, string $answer, string $binding = ''): Verdict
    {
        $ffi = Library::ffi();
        $out = $ffi->new('rg_verdict');
        $rc = $ffi->rg_challenge_verify(
            $this->handle(),
            Library::text($token, true),
            Library::text($answer, true),
            Library::text($binding),
            FFI::addr($out),
        );
        $this->clock?->rethrow();
        Library::check($rc, 'verify');
        return Verdict::fromC($out->cdata);
    }

    /**
     * Judges one submitted comment (rg_judge()): the policy's rate limits,
     * the honeypot, the challenge, then the content filter, and one
     * decision with every reason. docs/judge.md has the default policy.
     *
     * A store that fails makes the decision moderate, never an exception.
     *
     * @param array|Submission $submission the comment and its form fields;
     *        an array takes Submission's property names as keys
     * @param ?Policy          $policy     null: no limiter, no filter
     *
     * @throws AddressException         when a limiter counts by client and
     *                                  the client is not an IP address.
     * @throws InvalidArgumentException for a policy setting out of range
     *                                  or an unknown array key.
     */
    public function judge(array|Submission $submission, ?Policy $policy = null): Decision
    {
        $ffi = Library::ffi();
        if (is_array($submission)) {
            $submission = Submission::fromArray($submission);
        }
        $keep = [];
        $s = $submission->toC($keep);
        $p = $policy?->toC();
        $out = $ffi->new('rg_decision');
        $rc = $ffi->rg_judge(
            $this->handle(),
            FFI::addr($s),
            $p === null ? null : FFI::addr($p),
            FFI::addr($out),
        );
        $this->clock?->rethrow();
        $policy?->rethrowClocks();
        Library::check($rc, 'judge');
        return new Decision($out);
    }

    /**
     * Frees the C guard and wipes its keys (rg_guard_free()). Further calls
     * throw; closing again does nothing.
     */
    public function close(): void
    {
        if ($this->handle !== null) {
            Library::ffi()->rg_guard_free($this->handle);
            $this->handle = null;
        }
        $this->config = null;
    }

    public function __destruct()
    {
        $this->close();
    }

    /**
     * The rg_guard pointer.
     *
     * @internal
     *
     * @throws InvalidArgumentException once closed.
     */
    public function handle(): CData
    {
        return $this->handle ?? throw new InvalidArgumentException(
            'invalid argument: the Guard is closed',
            Exception::EINVAL,
        );
    }

    /**
     * @param array<mixed> $keys see the constructor
     */
    private function addKeys(array $keys): void
    {
        $entries = [];
        $anySign = false;
        foreach (array_values($keys) as $i => $entry) {
            if (!is_array($entry)) {
                throw new InvalidArgumentException(
                    "invalid argument: keys[$i] must be [id, key, sign]",
                    Exception::EINVAL,
                );
            }
            $id = $entry['id'] ?? $entry[0] ?? null;
            $key = $entry['key'] ?? $entry[1] ?? null;
            $sign = $entry['sign'] ?? $entry[2] ?? null;
            if (!is_int($id) || !is_string($key) || ($sign !== null && !is_bool($sign))) {
                throw new InvalidArgumentException(
                    "invalid argument: keys[$i] must be [int id, string key, bool sign]",
                    Exception::EINVAL,
                );
            }
            $anySign = $anySign || $sign === true;
            $entries[] = [$id, $key, $sign];
        }
        foreach ($entries as $i => [$id, $key, $sign]) {
            $this->addKey($id, $key, $sign ?? (!$anySign && $i === 0));
        }
    }

    /**
     * 32 raw bytes, or 43 characters of base64url, as 32 bytes.
     *
     * @throws KeyException for anything else.
     */
    private static function keyBytes(string $key): string
    {
        if (strlen($key) === 32) {
            return $key;
        }
        if (strlen($key) === 43 && preg_match('/^[A-Za-z0-9_-]+$/', $key) === 1) {
            $bytes = base64_decode(strtr($key, '-_', '+/') . '=', true);
            if (is_string($bytes) && strlen($bytes) === 32) {
                return $bytes;
            }
        }
        throw new KeyException(
            Library::ffi()->rg_strerror(Exception::EKEY)
                . ': a key is 32 bytes, or 43 characters of base64url',
            Exception::EKEY,
        );
    }
}
