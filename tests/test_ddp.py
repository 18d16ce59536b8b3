"""Several processes (DDP): the datamodule's shares (fast, with a stand-in trainer), and a real
2-process fit on CPU (gloo, strategy="ddp_spawn") of the tiny random BERT (slow): each train
comment is trained on exactly once per epoch across processes, in the same number of steps on
each; the logged val AUROCs are those of all processes' predictions together; only rank 0
writes checkpoints, metrics and progress lines."""

import json
import time
from pathlib import Path
from types import SimpleNamespace

import lightning as L
import numpy as np
import pandas as pd
import pytest
import torch
from conftest import FIXTURE_CSV

from toxic_tagger import LABELS
from toxic_tagger.config import SplitParams
from toxic_tagger.data.batching import BucketBatchSampler
from toxic_tagger.data.comments_csv import read_split
from toxic_tagger.data.datamodule import CommentDataModule
from toxic_tagger.data.split import make_splits
from toxic_tagger.evaluate.metrics import per_tag_auroc
from toxic_tagger.model.classifier import ToxicClassifier
from toxic_tagger.model.pretrained import load_classifier, load_tokenizer
from toxic_tagger.model.progress_log import LogProgress

# 23 train comments in 3 batches (2 processes: one batch is halved so each gets 2), 12 val
# comments with both classes of every tag, in 2 batches of different sizes.
BUDGET = {"max_length": 64, "max_tokens_per_batch": 512, "max_batch_size": 8, "seed": 0}


def fixture_splits() -> tuple[pd.DataFrame, pd.DataFrame]:
    splits = make_splits(read_split(FIXTURE_CSV), SplitParams(val_fraction=0.3, test_fraction=0.1, clean_rows=None), 42)
    return splits.train, splits.val


def flat(batches) -> list[int]:
    return sorted(int(i) for batch in batches for i in batch)


def stand_in_trainer(world: int, rank: int, epoch: int = 0, done: int = 0) -> SimpleNamespace:
    """What the datamodule reads of a Trainer: processes, epoch, batches done in the epoch."""
    progress = SimpleNamespace(current=SimpleNamespace(completed=done))
    return SimpleNamespace(world_size=world, global_rank=rank, current_epoch=epoch,
                           fit_loop=SimpleNamespace(epoch_loop=SimpleNamespace(batch_progress=progress)))


@pytest.mark.parametrize("batching", ["bucket", "fixed"])
def test_each_process_gets_a_disjoint_equal_share_of_train_and_val(tiny_model_dir, batching):
    train, val = fixture_splits()
    data = CommentDataModule(train, val, load_tokenizer(str(tiny_model_dir)), batching=batching, **BUDGET)
    data.setup()
    alone = list(data.train_dataloader().batch_sampler), list(data.val_dataloader().batch_sampler)
    if batching == "bucket":
        assert alone[0] == BucketBatchSampler(data.datasets["train"].lengths, 512, 8, 0).plan(0)
    for world in (2, 3):
        shares = []
        for rank in range(world):
            data.trainer = stand_in_trainer(world, rank)
            shares.append((list(data.train_dataloader().batch_sampler), list(data.val_dataloader().batch_sampler)))
            assert len(data.train_dataloader()) == len(shares[-1][0])
        for split, rows in ((0, len(train)), (1, len(val))):
            assert len({len(share[split]) for share in shares}) == 1  # equal counts: DDP steps in lockstep
            assert flat(b for share in shares for b in share[split]) == flat(alone[split]) == list(range(rows))
    data.trainer = None


class WithIndices:
    """Collates as the datamodule does and adds the batch's row indices (batch["index"])."""

    def __init__(self, collate) -> None:
        self.collate = collate

    def __call__(self, indices: list[int]) -> dict[str, torch.Tensor]:
        return {**self.collate(indices), "index": torch.tensor(indices)}


class IndexedComments(CommentDataModule):
    def _loader(self, dataset, batch_sampler) -> torch.utils.data.DataLoader:
        collate = WithIndices(super()._loader(dataset, batch_sampler).collate_fn)
        return torch.utils.data.DataLoader(dataset, batch_sampler=batch_sampler, collate_fn=collate, num_workers=0)


class RecordTraining(L.Callback):
    """Appends the row indices of every batch a process trains on to
    `directory`/train-rank<r>-epoch<e>.txt, one line per batch."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        path = self.directory / f"train-rank{trainer.global_rank}-epoch{trainer.current_epoch}.txt"
        with path.open("a") as out:
            out.write(" ".join(map(str, batch["index"].tolist())) + "\n")


class RecordingClassifier(ToxicClassifier):
    """Saves each process's own val rows (index, probs, labels) per epoch before they are gathered."""

    def __init__(self, model, directory: Path, **hparams) -> None:
        super().__init__(model, **hparams)
        self.directory = directory
        self.val_index: list[torch.Tensor] = []

    def validation_step(self, batch, batch_idx) -> None:
        self.val_index.append(batch["index"].cpu())
        super().validation_step(batch, batch_idx)

    def on_validation_epoch_end(self) -> None:
        np.savez(self.directory / f"val-rank{self.global_rank}-epoch{self.current_epoch}.npz",
                 index=torch.cat(self.val_index).numpy(), probs=torch.cat(self._val_probs).numpy(),
                 labels=torch.cat(self._val_labels).numpy())
        self.val_index.clear()
        super().on_validation_epoch_end()


class RankFile:
    """A stream writing to `directory`/progress-rank<r>.txt of the process that writes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def write(self, text: str) -> None:
        with (self.directory / f"progress-rank{torch.distributed.get_rank()}.txt").open("a") as out:
            out.write(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def read_lines(path: Path) -> list[list[int]]:
    return [[int(i) for i in line.split()] for line in path.read_text().splitlines()]


@pytest.mark.slow
def test_two_processes_train_each_comment_once_per_epoch_and_score_all_of_val(tiny_model_dir, tmp_path):
    from lightning.pytorch.callbacks import ModelCheckpoint
    from lightning.pytorch.loggers import CSVLogger

    train, val = fixture_splits()
    record = tmp_path / "record"
    record.mkdir()
    epochs = 2
    data = IndexedComments(train, val, load_tokenizer(str(tiny_model_dir)), **BUDGET)
    torch.manual_seed(0)
    module = RecordingClassifier(load_classifier(str(tiny_model_dir)), record, lr=1e-3, head_lr=1e-2)
    checkpoint = ModelCheckpoint(dirpath=tmp_path / "checkpoints", filename="best", monitor="val/mean_auroc",
                                 mode="max", save_top_k=1, save_last=True, enable_version_counter=False)
    trainer = L.Trainer(
        accelerator="cpu", devices=2, strategy="ddp_spawn", use_distributed_sampler=False, max_epochs=epochs,
        logger=CSVLogger(tmp_path / "logs", name="", version=""), log_every_n_steps=1, num_sanity_val_steps=0,
        callbacks=[checkpoint, RecordTraining(record), LogProgress(1, stream=RankFile(record))],
        enable_progress_bar=False, enable_model_summary=False,
    )
    started = time.perf_counter()
    trainer.fit(module, datamodule=data)
    print(f"2-process fit: {time.perf_counter() - started:.1f} s")
    print((record / "progress-rank0.txt").read_text())

    data.setup()  # the bucket plan is the same in every process and in this one
    plans = BucketBatchSampler(data.datasets["train"].lengths, 512, 8, seed=0)
    # Lightning cuts an epoch at the sampler's len (epoch 0's count); these epochs have that count.
    assert [len(plans.plan(epoch)) for epoch in range(epochs)] == [3] * epochs
    for epoch in range(epochs):
        trained = [read_lines(record / f"train-rank{rank}-epoch{epoch}.txt") for rank in range(2)]
        assert [len(batches) for batches in trained] == [2, 2]  # 3 batches, one halved: 2 steps each
        assert flat(trained[0] + trained[1]) == list(range(len(train)))  # every comment once

    metrics = pd.read_csv(tmp_path / "logs" / "metrics.csv")
    logged = metrics.dropna(subset=["val/mean_auroc"]).set_index("epoch")
    for epoch in range(epochs):
        shares = [np.load(record / f"val-rank{rank}-epoch{epoch}.npz") for rank in range(2)]
        assert all(len(share["index"]) for share in shares)
        assert flat(share["index"] for share in shares) == list(range(len(val)))  # scored once each
        expected = per_tag_auroc(np.concatenate([s["labels"] for s in shares]), np.concatenate([s["probs"] for s in shares]))
        assert not np.isnan(expected).any()
        got = logged.loc[epoch, [f"val/auroc_{label}" for label in LABELS]].to_numpy(dtype=float)
        np.testing.assert_array_equal(np.float32(got), np.float32(expected))
        assert np.float32(logged.loc[epoch, "val/mean_auroc"]) == np.float32(np.mean(expected))
        # val/loss is the BCE over the whole val split, not one process's share
        probs, labels = (np.concatenate([s[key] for s in shares]).astype(float) for key in ("probs", "labels"))
        bce = -np.mean(labels * np.log(probs) + (1 - labels) * np.log1p(-probs))
        assert logged.loc[epoch, "val/loss"] == pytest.approx(bce, abs=1e-5)

    # Rank 0 alone writes: one checkpoint of each kind, one metrics file, progress from rank 0.
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]
    assert sorted(p.name for p in record.glob("progress-*")) == ["progress-rank0.txt"]
    progress = (record / "progress-rank0.txt").read_text().splitlines()
    assert [line.split()[:2] for line in progress if line.startswith("step")] == [
        ["step", f"{step}/{2 * epochs}"] for step in range(1, 2 * epochs + 1)]
    assert sum(" done " in line for line in progress) == epochs


def test_the_trainer_drives_the_epoch_and_a_resumed_epoch_skips_what_it_trained(tiny_model_dir):
    """Lightning never calls set_epoch on a custom batch sampler: the loader reads the trainer's
    epoch (each epoch reshuffled), and a fit resumed mid-epoch skips the batches already done."""
    train, val = fixture_splits()
    data = CommentDataModule(train, val, load_tokenizer(str(tiny_model_dir)), **BUDGET)
    data.setup()
    plan = BucketBatchSampler(data.datasets["train"].lengths, 512, 8, 0).plan
    epochs = []
    for epoch in (0, 1):
        data.trainer = stand_in_trainer(1, 0, epoch=epoch)
        epochs.append(list(data.train_dataloader().batch_sampler))
        assert epochs[-1] == plan(epoch)
    assert epochs[0] != epochs[1]
    data.trainer = stand_in_trainer(1, 0, epoch=1, done=2)
    assert list(data.train_dataloader().batch_sampler) == plan(1)[2:]
    data.trainer = None


@pytest.mark.slow
def test_dvc_repro_with_two_ddp_processes_writes_once_and_the_export_loads(tmp_path, tiny_model_dir):
    """The train stage under strategy ddp (Lightning relaunches the stage script for rank 1,
    gloo on CPU): rank 0 alone writes checkpoints, the export and metrics/train.json; the export
    scores as usual; progress lines come from rank 0 only."""
    from conftest import make_repo, run, shrunk_params_dict

    from toxic_tagger.predict.tagger import Tagger

    params = shrunk_params_dict(tiny_model_dir, train={"accelerator": "cpu", "devices": 2, "strategy": "ddp",
                                                       "progress_every_n_steps": 1})
    repo = make_repo(tmp_path / "repo", params)
    result = run(["dvc", "repro"], repo)
    assert "Initializing distributed: GLOBAL_RANK: 1, MEMBER: 2/2" in result.stdout + result.stderr
    summary = json.loads((repo / "metrics" / "train.json").read_text())
    assert summary["epochs_run"] == params["train"]["epochs"]
    assert sorted(p.name for p in (repo / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt", "run.json"]
    assert sum(line.startswith("train: starting fresh") for line in result.stdout.splitlines()) == 1
    ends = [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("epoch ") and " done " in line]
    assert len(ends) == params["train"]["epochs"]  # one progress line per epoch: rank 0's
    probs = Tagger.load(repo / "models" / "toxic-tagger", progress=False).predict_proba(["you idiot", "thanks"])
    assert probs.shape == (2, len(LABELS)) and np.all((probs >= 0) & (probs <= 1))
