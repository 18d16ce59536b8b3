"""LogProgress: one line every N steps and at each epoch's end when its stream is not a terminal,
nothing on a terminal. A tiny linear model stands in for the classifier (the 2-process DDP run
in test_ddp.py uses the real one)."""

import io
import pickle
import re
import sys

import lightning as L
import pytest
import torch

from toxic_tagger.model.progress_log import LogProgress, format_eta

LINE = re.compile(r"step (\d+)/(\d+) epoch (\d+)/2 loss (\d+\.\d{4}) samples/s (\d+\.\d) eta (\d+:\d\d:\d\d)")
EPOCH_END = re.compile(r"epoch (\d+)/2 done step (\d+)/(\d+) loss (\d+\.\d{4}) samples/s (\d+\.\d) eta (\d+:\d\d:\d\d)")


class Linear(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return torch.nn.functional.mse_loss(self.layer(x).squeeze(1), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


class RecordLosses(L.Callback):
    def __init__(self) -> None:
        self.losses: list[float] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.losses.append(float(outputs["loss"]))


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def fit(stream, every_n_steps: int = 3, rows: int = 40, batch_size: int = 4) -> list[float]:
    """Two epochs of `rows` / `batch_size` steps each; the loss of every step."""
    torch.manual_seed(0)
    losses = RecordLosses()
    data = torch.utils.data.TensorDataset(torch.randn(rows, 4), torch.randn(rows))
    trainer = L.Trainer(max_epochs=2, accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False,
                        callbacks=[LogProgress(every_n_steps, stream=stream), losses])
    trainer.fit(Linear(), torch.utils.data.DataLoader(data, batch_size=batch_size))
    return losses.losses


def test_a_line_every_n_steps_and_at_each_epoch_end_on_a_log():
    log = io.StringIO()
    losses = fit(log, every_n_steps=3)  # 10 steps an epoch, 20 in all
    lines = log.getvalue().splitlines()
    steps = [LINE.fullmatch(line) for line in lines]
    ends = [EPOCH_END.fullmatch(line) for line in lines]
    assert all(s or e for s, e in zip(steps, ends)), lines
    assert [(int(m[1]), int(m[3])) for m in steps if m] == [(3, 1), (6, 1), (9, 1), (12, 2), (15, 2), (18, 2)]
    assert [(int(m[1]), int(m[2])) for m in ends if m] == [(1, 10), (2, 20)]
    assert {int(m[2]) for m in steps if m} == {20} and ends[-1][6] == "0:00:00"  # nothing left at the end
    assert all(float(m[5]) > 0 for m in steps + ends if m)
    # loss: the mean over the steps since the previous line, or over the epoch at its end
    assert float(steps[0][4]) == pytest.approx(sum(losses[:3]) / 3, abs=1e-4)
    assert float(steps[1][4]) == pytest.approx(sum(losses[3:6]) / 3, abs=1e-4)
    assert float(ends[3][4]) == pytest.approx(sum(losses[:10]) / 10, abs=1e-4)


def test_nothing_on_a_terminal():
    terminal = Terminal()
    fit(terminal)
    assert terminal.getvalue() == ""


def test_every_n_steps_must_be_positive_and_stderr_is_not_pickled():
    with pytest.raises(ValueError, match="every_n_steps must be at least 1"):
        LogProgress(0)
    # ddp_spawn pickles callbacks; each process writes to its own stderr.
    assert pickle.loads(pickle.dumps(LogProgress(5, stream=sys.stderr))).out() is sys.stderr
    assert format_eta(192.4) == "0:03:12" and format_eta(float("nan")) == "?"
