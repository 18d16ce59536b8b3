"""LightningDataModule: tokenized train/val comments served in length-bucketed batches.

Input: train and val DataFrames (Jigsaw schema) and the model's tokenizer. Tokenization
happens once, in batch, at set-up. Batches are dicts of input_ids / attention_mask
(batch, longest) and labels (batch, 6) float multi-hot.

Under a multi-process trainer (DDP) each process gets a disjoint share of the train and val
batches, the same number on each (`shard_batches`); the trainer must not add its own
DistributedSampler (`use_distributed_sampler=False`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import lightning as L
import numpy as np
import pandas as pd
import torch

from toxic_tagger import TEXT_COLUMN
from toxic_tagger.data.batching import (
    BucketBatchSampler, FixedBatchSampler, pad_batch, shard_batches, sorted_batches,
)
from toxic_tagger.data.comments_csv import label_matrix
from toxic_tagger.data.tokens import HEAD, Truncation, encode


class EncodedComments(torch.utils.data.Dataset):
    """Token ids and labels of one split; `lengths` drive the batching."""

    def __init__(self, ids: list[list[int]], labels: np.ndarray) -> None:
        self.ids = ids
        self.labels = torch.tensor(labels, dtype=torch.float32)
        self.lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> int:
        return index  # the collator gathers and pads a whole batch at once


class Collator:
    def __init__(self, dataset: EncodedComments, pad_id: int) -> None:
        self.dataset = dataset
        self.pad_id = pad_id

    def __call__(self, indices: list[int]) -> dict[str, torch.Tensor]:
        batch = pad_batch([self.dataset.ids[i] for i in indices], self.pad_id)
        batch["labels"] = self.dataset.labels[indices]
        return batch


class TrainerEpochBatches(torch.utils.data.Sampler[list[int]]):
    """A training batch sampler driven by the trainer's loop state.

    Lightning calls `set_epoch` on a DataLoader's sampler, never on a custom batch sampler, so
    without this every epoch would replay epoch 0's batches: each iteration reads the epoch from
    the trainer instead. Its length is that epoch's batch count (the Trainer reloads the
    dataloader every epoch to read it: bucketed epochs differ by a batch or two, and an epoch
    longer than the length Lightning read would be cut short). A fit resumed from a mid-epoch
    checkpoint also skips the batches that epoch had already trained, so it goes on where it
    stopped instead of replaying them."""

    def __init__(self, sampler, trainer: L.Trainer) -> None:
        self.sampler = sampler
        self.trainer = trainer

    def __iter__(self) -> Iterator[list[int]]:
        self.sampler.set_epoch(self.trainer.current_epoch)
        done = self.trainer.fit_loop.epoch_loop.batch_progress.current.completed
        yield from itertools.islice(iter(self.sampler), done, None)

    def __len__(self) -> int:
        return self.sampler.batches_in(self.trainer.current_epoch)


class CommentDataModule(L.LightningDataModule):
    def __init__(
        self, train: pd.DataFrame, val: pd.DataFrame, tokenizer, max_length: int,
        max_tokens_per_batch: int, max_batch_size: int, seed: int, batching: str = "bucket",
        truncation: Truncation = HEAD,
    ) -> None:
        super().__init__()
        self.frames = {"train": train, "val": val}
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.max_tokens = max_tokens_per_batch
        self.max_batch_size = max_batch_size
        self.seed = seed
        self.batching = batching
        self.truncation = truncation
        self.datasets: dict[str, EncodedComments] = {}

    def setup(self, stage: str | None = None) -> None:
        for name, frame in self.frames.items():
            if name not in self.datasets:
                ids = encode(self.tokenizer, frame[TEXT_COLUMN].tolist(), self.max_length, desc=f"tokenize {name}",
                             truncation=self.truncation)
                self.datasets[name] = EncodedComments(ids, label_matrix(frame))

    def _loader(self, dataset: EncodedComments, batch_sampler) -> torch.utils.data.DataLoader:
        # num_workers=0: batches are cheap to build, and worker processes would compete with
        # torch's intra-op threads for the same cores.
        # A generator of its own: each new iterator over a DataLoader draws a seed from it, which
        # would otherwise come from torch's global generator, shifting dropout's masks by one
        # draw between a run resumed from a checkpoint and one that never stopped.
        return torch.utils.data.DataLoader(
            dataset, batch_sampler=batch_sampler, collate_fn=Collator(dataset, self.tokenizer.pad_token_id),
            num_workers=0, generator=torch.Generator().manual_seed(self.seed),
        )

    def replicas(self) -> dict[str, int]:
        """This process's place among the trainer's processes: num_replicas and rank (1 and 0
        when no trainer is attached)."""
        if self.trainer is None:
            return {"num_replicas": 1, "rank": 0}
        return {"num_replicas": self.trainer.world_size, "rank": self.trainer.global_rank}

    def train_dataloader(self) -> torch.utils.data.DataLoader:
        dataset, replicas = self.datasets["train"], self.replicas()
        sampler = BucketBatchSampler(dataset.lengths, self.max_tokens, self.max_batch_size, self.seed, **replicas)
        if self.batching == "fixed":
            # Same data, same number of optimizer steps as bucketing: only the batch make-up differs.
            batch_size = -(-len(dataset) // sampler.total_batches)
            sampler = FixedBatchSampler(len(dataset), batch_size, self.seed, **replicas)
        return self._loader(dataset, TrainerEpochBatches(sampler, self.trainer) if self.trainer else sampler)

    def val_dataloader(self) -> torch.utils.data.DataLoader:
        # Each process scores its own share, once (no padding repeats); the classifier gathers
        # all processes' predictions before computing AUROC.
        dataset = self.datasets["val"]
        batches = sorted_batches(dataset.lengths, self.max_tokens, self.max_batch_size)
        return self._loader(dataset, shard_batches(batches, **self.replicas()))
