"""The bottom layer: the user-error type (errors.py), the repository root and git (repo.py), files
written atomically (files.py), child process groups that never outlive the command (processes.py, with its guard.py), Ctrl-C and
SIGTERM held back while a store is written (interrupts.py), the tool's temporary folders (scratch.py), text that leaves the machine (text.py) and pandas' text
columns as Python objects in every process (frames.py). Imports nothing from the rest of the
project, so every layer above may use it."""
