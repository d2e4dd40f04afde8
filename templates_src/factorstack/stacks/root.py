"""Root stack: one AWS::CloudFormation::Stack per child, wiring each child's outputs into the
next child's parameters. Children never reference each other directly.

`build_stack_set` reads like a table of contents of what an environment is made of.
"""

from __future__ import annotations

from troposphere import GetAtt, Join, Output, Parameter, Ref, Template, cloudformation

from factorstack.model import AppModel, Process
from factorstack.stacks.autoscaling import build_autoscaling, service_name_parameter
from factorstack.stacks.cluster import build_cluster
from factorstack.stacks.common import CREATE_FIRST_WITH, new_template
from factorstack.stacks.data import DELETION_PROTECTION_PARAMETER, build_data
from factorstack.stacks.network import build_network
from factorstack.stacks.process import build_process, data_inputs, uses_image_tag

ROOT_FILE = "root.json"
IMAGE_TAG_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"


def process_file(process: Process) -> str:
    return f"process-{process.name}.json"


def _child(
    root: Template, name: str, file_name: str, parameters: dict[str, object]
) -> cloudformation.Stack:
    """A nested stack whose TemplateURL is a local file, as `aws cloudformation package` wants.

    Deleting a child deletes its resources under their own policies: the data tier's
    Snapshot/Retain policies still hold, so the nested stack itself needs no Retain.
    """
    extra = {"Parameters": parameters} if parameters else {}
    stack = cloudformation.Stack(name, TemplateURL=file_name, **extra)
    stack.DeletionPolicy = "Delete"
    stack.UpdateReplacePolicy = "Delete"
    return root.add_resource(stack)


def _deletion_protection(root: Template, wanted: bool) -> Parameter:
    """The database's deletion protection: the environment's value, off during a first create."""
    parameter = root.add_parameter(
        Parameter(
            DELETION_PROTECTION_PARAMETER,
            Type="String",
            AllowedValues=["true", "false"],
            Default="true" if wanted else "false",
            Description="RDS deletion protection; deploy creates the database without it and "
            "turns it on right after (a failed first create can then roll back).",
        )
    )
    if wanted:
        root.set_metadata({CREATE_FIRST_WITH: {DELETION_PROTECTION_PARAMETER: "false"}})
    return parameter


def _output(stack: cloudformation.Stack, name: str) -> GetAtt:
    return GetAtt(stack, f"Outputs.{name}")


def build_stack_set(model: AppModel) -> dict[str, Template]:
    """Every template of one environment, keyed by file name, the root first."""
    root = new_template(f"{model.app} {model.environment}: twelve-factor app on ECS Fargate")
    image_tag = root.add_parameter(
        Parameter(
            "ImageTag",
            Type="String",
            AllowedPattern=IMAGE_TAG_PATTERN,
            Description="Tag of the images to run (the release); the same tag for every process.",
        )
    )
    templates: dict[str, Template] = {ROOT_FILE: root}

    templates["network.json"] = build_network(model)
    network = _child(root, "NetworkStack", "network.json", {})

    templates["cluster.json"] = build_cluster(model)
    cluster = _child(
        root,
        "ClusterStack",
        "cluster.json",
        {
            "VpcId": _output(network, "VpcId"),
            "PublicSubnetIds": _output(network, "PublicSubnetIds"),
        },
    )

    data = None
    if model.database is not None or model.cache is not None:
        templates["data.json"] = build_data(model)
        data_parameters: dict[str, object] = {
            "VpcId": _output(network, "VpcId"),
            "IsolatedSubnetIds": _output(network, "IsolatedSubnetIds"),
            "ServiceSecurityGroupId": _output(cluster, "ServiceSecurityGroupId"),
        }
        if model.database is not None:
            data_parameters[DELETION_PROTECTION_PARAMETER] = Ref(
                _deletion_protection(root, model.database.deletion_protection)
            )
        data = _child(root, "DataStack", "data.json", data_parameters)

    services: dict[str, cloudformation.Stack] = {}
    for process in model.processes:
        templates[process_file(process)] = build_process(model, process)
        parameters: dict[str, object] = {
            "ClusterName": _output(cluster, "ClusterName"),
            "PrivateSubnetIds": _output(network, "PrivateSubnetIds"),
            "ServiceSecurityGroupId": _output(cluster, "ServiceSecurityGroupId"),
            "LogGroupName": _output(cluster, f"{process.logical}LogGroupName"),
        }
        if uses_image_tag(model, process):
            parameters["ImageTag"] = Ref(image_tag)
        for name in data_inputs(process):
            parameters[name] = _output(data, name)
        if process.load_balanced:
            for name in ("TargetGroupArn", "LoadBalancerFullName", "TargetGroupFullName"):
                parameters[name] = _output(cluster, name)
        services[process.name] = _child(
            root, f"{process.logical}Stack", process_file(process), parameters
        )

    if model.scaled_processes:
        templates["autoscaling.json"] = build_autoscaling(model)
        scaling_parameters: dict[str, object] = {"ClusterName": _output(cluster, "ClusterName")}
        for process in model.scaled_processes:
            scaling_parameters[service_name_parameter(process)] = _output(
                services[process.name], "ServiceName"
            )
        _child(root, "AutoscalingStack", "autoscaling.json", scaling_parameters)

    root.add_output(
        Output("ImageTag", Value=Ref(image_tag), Description="The release this stack runs.")
    )
    _root_outputs(root, model, cluster, services)
    return templates


def _root_outputs(
    root: Template,
    model: AppModel,
    cluster: cloudformation.Stack,
    services: dict[str, cloudformation.Stack],
) -> None:
    if model.load_balanced_process is not None:
        root.add_output(
            Output("AppUrl", Value=_output(cluster, "AppUrl"), Description="Where the app answers.")
        )
    root.add_output(
        Output("ClusterName", Value=_output(cluster, "ClusterName"), Description="ECS cluster.")
    )
    for process in model.processes:
        root.add_output(
            Output(
                f"{process.logical}ServiceName",
                Value=_output(services[process.name], "ServiceName"),
                Description=f"ECS service of {process.name}.",
            )
        )
    # One output for every log group keeps the root at n + 3 outputs (limit 200).
    root.add_output(
        Output(
            "LogGroupNames",
            Value=Join(
                ",",
                [_output(cluster, f"{process.logical}LogGroupName") for process in model.processes],
            ),
            Description="Log groups of the processes, in app.yaml's order, comma-separated.",
        )
    )
