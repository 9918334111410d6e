"""Errors raised while reading a scenario."""

from __future__ import annotations


class ScenarioError(Exception):
    """A scenario file cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class InvalidValue(ValueError):
    """A value a field cannot take; the message says what is allowed."""
