<?php

declare(strict_types=1);

namespace ReplyGuard;

/**
 * Bayes::unlearn() of a comment that was never learned as that class
 * (RG_ENOTLEARNED); the model is left unchanged.
 */
class NotLearnedException extends Exception
{
}
