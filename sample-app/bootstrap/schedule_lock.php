<?php
// A lock in Redis (or Valkey) per scheduled task and minute, so that a task runs once per
// minute even while two scheduler tasks overlap: during a deploy the old task may still be in
// its stop window when the new one starts (Laravel's `->onOneServer()` does the same).

declare(strict_types=1);

const SCHEDULE_LOCK_SECONDS = 3600;
const REDIS_TIMEOUT_SECONDS = 5;

/** Send one command in the Redis protocol and return the first line of the reply. */
function redis_command($connection, array $words): string
{
    $request = '*' . count($words) . "\r\n";
    foreach ($words as $word) {
        $request .= '$' . strlen((string) $word) . "\r\n" . $word . "\r\n";
    }
    if (fwrite($connection, $request) === false) {
        throw new RuntimeException('cannot write to the cache');
    }
    $reply = fgets($connection);
    if ($reply === false) {
        throw new RuntimeException('no reply from the cache');
    }
    return rtrim($reply, "\r\n");
}

/** A connection to the cache the environment names (TLS when REDIS_SCHEME=tls). */
function redis_connect()
{
    $scheme = getenv('REDIS_SCHEME') === 'tls' ? 'tls' : 'tcp';
    $address = sprintf('%s://%s:%s', $scheme, getenv('REDIS_HOST'), getenv('REDIS_PORT') ?: '6379');
    $context = stream_context_create(['ssl' => ['verify_peer' => true, 'verify_peer_name' => true]]);
    $connection = @stream_socket_client(
        $address, $code, $message, REDIS_TIMEOUT_SECONDS, STREAM_CLIENT_CONNECT, $context
    );
    if ($connection === false) {
        throw new RuntimeException("cannot reach the cache ({$message})");
    }
    stream_set_timeout($connection, REDIS_TIMEOUT_SECONDS);
    $password = getenv('REDIS_PASSWORD');
    if ($password !== false && $password !== '') {
        $reply = redis_command($connection, ['AUTH', $password]);
        if ($reply !== '+OK') {
            throw new RuntimeException('the cache refused the auth token');
        }
    }
    return $connection;
}

/**
 * True when this scheduler may run the task for this minute: it set the minute's key first.
 * Without REDIS_HOST (a laptop) there is no second scheduler, so it always may.
 */
function schedule_lock(string $task, int $time): bool
{
    if ((getenv('REDIS_HOST') ?: '') === '') {
        return true;
    }
    $key = 'schedule:' . $task . ':' . gmdate('YmdHi', $time);
    $owner = (gethostname() ?: 'scheduler') . ':' . getmypid();
    $connection = redis_connect();
    try {
        $reply = redis_command(
            $connection, ['SET', $key, $owner, 'NX', 'EX', (string) SCHEDULE_LOCK_SECONDS]
        );
    } finally {
        fclose($connection);
    }
    if ($reply === '+OK') {
        return true;
    }
    if ($reply === '$-1') {
        return false;
    }
    throw new RuntimeException('unexpected reply from the cache');
}
