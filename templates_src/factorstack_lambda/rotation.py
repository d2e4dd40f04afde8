"""Secrets Manager rotation of the app's database user: two users take turns (`APP_app` and
`APP_app_clone`), so tasks that started before a rotation keep signing in until the rotation
after it; and once the new version is current, every service of the app starts a new
deployment, so no task outlives that next rotation.

Runs in AWS Lambda (stdlib and boto3 only), inlined with rotation_steps.py ahead of it. The
pending version names the other user with a new password; the rotation task (the `database-user`
step) signs in as the master, creates or updates that user, then signs in as it.
"""

import boto3

from factorstack_lambda.rotation_steps import ENV, rotate


def handler(event, context):
    answer = rotate(event, context, other_user)
    return redeploy() if answer == "finished" else answer


def other_user(user):
    clone = ENV["USER_SUFFIX"]
    return user[: -len(clone)] if user.endswith(clone) else user + clone


def redeploy():
    """New tasks read the new current version; the services' circuit breakers apply."""
    ecs = boto3.client("ecs")
    for service in ENV["SERVICES"].split(","):
        ecs.update_service(cluster=ENV["CLUSTER"], service=service, forceNewDeployment=True)
    return "finished, redeployed"
