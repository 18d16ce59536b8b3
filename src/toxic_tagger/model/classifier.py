"""LightningModule: a transformer encoder with a 6-way multi-label head.

Forward: input_ids / attention_mask (batch, len) -> logits (batch, 6). Loss: BCE with logits
(optionally `pos_weight` per tag). Optimizer: torch.optim.AdamW, linear warm-up over
`warmup_fraction` of all steps then linear decay. Validation logs val/loss, per-tag
val/auroc_<tag> and val/mean_auroc (the default checkpoint monitor), each over the whole val
split when several processes (DDP) score a share of it each.
"""

from __future__ import annotations

import re

import lightning as L
import numpy as np
import torch
from transformers import get_linear_schedule_with_warmup

from toxic_tagger import LABELS
from toxic_tagger.config import TrainParams
from toxic_tagger.evaluate.metrics import per_tag_auroc
from toxic_tagger.model.cls_only import cls_only_last_layer
from toxic_tagger.model.fast_dropout import replace_dropout
from toxic_tagger.model.precision import fp32_attention


def embedding_module(model) -> torch.nn.Module:
    """The encoder's embedding block (BERT-like: token, position and type tables + LayerNorm),
    or just the input embedding table for models without one."""
    embeddings = getattr(model.base_model, "embeddings", None)
    return embeddings if isinstance(embeddings, torch.nn.Module) else model.get_input_embeddings()


def freeze(module: torch.nn.Module) -> None:
    """No gradients for `module`'s parameters. Why it is faster: the token table is half of
    MiniLM's 22.7M weights, and a trained table costs a dense (vocab x hidden) gradient, its
    zeroing and an AdamW update every step, and the first layer's input gradient."""
    for param in module.parameters():
        param.requires_grad_(False)


# "bert.encoder.layer.3.attention..." (BERT) or "...layers.3..." (most other encoders)
LAYER_INDEX = re.compile(r"\.layers?\.(\d+)\.")


def layer_depth(name: str, layers: int) -> int:
    """How many layers parameter `name` sits below the top of a `layers`-layer encoder: 0 for
    the top layer and everything above it (pooler), i for layer layers-1-i, `layers` for the
    embeddings (below layer 0)."""
    if "embeddings" in name:
        return layers
    match = LAYER_INDEX.search(name)
    return layers - 1 - int(match.group(1)) if match else 0


class ToxicClassifier(L.LightningModule):
    """`model` (a transformers sequence classifier with 6 labels) trained with BCE-with-logits.
    Build it from params with `from_params`; the keywords are train.* values, stored as
    hyperparameters in every checkpoint."""

    def __init__(self, model, *, lr: float, head_lr: float, weight_decay: float = 0.0,
                 warmup_fraction: float = 0.0, pos_weight: list[float] | None = None, cls_only: bool = False,
                 freeze_embeddings: bool = False, fast_dropout: bool = False, layer_lr_decay: float = 1.0,
                 precision: str = "fp32") -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["model"])
        # from_pretrained returns the model in eval mode; Lightning keeps submodule modes as
        # they are, so switch dropout back on for fine-tuning.
        self.model = model.train()
        if freeze_embeddings:
            freeze(embedding_module(model))
        if fast_dropout:  # same dropout distribution, cheaper masks on CPU (fast_dropout.py)
            replace_dropout(model)
        weight = torch.tensor(pos_weight, dtype=torch.float32) if pos_weight else None
        self.loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=weight)
        self._val_probs: list[torch.Tensor] = []
        self._val_labels: list[torch.Tensor] = []

    @classmethod
    def from_params(cls, model, train: TrainParams, pos_weight: list[float] | None = None) -> ToxicClassifier:
        """The module the `train` stage fits: every knob from `train` (params.yaml's train section)."""
        return cls(model, lr=train.lr, head_lr=train.head_lr, weight_decay=train.weight_decay,
                   warmup_fraction=train.warmup_fraction, pos_weight=pos_weight, cls_only=train.cls_only_last_layer,
                   freeze_embeddings=train.freeze_embeddings, fast_dropout=train.fast_dropout,
                   layer_lr_decay=train.layer_lr_decay, precision=train.precision)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        # cls_only: the last layer computes only the [CLS] output the head reads (cls_only.py).
        # bf16 (Lightning autocasts the steps): attention stays fp32, its bf16 backward is slow.
        bf16 = self.hparams.precision == "bf16"
        with cls_only_last_layer(self.model, self.hparams.cls_only), fp32_attention(self.model, bf16):
            return self.model(input_ids=input_ids, attention_mask=attention_mask).logits

    def model_step(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self(batch["input_ids"], batch["attention_mask"])  # (batch, 6)
        return self.loss_fn(logits, batch["labels"]), logits

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss, _ = self.model_step(batch)
        # Per N steps (train/loss_step) and per epoch (train/loss_epoch). sync_dist: over all
        # processes (DDP), weighted by batch size as within one; a no-op with one process.
        self.log("train/loss", loss, batch_size=len(batch["labels"]), prog_bar=True, on_step=True, on_epoch=True,
                 sync_dist=True)
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        loss, logits = self.model_step(batch)
        # sync_dist: Lightning's mean over processes is sum(loss x batch size) / sum(batch sizes),
        # the loss over the whole val split; a no-op with one process.
        self.log("val/loss", loss, batch_size=len(batch["labels"]), on_epoch=True, sync_dist=True)
        self._val_probs.append(torch.sigmoid(logits).float().cpu())
        self._val_labels.append(batch["labels"].cpu())

    def on_validation_epoch_end(self) -> None:
        empty = torch.empty(0, len(LABELS))
        probs = self.gather_rows(torch.cat(self._val_probs) if self._val_probs else empty).numpy()
        labels = self.gather_rows(torch.cat(self._val_labels) if self._val_labels else empty).numpy()
        self._val_probs.clear()
        self._val_labels.clear()
        # Every process computes the same AUROCs from the same gathered rows. sync_dist averages
        # these equal values (a no-op with one process), so every process's ModelCheckpoint and
        # EarlyStopping certainly read the same number.
        aurocs = per_tag_auroc(labels, probs)
        for label, value in zip(LABELS, aurocs):
            self.log(f"val/auroc_{label}", float(value), sync_dist=True)
        self.log("val/mean_auroc", float(np.nanmean(aurocs)), prog_bar=True, sync_dist=True)

    def gather_rows(self, rows: torch.Tensor) -> torch.Tensor:
        """All processes' `rows` (n_p, k), concatenated in rank order on the CPU; `rows` itself
        with one process. Shares may differ in length: counts are gathered first, and each
        share is padded to the longest for all_gather, then cut back."""
        if self.trainer.world_size == 1:
            return rows
        counts = self.all_gather(torch.tensor(len(rows), device=self.device))  # (world,)
        padded = torch.zeros(int(counts.max()), *rows.shape[1:], dtype=rows.dtype, device=self.device)
        padded[: len(rows)] = rows
        gathered = self.all_gather(padded)  # (world, longest, k)
        return torch.cat([share[: int(count)] for share, count in zip(gathered, counts)]).cpu()

    def parameter_groups(self) -> list[dict]:
        """AdamW groups: the new head (classifier) gets `head_lr`; encoder parameters `lr` times
        `layer_lr_decay` ** (layers below the top layer, see `layer_depth`), so lower, more
        general layers move less (1.0: one lr for the whole encoder); no weight decay on biases
        and LayerNorm weights (the standard BERT recipe)."""
        decay, layers = self.hparams.layer_lr_decay, int(getattr(self.model.config, "num_hidden_layers", 0) or 0)
        groups: dict[tuple[bool, bool, float], list[torch.nn.Parameter]] = {}
        for name, param in self.model.named_parameters():
            if not param.requires_grad:  # frozen (freeze_embeddings): no gradient, no AdamW state
                continue
            is_head = name.startswith("classifier.")
            scale = 1.0 if is_head or decay == 1.0 else decay ** layer_depth(name, layers)
            groups.setdefault((is_head, param.ndim < 2, scale), []).append(param)
        return [
            {"params": params, "lr": self.hparams.head_lr if is_head else self.hparams.lr * scale,
             "weight_decay": 0.0 if no_decay else self.hparams.weight_decay}
            for (is_head, no_decay, scale), params in sorted(groups.items(), key=lambda item: (item[0][0], item[0][1], -item[0][2]))
        ]

    def configure_optimizers(self):
        # fused: one kernel for all parameters instead of a handful of ops per tensor (same
        # results to ~1e-6).
        optimizer = torch.optim.AdamW(self.parameter_groups(), lr=self.hparams.lr, fused=True)
        total = max(1, int(self.trainer.estimated_stepping_batches))
        scheduler = get_linear_schedule_with_warmup(optimizer, int(total * self.hparams.warmup_fraction), total)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
