"""Typed wiring: a child's parameter is declared from the output (or root parameter) that feeds
it, and the root passes exactly that value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from troposphere import Parameter

from factorstack.stacks.wiring import ChildStack, Handle
from tests.support.templates import resources_of_type, templates_of

REPO = Path(__file__).resolve().parents[2]


def _producer() -> tuple[ChildStack, Handle]:
    producer = ChildStack("ProducerStack", "producer.json", "produces")
    return producer, producer.give("ThingId", "thing", "The thing.")


def test_a_parameter_is_named_after_its_output_and_wired_from_it() -> None:
    _, thing = _producer()
    consumer = ChildStack("ConsumerStack", "consumer.json", "consumes")
    parameter = consumer.take(thing, "The thing, passed on.")
    built = consumer.built(None)
    assert parameter.title == "ThingId"
    assert built.resource.to_dict()["Properties"]["Parameters"] == {
        "ThingId": {"Fn::GetAtt": ["ProducerStack", "Outputs.ThingId"]}
    }
    assert built.template.to_dict()["Parameters"]["ThingId"]["Description"] == (
        "The thing, passed on."
    )


def test_a_stack_may_name_its_parameter_after_its_own_contract() -> None:
    _, thing = _producer()
    consumer = ChildStack("ConsumerStack", "consumer.json", "consumes")
    consumer.take(thing, "One of many.", name=thing.prefixed("Web"))
    assert set(consumer.built(None).resource.Parameters) == {"WebThingId"}


def test_taking_the_same_output_twice_declares_one_parameter() -> None:
    _, thing = _producer()
    consumer = ChildStack("ConsumerStack", "consumer.json", "consumes")
    assert consumer.take(thing, "first") is consumer.take(thing, "second")


def test_one_parameter_name_from_two_sources_is_refused() -> None:
    _, thing = _producer()
    root_parameter = Handle.of_root_parameter(Parameter("ThingId", Type="String"))
    consumer = ChildStack("ConsumerStack", "consumer.json", "consumes")
    consumer.take(thing, "from the producer")
    with pytest.raises(ValueError, match="ThingId wired from two sources"):
        consumer.take(root_parameter, "from the root")


def test_a_child_without_inputs_has_no_parameters_property() -> None:
    producer, _ = _producer()
    assert "Parameters" not in producer.built(None).resource.to_dict()["Properties"]


def _read_outputs(value: Any) -> list[tuple[str, str]]:
    """Every (child stack, output name) a root value reads through Fn::GetAtt."""
    if isinstance(value, dict):
        attribute = value.get("Fn::GetAtt")
        if attribute and attribute[1].startswith("Outputs."):
            return [(attribute[0], attribute[1].removeprefix("Outputs."))]
        return [found for item in value.values() for found in _read_outputs(item)]
    if isinstance(value, list):
        return [found for item in value for found in _read_outputs(item)]
    return []


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_every_output_the_root_reads_exists_in_that_child(env: str) -> None:
    templates = templates_of(REPO, env)
    root = templates["root.json"]
    children = resources_of_type(root, "AWS::CloudFormation::Stack")
    read = _read_outputs(root["Resources"]) + _read_outputs(root["Outputs"])
    assert read
    for stack, output in read:
        child = templates[children[stack]["Properties"]["TemplateURL"]]
        assert output in child["Outputs"], f"{stack} has no output {output}"
