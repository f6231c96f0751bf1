"""Run state: everything a training loop needs to continue exactly where it stopped, in one
file per run folder (``training_state.pt``), saved atomically and only at step boundaries.

Used by every training loop (VAE, GAN), so resume behaves the same everywhere:

* the state is always loaded onto the CPU (``map_location="cpu"``): module and optimiser
  state dicts are copied to the model's device by ``load_state_dict``, and random-number
  states must stay CPU ByteTensors, the only kind ``torch.set_rng_state`` and
  ``torch.Generator.set_state`` accept, also for a CUDA generator;
* Ctrl-C (SIGINT) during a step does not stop the step half-way: ``InterruptAtStepBoundary``
  lets the step finish, so a saved state never has D stepped and the step counter not.
"""

import signal
from pathlib import Path

import torch

from helpers.models.checkpoint import atomic_save

STATE_FILE = "training_state.pt"


def save_run_state(run_dir, state: dict, generators: dict = None) -> Path:
    """Write ``state`` plus the global and the named ``torch.Generator`` RNG states."""
    rng = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    for name, generator in (generators or {}).items():
        rng[f"generator.{name}"] = generator.get_state()
    return atomic_save({**state, "rng": rng}, Path(run_dir) / STATE_FILE)


def load_run_state(run_dir, generators: dict = None) -> dict:
    """The saved state (on the CPU), with the RNG states restored into ``generators`` and torch."""
    path = Path(run_dir) / STATE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: resume takes the run folder of an interrupted run "
                                "(weights/<preset>/runs/NNNNN-...), which holds training_state.pt.")
    state = torch.load(path, map_location="cpu", weights_only=True)
    rng = state.pop("rng")
    torch.set_rng_state(rng["torch"].cpu())
    if "cuda" in rng and torch.cuda.is_available() and len(rng["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([s.cpu() for s in rng["cuda"]])
    for name, generator in (generators or {}).items():
        generator.set_state(rng[f"generator.{name}"].cpu())
    return state


class InterruptAtStepBoundary:
    """While active, the first Ctrl-C only raises a flag; the loop checks ``requested`` between
    steps and stops cleanly. A second Ctrl-C interrupts at once, as usual. Outside the main
    thread (where signal handlers cannot be set) it does nothing and Ctrl-C works as usual."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self):
        try:
            self._previous = signal.signal(signal.SIGINT, self._handler)
        except ValueError:  # not the main thread
            self._previous = None
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False
