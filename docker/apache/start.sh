#!/bin/sh
# Start of the web container: cache configuration and routes, run the migrations, then replace
# this shell with apache in the foreground so that apache receives ECS's stop signal.
# Any failing step stops the container, and the deployment circuit breaker rolls back.
set -eu

cd /var/www/html
php artisan config:cache
php artisan route:cache
php artisan migrate --force

exec apache2-foreground "$@"
