<?php

declare(strict_types=1);

namespace ReplyGuard;

/**
 * libreplyguard could not be loaded through FFI (code 0). The message lists
 * every way that was tried and why each failed; see Library for the order.
 */
class LibraryException extends Exception
{
}
