"""Minimal idiomatic training loops, one file per framework, written without the harness.

Each `make_step(batch_size, device)` returns `(step, sync)`: `step()` runs one Adam step on a
batch already on the device, `sync(result)` waits for it. The suite times them beside the
harness's train step so any overhead the harness adds stays visible as a ratio.
"""
