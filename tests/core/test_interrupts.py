"""bench/core/interrupts.py: a signal that comes while a store is written waits for the end of the write,
then stops the command as Ctrl-C does; after the command has ended, none turns its exit status into a kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from conftest import ROOT

from bench.core import interrupts


@pytest.fixture
def sigterm_as_ctrl_c():
    """As the command sets them (SIGINT too: a background job, as CI may run the tests, ignores it)."""

    def terminate(signum, frame):
        raise KeyboardInterrupt

    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    yield terminate
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_inside_the_block_waits_for_its_end_then_interrupts(sigterm_as_ctrl_c, sig):
    done = []
    with pytest.raises(KeyboardInterrupt):
        with interrupts.deferred():
            os.kill(os.getpid(), sig)
            done.append("first")
            os.kill(os.getpid(), sig)  # a second one too
            done.append("second")
    assert done == ["first", "second"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handlers are back
    assert signal.getsignal(signal.SIGTERM) is sigterm_as_ctrl_c
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), sig)
        signal.sigtimedwait([], 0.2)  # gives the handler its moment


def test_without_a_signal_the_block_is_untouched_and_its_errors_pass(sigterm_as_ctrl_c):
    with interrupts.deferred():
        pass
    with pytest.raises(ZeroDivisionError):
        with interrupts.deferred():
            raise ZeroDivisionError


def test_a_signal_after_the_command_ended_leaves_its_exit_status():
    code = (
        "import os, signal, sys\n"
        "from bench.core import interrupts\n"
        "signal.signal(signal.SIGTERM, lambda *a: sys.exit(9))\n"
        "interrupts.ignore_from_now()\n"
        "os.kill(os.getpid(), signal.SIGTERM); os.kill(os.getpid(), signal.SIGINT)\n"
        "sys.exit(3)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 3, done.stderr


def test_a_signal_the_process_ignores_stays_ignored(sigterm_as_ctrl_c):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a background job's Ctrl-C
    with interrupts.deferred():
        os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN  # no KeyboardInterrupt came, nothing changed
