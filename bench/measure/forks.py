"""Each round's workers forked from a fork server per arm (client.Zygote) that imported the framework
once, instead of each importing it again: the same fresh process, minus the import (docs/validation.md,
"Forked workers"). Only for a framework that declares what to preload (impls/registry.Plugin.preload)
and only for a closed-division arm: an open-division setting acts at a process's start."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bench.measure.client import Worker, Zygote
from impls.registry import plugins


def declared(framework: str) -> tuple[str, ...]:
    """What the framework's plugin says a fork server may preload ((): none, its workers start fresh)."""
    plugin = plugins().get(framework)
    return plugin.preload if plugin else ()


@dataclass
class ForkServers:
    """A Starter (rounds.run_rounds' `start`): the arm's fork server, started at its first worker, forks
    it; an arm without one (`fresh` asked, nothing declared, an open-division setting, a refusal said
    once in `log`) gets fresh processes. Used as `with`, or `close()` ends the servers (their workers
    are told to quit on their own)."""

    log: Callable[[str], None] = lambda m: None
    preload: Callable[[str], tuple[str, ...]] = declared
    fresh: bool = False  # --fresh-processes: no server at all, every worker a new interpreter
    servers: dict[str, Zygote | None] = field(default_factory=dict)
    imports: dict[str, float] = field(default_factory=dict)  # arm -> its server's import seconds (paid once)

    def __call__(self, arm, bench: str, env: dict) -> Worker:
        if arm.name not in self.servers:
            self.servers[arm.name] = self._start(arm, env)
        return Worker(arm.tree, arm.framework, arm.device, bench, env, zygote=self.servers[arm.name])

    def _start(self, arm, env: dict) -> Zygote | None:
        modules = () if self.fresh else self.preload(arm.framework)
        if not modules or arm.env:
            return None
        server = Zygote(arm.tree, arm.framework, arm.device, modules, env)
        if server.refused:
            self.log(f"[rounds] {arm.name}: fresh processes, no fork server ({server.refused})")
            return None
        self.imports[arm.name] = server.seconds
        return server

    def __enter__(self) -> ForkServers:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for server in self.servers.values():
            if server is not None:
                server.close()
        self.servers.clear()
