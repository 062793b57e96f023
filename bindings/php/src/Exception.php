<?php

declare(strict_types=1);

namespace ReplyGuard;

/**
 * An error from replyguard: the C library's code (a negative RG_E* number)
 * as getCode(), its rg_strerror() sentence as the message, and the code's
 * name ("RG_ELOCALE") as $errorName.
 *
 * Each family of codes has a subclass, so that a caller can catch what it
 * can handle (a StoreException to fall back, say) and let the rest go:
 *
 * | class                     | codes                                      |
 * |---------------------------|--------------------------------------------|
 * | InvalidArgumentException  | RG_EINVAL, RG_ERANGE, RG_ETOOBIG           |
 * | LocaleException           | RG_ELOCALE (an InvalidArgumentException)   |
 * | AddressException          | RG_EADDRESS (an InvalidArgumentException)  |
 * | KeyException              | RG_ENOKEY, RG_EKEY, RG_EKEYFILE            |
 * | StoreException            | RG_EURL, RG_ESTORE, RG_EFULL, RG_ENOSUPPORT,|
 * |                           | RG_EPERM                                   |
 * | NotLearnedException       | RG_ENOTLEARNED                             |
 * | Exception itself          | RG_ENOMEM, RG_EINIT, and codes added later |
 * | LibraryException          | the library could not be loaded (code 0)   |
 */
class Exception extends \RuntimeException
{
    public const EINVAL = -1;
    public const ENOMEM = -2;
    public const EINIT = -3;
    public const ENOKEY = -4;
    public const EKEY = -5;
    public const EKEYFILE = -6;
    public const ELOCALE = -7;
    public const ERANGE = -8;
    public const EURL = -9;
    public const ESTORE = -10;
    public const EFULL = -11;
    public const ENOSUPPORT = -12;
    public const ETOOBIG = -13;
    public const EPERM = -14;
    public const ENOTLEARNED = -15;
    public const EADDRESS = -16;

    /** The code's name from rg_err_name(), "RG_EINVAL"; "" for code 0. */
    public readonly string $errorName;

    /**
     * @param string $message the sentence to show
     * @param int    $code    an RG_E* code, 0 when none applies
     */
    public function __construct(
        string $message,
        int $code = 0,
        ?\Throwable $previous = null,
    ) {
        parent::__construct($message, $code, $previous);
        $this->errorName = $code === 0 ? '' : self::nameOf($code);
    }

    /**
     * The exception for a code the C library returned: rg_strerror()'s
     * sentence, then the context (what was being done) after a colon.
     */
    public static function fromCode(int $code, string $context = ''): self
    {
        $ffi = Library::ffi();
        $message = $ffi->rg_strerror($code);
        if ($context !== '') {
            $message .= ': ' . $context;
        }
        $class = match ($code) {
            self::EINVAL, self::ERANGE, self::ETOOBIG => InvalidArgumentException::class,
            self::ELOCALE => LocaleException::class,
            self::EADDRESS => AddressException::class,
            self::ENOKEY, self::EKEY, self::EKEYFILE => KeyException::class,
            self::EURL, self::ESTORE, self::EFULL, self::ENOSUPPORT,
            self::EPERM => StoreException::class,
            self::ENOTLEARNED => NotLearnedException::class,
            default => self::class,
        };
        return new $class($message, $code);
    }

    private static function nameOf(int $code): string
    {
        try {
            return Library::ffi()->rg_err_name($code);
        } catch (LibraryException) {
            return '';
        }
    }
}
