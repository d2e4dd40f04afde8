"""Secrets Manager rotation of the database's master secret, one user: the pending version keeps
the master's name with a new password, and the master rotation task signs in with the current
(or already the pending) password and changes its own. Only one-off tasks sign in as the
master (the release phase's and the rotation's `database-user` steps), so the moment between
the change and finishSecret, when the current version holds the old password, is acceptable.
No service restarts: every one-off task reads the master's secret when it starts.

Runs in AWS Lambda (stdlib and boto3 only), inlined with rotation_steps.py ahead of it.
"""

from factorstack_lambda.rotation_steps import rotate


def handler(event, context):
    return rotate(event, context, same_user)


def same_user(user):
    return user
