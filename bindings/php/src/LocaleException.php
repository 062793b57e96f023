<?php

declare(strict_types=1);

namespace ReplyGuard;

/**
 * A locale replyguard does not write challenges in (RG_ELOCALE); the
 * locales are en, ru, de, fr and es.
 */
class LocaleException extends InvalidArgumentException
{
}
