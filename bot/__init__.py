"""Surfaces and wiring: the CLI, the console and the service; import the modules you need."""

__all__: list[str] = []
