"""Safe YAML reading for rule files and proposals.

Dates stay strings (JSON Schema checks their format), and anchors/aliases are
refused: a proposal or rule has no need for them, and refusing them makes a
"billion laughs" document fail at once instead of exhausting memory.
"""

from __future__ import annotations

from typing import Any

import yaml


class YamlError(ValueError):
    """A document that is not valid YAML (or uses a refused feature)."""


MAX_DEPTH = 100  # nested collections: far beyond any rule or proposal, and a bound for libyaml's composer


class _Checks:
    """What every document is held to, on top of PyYAML's safe constructor."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[attr-defined]
            if isinstance(key, list | dict):
                raise yaml.constructor.ConstructorError(None, None, "a key must be a scalar", key_node.start_mark)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[misc]

    def construct_yaml_int(self, node: Any) -> Any:
        # Python refuses to read integers of more than 4,300 digits (a guard against slow conversion): say so
        # as a YAML error with the place, not as the ValueError that would escape every caller.
        try:
            return super().construct_yaml_int(node)  # type: ignore[misc]
        except ValueError:
            raise yaml.constructor.ConstructorError(
                None, None, f"an integer of {len(str(node.value)):,} characters is too long to read", node.start_mark
            ) from None


class _Loader(_Checks, yaml.CSafeLoader):
    """libyaml's parser and composer (ten times PyYAML's own) with the checks above; ``_screen`` runs first."""


def _screen(text: str | bytes) -> None:
    """Refuse aliases and nesting beyond ``MAX_DEPTH`` from libyaml's event stream, before anything is composed
    (libyaml's composer recurses in C and resolves aliases into shared nodes: neither must reach it)."""
    parser = yaml.CSafeLoader(text)
    try:
        depth = 0
        while True:
            event = parser.get_event()
            if event is None or isinstance(event, yaml.StreamEndEvent):
                return
            if isinstance(event, yaml.AliasEvent):
                raise yaml.composer.ComposerError(None, None, "anchors and aliases are not allowed",
                                                  event.start_mark)  # type: ignore[arg-type]  # libyaml's Mark
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise RecursionError
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    finally:
        parser.dispose()


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)  # type: ignore[type-var]


# Keep timestamps as plain strings.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str | bytes) -> Any:
    """Parse one YAML (or JSON) document."""
    try:
        _screen(text)
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader derives from CSafeLoader
    except yaml.YAMLError as exc:
        raise YamlError(str(exc)) from None
    except RecursionError:
        raise YamlError("the document is nested too deeply") from None
