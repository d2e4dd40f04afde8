#!/bin/sh
# Start of the web container: cache configuration and routes (into bootstrap/cache, a scratch
# volume: the rest of the filesystem is read-only), then replace this shell with apache in the
# foreground so that apache receives ECS's stop signal. Migrations are not run here: app.yaml's
# release phase runs them once per deploy, before any web task starts. Any failing step stops
# the container, and the deployment circuit breaker rolls back.
set -eu

cd /var/www/html
php artisan config:cache
php artisan route:cache

exec apache2-foreground "$@"
