<?php

declare(strict_types=1);

namespace ReplyGuard;

use FFI;
use FFI\CData;

/**
 * A comment as the content filter sees it (rg_comment). Bayes takes one of
 * these, an array with the same keys, or a string (the body alone). Every
 * field is untrusted text, null for none.
 */
final class Comment
{
    private const FIELDS = ['body', 'author', 'email', 'url'];

    public function __construct(
        public ?string $body = null,
        public ?string $author = null,
        public ?string $email = null,
        public ?string $url = null,
    ) {
    }

    /**
     * A comment from a string (its body), an array keyed by the property
     * names, or a Comment.
     *
     * @param string|array<string, ?string>|Comment $comment
     *
     * @throws InvalidArgumentException for another key or a value that is
     *                                  not a string.
     */
    public static function of(string|array|self $comment): self
    {
        if ($comment instanceof self) {
            return $comment;
        }
        if (is_string($comment)) {
            return new self(body: $comment);
        }
        $c = new self();
        foreach ($comment as $key => $value) {
            if (!in_array($key, self::FIELDS, true)) {
                throw new InvalidArgumentException(
                    "invalid argument: a comment has no field '$key' (it has "
                    . implode(', ', self::FIELDS) . ')',
                    Exception::EINVAL,
                );
            }
            if ($value !== null && !is_string($value)) {
                throw new InvalidArgumentException(
                    "invalid argument: comment field '$key' must be a string",
                    Exception::EINVAL,
                );
            }
            $c->{$key} = $value;
        }
        return $c;
    }

    /**
     * Fills an rg_comment (already initialised); its strings go to $keep,
     * which the caller holds until the C call returns.
     *
     * @internal
     *
     * @param array<CData> $keep
     */
    public function fill(CData $c, array &$keep): void
    {
        foreach (self::FIELDS as $field) {
            if ($this->{$field} !== null) {
                $buf = Library::cString($this->{$field}, true);
                $keep[] = $buf;
                $c->{$field} = Library::pointer($buf);
            }
        }
    }

    /**
     * A new rg_comment for this comment.
     *
     * @internal
     *
     * @param array<CData> $keep
     */
    public function toC(array &$keep): CData
    {
        $ffi = Library::ffi();
        $c = $ffi->new('rg_comment');
        $ffi->rg_comment_init(FFI::addr($c));
        $this->fill($c, $keep);
        return $c;
    }
}
