"""Secrets Manager rotation of the app's database user: two users take turns, so tasks that
started before a rotation keep signing in until the rotation after it.

Runs in AWS Lambda (stdlib and boto3 only), inlined into the rotation stack with docstrings and
comments stripped, under Lambda's 4 KB limit for inline code. It needs no MySQL driver and no
VPC: setSecret runs a one-off Fargate task (the `database-user` step) that signs in as the
master, creates or updates the user named in the AWSPENDING version with its password and the
schema grant, then signs in as that user. That sign-in is the test, so testSecret does nothing
(Secrets Manager also calls it alone, when a schedule is set without rotating at once).
"""

import json
import os
import time

import boto3

POLL_SECONDS = 10
STOP_MS = 30000  # less than this left: stop the task and fail, Secrets Manager retries
ENV = os.environ  # what the rotation stack gives: the task, its network and logs, the rules


def handler(event, context):
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    sm = boto3.client("secretsmanager")
    versions = sm.describe_secret(SecretId=arn)["VersionIdsToStages"]
    if token not in versions:
        raise ValueError(f"{token} is not a version of {arn}")
    if "AWSCURRENT" in versions[token]:
        return "already current"
    if "AWSPENDING" not in versions[token]:
        raise ValueError(f"{token} is not pending")
    if step == "createSecret":
        return create(sm, arn, token)
    if step == "setSecret":
        return run_task(context)
    if step == "testSecret":
        return "tested by setSecret"
    if step == "finishSecret":
        current = next(v for v, stages in versions.items() if "AWSCURRENT" in stages)
        sm.update_secret_version_stage(
            SecretId=arn,
            VersionStage="AWSCURRENT",
            MoveToVersionId=token,
            RemoveFromVersionId=current,
        )
        return "finished"
    raise ValueError(f"unknown step {step}")


def create(sm, arn, token):
    try:
        sm.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        return "already pending"
    except sm.exceptions.ResourceNotFoundException:
        pass
    secret = json.loads(
        sm.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"]
    )
    user, clone = secret["username"], ENV["USER_SUFFIX"]
    secret["username"] = user[: -len(clone)] if user.endswith(clone) else user + clone
    secret["password"] = sm.get_random_password(
        PasswordLength=int(ENV["PASSWORD_LENGTH"]),
        ExcludeCharacters=ENV["EXCLUDED_CHARACTERS"],
    )["RandomPassword"]
    sm.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=json.dumps(secret),
        VersionStages=["AWSPENDING"],
    )
    return f"pending for {secret['username']}"


def run_task(context):
    ecs = boto3.client("ecs")
    cluster = ENV["CLUSTER"]
    answer = ecs.run_task(
        cluster=cluster,
        taskDefinition=ENV["TASK_DEFINITION"],
        launchType="FARGATE",
        startedBy="factorstack-rotation",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": ENV["SUBNETS"].split(","),
                "securityGroups": [ENV["SECURITY_GROUP"]],
            }
        },
    )
    if not answer.get("tasks"):
        raise RuntimeError(f"rotation task did not start: {answer['failures']}")
    arn = answer["tasks"][0]["taskArn"]
    while True:
        task = ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]
        if task["lastStatus"] == "STOPPED":
            break
        if context.get_remaining_time_in_millis() < STOP_MS:
            ecs.stop_task(cluster=cluster, task=arn, reason="rotation timed out")
            raise RuntimeError("rotation task ran out of time")
        time.sleep(POLL_SECONDS)
    name = ENV["CONTAINER"]
    code = next(c for c in task["containers"] if c["name"] == name).get("exitCode")
    if code == 0:
        return "user set"
    how = f"exited {code}" if code is not None else f"stopped: {task.get('stoppedReason')}"
    raise RuntimeError(f"{name} step {how}; last log lines: {log_tail(arn)}")


def log_tail(task_arn):
    stream = f"{ENV['STREAM_PREFIX']}/{ENV['CONTAINER']}/{task_arn.split('/')[-1]}"
    try:
        events = boto3.client("logs").get_log_events(
            logGroupName=ENV["LOG_GROUP"], logStreamName=stream, limit=20
        )["events"]
    except Exception as error:  # the cause matters more than the log
        return f"(unreadable: {error})"
    return " | ".join(e["message"].strip() for e in events) or "(none)"
