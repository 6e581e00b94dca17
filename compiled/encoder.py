"""The encoders of a shape: one Python function per object selection, written once when the shape is made.

Most of a picture's fields are plain attributes holding a scalar (a record's column, already made
and policed by `Access.apply` where its object was built). For those the function reads the
attribute and coerces it by the type's own output coercion, inline, with the response key written in
place: no call, no path and no resolve info per field. An object held as an attribute (a
record's source, a department's part) goes straight to its own encoder. Everything else (a resolver,
a list, `__typename`) is handed to the run's `field`, which does what graphql-core does for one field.

A scalar's error (a value its type cannot coerce, a null in a non-null field) goes to the run's
`leaf_failed`, which locates it as graphql-core would; nothing a leaf does has a side effect, so
the function stays straight-line in the common case.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLString, Undefined
from graphql.pyutils import Path

from compiled.shape import Leaf, ListOf, ObjectOf, Step


def write_encoders(steps: tuple[Step, ...]) -> None:
    """Write the encoder of every object selection below `steps` (each once)."""
    for step in steps:
        completion = step.completion
        while isinstance(completion, ListOf):
            completion = completion.item
        if isinstance(completion, ObjectOf):
            write_encoders(completion.steps)
            object.__setattr__(completion, "encode", _encoder(completion))


def _inline(step: Step) -> bool:
    return step.resolve is None and not step.typename and isinstance(step.completion, Leaf)


def _plain_object(step: Step) -> bool:
    return step.resolve is None and not step.typename and isinstance(step.completion, ObjectOf)


def _encoder(selection: ObjectOf) -> Callable[..., dict[str, Any]]:
    names: dict[str, Any] = {"UNDEFINED": Undefined, "PATH": Path}
    lines = ["def encode(run, source, path):"]
    keys: list[str] = []
    for number, step in enumerate(selection.steps):
        names[f"step{number}"] = step
        value = f"value{number}"
        keys.append(f"{step.key!r}: {value}")
        if _plain_object(step):
            # an object held as an attribute (a record's source, a department's part): its encoder at once
            assert isinstance(step.completion, ObjectOf)
            names[f"encode{number}"] = step.completion
            below = f"PATH(path, {step.key!r}, {selection.type.name!r})"
            lines += [
                "    try:",
                f"        raw = source.{step.attribute}",
                "        if raw is None:",
                f"            {value} = run.null(step{number}, path) if step{number}.non_null else None",
                "        else:",
                f"            {value} = encode{number}.encode(run, raw, {below})",
                "    except Exception as error:",
                f"        {value} = run.leaf_failed(step{number}, error, path)",
            ]
            continue
        if not _inline(step):
            lines.append(f"    {value} = run.field(step{number}, source, path)")
            continue
        leaf = step.completion
        assert isinstance(leaf, Leaf)
        names[f"coerce{number}"] = leaf.type.coerce_output_value
        # a str is its own output as a String: the commonest leaf skips the call
        fast = "raw if raw.__class__ is str else " if leaf.type is GraphQLString else ""
        lines += [
            "    try:",
            f"        raw = source.{step.attribute}",
            "        if raw is None:",
            f"            {value} = run.null(step{number}, path) if step{number}.non_null else None",
            "        else:",
            f"            {value} = {fast}coerce{number}(raw)",
            f"            if {value} is None or {value} is UNDEFINED:",
            f"                {value} = run.invalid(step{number}, raw, path)",
            "    except Exception as error:",
            f"        {value} = run.leaf_failed(step{number}, error, path)",
        ]
    lines.append("    return {" + ", ".join(keys) + "}")
    exec(compile("\n".join(lines), f"<encoder of {selection.type.name}>", "exec"), names)  # noqa: S102
    encode: Callable[..., dict[str, Any]] = names["encode"]
    return encode
