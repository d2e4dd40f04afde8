"""Root stack: one AWS::CloudFormation::Stack per child, wiring each child's outputs into the
next child's parameters. Children never reference each other directly.

Each builder takes the outputs it needs as typed handles and returns its own outputs the same
way, so the root passes objects and never spells an output or parameter name.
`build_stack_set` reads like a table of contents of what an environment is made of.
"""

from __future__ import annotations

from collections.abc import Mapping

from troposphere import Join, Output, Parameter, Template

from factorstack.model import AppModel
from factorstack.stacks.autoscaling import build_autoscaling
from factorstack.stacks.cluster import ClusterOutputs, build_cluster
from factorstack.stacks.common import CREATE_FIRST_WITH, new_template
from factorstack.stacks.data import DataOutputs, build_data
from factorstack.stacks.network import NetworkOutputs, build_network
from factorstack.stacks.process import ProcessOutputs, ProcessSources, build_process
from factorstack.stacks.release_phase import build_release_phase
from factorstack.stacks.wiring import Built, Handle

ROOT_FILE = "root.json"
IMAGE_TAG_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"


def build_stack_set(model: AppModel) -> dict[str, Template]:
    """Every template of one environment, keyed by file name, the root first."""
    root = new_template(f"{model.app} {model.environment}: twelve-factor app on ECS Fargate")
    image_tag = _image_tag(root)
    network = build_network(model)
    cluster = build_cluster(model, network=network.outputs)
    data = _data(root, model, network.outputs, cluster.outputs)
    sources = ProcessSources(
        network=network.outputs,
        cluster=cluster.outputs,
        data=None if data is None else data.outputs,
        image_tag=image_tag,
    )
    release = None
    if model.release_phase is not None:
        release = build_release_phase(model, model.release_phase, sources)
    processes = {p.name: build_process(model, p, sources) for p in model.processes}
    if release is not None:  # no service rolls before the release phase succeeded
        for built in processes.values():
            built.resource.DependsOn = [release.resource.title]
    services = {name: built.outputs for name, built in processes.items()}
    autoscaling = None
    if model.scaled_processes:
        autoscaling = build_autoscaling(model, cluster=cluster.outputs, services=services)

    templates = {ROOT_FILE: root}
    for child in (network, cluster, data, release, *processes.values(), autoscaling):
        if child is not None:
            root.add_resource(child.resource)
            templates[child.file] = child.template
    _root_outputs(root, model, image_tag, cluster.outputs, services)
    return templates


def _image_tag(root: Template) -> Handle:
    return Handle.of_root_parameter(
        root.add_parameter(
            Parameter(
                "ImageTag",
                Type="String",
                AllowedPattern=IMAGE_TAG_PATTERN,
                Description="Tag of the images to run (the release); "
                "the same tag for every process.",
            )
        )
    )


def _data(
    root: Template, model: AppModel, network: NetworkOutputs, cluster: ClusterOutputs
) -> Built[DataOutputs] | None:
    """The data stack, when the app has a database or a cache."""
    if model.database is None and model.cache is None:
        return None
    protection = None
    if model.database is not None:
        protection = _deletion_protection(root, model.database.deletion_protection)
    return build_data(model, network=network, cluster=cluster, deletion_protection=protection)


def _deletion_protection(root: Template, wanted: bool) -> Handle:
    """The database's deletion protection: the environment's value, off during a first create."""
    parameter = root.add_parameter(
        Parameter(
            "DatabaseDeletionProtection",
            Type="String",
            AllowedValues=["true", "false"],
            Default="true" if wanted else "false",
            Description="RDS deletion protection; deploy creates the database without it and "
            "turns it on right after (a failed first create can then roll back).",
        )
    )
    if wanted:
        root.set_metadata({CREATE_FIRST_WITH: {parameter.title: "false"}})
    return Handle.of_root_parameter(parameter)


def _root_outputs(
    root: Template,
    model: AppModel,
    image_tag: Handle,
    cluster: ClusterOutputs,
    services: Mapping[str, ProcessOutputs],
) -> None:
    """What a person (or a script) reads off the root: the release, the URL, names to look up."""

    def add(handle: Handle, description: str, name: str | None = None) -> None:
        root.add_output(Output(name or handle.name, Value=handle.in_root, Description=description))

    add(image_tag, "The release this stack runs.")
    if cluster.load_balancer is not None:
        add(cluster.load_balancer.app_url, "Where the app answers.")
    add(cluster.cluster_name, "ECS cluster.")
    for process in model.processes:
        service_name = services[process.name].service_name
        add(service_name, f"ECS service of {process.name}.", service_name.prefixed(process.logical))
    # One output for every log group keeps the root at n + 3 outputs (limit 200).
    root.add_output(
        Output(
            "LogGroupNames",
            Value=Join(",", [cluster.log_group_names[p.name].in_root for p in model.processes]),
            Description="Log groups of the processes, in app.yaml's order, comma-separated.",
        )
    )
