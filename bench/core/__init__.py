"""The bottom layer: the user-error type, the repository root and git, the child-process environment.
Imports nothing from the rest of the project, so every layer above may use it."""
