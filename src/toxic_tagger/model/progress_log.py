"""Progress you can follow in a log: a Lightning callback that prints one line every N
optimizer steps and one at each epoch's end, on global rank 0 only, when its stream is not a
terminal (a DVC stage's log, a CI job, a cluster job's output file; on a terminal the progress
bar serves and it prints nothing):

    step 40/300 epoch 1/5 loss 0.2315 samples/s 21.8 eta 0:03:12
    epoch 1/5 done step 60/300 loss 0.2401 samples/s 21.1 eta 0:02:50

loss: the mean training loss of the steps since the previous line (at an epoch's end: of the
epoch), over all processes. samples/s: comments trained per second over all processes in the
same span (an epoch's includes its validation). eta: the fit's remaining steps
(`trainer.estimated_stepping_batches`) at its mean step rate so far; early stopping may end it
sooner. Used by `Trainer(callbacks=[LogProgress(every_n_steps)])`.
"""

from __future__ import annotations

import math
import sys
import time
from datetime import timedelta
from typing import TextIO

import lightning as L
import torch
from lightning.pytorch.utilities.data import extract_batch_size


def is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def format_eta(seconds: float) -> str:
    """0:03:12; "?" before the first step."""
    return str(timedelta(seconds=round(seconds))) if math.isfinite(seconds) else "?"


class LogProgress(L.Callback):
    """`every_n_steps` >= 1; `stream`: where lines go (None: sys.stderr at the time of writing)."""

    def __init__(self, every_n_steps: int, stream: TextIO | None = None) -> None:
        if every_n_steps < 1:
            raise ValueError(f"every_n_steps must be at least 1, got {every_n_steps}")
        self.every_n_steps = every_n_steps
        self.stream = stream
        self.active = False

    def __getstate__(self) -> dict:
        # strategy="ddp_spawn" pickles the trainer with its callbacks; a process's stderr does
        # not pickle, and each spawned process has its own.
        state = self.__dict__.copy()
        if state["stream"] in (sys.stderr, sys.__stderr__):
            state["stream"] = None
        return state

    def out(self) -> TextIO:
        return sys.stderr if self.stream is None else self.stream

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Rank 0 decides for all: every process must take part in the same reductions.
        self.active = bool(trainer.strategy.broadcast(not is_terminal(self.out()), src=0))
        self.started = self.window_started = self.epoch_started = time.perf_counter()
        self.printed_step = trainer.global_step
        self.steps_at_start = trainer.global_step
        # samples, summed loss, batches: since the previous line, and since the epoch began
        self.window = torch.zeros(3, device=pl_module.device)
        self.epoch = torch.zeros(3, device=pl_module.device)

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.active:
            self.epoch.zero_()
            self.epoch_started = time.perf_counter()

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs, batch, batch_idx: int) -> None:
        if not self.active:
            return
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        if loss is not None:  # None: training_step skipped the batch
            # Lightning hands over loss / accumulate_grad_batches. Kept as a tensor on the
            # device: no host sync per step.
            device = pl_module.device
            self.add(torch.stack([torch.tensor(float(extract_batch_size(batch)), device=device),
                                  loss.detach().float().to(device) * trainer.accumulate_grad_batches,
                                  torch.ones((), device=device)]))
        if trainer.global_step != self.printed_step and trainer.global_step % self.every_n_steps == 0:
            self.printed_step = trainer.global_step
            self.report(trainer, self.window, self.window_started, epoch_end=False)
            self.window.zero_()
            self.window_started = time.perf_counter()

    def add(self, step: torch.Tensor) -> None:
        self.window += step
        self.epoch += step

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.active:
            self.report(trainer, self.epoch, self.epoch_started, epoch_end=True)

    def report(self, trainer: L.Trainer, totals: torch.Tensor, since: float, epoch_end: bool) -> None:
        """Sum `totals` (samples, summed loss, batches) over processes (every process calls
        this at the same step) and print one line on global rank 0."""
        samples, loss_sum, batches = trainer.strategy.reduce(totals.clone(), reduce_op="sum").tolist()
        if not trainer.is_global_zero:
            return
        now = time.perf_counter()
        total, step = trainer.estimated_stepping_batches, trainer.global_step
        done = step - self.steps_at_start
        eta = (now - self.started) / done * (total - step) if done else float("nan")
        of_epochs = f"/{trainer.max_epochs}" if trainer.max_epochs and trainer.max_epochs > 0 else ""
        of_steps = f"/{int(total)}" if total != float("inf") else ""
        epoch, step_part = f"epoch {trainer.current_epoch + 1}{of_epochs}", f"step {step}{of_steps}"
        head = f"{epoch} done {step_part}" if epoch_end else f"{step_part} {epoch}"
        print(f"{head} loss {loss_sum / max(batches, 1):.4f} samples/s {samples / max(now - since, 1e-9):.1f} "
              f"eta {format_eta(eta)}", file=self.out(), flush=True)
