<?php

declare(strict_types=1);

namespace ReplyGuard;

use FFI;
use FFI\CData;

/**
 * One submitted comment with its challenge fields and the client's address
 * (rg_submission), for Guard::judge(). Every field but $binding is what the
 * visitor sent: untrusted, any bytes, null for none.
 *
 *     new Submission(
 *         body: $_POST['comment'], author: $_POST['author'],
 *         token: $_POST['rg_token'], answer: $_POST['rg_answer'],
 *         honeypot: $_POST['rg_note'], client: $_SERVER['REMOTE_ADDR'],
 *         binding: 'post-42',
 *     );
 */
final class Submission
{
    /** The keys fromArray() takes. */
    private const FIELDS = [
        'author', 'email', 'url', 'body', 'token', 'answer', 'honeypot',
        'client', 'binding',
    ];

    /**
     * @param ?string $body     the comment's text
     * @param ?string $author   the name given
     * @param ?string $email    the e-mail address given
     * @param ?string $url      the web site given
     * @param ?string $token    the challenge's hidden field (rg_token)
     * @param ?string $answer   what the reader typed (rg_answer)
     * @param ?string $honeypot the honeypot field (rg_note)
     * @param ?string $client   the client's IP address, as text
     * @param ?string $binding  as given to Guard::issue(); the site's own
     */
    public function __construct(
        public ?string $body = null,
        public ?string $author = null,
        public ?string $email = null,
        public ?string $url = null,
        public ?string $token = null,
        public ?string $answer = null,
        public ?string $honeypot = null,
        public ?string $client = null,
        public ?string $binding = null,
    ) {
    }

    /**
     * A submission from an array whose keys are the property names.
     *
     * @param array<string, ?string> $fields
     *
     * @throws InvalidArgumentException for another key (a typo would
     *                                  otherwise drop a field silently) or
     *                                  a value that is not a string.
     */
    public static function fromArray(array $fields): self
    {
        $s = new self();
        foreach ($fields as $key => $value) {
            if (!in_array($key, self::FIELDS, true)) {
                throw new InvalidArgumentException(
                    "invalid argument: a submission has no field '$key' (it has "
                    . implode(', ', self::FIELDS) . ')',
                    Exception::EINVAL,
                );
            }
            if ($value !== null && !is_string($value)) {
                throw new InvalidArgumentException(
                    "invalid argument: submission field '$key' must be a string",
                    Exception::EINVAL,
                );
            }
            $s->{$key} = $value;
        }
        return $s;
    }

    /**
     * The rg_submission; its strings live in $keep, which the caller holds
     * until the C call returns.
     *
     * @internal
     *
     * @param array<string, CData> $keep
     */
    public function toC(array &$keep): CData
    {
        $ffi = Library::ffi();
        $s = $ffi->new('rg_submission');
        $ffi->rg_submission_init(FFI::addr($s));
        foreach (self::FIELDS as $field) {
            $value = $this->{$field};
            if ($value !== null) {
                // The binding is the site's; the rest is the visitor's.
                $keep[$field] = Library::cString($value, $field !== 'binding');
                $s->{$field} = Library::pointer($keep[$field]);
            }
        }
        return $s;
    }
}
