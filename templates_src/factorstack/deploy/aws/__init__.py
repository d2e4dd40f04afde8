"""The AWS gateway: the only code in factorstack that imports boto3 or botocore.

session.py      clients (standard retries: the one place throttling is handled), credentials,
                roles, and `translate`, which turns any AWS failure into one line
gateway.py      Gateway: every call deploy makes, built from the modules below
stacks.py, change_sets.py, events.py   CloudFormation
artifacts.py    S3 (packaged templates)   images.py   ECR
account.py      the account preflight's lookups   roles.py   IAM's service-linked roles
local_fill.py   what the local-* helpers write to a local endpoint
services.py     ECS (services, task definitions, one-off tasks)   logs.py   CloudWatch Logs
monitoring.py   CloudWatch alarms, Application Auto Scaling targets   (the day-two commands)
"""
