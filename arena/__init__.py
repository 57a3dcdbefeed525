"""Contestants and scoreboard: providers, answers, store, ratings; import the modules."""

__all__: list[str] = []
