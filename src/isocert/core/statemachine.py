"""Explicit state machines: one table of transitions, one guard."""

from dataclasses import dataclass

from .errors import TransitionNotAllowed


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str


class StateMachine:
    """A lifecycle: ``action -> (allowed source states, target state)``.

    >>> sm = StateMachine("application", {"submit": ({"draft"}, "submitted")}, labels={})
    >>> sm.target("submit", "draft")
    'submitted'
    """

    def __init__(
        self,
        name: str,
        table: dict[str, tuple[set[str], str]],
        *,
        labels: dict[str, str],
    ):
        self.name = name
        self.labels = labels
        self.transitions = {
            action: Transition(action, frozenset(sources), target)
            for action, (sources, target) in table.items()
        }

    def allowed_actions(self, state: str) -> list[str]:
        return [t.action for t in self.transitions.values() if state in t.sources]

    def can(self, action: str, state: str) -> bool:
        return state in self.transitions[action].sources

    def target(self, action: str, state: str) -> str:
        """The state ``action`` leads to from ``state``; refuses otherwise."""
        transition = self.transitions[action]
        if state not in transition.sources:
            label = self.labels.get(state, state)
            allowed = ", ".join(sorted(self.labels.get(s, s) for s in transition.sources))
            raise TransitionNotAllowed(
                f"This {self.name} is {label.lower()}; "
                f"'{action.replace('_', ' ')}' is only possible when it is {allowed.lower()}."
            )
        return transition.target

    def apply(self, obj, action: str, *, field: str = "status") -> str:
        """Move ``obj`` by ``action``: checks the table and sets the new state on ``obj``.

        The only place a lifecycle's state is assigned (tests/test_architecture.py checks
        that no other code writes ``.status``); the caller saves ``obj`` and records the
        audit event in the same transaction.
        """
        new_state = self.target(action, getattr(obj, field))
        setattr(obj, field, new_state)
        return new_state
